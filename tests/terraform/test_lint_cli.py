"""`agentarch lint PATH...`: what a user sees on the four patterns, on a stranger's tree, and on bad input."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest

from agentarch.dev.cli import main
from tests.terraform.conftest import EXAMPLES, MODULES, ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
SARIF_SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def lint(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["lint", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys: pytest.CaptureFixture[str], path: Path) -> list[dict[str, object]]:
    code, out, _ = lint(capsys, str(path), "--format", "json")
    assert code in (0, 1)
    items: list[dict[str, object]] = json.loads(out)["findings"]
    return items


def test_passthrough_reports_the_bypass_gap_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = lint(capsys, str(EXAMPLES / "1-passthrough"))
    assert code == 1
    assert "error [bypass-gap] module.runtime.aws_bedrockagentcore_agent_runtime.this" in out
    # the finding names the example it came from, the module instance, and the module's file:line
    assert "examples/1-passthrough -> module.runtime (" in out
    assert "terraform/modules/agent_runtime/runtime.tf:1): error [bypass-gap]" in out
    assert "fix: Drop the runtime's JWT authorizer" in out


def test_direct_reports_the_missing_front_door_as_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = lint(capsys, str(EXAMPLES / "0-direct"))
    assert code == 0, "a warning does not fail at the default --fail-on error"
    assert "warning [no-front-door]" in out
    assert lint(capsys, str(EXAMPLES / "0-direct"), "--fail-on", "warning")[0] == 1


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_secure_patterns_are_clean_at_the_default_level(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    items = findings(capsys, EXAMPLES / name)
    assert [i for i in items if i["severity"] == "error"] == []
    # Logs wait for the account step; the chat Lambda reserves no concurrency by default (a new
    # account cannot): both are warnings, and the README says why. The runtime's resource policy
    # (Deny for all but the chat role) is asked for exactly while no module declares one.
    declared = any(
        "aws_bedrockagentcore_resource_policy" in p.read_text(encoding="utf-8") for p in MODULES.rglob("*.tf")
    )
    warned = {i["rule"] for i in items if i["severity"] == "warning"}
    assert warned - {"runtime-resource-policy"} <= {"access-logs", "no-reserved-concurrency"}
    assert ("runtime-resource-policy" in warned) is not declared
    assert lint(capsys, str(EXAMPLES / name))[0] == 0


def test_sarif_output_validates_against_the_sarif_2_1_0_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = lint(capsys, str(EXAMPLES / "1-passthrough"), "--format", "sarif")
    log = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    results = log["runs"][0]["results"]
    bypass = next(r for r in results if r["ruleId"] == "bypass-gap")
    location = bypass["locations"][0]["physicalLocation"]
    assert code == 1
    assert bypass["level"] == "error"
    assert location["artifactLocation"]["uri"].endswith("modules/agent_runtime/runtime.tf")
    assert location["region"]["startLine"] == 1
    # the root it came from: a related location the message links to, and the logical location
    (logical,) = bypass["locations"][0]["logicalLocations"]
    assert logical["kind"] == "module"
    assert logical["fullyQualifiedName"].endswith("examples/1-passthrough/module.runtime")
    (related,) = bypass["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"].endswith("examples/1-passthrough/")
    assert (
        f"[{logical['fullyQualifiedName'].rsplit('/module.', 1)[0]}]({related['id']})"
        in bypass["message"]["text"]
    )


def test_a_module_two_examples_share_is_reported_once_per_example_with_its_root(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 21: a finding in a shared module named only the module's file, not which root has it."""
    items = findings(capsys, EXAMPLES)
    logs = [i for i in items if i["rule"] == "access-logs"]
    roots = {str(i["root"]).rsplit("/", 1)[-1] for i in logs}
    assert {"2-secure", "3-full"} <= roots
    assert {i["module"] for i in logs} == {"module.front_door"}
    assert len({i["file"] for i in logs}) == 1, "one file, named once per root that uses it"
    assert all(i["root"] for i in items), "every finding names its root"


def test_a_tree_it_has_never_seen_is_linted_and_what_it_cannot_follow_is_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given another team's tree: for_each routes, a dynamic WAF rule list, the runtime in a local
    # module with a dynamic authorizer, and a registry module the linter cannot download
    items = findings(capsys, FIXTURES / "third_party")

    by_rule = {str(i["rule"]): i for i in items}
    assert set(by_rule) == {"bypass-gap", "method-without-authorizer", "waf-without-rate-rule", "unresolved"}
    assert "helper_bot" in str(by_rule["bypass-gap"]["message"])
    assert str(by_rule["bypass-gap"]["file"]).endswith("third_party/modules/assistant/main.tf")
    assert 'route["health"]' in str(by_rule["method-without-authorizer"]["message"])
    assert "terraform-aws-modules/vpc/aws" in str(by_rule["unresolved"]["message"])
    assert by_rule["unresolved"]["severity"] == "note"


