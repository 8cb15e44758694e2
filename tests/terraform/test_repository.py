"""The project's own Terraform passes every static check `terraform validate` would make."""

from __future__ import annotations

import re

import pytest

from agentarch.dev.cli.lint import main
from agentarch.dev.lint import run_all
from agentarch.dev.lint.hcl import terraform_dirs
from agentarch.dev.packaging.registry import FUNCTIONS
from tests.terraform.conftest import EXAMPLE_NAMES, EXAMPLES, MODULES, OTHER_ROOTS, ROOT

RULES = {
    "parse": "every .tf file parses",
    "schema": "resources, data sources and nested blocks match the AWS provider 6.66.0 schema",
    "reference": "every var./local./module./data./resource reference resolves",
    "module-call": "module calls pass only declared variables and every required one",
    "variable": "variables have a type and a description, closed sets a validation",
    "output": "outputs have a description",
    "versions": "versions.tf pins terraform >= 1.10 and hashicorp/aws >= 6.66, < 7.0",
    "readme": "every module has a README with generated tables",
    "readme-drift": "README Inputs/Outputs tables match the HCL",
    "duplicate": "nothing is declared twice",
}


@pytest.fixture(scope="module")
def findings() -> list[str]:
    return [f"{f.rule}|{f.render(ROOT)}" for f in run_all(ROOT)]


def test_the_tree_has_every_module_and_example() -> None:
    dirs = {p.relative_to(ROOT).as_posix() for p in terraform_dirs(ROOT)}
    expected = {f"terraform/modules/{m}" for m in ("identity", "front_door", "lambda_function")}
    expected |= {
        f"terraform/modules/{m}"
        for m in (
            "agent_runtime",
            "agent_memory",
            "data",
            "audit",
            "timeout_chain",
            "spend_limits",
            "evaluations",
            "eval_sign_in",
            "alarms",
            "kill_switch",
        )
    }
    expected |= {f"terraform/examples/{e}" for e in (*EXAMPLE_NAMES, *OTHER_ROOTS)}
    assert dirs == expected
    for module in MODULES.iterdir():
        for name in ("variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (module / name).exists(), f"{module.name} lacks {name}"
    for name in (*EXAMPLE_NAMES, *OTHER_ROOTS):
        assert (EXAMPLES / name / "README.md").exists()


@pytest.mark.parametrize("rule", sorted(RULES))
def test_no_findings_for(rule: str, findings: list[str]) -> None:
    mine = [f.split("|", 1)[1] for f in findings if f.split("|", 1)[0] == rule]
    assert mine == [], f"{RULES[rule]}:\n" + "\n".join(mine)


def test_lint_command_exits_zero_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(ROOT)]) == 0
    assert "no findings" in capsys.readouterr().out


def test_the_readme_names_every_module_and_every_zip_the_build_writes() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Deploying to AWS") :]
    modules = sorted(p.name for p in MODULES.iterdir() if p.is_dir())
    words = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
    ]
    listed = re.search(r"(\w+) modules under `terraform/modules/`\s*\(([^)]*)\)", section)
    assert listed, "the README says how many modules there are and lists them"
    assert listed.group(1) == words[len(modules)]
    assert re.findall(r"`(\w+)`", listed.group(2)) == modules
    zips = re.search(r"lambda_build/dist/\{([^}]*)\}\.zip", section)
    assert zips and set(zips.group(1).split(",")) == {
        spec.artifact.removesuffix(".zip") for spec in FUNCTIONS.values()
    }
