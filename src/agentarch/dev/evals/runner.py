"""Run suites through the real API: sign in, send each turn over HTTP, keep what the API answered.

Each scenario runs k times, each run as its own user in the scenario's groups (a run never sees
another run's conversations or quota) in a new conversation. The runner measures each turn's
latency; the checks (`services/evaluation.py`) are applied afterwards, once every run's messages
are known, so "no other user's data in an answer" can compare every user with every other.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from agentarch.config import Env
from agentarch.core.contracts import TokenUsage, ToolCall
from agentarch.dev.evals.cognito import (
    CognitoSettings,
    IdentityProvider,
    require_scope,
    srp_sign_in,
    token_claims,
)
from agentarch.dev.evals.suite import Scenario, Suite
from agentarch.services.evaluation import TurnTrace

REQUEST_TIMEOUT_SECONDS = 60.0


@dataclass
class RunRecord:
    """One run of one scenario: the turns the API answered, or where the stack failed."""

    suite: str
    scenario: str
    run: int  # 1-based
    user: str
    traces: list[TurnTrace] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    error: str | None = None  # the stack failed (transport error, 5xx): the run is `error`, not `fail`
    error_turn: int | None = None
    broken: tuple[int, str, str, str] | None = None  # (turn, check, expected, got) the runner itself saw
    signin_ms: float = 0.0  # signing the run's user in (the identity issuer's work, before the run)
    duration_ms: float = 0.0  # the run from its first request to its last answer, harness included
    turns_ms: float = 0.0  # the turns' own time (request to answer), for the harness's overhead


class Target(Protocol):
    """Where the API is and how a run's user signs in."""

    url: str

    def client(self, suite: Suite, scenario: Scenario, run: int) -> tuple[str, httpx.Client] | str:
        """A signed-in client for this run, with the user's name; or why the scenario cannot run here."""
        ...


class LocalUsers:
    """Users of a local stack (`/local-auth/login`), one per scenario run when the runner started it."""

    def __init__(self, url: str, users: dict[str, tuple[str, tuple[str, ...]]]) -> None:
        self.url = url.rstrip("/")
        self._users = users  # name → (password, groups)

    def _access_token(self, name: str, password: str) -> str:
        answer = httpx.post(
            f"{self.url}/local-auth/login", json={"username": name, "password": password}, timeout=30
        )
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token

    def _sign_in(self, name: str) -> httpx.Client:
        token = self._access_token(name, self._users[name][0])
        return httpx.Client(
            base_url=f"{self.url}/api",
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )

    def client(self, suite: Suite, scenario: Scenario, run: int) -> tuple[str, httpx.Client] | str:
        name = run_user_name(suite, scenario, run)
        if name in self._users:
            return name, self._sign_in(name)
        groups = tuple(sorted(suite.user_of(scenario).groups))
        for candidate, (_, have) in self._users.items():  # --against: a given user in exactly these groups
            if tuple(sorted(have)) == groups:
                return candidate, self._sign_in(candidate)
        return f"no --user in groups [{', '.join(groups)}]"


class CognitoUsers(LocalUsers):
    """Users of a deployed stack, signed in with SRP on its eval client (`eval_client_enabled`)."""

    def __init__(
        self,
        url: str,
        users: dict[str, tuple[str, tuple[str, ...]]],
        settings: CognitoSettings,
        idp: IdentityProvider,
    ) -> None:
        super().__init__(url, users)
        self._settings = settings
        self._idp = idp

    def _access_token(self, name: str, password: str) -> str:
        token: str = srp_sign_in(self._idp, self._settings, name, password)["AccessToken"]
        return token


def run_user_name(suite: Suite, scenario: Scenario, run: int) -> str:
    """The user the runner makes for one run when it starts its own stack."""
    digest = hashlib.sha256(f"{suite.suite}/{scenario.id}".encode()).hexdigest()[:12]
    return f"eval-{digest}-r{run}"


def own_users(suites: Sequence[Suite], runs: int | None) -> dict[str, tuple[str, tuple[str, ...]]]:
    """One user per scenario run, in the scenario's groups, each with a fresh password."""
    users: dict[str, tuple[str, tuple[str, ...]]] = {}
    for suite in suites:
        for scenario in suite.scenarios:
            for run in range(1, (runs or suite.runs) + 1):
                users[run_user_name(suite, scenario, run)] = (
                    secrets.token_urlsafe(12),
                    suite.user_of(scenario).groups,
                )
    return users


