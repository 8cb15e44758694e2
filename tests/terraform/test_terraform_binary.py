"""What the `terraform` binary can check here: formatting of the whole tree, and `validate` (against
the provider's real schema, nesting depth of WAF statements included) for the modules whose resources
the local AWS provider mirror (5.100, no AgentCore) knows. Skipped, with the reason, where the binary
or the mirror is absent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.terraform.conftest import MODULES, ROOT
from tests.terraform.test_plan_time import _provider_mirror

TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")
# Modules that use no resource or attribute the 5.100 mirror lacks (AgentCore, aws_region's `region`).
MIRROR_MODULES = ("front_door", "alarms")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM is not None
    return subprocess.run(
        [TERRAFORM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )


@needs_terraform
def test_the_tree_is_terraform_fmt_clean() -> None:
    result = _run(
        ["fmt", "-check", "-recursive", "-no-color", "terraform"],
        ROOT,
        {**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, f"terraform fmt would change: {result.stdout}"


@needs_terraform
@pytest.mark.parametrize("module", MIRROR_MODULES)
def test_the_module_validates_against_the_providers_schema(module: str, tmp_path: Path) -> None:
    mirror = _provider_mirror()
    if mirror is None:
        pytest.skip(
            "no local AWS provider mirror (/opt/tf-plugins or AGENTARCH_TF_PLUGIN_DIR): init needs the registry"
        )
    copy = tmp_path / module
    shutil.copytree(MODULES / module, copy)
    # the mirror holds 5.100; the module pins 6.66 for what it does not use here
    versions = copy / "versions.tf"
    versions.write_text(
        versions.read_text(encoding="utf-8").replace(">= 6.66, < 7.0", ">= 5.0"), encoding="utf-8"
    )
    # response_transfer_mode (streaming) came in provider 6.x: the schema test checks it against 6.66
    for tf in copy.glob("*.tf"):
        text = tf.read_text(encoding="utf-8")
        tf.write_text(re.sub(r"(?m)^\s*response_transfer_mode\s*=.*\n", "", text), encoding="utf-8")
    cli = tmp_path / "cli.tfrc"
    cli.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n',
        encoding="utf-8",
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    init = _run(["init", "-backend=false", "-input=false", "-no-color"], copy, env)
    assert init.returncode == 0, init.stderr
    validate = _run(["validate", "-no-color"], copy, env)
    assert validate.returncode == 0, validate.stderr + validate.stdout
