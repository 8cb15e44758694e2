"""Plan-time knowledge: no `count`/`for_each` of an example waits for apply, and the lint rule that
says so agrees with a real `terraform plan`.

The calibration root (`fixtures/plan_time`) holds only S3 resources, so the provider mirror on these
machines (AWS 5.100, no AgentCore) can plan it with fake credentials: nothing is read from AWS. Its
modules marked `# Fails:` must fail the plan, the others must plan.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agentarch.dev.lint import lint_paths, plantime
from tests.terraform.conftest import EXAMPLE_NAMES, EXAMPLES, MODULES, OTHER_ROOTS

CALIBRATION = Path(__file__).parent / "fixtures" / "plan_time"
PLUGIN_DIRS = (os.environ.get("AGENTARCH_TF_PLUGIN_DIR", ""), "/opt/tf-plugins")
_DIAGNOSTIC = re.compile(r"Error: Invalid (?:count|for_each) argument\s+on (\S+) line (\d+)")


def expected_failures() -> set[str]:
    """The calibration modules whose call the fixture marks `# Fails:`."""
    text = (CALIBRATION / "main.tf").read_text(encoding="utf-8")
    return set(re.findall(r'# Fails:[^\n]*\nmodule "(\w+)"', text))


def lint_failures(root: Path) -> set[tuple[str, int]]:
    found = plantime.check_root(root)
    return {(str(f.file.relative_to(root.resolve())), f.line) for f in found}


def test_the_rule_fails_exactly_the_calibration_modules_marked_to_fail() -> None:
    failing = {Path(file).parts[0] for file, _ in lint_failures(CALIBRATION)}
    assert expected_failures() and failing == expected_failures()


def _provider_mirror() -> Path | None:
    for base in PLUGIN_DIRS:
        if base and (Path(base) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return Path(base)
    return None


def test_the_rule_and_terraform_plan_fail_the_same_lines(tmp_path: Path) -> None:
    terraform, mirror = shutil.which("terraform"), _provider_mirror()
    if terraform is None:
        pytest.skip("no terraform binary on PATH: the rule's calibration against a real plan needs one")
    if mirror is None:
        pytest.skip(
            "no local AWS provider mirror (/opt/tf-plugins or AGENTARCH_TF_PLUGIN_DIR): init needs the registry"
        )
    root = tmp_path / "root"
    shutil.copytree(CALIBRATION, root)
    cli = tmp_path / "cli.tfrc"
    cli.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(cli),
        "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fake",
        "AWS_EC2_METADATA_DISABLED": "true",
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    init = subprocess.run(
        [terraform, "init", "-input=false", "-no-color", "-backend=false"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    plan = subprocess.run(
        [terraform, "plan", "-input=false", "-no-color", "-refresh=false", "-lock=false"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    by_terraform = {(file, int(line)) for file, line in _DIAGNOSTIC.findall(plan.stderr + plan.stdout)}
    assert by_terraform, plan.stderr
    assert lint_failures(root) == by_terraform


@pytest.mark.parametrize("name", EXAMPLE_NAMES + OTHER_ROOTS)
def test_no_example_decides_a_count_at_apply(name: str) -> None:
    assert plantime.check_root(EXAMPLES / name) == []


def test_todays_reuse_example_fails_the_plan_and_its_fix_does_not(tmp_path: Path) -> None:
    """Given examples/reuse as main had it (the shared bucket's name from the other runtime, no
    create_artifact_bucket), the rule finds every S3 `count` of the second runtime; with the fix, none."""
    root = tmp_path / "reuse"
    root.mkdir()
    modules = os.path.relpath(MODULES, root)
    for file in (EXAMPLES / "reuse").glob("*.tf"):
        text = file.read_text(encoding="utf-8").replace('"../../modules/', f'"{modules}/')
        (root / file.name).write_text(text, encoding="utf-8")
    assert plantime.check_root(root) == []
    main = root / "main.tf"
    main.write_text(
        re.sub(r"\n\s*create_artifact_bucket\s*=\s*false[^\n]*", "", main.read_text()), encoding="utf-8"
    )
    found = [f for f in lint_paths([root]) if f.rule == plantime.RULE_ID]
    s3 = (MODULES / "agent_runtime" / "s3.tf").read_text(encoding="utf-8")
    assert {f.file.name for f in found} == {"s3.tf"}
    assert len(found) == s3.count("count = local.create_bucket")
    assert all(
        f.module == "module.triage" and f.root.endswith("reuse") and f.severity == "error" for f in found
    )
    assert all(f.where().startswith(f"{f.root} -> module.triage (") for f in found)
