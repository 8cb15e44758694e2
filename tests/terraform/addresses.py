"""The resource addresses a root configuration declares, walked through its (local) module calls.

`type.name` for a managed resource (data sources hold no state: they are read again), `[*]` after one with `count` or
`for_each`, `module.<call>[*]?.` before what a module call declares; `moved` blocks of the root and of
every called module, prefixed the same way (a block moving a module call carries everything that call
declares). A stack applied from one version plans cleanly onto the next when every address the old
version declared is still declared, or a `moved` block takes it to one that is (test_upgrade.py).
Instance keys are not followed: a resource that keeps its name but changes from `count` to `for_each`
needs a `moved` block per instance, which this walk does not see.

Record the addresses of a tree (the fixture the upgrade test compares with):

  PYTHONPATH=src .venv/bin/python -m tests.terraform.addresses --tree DIR --commit SHA
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from agentarch.dev.lint.hcl import TfModule, load_module, plain

FIXTURE = Path(__file__).parent / "fixtures" / "addresses.json"
ROOTS = ("0-direct", "1-passthrough", "2-secure", "3-full", "account-logging", "reuse")
_INDEX = re.compile(r"\[[^\]]*\]")


def _expression(value: object) -> str:
    text = str(value).strip()
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def normalize(address: str) -> str:
    """`x[0]`, `x["k"]` → `x[*]`: the walk keeps no instance keys."""
    return _INDEX.sub("[*]", address)


def _counted(body: dict[str, object]) -> str:
    return "[*]" if "count" in body or "for_each" in body else ""


def _walk(module: TfModule, prefix: str, found: set[str], moves: dict[str, str]) -> None:
    for (rtype, name), block in module.resources.items():
        found.add(f"{prefix}{rtype}.{name}{_counted(plain(block.body))}")
    for block in module.others:
        if block.kind == "moved":
            body = plain(block.body)
            moves[prefix + normalize(_expression(body["from"]))] = prefix + normalize(_expression(body["to"]))
    for call, block in module.module_calls.items():
        body = plain(block.body)
        source = str(body["source"])
        if source.startswith("."):
            child = load_module((module.path / source).resolve())
            _walk(child, f"{prefix}module.{call}{_counted(body)}.", found, moves)


def addresses(root: Path) -> tuple[set[str], dict[str, str]]:
    """(every resource address the root declares, its `moved` blocks: from → to)."""
    found: set[str] = set()
    moves: dict[str, str] = {}
    _walk(load_module(root), "", found, moves)
    return found, moves


def declared_types(root: Path) -> dict[str, set[str]]:
    """{"resource": types, "data": types} a root declares, walked through its local module calls."""
    found: dict[str, set[str]] = {"resource": set(), "data": set()}

    def walk(module: TfModule) -> None:
        found["resource"] |= {rtype for rtype, _ in module.resources}
        found["data"] |= {rtype for rtype, _ in module.data}
        for block in module.module_calls.values():
            source = str(plain(block.body)["source"])
            if source.startswith("."):
                walk(load_module((module.path / source).resolve()))

    walk(load_module(root))
    return found


def lost(old: set[str], root: Path, *, honour_moves: bool = True) -> set[str]:
    """Addresses of `old` the root no longer declares and no `moved` block carries to one it does."""
    new, moves = addresses(root)
    if not honour_moves:
        moves = {}
    gone = set()
    for address in old - new:
        target = address
        for _ in range(10):  # moved blocks may chain
            target = _moved(target, moves)
        if target not in new:
            gone.add(address)
    return gone


def _moved(address: str, moves: dict[str, str]) -> str:
    """Where one `moved` step takes `address`: its own block, or the block of a module call holding it
    (`module.a[*]` → `module.b[*].module.c` carries `module.a[*].<anything>` along)."""
    if address in moves:
        return moves[address]
    for source, target in moves.items():
        if source.startswith("module.") and address.startswith(source + "."):
            return target + address[len(source) :]
    return address


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--tree", type=Path, required=True, help="a checkout's root (holding terraform/examples)"
    )
    parser.add_argument("--commit", required=True, help="the commit the tree is, recorded in the fixture")
    args = parser.parse_args(argv)
    roots = {name: sorted(addresses(args.tree / "terraform" / "examples" / name)[0]) for name in ROOTS}
    FIXTURE.write_text(json.dumps({"commit": args.commit, "roots": roots}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE} ({sum(len(v) for v in roots.values())} addresses from {args.commit})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
