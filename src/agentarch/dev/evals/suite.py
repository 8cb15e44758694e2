"""The scenario format: a YAML suite of scenarios, each a few turns with what each turn must show.

```yaml
suite: tools                      # a name for the report
runs: 3                           # k: each scenario runs k times (overridden by --runs)
user: {groups: [users]}           # who the scenarios sign in as, unless one names its own
consequential_tools: [create_ticket]
budget: {tokens_per_turn: 20000, latency_ms_per_turn: 20000}
quotas: {groups: {metered: {requests_per_day: 2, tokens_per_day: 100000}}}  # own stack only
tickets: [{id: t-12, author: bob, title: printer, body: "…"}]  # others' tickets, own stack only
scenarios:
  - id: multiply
    turns:
      - say: "what is 17 * 23?"
        expect: {tools: [calculator], args: {calculator: {expression: "17 * 23"}}, answer_contains: "391"}
  - id: ticket-approved
    user: {groups: [users, support]}
    turns:
      - say: "open a ticket: printer on floor 3 is broken"
        expect: {tools: [], approval: create_ticket}
      - approve: true
        expect: {tools: [create_ticket], answer_contains: "created ticket"}
```

A malformed suite is refused as a whole, before anything runs, with `file:line` for each problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agentarch.core.errors import InvalidIdentifier
from agentarch.core.identity import check_group_name
from agentarch.services.evaluation import Budget, Expect
from agentarch.services.quotas import DailyLimits

SUITE_SUFFIXES = (".yaml", ".yml")


class SuiteError(Exception):
    """A suite that cannot run: each problem with its `file:line`."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class ScenarioUser(BaseModel):
    """Who a scenario signs in as: a user in these Cognito groups."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _group_names(self) -> ScenarioUser:
        for group in self.groups:
            try:
                check_group_name(group)
            except InvalidIdentifier as exc:
                raise ValueError(str(exc)) from None
        return self


class ScenarioTurn(BaseModel):
    """One turn: a message (`say`) or the answer to the call waiting for approval (`approve`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    say: str | None = Field(None, min_length=1)
    approve: bool | None = None
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def _one_of(self) -> ScenarioTurn:
        if (self.say is None) == (self.approve is None):
            raise ValueError("a turn has exactly one of `say` or `approve`")
        return self


class Scenario(BaseModel):
    """A task the agent must do the same way every run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    user: ScenarioUser | None = None
    judge: str | None = Field(None, description="a rubric for the LLM judge (skipped offline)")
    turns: list[ScenarioTurn] = Field(min_length=1)


class SeedTicket(BaseModel):
    """A ticket someone else wrote, in the store before the suite runs (the stack eval starts only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    author: str = Field(min_length=1, max_length=128)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(max_length=4000)
    severity: str = Field("medium", pattern=r"^(low|medium|high)$")


class QuotaOverrides(BaseModel):
    """Daily limits per group for the stack `agentarch eval` starts (ignored with --against)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: dict[str, DailyLimits] = Field(default_factory=dict)


class Suite(BaseModel):
    """A file of scenarios."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: str = Field(min_length=1)
    runs: int = Field(3, ge=1, le=100)
    user: ScenarioUser = Field(default_factory=ScenarioUser)
    consequential_tools: list[str] = Field(default_factory=list)
    budget: Budget = Field(default_factory=Budget)
    quotas: QuotaOverrides = Field(default_factory=QuotaOverrides)
    tickets: list[SeedTicket] = Field(default_factory=list, description="others' tickets, seeded first")
    scenarios: list[Scenario] = Field(min_length=1)
    path: str = Field("", exclude=True)

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        seen: set[str] = set()
        for scenario in self.scenarios:
            if scenario.id in seen:
                raise ValueError(f"scenario id {scenario.id!r} appears twice")
            seen.add(scenario.id)
        return self

    def user_of(self, scenario: Scenario) -> ScenarioUser:
        """Who the scenario signs in as."""
        return scenario.user or self.user


def _lines(node: yaml.Node, path: tuple[Any, ...], found: dict[tuple[Any, ...], int]) -> None:
    """Record the 1-based line of every key and item, by its path in the document."""
    found.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            found[child] = key.start_mark.line + 1
            _lines(value, child, found)
            found[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), found)


def _line_of(loc: Sequence[Any], lines: dict[tuple[Any, ...], int]) -> int:
    path = tuple(loc)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def load_suite(path: Path) -> Suite:
    """Parse and validate one suite file; SuiteError with `file:line` for every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SuiteError([f"{path}:{line}: not valid YAML: {exc.problem or exc.context}"]) from None
    if not isinstance(data, dict) or node is None:
        raise SuiteError([f"{path}:1: a suite is a mapping with `suite` and `scenarios`"])
    lines: dict[tuple[Any, ...], int] = {}
    _lines(node, (), lines)
    problems = _repeated_ids(data, lines, path)
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            if problems and error["loc"] == ():
                continue  # the repeated id, already said at its own line
            loc = [
                part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))
            ]
            where = ".".join(map(str, loc)) or "suite"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{path}:{_line_of(loc, lines)}: {where}: {message}")
        raise SuiteError(problems) from None
    return suite.model_copy(update={"path": str(path)})


def _repeated_ids(data: dict[str, Any], lines: dict[tuple[Any, ...], int], path: Path) -> list[str]:
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, list):
        return []
    seen: set[Any] = set()
    problems = []
    for index, scenario in enumerate(scenarios):
        ident = scenario.get("id") if isinstance(scenario, dict) else None
        if isinstance(ident, str) and ident in seen:
            line = lines.get(("scenarios", index, "id"), 1)
            problems.append(f"{path}:{line}: scenarios.{index}.id: scenario id {ident!r} appears twice")
        seen.add(ident)
    return problems


def suite_files(paths: Iterable[Path]) -> list[Path]:
    """The suite files named: files as given, folders searched for *.yaml and *.yml (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SUITE_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def load_suites(paths: Iterable[Path]) -> list[Suite]:
    """Every suite named, or SuiteError listing every problem in every file (nothing runs then)."""
    files = suite_files(paths)
    if not files:
        raise SuiteError(["no suite files (*.yaml) found"])
    suites, problems = [], []
    for file in files:
        try:
            suites.append(load_suite(file))
        except SuiteError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SuiteError(problems)
    return suites
