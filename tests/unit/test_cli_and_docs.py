"""What a person reads first: the README's tables and the command line's help and outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentarch.config import Env
from agentarch.dev.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()

    missing = [name.value for name in Env if f"`{name.value}`" not in readme]

    assert missing == []


def test_the_readme_names_the_two_commands_and_ci_calls_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()

    assert "`make dev`" in readme and "`make test`" in readme
    assert "make test" in ci.splitlines()[-1]


def test_dev_help_explains_patterns_and_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agentarch.dev.cli", "dev", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )

    for text in (
        "--pattern",
        "--user NAME:PASSWORD[:GROUP,...]",
        "--state-dir",
        "AGENTARCH_STATE_DIR",
        "secure",
    ):
        assert text in result.stdout


def test_a_bad_user_spec_is_a_usage_error_that_says_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["dev", "--user", "nopassword"])

    assert exit_info.value.code == 2
    assert "NAME:PASSWORD" in capsys.readouterr().err


def test_openapi_covers_every_route_of_every_lambda(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"

    assert main(["openapi", "--output", str(out)]) == 0

    document = json.loads(out.read_text())
    routes = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert routes == {
        ("POST", "/api/chat"),
        ("GET", "/api/usage"),
        ("GET", "/api/conversations"),
        ("GET", "/api/conversations/{session_id}"),
        ("DELETE", "/api/conversations/{session_id}"),
        ("GET", "/api/audit"),
    }
    assert "ChatRequest" in document["components"]["schemas"]
    chat = document["paths"]["/api/chat"]["post"]
    assert any(p["in"] == "header" and p["name"].lower() == "idempotency-key" for p in chat["parameters"])
    assert {"409", "422", "429"} <= set(chat["responses"])


def test_dev_refuses_a_busy_port_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        code = main(["dev", "--no-browser", "--port", str(port), "--state-dir", str(tmp_path)])

    assert code == 1
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().out


def test_the_registry_routes_are_the_routes_each_resolver_serves() -> None:
    import importlib

    from agentarch.dev.packaging.registry import FUNCTIONS, lambdas_of_pattern

    for spec in (s for s in FUNCTIONS.values() if s.kind == "lambda" and not s.optional and s.routes):
        resolver = importlib.import_module(spec.entry_module).app
        paths = json.loads(resolver.get_openapi_json_schema())["paths"]
        served = {(method.upper(), path) for path, item in paths.items() for method in item}
        assert served == set(spec.routes), spec.name
    assert [s.name for s in lambdas_of_pattern(2)] == ["chat"]
    assert [s.name for s in lambdas_of_pattern(3)] == ["chat", "conversations", "audit"]
    assert FUNCTIONS["evaluator"].routes == ()  # invoked by AgentCore Evaluations, not the front door
    assert FUNCTIONS["notary"].routes == ()  # invoked by the audit table's stream


def test_a_user_without_a_password_is_told_the_format_not_invalid_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["dev", "--user", "alice"])

    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "--user wants NAME:PASSWORD[:GROUP,...], got 'alice'" in err
    assert "invalid" not in err


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536", "eighty"])
def test_a_port_outside_1_to_65535_is_refused_with_a_message(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["dev", "--port", port])

    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "a port is a number from 1 to 65535" in err
    assert "Traceback" not in err


def test_the_largest_port_is_accepted() -> None:
    assert build_parser().parse_args(["dev", "--port", "65535"]).port == 65535


def test_ctrl_c_stops_dev_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentarch.dev.local import stack

    def interrupted(self: stack.LocalStack) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(stack.LocalStack, "run", interrupted)

    code = main(["dev", "--no-browser", "--state-dir", str(tmp_path)])

    captured = capsys.readouterr()
    assert code == 130
    assert "KeyboardInterrupt" not in captured.out + captured.err


def test_lint_without_its_tools_gives_the_one_command_that_installs_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an install without the `lint` extra (`make dev` has it since issue 21): no python-hcl2
    for name in [m for m in sys.modules if m == "agentarch.dev.lint" or m.startswith("agentarch.dev.lint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "hcl2", None)

    code = main(["lint"])

    err = capsys.readouterr().err
    assert code == 2
    command = err.split("install it with:", 1)[1].strip()
    assert command.startswith(f"{sys.executable} -m pip install ")
    assert "python-hcl2" in command and "tfparse" in command
    assert "make test" not in err


def test_the_readme_lists_every_city_the_offline_model_knows() -> None:
    from agentarch.agent.offline_model import US_CITIES

    section = (ROOT / "README.md").read_text().split("## The offline model", 1)[1].split("\n## ", 1)[0]

    assert [city.name for city in US_CITIES if city.name not in section] == []


def test_every_lint_format_the_cli_offers_has_a_renderer() -> None:
    from agentarch.dev.cli.lint import LINT_FORMATS
    from agentarch.dev.lint.report import RENDERERS

    assert set(LINT_FORMATS) == set(RENDERERS)
