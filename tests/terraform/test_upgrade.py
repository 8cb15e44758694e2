"""A stack applied from the previous main plans cleanly onto this tree: every resource address the
previous version declared (tests/terraform/fixtures/addresses.json, recorded from that commit by
`python -m tests.terraform.addresses`) is still declared here, or a `moved` block carries it to one
that is. An address that disappears without one would be destroyed and created again by the next
apply (a table, a user pool, a runtime: data lost, ids changed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.terraform import addresses
from tests.terraform.conftest import EXAMPLES, MODULES


def recorded() -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(addresses.FIXTURE.read_text(encoding="utf-8"))["roots"]
    return data


@pytest.mark.parametrize("name", addresses.ROOTS)
def test_every_address_of_the_previous_version_is_kept_or_moved(name: str) -> None:
    assert addresses.lost(set(recorded()[name]), EXAMPLES / name) == set()


def test_the_fixture_covers_every_root() -> None:
    assert set(recorded()) == set(addresses.ROOTS) and all(recorded().values())


def test_the_runtime_log_group_became_counted_and_only_its_moved_block_keeps_it() -> None:
    """Issue 21 made the runtime's log group optional (count): without the `moved` block the walk
    reports the old address of every pattern lost."""
    old = set(recorded()["3-full"])
    assert "module.runtime.aws_cloudwatch_log_group.runtime" in old
    assert addresses.lost(old, EXAMPLES / "3-full") == set()
    assert addresses.lost(old, EXAMPLES / "3-full", honour_moves=False) == {
        "module.runtime.aws_cloudwatch_log_group.runtime"
    }


def test_a_renamed_resource_without_a_moved_block_is_reported(tmp_path: Path) -> None:
    """Rename the quotas table in a copy of the modules: the previous address is lost."""
    shutil.copytree(MODULES, tmp_path / "modules")
    shutil.copytree(EXAMPLES / "2-secure", tmp_path / "examples" / "2-secure")
    limits = tmp_path / "modules" / "spend_limits" / "main.tf"
    limits.write_text(
        limits.read_text(encoding="utf-8").replace(
            'resource "aws_dynamodb_table" "quotas"', 'resource "aws_dynamodb_table" "quota_counters"'
        ),
        encoding="utf-8",
    )
    root = tmp_path / "examples" / "2-secure"
    assert addresses.lost(set(recorded()["2-secure"]), root) == {"module.limits.aws_dynamodb_table.quotas"}


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_the_eval_trigger_moved_into_its_module_and_only_its_moved_blocks_keep_it(name: str) -> None:
    """The eval client's trigger (module.eval_scopes) and its permission moved into
    modules/eval_sign_in: a stack applied with eval_client_enabled keeps its function, role, log
    group and permission through the `moved` blocks, and would lose them all without."""
    function, _ = addresses.addresses(MODULES / "lambda_function")
    old = {f"module.eval_scopes[*].{a}" for a in function} | {"aws_lambda_permission.eval_scopes[*]"}
    assert "module.eval_scopes[*].aws_lambda_function.this" in old
    root = EXAMPLES / name
    assert addresses.lost(old, root) == set()
    assert addresses.lost(old, root, honour_moves=False) == old
