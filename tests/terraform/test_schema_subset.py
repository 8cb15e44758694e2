"""The provider schema subset kept in the repository: complete, current, and derived correctly."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType
from typing import Any

import pytest

from agentarch.dev.lint.hcl import load_module, terraform_dirs
from agentarch.dev.lint.schema import SCHEMA_RELPATH, used_types
from tests.terraform.conftest import ROOT

SHARED_SCHEMA = ROOT.parent / "shared" / "terraform" / "aws-provider-6.66.0.schema.json"


def refresh_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "refresh_provider_schema", ROOT / "scripts" / "refresh_provider_schema.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def subset() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / SCHEMA_RELPATH).read_text(encoding="utf-8"))
    return data


def test_subset_holds_exactly_the_types_the_tf_files_use(subset: dict[str, Any]) -> None:
    resources, data_sources = used_types([load_module(p) for p in terraform_dirs(ROOT)])
    assert subset["provider_version"] == "6.66.0"
    assert set(subset["resources"]) == resources, "run scripts/refresh_provider_schema.py"
    assert set(subset["data_sources"]) == data_sources, "run scripts/refresh_provider_schema.py"


def _as_shared_format(node: dict[str, Any]) -> dict[str, Any]:
    """The shared schema lists opaque blocks (typed `any`) as arguments."""
    node = json.loads(json.dumps(node))
    for name, spec in list(node["blocks"].items()):
        if spec["node"].get("opaque"):
            del node["blocks"][name]
            node["args"][name] = {"required": spec["required"]}
        else:
            spec["node"] = _as_shared_format(spec["node"])
    return node


@pytest.mark.skipif(not SHARED_SCHEMA.exists(), reason=f"{SHARED_SCHEMA} is not on this machine")
def test_subset_agrees_with_the_published_6_66_schema(subset: dict[str, Any]) -> None:
    shared = json.loads(SHARED_SCHEMA.read_text(encoding="utf-8"))
    for table in ("resources", "data_sources"):
        for name, node in subset[table].items():
            theirs = shared[table][name]
            mine = _as_shared_format(node)
            assert mine["args"] == theirs["args"], name
            assert mine["blocks"] == theirs["blocks"], name
            if theirs["attrs"]:  # the shared file lost the attrs of one type (a ConfigA class)
                assert set(theirs["attrs"]) <= set(mine["attrs"]), name


def test_refresh_script_derives_blocks_args_opaque_blocks_and_attrs() -> None:
    """A tiny synthetic type assembly, shaped like cdktf's, through the same derivation."""
    ns = "@cdktf/provider-aws.thing"
    link = "Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/thing aws_thing}."

    def prop(name: str, ptype: dict[str, Any], summary: str, optional: bool = True) -> dict[str, Any]:
        return {"name": name, "type": ptype, "optional": optional, "docs": {"summary": summary}}

    assembly = {
        "types": {
            f"{ns}.Thing": {
                "base": "cdktf.TerraformResource",
                "docs": {"summary": link},
                "properties": [
                    {"name": "tfResourceType", "static": True, "type": {"primitive": "string"}},
                    {"name": "thingArn", "type": {"primitive": "string"}},
                    {"name": "nameInput", "type": {"primitive": "string"}},
                ],
            },
            f"{ns}.ThingConfigA": {
                "interfaces": ["cdktf.TerraformMetaArguments"],
                "properties": [
                    prop(
                        "name",
                        {"primitive": "string"},
                        "Docs ... {@link https://x#name Thing#name}.",
                        optional=False,
                    ),
                    prop("count", {"primitive": "number"}, "meta"),
                    prop(
                        "rule",
                        {
                            "union": {
                                "types": [
                                    {"fqn": "cdktf.IResolvable"},
                                    {
                                        "collection": {
                                            "elementtype": {"fqn": f"{ns}.ThingRule"},
                                            "kind": "array",
                                        }
                                    },
                                ]
                            }
                        },
                        "rule block.",
                    ),
                    prop("statement", {"primitive": "any"}, "statement block."),
                    prop("lifecycleConfiguration", {"fqn": f"{ns}.ThingRule"}, "Docs at Terraform Registry."),
                ],
            },
            f"{ns}.ThingRule": {
                "properties": [prop("priority", {"primitive": "number"}, "p", optional=False)]
            },
        }
    }
    node = refresh_script().derive(assembly)["resources"]["aws_thing"]
    assert node["args"] == {"lifecycle_configuration": {"required": False}, "name": {"required": True}}
    assert node["blocks"]["rule"] == {
        "list": True,
        "required": False,
        "node": {"args": {"priority": {"required": True}}, "blocks": {}},
    }
    assert node["blocks"]["statement"]["node"]["opaque"] is True
    assert node["attrs"] == ["thing_arn"]


def test_refresh_script_reads_cdk_terrain_assemblies_and_self_containing_blocks() -> None:
    """6.66 comes from CDK Terrain (`cdktn.` base classes), and some of its blocks contain themselves:
    the derivation must finish, with the inner repetition opaque."""
    ns = "@cdktn/provider-aws.thing"
    link = "Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/6.66.0/docs/resources/thing aws_thing}."
    block = {"fqn": f"{ns}.ThingRule"}
    assembly = {
        "types": {
            f"{ns}.Thing": {"base": "cdktn.TerraformResource", "docs": {"summary": link}, "properties": []},
            f"{ns}.ThingConfig": {
                "interfaces": ["cdktn.TerraformMetaArguments"],
                "properties": [
                    {"name": "rule", "type": block, "optional": True, "docs": {"summary": "rule block."}}
                ],
            },
            f"{ns}.ThingRule": {
                "properties": [
                    {"name": "rule", "type": block, "optional": True, "docs": {"summary": "rule block."}}
                ]
            },
        }
    }
    full = refresh_script().derive(assembly)
    assert full["provider_version"] == "6.66.0"
    inner = full["resources"]["aws_thing"]["blocks"]["rule"]["node"]["blocks"]["rule"]["node"]
    assert inner["opaque"] is True
