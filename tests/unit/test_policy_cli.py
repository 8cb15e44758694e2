"""`agentarch policy validate|test|explain`, and `agentarch dev` refusing an invalid policy folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentarch.agent.policy import DEFAULT_POLICY_DIR
from agentarch.dev.cli import main

SYNTAX_ERROR = (
    '@id("ok")\npermit (principal, action, resource);\n\n@id("broken")\npermit (principal, action) when;\n'
)
UNKNOWN_TOOL = '\n// weather, misspelt\n@id("typo")\npermit (principal, action == Agentarch::Action::"wether", resource);\n'


def policy_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "schema.cedarschema").write_text((DEFAULT_POLICY_DIR / "schema.cedarschema").read_text())
    (folder / "team.cedar").write_text(text)
    return folder


def test_the_default_policy_folder_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "validate"]) == 0
    assert "valid (14 policies" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [(SYNTAX_ERROR, "team.cedar:4:", "unexpected token"), (UNKNOWN_TOOL, "team.cedar:3:", "wether")],
    ids=["syntax error", "unknown tool"],
)
def test_validate_names_the_file_and_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str, says: str
) -> None:
    folder = policy_folder(tmp_path, text)

    assert main(["policy", "validate", str(folder)]) == 2
    error = capsys.readouterr().err
    assert f"{folder}/{where}" in error and says in error


def test_dev_refuses_to_start_on_an_invalid_policy_with_the_same_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = policy_folder(tmp_path, UNKNOWN_TOOL)
    main(["policy", "validate", str(folder)])
    validate_says = capsys.readouterr().err.removeprefix("agentarch policy: ").strip()

    code = main(["dev", "--no-browser", "--state-dir", str(tmp_path / "state"), "--policy-dir", str(folder)])

    assert code == 2
    assert validate_says in capsys.readouterr().err
    assert not (tmp_path / "state").exists()  # nothing started


def test_the_default_cases_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", str(DEFAULT_POLICY_DIR / "cases.toml")]) == 0
    assert "0 failed" in capsys.readouterr().out


def test_a_case_that_gets_another_decision_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.toml"
    cases.write_text(
        '[[case]]\nname = "weather for everyone?"\ngroups = ["users"]\ntool = "weather"\n'
        'args = { latitude = 47.6, longitude = -122.3 }\nexpect = "allow"\n'
    )

    assert main(["policy", "test", str(cases)]) == 1
    assert "FAIL  weather for everyone?  deny by default-deny  — expected allow" in capsys.readouterr().out


def test_explain_names_the_deciding_policy_and_the_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    args = '{"title": "printer", "severity": "urgent", "body": "jammed"}'

    assert (
        main(
            [
                "policy",
                "explain",
                "--group",
                "support",
                "--tool",
                "create_ticket",
                "--args",
                args,
                "--approved",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "decision:    deny" in out and "decided by:  ticket-severity-is-low-medium-or-high" in out
    assert "tickets-for-the-support-group" in out.split("could apply:")[1]
