"""Provenance: whose words each piece of text in the agent's context is, declared by the tools.

Every tool declares, next to its definition (`metadata["provenance"]`), the trust of each field of
its output: `system` (the clock, the calculator, ids and timestamps the system made), `author`
(words someone wrote: trusted only when the asking user wrote them), or `outside` (an outside
service's free text: never trusted). A tool that declares nothing is `outside` as a whole.

Within a session the agent then knows which text came from the user (their messages) and which from
untrusted output. The policy gets two facts per call (`context.history.untrusted_seen` and
`context.traced.<argument>`): an argument **traces to the user** when its value appears in the
user's own messages or in a trusted field; nothing else does. There is no content filter and no
phrase list: a paraphrase, a translation or a value joined from two tickets does not appear in the
user's words, so it does not trace, whatever it says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from langchain_core.tools import BaseTool

PROVENANCE_KEY = "provenance"  # a tool's metadata key for its declaration
WHOLE_OUTPUT = "text"  # the field name of a tool whose output is one sentence
AUTHOR_FIELD = "author"  # the record field that names who wrote an `author` field (an id)
AUTHOR_NAME_FIELD = "author_name"  # the author's user name, for the label a person reads (decides nothing)


class Trust(StrEnum):
    """How far a field of a tool's output may steer what the agent does."""

    SYSTEM = "system"  # made by the system: trusted
    AUTHOR = "author"  # someone's words: trusted only when the asking user wrote them
    OUTSIDE = "outside"  # an outside service's free text: never trusted


def declared(tool: BaseTool | None) -> dict[str, Trust]:
    """A tool's declaration, field → trust (`{"text": outside}` when it declares none)."""
    raw = ((tool.metadata or {}).get(PROVENANCE_KEY) if tool is not None else None) or {
        WHOLE_OUTPUT: "outside"
    }
    return {str(name): Trust(value) for name, value in dict(raw).items()}


def reads_untrusted(tool: BaseTool | None) -> bool:
    """Whether the tool's output may carry words the user did not write."""
    return any(trust is not Trust.SYSTEM for trust in declared(tool).values())


@dataclass(frozen=True)
class Source:
    """A piece of untrusted text in the context and where it came from, in words a user reads."""

    text: str
    label: str  # e.g. "ticket t-12, written by bob"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class Provenance:
    """What the agent has read so far in this session, by whose words it is."""

    user_texts: list[str] = field(default_factory=list)
    trusted: list[str] = field(default_factory=list)
    untrusted: list[Source] = field(default_factory=list)
    seen_before: bool = False  # untrusted output entered an earlier turn of the session

    @property
    def untrusted_seen(self) -> bool:
        return self.seen_before or bool(self.untrusted)

    def heard(self, text: str) -> None:
        """The user said this (a message of theirs, this turn or an earlier one)."""
        self.user_texts.append(_norm(text))

    def read(self, tool: BaseTool | None, output: Any, reader_id: str) -> str:
        """Take in a tool's output by its declaration; return the text the model reads."""
        fields = declared(tool)
        records = output if isinstance(output, list) else None
        if records is None:
            text = str(output)
            self._take(text, fields.get(WHOLE_OUTPUT, Trust.OUTSIDE), reader_id, "", tool)
            return text
        lines = []
        for record in records:
            author = str(record.get(AUTHOR_FIELD, ""))
            for name, value in record.items():
                self._take(str(value), fields.get(name, Trust.OUTSIDE), reader_id, author, tool, record)
            lines.append("; ".join(f"{name}: {value}" for name, value in record.items()))
        return "\n".join(lines) if lines else "Nothing found."

    def _take(
        self,
        text: str,
        trust: Trust,
        reader_id: str,
        author: str,
        tool: BaseTool | None,
        record: Mapping[str, Any] | None = None,
    ) -> None:
        if not text.strip():
            return  # nothing anyone wrote
        if trust is Trust.SYSTEM or (trust is Trust.AUTHOR and author and author == reader_id):
            self.trusted.append(_norm(text))
            return
        name = tool.name if tool is not None else "a tool"
        if record is not None and "ticket_id" in record:
            who = str(record.get(AUTHOR_NAME_FIELD) or "") or author or "someone else"
            label = f"ticket {record['ticket_id']}, written by {who}"
        else:
            label = f"the output of {name}"
        self.untrusted.append(Source(text, label))

    def traces(self, value: Any) -> bool:
        """Whether a value traces to the user: in their own words or a trusted field (every leaf of it)."""
        if value is None or isinstance(value, bool):
            return True
        if isinstance(value, Mapping):
            return all(self.traces(v) for v in value.values())
        if isinstance(value, Sequence) and not isinstance(value, str):
            return all(self.traces(v) for v in value)
        text = _norm(value if isinstance(value, str) else _number(value))
        if not text:
            return True
        return any(text in said for said in self.user_texts) or any(text in t for t in self.trusted)

    def traced(self, args: Mapping[str, Any]) -> dict[str, bool]:
        """Per argument: does it trace to the user?"""
        return {str(name): self.traces(value) for name, value in args.items()}

    def recall(self, labels: Sequence[str]) -> None:
        """Sources an earlier turn of the session read (their labels, as that turn's calls recorded
        them): the approval card of this turn can name them."""
        for label in labels:
            self.untrusted.append(Source("", label))

    def why(self) -> str | None:
        """What the user reads on an approval card asked after untrusted content: whose words led here."""
        labels = list(dict.fromkeys(source.label for source in self.untrusted))
        if not labels:
            return "proposed after reading content from an earlier turn" if self.seen_before else None
        return "proposed after reading " + "; ".join(labels[:3])

    def sources(self) -> list[str]:
        """The untrusted sources read so far, for the audit trail."""
        return list(dict.fromkeys(source.label for source in self.untrusted))


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def untrusted_tools(tools: Iterable[BaseTool]) -> frozenset[str]:
    """The tools whose output may carry others' words."""
    return frozenset(tool.name for tool in tools if reads_untrusted(tool))
