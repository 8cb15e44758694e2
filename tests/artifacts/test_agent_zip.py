"""The agent zip: linux aarch64 / CPython 3.13 wheels only, main.py at the root, and an importable agent.

What this x86_64 host cannot do, and so skips: load the zip's compiled extension modules (aarch64 ELF).
Instead every .so in the zip is checked to be a 64-bit AArch64 ELF, and for the import check the
distributions that carry compiled code (pydantic-core, orjson, ormsgpack, xxhash, ...) are taken from
this venv's host build of the same version; every pure-Python package, agentarch and main.py come from
the unpacked zip.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest

from agentarch.dev.packaging.registry import AGENT_ENTRY_POINT
from tests.artifacts.conftest import AGENT_SPEC, PROBE_MARK, Built, link_distributions, run_probe, unpack

EM_AARCH64 = 183
PURE_TAG = re.compile(r"^(py3|py2\.py3|py313)-none-any$")
PLATFORM = re.compile(r"^(any|manylinux2014_aarch64|manylinux_2_\d+_aarch64)$")
BINARY_TAG = re.compile(r"^(cp313-cp313|cp3(?:[2-9]|1[0-3])-abi3)-(manylinux2014|manylinux_2_\d+)_aarch64$")

AGENT_PROBE = f"""
import json, os, sys
config = json.loads(sys.argv[1])
sys.path[:] = config["paths"] + sys.path[1:]  # [host builds of compiled dists, zip] + the standard library

import io, logging
captured = io.StringIO()
logging.basicConfig(stream=captured, level=logging.ERROR)
import main  # the runtime's entry point: imports agentarch.agent.app from the zip

from starlette.testclient import TestClient

client = TestClient(main.app)
ping = client.get("/ping")
turn = client.post("/invocations", json={{"prompt": "what is 6 * 7?", "actor": {{"id": "user-1"}}}},
                   headers={{"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "s" * 40}})
def origin(name):
    module = sys.modules.get(name)
    return getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), None)


origins = {{name: origin(name) for name in config["origins"]}}
print({PROBE_MARK!r} + json.dumps({{
    "app_type": type(main.app).__name__, "main_callable": callable(main.main),
    "ping": [ping.status_code, ping.json()], "turn": [turn.status_code, turn.json()], "origins": origins,
    "site_packages": [p for p in sys.path if "site-packages" in p], "log": captured.getvalue()[-3000:],
}}))
"""


@pytest.fixture(scope="module")
def agent_tree(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack(built.artifact(AGENT_SPEC), tmp_path_factory.mktemp("agent-code"))


def wheel_infos(tree: Path) -> list[tuple[str, str, list[str], bool]]:
    """(name, version, tags, purelib) of every .dist-info at the root of the tree."""
    found = []
    for info in sorted(tree.glob("*.dist-info")):
        meta = Parser().parsestr((info / "METADATA").read_text(), headersonly=True)
        wheel = Parser().parsestr((info / "WHEEL").read_text(), headersonly=True)
        purelib = str(wheel.get("Root-Is-Purelib", "false")).strip().lower() == "true"
        found.append((str(meta["Name"]), str(meta["Version"]), list(wheel.get_all("Tag") or []), purelib))
    return found


def test_agent_zip_has_the_entry_point_and_only_agent_side_modules(built: Built) -> None:
    with zipfile.ZipFile(built.artifact(AGENT_SPEC)) as archive:
        names = archive.namelist()
        shim = archive.read(AGENT_ENTRY_POINT).decode()
    assert AGENT_ENTRY_POINT in names
    assert "from agentarch.agent.app import app, main" in shim
    assert 'if __name__ == "__main__":' in shim
    packages = {n.split("/")[1] for n in names if n.startswith("agentarch/") and n.count("/") >= 2}
    assert "agent" in packages
    assert packages <= {"agent", "services", "adapters", "core"}
    assert not any(n.startswith(("agentarch/handlers/", "agentarch/dev/")) for n in names)
    # The AWS adapters (each imported only when its port is first asked for); no local SQLite storage
    assert "agentarch/adapters/aws_memory.py" in names
    assert not any("sqlite" in n for n in names if n.startswith("agentarch/"))
    assert not any(n.startswith("bin/") for n in names)  # console scripts with this host's shebang


def test_agent_zip_holds_only_cp313_linux_aarch64_or_pure_wheels(agent_tree: Path) -> None:
    wheels = wheel_infos(agent_tree)
    assert len(wheels) > 10
    for name, version, tags, _ in wheels:
        assert tags, f"{name} {version} has no Tag in WHEEL"
        # at least one tag runs on CPython 3.13 linux aarch64, and none names another platform
        assert any(PURE_TAG.match(tag) or BINARY_TAG.match(tag) for tag in tags), (name, version, tags)
        assert all(PLATFORM.match(tag.rsplit("-", 1)[-1]) for tag in tags), (name, version, tags)
    names = {metadata_name.lower().replace("_", "-") for metadata_name, *_ in wheels}
    assert {"langgraph", "langchain-core", "bedrock-agentcore", "pydantic-core", "botocore"} <= names


def test_every_compiled_module_in_the_agent_zip_is_aarch64(agent_tree: Path) -> None:
    shared = sorted(agent_tree.rglob("*.so"))
    assert shared, "expected compiled extensions (pydantic-core at least)"
    for path in shared:
        head = path.read_bytes()[:20]
        assert head[:4] == b"\x7fELF" and head[4] == 2, f"{path.name} is not a 64-bit ELF"
        (machine,) = struct.unpack_from("<H", head, 18)
        assert machine == EM_AARCH64, f"{path.relative_to(agent_tree)} is built for machine {machine}"
        assert "x86_64" not in path.name


def test_agent_entry_point_imports_from_the_unpacked_tree(agent_tree: Path, tmp_path: Path) -> None:
    # Given: the distributions with compiled code, which this host cannot load from the zip, taken from
    # the host venv at the very same versions (anything else comes from the zip)
    compiled = [(name, version) for name, version, _, purelib in wheel_infos(agent_tree) if not purelib]
    for name, version in compiled:
        assert metadata.version(name) == version, (
            f"host has {name} {metadata.version(name)}, zip has {version}"
        )
    overlay = tmp_path / "host-compiled"
    link_distributions([name for name, _ in compiled], overlay)
    config = {
        "paths": [str(overlay), str(agent_tree)],
        "origins": ["main", "agentarch", "agentarch.agent.app", "langgraph", "langchain_core", "bedrock_agentcore",
                    "starlette", "pydantic", "pydantic_core"],
    }  # fmt: skip
    env = {"MODEL_PROVIDER": "offline"}  # no storage: the zip carries only the AWS Memory adapter

    # When a fresh interpreter imports main.py and serves a ping and one offline turn
    result = run_probe(AGENT_PROBE, config, env, tmp_path)

    # Then the runtime app came from the zip, answers the service contract, and runs a turn
    assert result["site_packages"] == []
    assert result["app_type"] == "BedrockAgentCoreApp" and result["main_callable"]
    for module in ("main", "agentarch", "agentarch.agent.app", "langgraph", "langchain_core", "bedrock_agentcore",
                   "starlette", "pydantic"):  # fmt: skip
        assert (result["origins"][module] or "").startswith(str(agent_tree)), module
    assert (result["origins"]["pydantic_core"] or "").startswith(str(overlay))
    assert result["ping"][0] == 200
    status, body = result["turn"]
    assert status == 200, json.dumps(body) + result.get("log", "")
    assert body["response"]
