#!/usr/bin/env python3
"""Regenerate terraform/schema/aws-provider.subset.json from the provider's type assembly.

The AWS provider's argument schema ships inside the npm package `@cdktn/provider-aws` (CDK Terrain's
prebuilt provider, the maintained fork of cdktf; 25.7.0 binds provider 6.66.0), as the type assembly
`package/.jsii`. This script fetches that package with `npm pack` into a temporary directory, reads
the assembly and keeps only the resource and data source types the project's .tf files use, in the
format the lint reads:

  NODE = {"args": {name: {"required": bool}},
          "blocks": {name: {"required": bool, "list": bool, "node": NODE}},
          "attrs": [names a reference may read]}

A block whose contents the assembly types as `any` (too deep to generate, e.g. a WAF rule's
`statement`) gets `"node": {"opaque": true, ...}`: its contents are not checked.

Usage:
  .venv/bin/python scripts/refresh_provider_schema.py              # npm pack, write the subset
  .venv/bin/python scripts/refresh_provider_schema.py --tgz F      # a package tarball npm pack wrote
  .venv/bin/python scripts/refresh_provider_schema.py --jsii F     # an extracted package/.jsii
  .venv/bin/python scripts/refresh_provider_schema.py --all -o F   # every type (for comparisons)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "@cdktn/provider-aws"
PACKAGE_VERSION = "25.7.0"  # binds hashicorp/aws 6.66.0
OUTPUT = ROOT / "terraform" / "schema" / "aws-provider.subset.json"

META = {"count", "depends_on", "for_each", "lifecycle", "provider", "provisioners", "connection"}
_LINK = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/hashicorp/aws/([\d.]+)/docs/([\w-]+)/(\w+) (\w+)\}"
)
_ANCHOR = re.compile(r"#(\w+) \w+#\w+\}")


def snake(name: str) -> str:
    """camelCase → snake_case, the way the provider's names were camelCased."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def download_jsii(workdir: Path) -> dict[str, Any]:
    """npm pack the package (no install, no scripts run) and read `package/.jsii` out of it."""
    subprocess.run(
        ["npm", "pack", "--silent", "--ignore-scripts", f"{PACKAGE}@{PACKAGE_VERSION}"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return read_tgz(next(workdir.glob("*.tgz")))


def read_tgz(tgz: Path) -> dict[str, Any]:
    """The type assembly `package/.jsii` of an npm package tarball."""
    with tarfile.open(tgz, mode="r:gz") as tf:
        extracted = tf.extractfile("package/.jsii")
        if extracted is None:
            raise SystemExit("package/.jsii not found in the package")
        data: dict[str, Any] = json.load(extracted)
    return data


def _prop_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    for text in (docs.get("remarks", ""), docs.get("summary", "")):
        match = _ANCHOR.search(text)
        if match:
            return match.group(1)
    return snake(prop["name"])


def _struct_of(ptype: dict[str, Any]) -> tuple[str | None, bool]:
    """(struct fqn, is a list) for a block-typed property."""
    if "fqn" in ptype:
        return ptype["fqn"], False
    for member in ptype.get("union", {}).get("types", []):
        element = member.get("collection", {}).get("elementtype", {})
        if "fqn" in element:
            return element["fqn"], True
    return None, False


def _node(types: dict[str, Any], fqn: str, depth: int = 0, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """A block's node; a struct that contains itself (6.66 has some) is opaque below its first use."""
    args: dict[str, Any] = {}
    blocks: dict[str, Any] = {}
    for prop in types[fqn].get("properties", []):
        name = _prop_name(prop)
        if depth == 0 and name in META:
            continue
        required = not prop.get("optional", False)
        summary = prop.get("docs", {}).get("summary", "")
        if summary == f"{name} block.":
            if prop["type"].get("primitive") == "any":
                blocks[name] = {
                    "list": True,
                    "node": {"args": {}, "blocks": {}, "opaque": True},
                    "required": required,
                }
                continue
            struct, is_list = _struct_of(prop["type"])
            if struct is None or struct not in types or struct in (*path, fqn):
                blocks[name] = {
                    "list": True,
                    "node": {"args": {}, "blocks": {}, "opaque": True},
                    "required": required,
                }
                continue
            blocks[name] = {
                "list": is_list,
                "node": _node(types, struct, depth + 1, (*path, fqn)),
                "required": required,
            }
        else:
            args[name] = {"required": required}
    return {"args": dict(sorted(args.items())), "blocks": dict(sorted(blocks.items()))}


def _config_of(types: dict[str, Any], fqn: str) -> str | None:
    """The constructor's config struct: `<Class>Config`, or `<Class>ConfigA` when that name clashed."""
    for candidate in (f"{fqn}Config", f"{fqn}ConfigA"):
        interfaces = types.get(candidate, {}).get("interfaces", [])
        if any(
            i.endswith(".TerraformMetaArguments") for i in interfaces
        ):  # cdktf., and cdktn. since the fork
            return candidate
    return None


_BASES = {
    f"{lib}.{kind}" for lib in ("cdktf", "cdktn") for kind in ("TerraformResource", "TerraformDataSource")
}


def derive(assembly: dict[str, Any]) -> dict[str, Any]:
    """The whole schema: every resource and data source of the provider."""
    types: dict[str, Any] = assembly["types"]
    out: dict[str, Any] = {"provider_version": None, "resources": {}, "data_sources": {}}
    for fqn, tdef in types.items():
        base = tdef.get("base")
        if base not in _BASES:
            continue
        match = _LINK.search(tdef.get("docs", {}).get("summary", ""))
        if not match:
            continue
        version, section, _slug, tf_type = match.groups()
        out["provider_version"] = version
        config = _config_of(types, fqn)
        if config is None:
            continue
        node = _node(types, config)
        attrs = sorted(
            {
                _prop_name(p)
                for p in tdef.get("properties", [])
                if not p.get("static") and not p["name"].endswith("Input") and p["name"] != "tfResourceType"
            }
        )
        node["attrs"] = attrs
        table = "resources" if section == "resources" else "data_sources"
        out[table][tf_type] = node
    out["resources"] = dict(sorted(out["resources"].items()))
    out["data_sources"] = dict(sorted(out["data_sources"].items()))
    return out


def used_types(root: Path) -> tuple[set[str], set[str]]:
    """Resource and data source types declared by the .tf files under root/terraform."""
    sys.path.insert(0, str(root / "src"))
    from agentarch.dev.lint.hcl import load_module, terraform_dirs
    from agentarch.dev.lint.schema import used_types as _used

    return _used([load_module(p) for p in terraform_dirs(root)])


def subset(full: dict[str, Any], resources: set[str], data_sources: set[str]) -> dict[str, Any]:
    """Only the types the project uses; unknown names are reported and left out."""
    missing = sorted((resources - set(full["resources"])) | (data_sources - set(full["data_sources"])))
    if missing:
        print(f"not in the provider schema (typo?): {', '.join(missing)}", file=sys.stderr)
    return {
        "provider_version": full["provider_version"],
        "source": f"{PACKAGE}@{PACKAGE_VERSION} (scripts/refresh_provider_schema.py)",
        "resources": {k: full["resources"][k] for k in sorted(resources) if k in full["resources"]},
        "data_sources": {
            k: full["data_sources"][k] for k in sorted(data_sources) if k in full["data_sources"]
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jsii", type=Path, help="an extracted package/.jsii instead of downloading")
    parser.add_argument(
        "--tgz", type=Path, help="the package tarball `npm pack` wrote, instead of downloading"
    )
    parser.add_argument("--all", action="store_true", help="keep every type, not only the used ones")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if args.jsii:
        assembly = json.loads(args.jsii.read_text(encoding="utf-8"))
    elif args.tgz:
        assembly = read_tgz(args.tgz)
    else:
        with tempfile.TemporaryDirectory(prefix="provider-schema-") as tmp:
            assembly = download_jsii(Path(tmp))
    full = derive(assembly)
    result = full if args.all else subset(full, *used_types(ROOT))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(
        f"wrote {args.output} (provider {result['provider_version']}: "
        f"{len(result['resources'])} resources, {len(result['data_sources'])} data sources)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
