"""AgentCore Memory calls and bytes read per turn at 10, 100 and 1,000 turns of one conversation.

A whole turn as production runs it (the chat service driving the real agent: LangGraph, the offline
model, the last K turns reloaded), on the real boto3 client under moto; calls counted with
botocore's `before-call` hook, bytes read are the ListEvents answers' bodies. See
`bench/memory_and_listing.py` for the mechanics.
"""

from __future__ import annotations

from bench.memory_and_listing import (
    HISTORY_TURNS,
    MAX_CALLS_PER_TURN,
    TURN_COUNTS,
    _fake_aws,
    memory_calls_per_turn,
)
from bench.report import Result, Spread, Table


def run(smoke: bool) -> Result:
    counts = (2, 4) if smoke else TURN_COUNTS
    rows, data = [], {}
    with _fake_aws():
        for turns in counts:
            result = memory_calls_per_turn(turns)
            late = result.bytes_read[-min(10, turns) :]  # the conversation's end: the most history
            rows.append(
                [
                    f"{turns:,}",
                    f"{result.total_calls / turns:.2f}",
                    str(result.max_per_turn),
                    " + ".join(result.last_turn),
                    Spread.of([float(b) for b in late]).fmt(" B", 0),
                ]
            )
            data[str(turns)] = {
                "calls_per_turn": result.total_calls / turns,
                "max_calls_per_turn": result.max_per_turn,
                "last_turn": result.last_turn,
                "bytes_read_last_turns": Spread.of([float(b) for b in late]).as_json(),
            }
    first = counts[0]
    table = Table(
        title="AgentCore Memory calls and bytes read per turn (agent reads, chat Lambda writes)",
        compares=f"the same conversation at {first:,} turns (calls and bytes must stay flat as it grows); "
        f"target ≤ {MAX_CALLS_PER_TURN} calls per turn",
        columns=[
            "turns",
            "calls per turn (mean)",
            "max",
            "last turn's calls",
            "bytes read per turn (last 10 turns)",
        ],
        rows=rows,
        notes=[
            f"the agent reloads the last {HISTORY_TURNS} turns in one ListEvents; "
            "the stock checkpoint saver makes 6 calls per turn (10 with a tool call)"
        ],
    )
    return Result("memory_calls", [table], data)
