"""The checker itself: small broken configurations in temporary directories must be reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentarch.dev.cli.lint import main
from agentarch.dev.lint import run_all
from agentarch.dev.lint.docs import BEGIN, END
from agentarch.dev.lint.schema import SCHEMA_RELPATH
from tests.terraform.conftest import ROOT

VERSIONS = """
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.66, < 7.0"
    }
  }
}
"""

GOOD_MODULE = """
variable "name" {
  type        = string
  description = "Name of the table."
}

variable "tags" {
  type        = map(string)
  description = "Tags."
  default     = {}
}

resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  tags         = var.tags

  attribute {
    name = "id"
    type = "S"
  }
}

output "arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}
"""


def make_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    """A repository with the real schema subset and the given files under terraform/."""
    (tmp_path / SCHEMA_RELPATH).parent.mkdir(parents=True)
    shutil.copy(ROOT / SCHEMA_RELPATH, tmp_path / SCHEMA_RELPATH)
    for name, text in files.items():
        path = tmp_path / "terraform" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def module_files(main_tf: str, readme: str | None = None) -> dict[str, str]:
    return {
        "modules/m/main.tf": main_tf,
        "modules/m/versions.tf": VERSIONS,
        "modules/m/README.md": readme if readme is not None else f"# m\n\n{BEGIN}\n{END}\n",
    }


def messages(tmp_path: Path, files: dict[str, str], fix_readmes: bool = True) -> list[str]:
    repo = make_repo(tmp_path, files)
    if fix_readmes:
        from agentarch.dev.lint.docs import update_readme
        from agentarch.dev.lint.hcl import clear_cache, load_module, terraform_dirs

        clear_cache()
        for path in terraform_dirs(repo):
            update_readme(load_module(path))
    return [f"[{f.rule}] {f.message}" for f in run_all(repo)]


def test_a_correct_module_has_no_findings(tmp_path: Path) -> None:
    assert messages(tmp_path, module_files(GOOD_MODULE)) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("billing_mode = ", "bilinng_mode = ", "unknown argument 'bilinng_mode'"),
        ("  name         = var.name\n", "", "missing required argument 'name'"),
        ("attribute {", "atribute {", "unknown block 'atribute'"),
    ],
    ids=["unknown-argument", "missing-required-argument", "unknown-block"],
)
def test_schema_errors_are_reported(tmp_path: Path, old: str, new: str, expected: str) -> None:
    found = messages(tmp_path, module_files(GOOD_MODULE.replace(old, new)))
    assert any(m.startswith("[schema]") and expected in m for m in found), found


def test_an_argument_set_twice_in_one_block_is_reported(tmp_path: Path) -> None:
    # Terraform refuses it ("Attribute redefined"); a parsed document would keep the last silently.
    text = GOOD_MODULE.replace('  hash_key     = "id"\n', '  hash_key     = "id"\n  hash_key     = "pk"\n')

    found = messages(tmp_path, module_files(text))

    assert "[duplicate] the argument hash_key is set twice in one block" in found, found


def test_block_written_as_argument_and_argument_as_block(tmp_path: Path) -> None:
    text = GOOD_MODULE.replace(
        "  attribute {\n",
        "  point_in_time_recovery = { enabled = true }\n  tags_all {\n    a = 1\n  }\n  attribute {\n",
    )
    found = messages(tmp_path, module_files(text))
    assert any("'point_in_time_recovery' is a block, not an argument" in m for m in found), found
    assert any("'tags_all' is an argument, not a block" in m for m in found), found


def test_missing_required_nested_block_and_unknown_nested_argument(tmp_path: Path) -> None:
    text = """
resource "aws_api_gateway_method_settings" "s" {
  rest_api_id = "a"
  stage_name  = "b"
  method_path = "*/*"
}

resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = "r"
  tracing_config {
    mode   = "Active"
    colour = "blue"
  }
}
"""
    found = messages(tmp_path, module_files(text))
    assert any("missing required block 'settings'" in m for m in found), found
    assert any("aws_lambda_function.f.tracing_config: unknown argument 'colour'" in m for m in found), found


def test_unknown_resource_type(tmp_path: Path) -> None:
    found = messages(tmp_path, module_files('resource "aws_lamda_function" "f" {\n  name = "x"\n}\n'))
    assert any("unknown resource type 'aws_lamda_function'" in m for m in found), found


def test_dynamic_block_contents_are_checked(tmp_path: Path) -> None:
    text = GOOD_MODULE.replace(
        "  attribute {\n",
        '  dynamic "global_secondary_index" {\n    for_each = []\n    content {\n'
        '      name = "i"\n      hash_key = "id"\n      projection = "ALL"\n    }\n  }\n  attribute {\n',
    )
    found = messages(tmp_path, module_files(text))
    assert any("global_secondary_index: unknown argument 'projection'" in m for m in found), found
    assert any("missing required argument 'projection_type'" in m for m in found), found


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        ("var.nmae", "var.nmae is not declared"),
        ("local.missing", "local.missing is not declared"),
        ("aws_dynamodb_table.other.arn", "aws_dynamodb_table.other is not declared"),
        ("aws_dynamodb_table.this.no_such_attribute", "has no attribute 'no_such_attribute'"),
        ("data.aws_region.current.region", "data.aws_region.current is not declared"),
        ("aws_dynamodb_table.this[0].arn", "has no count/for_each and cannot be indexed"),
    ],
    ids=["variable", "local", "resource", "attribute", "data-source", "index-without-count"],
)
def test_broken_references_are_reported(tmp_path: Path, replacement: str, expected: str) -> None:
    text = GOOD_MODULE.replace("value       = aws_dynamodb_table.this.arn", f"value       = {replacement}")
    found = messages(tmp_path, module_files(text))
    assert any(m.startswith("[reference]") and expected in m for m in found), found


def test_counted_resource_attribute_needs_an_index(tmp_path: Path) -> None:
    text = GOOD_MODULE.replace(
        "  name         = var.name\n", "  count        = 1\n  name         = var.name\n"
    )
    found = messages(tmp_path, module_files(text))
    assert any("has count/for_each: pick an instance" in m for m in found), found


def test_module_calls_are_checked_against_variables_and_outputs(tmp_path: Path) -> None:
    root_tf = """