def token_groups(token: str) -> tuple[str, ...]:
    """The `cognito:groups` of a token this tool was just given (to route scenarios, not to trust)."""
    groups = token_claims(token).get("cognito:groups") or []
    return tuple(groups) if isinstance(groups, list) else ()


class LocalSignInError(Exception):
    """A `--user` could not sign in at a running local stack (the message says which and why)."""


def against_users(url: str, specs: Sequence[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """`--user NAME:PASSWORD` of an existing local stack, with the groups its tokens carry; raises
    LocalSignInError, naming the user and never the password, when a sign-in fails."""
    users: dict[str, tuple[str, tuple[str, ...]]] = {}
    for spec in specs:
        name, _, password = spec.partition(":")
        if not name or not password:
            raise LocalSignInError(f"--user {name or '?'}: expected NAME:PASSWORD")
        login = f"{url.rstrip('/')}/local-auth/login"
        try:
            answer = httpx.post(login, json={"username": name, "password": password}, timeout=30)
        except httpx.HTTPError as exc:
            raise LocalSignInError(
                f"cannot reach {login} ({type(exc).__name__}): is the stack running?"
            ) from None
        if answer.status_code in (400, 401, 403):
            raise LocalSignInError(
                f"user {name!r} could not sign in at {url} (HTTP {answer.status_code}): wrong name or password?"
            )
        if answer.status_code != 200:
            raise LocalSignInError(f"user {name!r}: {login} answered HTTP {answer.status_code}")
        users[name] = (password, token_groups(answer.json().get("id_token") or answer.json()["access_token"]))
    return users


def cognito_users(
    settings: CognitoSettings, specs: Sequence[str], idp: IdentityProvider
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """`--user NAME:PASSWORD` of a deployed stack, signed in once each, before any turn: with the
    groups their tokens carry, and refused (CognitoSignInError) if a token lacks the API's scope."""
    users: dict[str, tuple[str, tuple[str, ...]]] = {}
    for spec in specs:
        name, _, password = spec.partition(":")
        tokens = srp_sign_in(idp, settings, name, password)
        require_scope(tokens["AccessToken"], settings.scope)
        users[name] = (password, token_groups(tokens.get("IdToken") or tokens["AccessToken"]))
    return users


def _trace(user: str, reply: httpx.Response, latency_ms: float) -> TurnTrace:
    if reply.status_code != 200:
        return TurnTrace(actor_id=user, session_id="", status=reply.status_code, latency_ms=latency_ms)
    body = reply.json()
    pending = body.get("pending_approval") or {}
    return TurnTrace(
        actor_id=user,
        session_id=body["session_id"],
        answer=body.get("response", ""),
        tool_calls=[ToolCall.model_validate(call) for call in body.get("tool_calls") or []],
        pending_tool=pending.get("tool"),
        usage=TokenUsage.model_validate(body.get("usage") or {}),
        latency_ms=latency_ms,
        status=200,
    )


def _error_text(reply: httpx.Response) -> str:
    try:
        error = reply.json()["error"]
        return f"HTTP {reply.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {reply.status_code}"


def session_for(session_seed: str, suite: Suite, scenario: Scenario, run: int) -> str:
    """The conversation of one run: new for the stack, and the same for the same seed, so that a
    seeded offline model (which draws from the session) makes the same run again."""
    return "e" + hashlib.sha256(f"{session_seed}|{suite.suite}|{scenario.id}|{run}".encode()).hexdigest()[:48]


def run_once(target: Target, suite: Suite, scenario: Scenario, run: int, session_seed: str = "") -> RunRecord:
    """One run of a scenario, turn by turn, in a new conversation."""
    signing_in = time.perf_counter()
    signed_in = target.client(suite, scenario, run)
    if isinstance(signed_in, str):
        record = RunRecord(suite.suite, scenario.id, run, "")
        record.error = f"skipped: {signed_in}"
        return record
    user, client = signed_in
    record = RunRecord(suite.suite, scenario.id, run, user)
    started = time.perf_counter()
    record.signin_ms = (started - signing_in) * 1000
    session = session_for(session_seed or secrets.token_hex(8), suite, scenario, run)
    pending: str | None = None
    with client:
        for index, turn in enumerate(scenario.turns, start=1):
            if turn.say is not None:
                body: dict[str, Any] = {"message": turn.say, "session_id": session}
                record.said.append(turn.say)
            else:
                if pending is None:
                    record.broken = (index, "approval", "a call waiting for approval", "none was waiting")
                    break
                body = {
                    "approval": {"id": pending, "decision": "approve" if turn.approve else "reject"},
                    "session_id": session,
                }
            sent = time.perf_counter()
            try:
                reply = client.post("/chat", json=body)
            except httpx.HTTPError as exc:
                record.error, record.error_turn = f"the stack did not answer: {type(exc).__name__}", index
                break
            latency = (time.perf_counter() - sent) * 1000
            record.turns_ms += latency
            if reply.status_code >= 500 and reply.status_code != turn.expect.status:
                record.error, record.error_turn = _error_text(reply), index
                break
            trace = _trace(user, reply, latency)
            record.traces.append(trace)
            if reply.status_code == 200:
                pending = (reply.json().get("pending_approval") or {}).get("id")
    record.duration_ms = (time.perf_counter() - started) * 1000
    return record


def run_suites(
    target: Target,
    suites: Sequence[Suite],
    runs: int | None,
    concurrency: int = 4,
    progress: Callable[[RunRecord], None] | None = None,
    session_seed: str | None = None,
) -> list[RunRecord]:
    """Every run of every scenario, `concurrency` at a time; progress is told as each run ends.

    The runs' conversations are named from `session_seed` (a fresh one when None)."""
    seed = session_seed if session_seed is not None else secrets.token_hex(8)
    jobs = [
        (suite, scenario, run)
        for suite in suites
        for scenario in suite.scenarios
        for run in range(1, (runs or suite.runs) + 1)
    ]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = [pool.submit(run_once, target, suite, scenario, run, seed) for suite, scenario, run in jobs]
        records = []
        for future in futures:
            record = future.result()
            if progress is not None:
                progress(record)
            records.append(record)
    return records


@contextmanager
def own_stack(
    suites: Sequence[Suite], runs: int | None, workdir: Path, extra_args: Sequence[str] = ()
) -> Iterator[LocalUsers]:
    """`agentarch dev` (pattern 3, offline model) with one user per scenario run; stopped at the end."""
    from agentarch.dev.testing.local_stack import start_local_stack
    from agentarch.services.quotas import DailyLimits, QuotaPolicy

    users = own_users(suites, runs)
    groups: dict[str, DailyLimits] = {}
    for suite in suites:
        for name, limits in suite.quotas.groups.items():
            groups.setdefault(name, limits)
    quotas = QuotaPolicy(
        default=DailyLimits(requests_per_day=1_000_000, tokens_per_day=1_000_000_000), groups=groups
    )
    print(f"agentarch eval: starting a local stack with {len(users)} users…", file=sys.stderr)
    stack = start_local_stack(
        workdir,
        3,
        "--rate-limit", "1000000", *extra_args,
        users=[(name, password, ",".join(groups)) for name, (password, groups) in users.items()],
        env={Env.CHAT_QUOTAS: quotas.model_dump_json()},
    )  # fmt: skip
    try:
        seed_tickets(stack.state_dir, suites)
        yield LocalUsers(stack.url, users)
    finally:
        stack.stop()


def seed_tickets(state_dir: Path, suites: Sequence[Suite]) -> None:
    """Put the suites' tickets (others' words, for the injection suite) in the local stack's store."""
    from datetime import UTC, datetime

    from agentarch.dev.sqlite import DATABASE_FILE, SqliteDatabase, SqliteTicketStore
    from agentarch.services.tickets import Ticket

    seeds = [ticket for suite in suites for ticket in suite.tickets]
    if not seeds:
        return
    store = SqliteTicketStore(SqliteDatabase(state_dir / DATABASE_FILE))
    for seed in seeds:
        store.create_once(
            Ticket(
                ticket_id=seed.id,
                actor_id=seed.author,
                session_id="seeded-by-agentarch-eval",
                title=seed.title,
                severity=seed.severity,
                body=seed.body,
                created_at=datetime.now(UTC),
            )
        )
