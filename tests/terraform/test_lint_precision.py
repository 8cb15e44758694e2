"""`scripts/lint_precision.py`: the README's precision table, from our labels, on a checkout.

The fixture `fixtures/lint/third_party` stands in for a fetched public tree (the real ones are
other people's code and stay out of the repository)."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from tests.terraform.conftest import ROOT

CHECKOUT = Path(__file__).parent / "fixtures" / "lint"
LABELS = """
[trees.stranger]
repo = "example/stranger"
commit = "0123456789abcdef0123456789abcdef01234567"
path = "third_party"

[[trees.stranger.labels]]
rule = "method-without-authorizer"
file = "third_party/main.tf"
line = 61
verdict = "true"
why = "public route"

[[trees.stranger.labels]]
rule = "waf-without-rate-rule"
file = "third_party/main.tf"
line = 71
verdict = "false"
why = "pretend the rule got it wrong"
"""
BYPASS = """
[[trees.stranger.labels]]
rule = "bypass-gap"
file = "third_party/modules/assistant/main.tf"
line = 25
verdict = "true"
why = "same pool"
"""


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lint_precision", ROOT / "scripts" / "lint_precision.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("lint_precision", module)  # its dataclasses look their module up there
    spec.loader.exec_module(sys.modules["lint_precision"])
    return sys.modules["lint_precision"]


def run(tmp_path: Path, labels: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    (tmp_path / "labels.toml").write_text(labels, encoding="utf-8")
    code = script().main(["--labels", str(tmp_path / "labels.toml"), f"stranger={CHECKOUT}"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_table_counts_true_and_false_by_label_and_keeps_notes_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(tmp_path, LABELS + BYPASS, capsys)
    row = next(line for line in out.splitlines() if line.startswith("| stranger"))
    assert code == 0, err
    assert "(`0123456789ab`)" in row
    assert "`bypass-gap` 1, `method-without-authorizer` 1, `waf-without-rate-rule` 1" in row
    assert row.endswith("| 2 | 1 | 67% | 1 |"), "2 true, 1 false, the registry module's note apart"


def test_an_unlabelled_finding_is_listed_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(tmp_path, LABELS, capsys)
    assert code == 1
    assert "(+1 unlabelled)" in out
    assert "unlabelled: bypass-gap third_party/modules/assistant/main.tf:25" in err


def test_a_label_lint_no_longer_reports_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = BYPASS.replace("line = 25", "line = 24")
    code, _, err = run(tmp_path, LABELS + BYPASS + stale, capsys)
    assert code == 1
    assert "labelled but not reported: bypass-gap third_party/modules/assistant/main.tf:24" in err


def test_the_checked_in_labels_name_a_commit_and_a_reason_for_every_verdict() -> None:
    trees = tomllib.loads((ROOT / "scripts" / "lint_precision_labels.toml").read_text(encoding="utf-8"))[
        "trees"
    ]
    assert {"fast", "aws-ia"} <= set(trees) and len(trees) >= 3
    for tree in trees.values():
        assert len(tree["commit"]) == 40
        for label in tree.get("labels", []):
            assert label["verdict"] in ("true", "false") and label["why"]