def test_a_syntax_error_exits_2_with_the_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n  acl =\n}\n')
    code, out, err = lint(capsys, str(tmp_path))
    assert code == 2
    assert out == ""
    assert f"{tmp_path / 'main.tf'}:3: not valid HCL" in err


def test_a_missing_path_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = lint(capsys, str(tmp_path / "nowhere"))
    assert code == 2
    assert "no such file or directory" in err


def test_a_tree_of_roots_is_linted_root_by_root(capsys: pytest.CaptureFixture[str]) -> None:
    # terraform/examples holds six roots; the modules they call are not roots of their own
    items = findings(capsys, EXAMPLES)
    assert {i["rule"] for i in items if i["severity"] == "error"} >= {"bypass-gap"}
    assert {i["rule"] for i in items if i["severity"] == "warning"} >= {"no-front-door"}


def test_schema_and_reference_checks_run_on_a_path_outside_this_repository(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a stranger's root with a misspelt argument and a reference to nothing
    (tmp_path / "main.tf").write_text(
        'resource "aws_cloudwatch_log_group" "app" {\n'
        "  name             = var.log_group\n"
        "  retention_in_day = 30\n"
        "}\n"
        'resource "random_id" "x" {\n  byte_length = 4\n}\n'
    )
    items = findings(capsys, tmp_path)

    messages = {(i["rule"], i["message"]) for i in items if i["rule"] in ("schema", "reference")}
    assert any(rule == "reference" and "var.log_group is not declared" in str(m) for rule, m in messages)
    assert any(rule == "schema" and "retention_in_day" in str(m) for rule, m in messages)
    assert not any("random_id" in str(m) for _, m in messages), "types outside the shipped subset are skipped"


def test_make_dev_installs_what_lint_needs() -> None:
    """Issue 21: after `make dev` the command said to run `make test`. `make dev` runs
    scripts/bootstrap.sh without --test, which installs the package with its `lint` extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    names = {re.split(r"[<>=\[;~! ]", r, maxsplit=1)[0] for r in extras["lint"]}
    assert names == {"python-hcl2", "tfparse"}, "what agentarch.dev.lint imports (hcl2, tfparse)"
    assert "agentarch[lint]" in extras["dev"]
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    run_install = bootstrap.split('if [ "$extras" = dev ]; then', 1)[1].split("\n  fi\n", 1)[0]
    assert "-e '.[lint]'" in run_install.split("else", 1)[1]
    assert "dev:\n\t@scripts/bootstrap.sh\n" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_a_schema_finding_points_at_the_line_and_says_what_to_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Found on a public tree: `lifecycle_configuration` is a list-of-objects argument of the runtime
    in provider 6.x (a framework attribute, so block syntax is refused), and the finding had no line."""
    (tmp_path / "main.tf").write_text(
        'resource "aws_bedrockagentcore_agent_runtime" "this" {\n'
        '  agent_runtime_name = "bot"\n'
        '  role_arn           = "arn:aws:iam::123456789012:role/bot"\n'
        "\n"
        '  dynamic "lifecycle_configuration" {\n'
        "    for_each = [1]\n"
        "    content {\n"
        "      max_lifetime = 3600\n"
        "    }\n"
        "  }\n"
        "}\n"
    )
    (hit,) = [i for i in findings(capsys, tmp_path) if i["rule"] == "schema"]
    assert hit["line"] == 5
    assert "write `lifecycle_configuration = [...]`" in str(hit["message"])


def test_a_module_the_root_calls_from_outside_the_path_is_checked_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`agentarch lint examples/x` checks `../../modules/y` that x calls, named by the root."""
    (tmp_path / "modules" / "logs").mkdir(parents=True)
    (tmp_path / "modules" / "logs" / "main.tf").write_text(
        'resource "aws_cloudwatch_log_group" "this" {\n  name             = "app"\n  retention_in_day = 30\n}\n'
    )
    (tmp_path / "examples" / "x").mkdir(parents=True)
    (tmp_path / "examples" / "x" / "main.tf").write_text(
        'module "logs" {\n  source = "../../modules/logs"\n}\n'
    )

    (hit,) = [i for i in findings(capsys, tmp_path / "examples" / "x") if i["rule"] == "schema"]

    assert str(hit["file"]).endswith("modules/logs/main.tf") and hit["line"] == 3
    assert str(hit["root"]).endswith("examples/x") and hit["module"] == "module.logs"