module "m" {
  source = "../../modules/m"
  nmae   = "x"
}

output "o" {
  description = "d"
  value       = module.m.no_such_output
}
"""
    files = module_files(GOOD_MODULE)
    files["examples/e/main.tf"] = root_tf
    files["examples/e/versions.tf"] = VERSIONS
    files["examples/e/README.md"] = "# e\n"
    found = messages(tmp_path, files)
    assert any("declares no variable 'nmae'" in m for m in found), found
    assert any("required variable 'name' is not passed" in m for m in found), found
    assert any("module.m has no output 'no_such_output'" in m for m in found), found


def test_variables_need_type_description_and_validation_for_closed_sets(tmp_path: Path) -> None:
    text = (
        GOOD_MODULE
        + """
variable "untyped" {
  description = "No type."
}

variable "undescribed" {
  type = string
}

variable "mode" {
  type        = string
  description = "Mode. One of A, B."
  default     = "A"
}
"""
    )
    found = messages(tmp_path, module_files(text))
    assert "[variable] var.untyped has no type" in found
    assert "[variable] var.undescribed has no description" in found
    assert "[variable] var.mode lists a closed set of values but has no validation" in found


def test_parse_errors_and_version_pins(tmp_path: Path) -> None:
    files = module_files(GOOD_MODULE)
    files["modules/m/broken.tf"] = 'resource "aws_s3_bucket" "b" {\n  bucket = \n'
    files["modules/m/versions.tf"] = VERSIONS.replace(">= 6.66, < 7.0", ">= 5.0")
    found = messages(tmp_path, files)
    assert any(m.startswith("[parse]") for m in found), found
    assert any(m.startswith("[versions]") and "hashicorp/aws" in m for m in found), found


def test_readme_tables_drift_and_missing_markers(tmp_path: Path) -> None:
    stale = f"# m\n\n{BEGIN}\n## Inputs\n\nNo inputs.\n{END}\n"
    found = messages(tmp_path, module_files(GOOD_MODULE, readme=stale), fix_readmes=False)
    assert any(m.startswith("[readme-drift]") for m in found), found
    found = messages(tmp_path / "second", module_files(GOOD_MODULE, readme="# m\n"), fix_readmes=False)
    assert any(m.startswith("[readme]") and "markers" in m for m in found), found


def test_lint_command_exits_one_and_prints_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, module_files(GOOD_MODULE.replace("var.name", "var.nmae")))
    assert main(["--root", str(repo)]) == 1
    out = capsys.readouterr().out
    assert "terraform/modules/m/main.tf: [reference] aws_dynamodb_table.this: var.nmae is not declared" in out


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("module.m.aws_dynamodb_table.this", []),
        (
            "module.m.aws_dynamodb_table.gone",
            ["[reference] moved: module.m.aws_dynamodb_table.gone is not declared"],
        ),
        (
            "module.n.aws_dynamodb_table.this",
            ["[reference] moved: module.n.aws_dynamodb_table.this: module.n is not declared"],
        ),
    ],
    ids=["into-a-child-module", "no-such-resource", "no-such-module"],
)
def test_a_moved_block_is_checked_as_addresses(tmp_path: Path, to: str, expected: list[str]) -> None:
    """A resource moved into a module of its own: `from` is gone by design, `to` must be declared."""
    root_tf = f"""
module "m" {{
  source = "../../modules/m"
  name   = "x"
}}

moved {{
  from = aws_dynamodb_table.this
  to   = {to}
}}
"""
    files = module_files(GOOD_MODULE)
    files |= {
        "examples/e/main.tf": root_tf,
        "examples/e/versions.tf": VERSIONS,
        "examples/e/README.md": "# e\n",
    }
    assert [m for m in messages(tmp_path, files) if m.startswith("[reference]")] == expected
