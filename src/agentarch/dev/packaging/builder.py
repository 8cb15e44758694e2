"""Build the deployable zips and their manifest: all of them or none.

Every artifact is made in a private temporary directory; only when all asked for are done are they
copied next to their final names and renamed into place (an atomic step per file), and the manifest
is rewritten last. A failure anywhere leaves the output directory as it was.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentarch.dev.packaging.archive import fixed_timestamp, tree_entries, write_zip
from agentarch.dev.packaging.dependencies import (
    DependencyError,
    Distribution,
    build_environment_pins,
    closure,
    distributions_of_imports,
    install_for_target,
    installed_wheels,
    remove_provided,
    requirement_lines,
    tag_runs_on_target,
)
from agentarch.dev.packaging.imports import (
    ImportGraph,
    ImportGraphError,
    import_graph,
    module_file,
    source_root,
)
from agentarch.dev.packaging.registry import (
    AGENT_ENTRY_POINT,
    AGENT_POLICY_DIR,
    AGENT_POLICY_FILES,
    AGENT_RUNTIME,
    BOTOCORE_DATA_DIR,
    FUNCTIONS,
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    LAMBDA_RUNTIME_SDK_ROOT,
    MANIFEST,
    POWERTOOLS_LAYER_NAME,
    POWERTOOLS_LAYER_ROOT,
    STREAM_ENTRY_POINT,
    STREAM_PORT,
    TARGET_PYTHON,
    FunctionSpec,
)

Log = Callable[[str], None]
LAMBDA_SIZE_TARGET = 1024 * 1024  # each Lambda zip, without the layer


class BuildError(Exception):
    """The build cannot produce what was asked; the message says what to change."""


class UnknownFunction(BuildError):
    """A function name that is not in the registry."""


@dataclass(frozen=True)
class BuiltArtifact:
    """One artifact in the output directory."""

    spec: FunctionSpec
    path: Path
    size: int
    sha256: str


def project_root() -> Path:
    """The checkout's root (where pyproject.toml sits above src/), else the working directory."""
    candidate = source_root().parent
    return candidate if (candidate / "pyproject.toml").is_file() else Path.cwd()


def default_output_dir() -> Path:
    """lambda_build/dist in the checkout: the paths the Terraform examples name."""
    return project_root() / "lambda_build" / "dist"


def default_cache_dir() -> Path:
    """lambda_build/.cache (gitignored): downloaded wheels, so a second build needs no network."""
    return project_root() / "lambda_build" / ".cache"


def select(names: Iterable[str], registry: Mapping[str, FunctionSpec] = FUNCTIONS) -> list[FunctionSpec]:
    """The specs for `names` (all when empty), in registry order; unknown names fail before any work."""
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in registry]
    if unknown:
        raise UnknownFunction(
            f"unknown function {', '.join(map(repr, unknown))}; known: {', '.join(registry)}"
        )
    return [spec for name, spec in registry.items() if not wanted or name in wanted]


def available(spec: FunctionSpec) -> bool:
    """Whether the spec's entry module exists in the source tree yet."""
    return module_file(spec.entry_module, source_root()) is not None


def build(
    names: Iterable[str] = (),
    out_dir: Path | None = None,
    cache_dir: Path | None = None,
    *,
    registry: Mapping[str, FunctionSpec] = FUNCTIONS,
    log: Log = print,
    policies: Path | None = None,
) -> list[BuiltArtifact]:
    """Build the named functions (all when none are named) into `out_dir` and rewrite its manifest.

    `policies`: a team's own Cedar tool policy folder, validated first and shipped in the agent zip
    under `AGENT_POLICY_DIR` instead of agentarch's default.
    """
    wanted = list(names)
    specs = select(wanted, registry)
    policy_entries: dict[str, Path | bytes] = {}
    if policies is not None:
        if not any(spec.kind == "agent" for spec in specs):
            raise BuildError("--policies goes into the agent zip, but the agent is not among what is built")
        policy_entries = policy_folder_entries(policies)
        log(
            f"[policies] {policies}: valid; shipped as {AGENT_POLICY_DIR}/ ({', '.join(sorted(policy_entries))})"
        )
    out_dir = (out_dir or default_output_dir()).resolve()
    cache_dir = (cache_dir or default_cache_dir()).resolve()
    explicit = bool(wanted)
    with tempfile.TemporaryDirectory(prefix="agentarch-build-") as scratch:
        work = Path(scratch)
        staged: list[tuple[FunctionSpec, Path]] = []
        for spec in specs:
            if not available(spec):
                if explicit:
                    raise BuildError(f"{spec.name}: its entry module {spec.entry_module} does not exist yet")
                log(f"[{spec.name}] skipped: {spec.entry_module} does not exist yet")
                continue
            try:
                extra = policy_entries if spec.kind == "agent" else {}
                staged.append((spec, _build_one(spec, work / spec.name, cache_dir, log, extra)))
            except (ImportGraphError, DependencyError) as exc:
                raise BuildError(f"{spec.name}: {exc}") from None
        built = _commit(staged, out_dir)
    if built:
        log(f"manifest: {write_manifest(out_dir, registry)}")
    return built


def policy_folder_entries(folder: Path) -> dict[str, Path | bytes]:
    """The zip entries of a policy folder the agent can load: its schema and policies, validated.

    Refuses (BuildError, with the words `agentarch policy validate` prints) a folder the agent would
    refuse at start-up, so a bad policy never reaches a runtime.
    """
    from agentarch.agent.policy import PolicyError, load_tool_policy  # cedarpy: only when asked

    if not folder.is_dir():
        raise BuildError(f"policy folder {folder} is not a directory")
    try:
        load_tool_policy(folder)
    except PolicyError as exc:
        raise BuildError(f"the policy folder is invalid: {exc}") from None
    return {
        f"{AGENT_POLICY_DIR}/{path.name}": path
        for pattern in AGENT_POLICY_FILES
        for path in sorted(folder.glob(pattern))
        if path.is_file()
    }


def _build_one(
    spec: FunctionSpec, work: Path, cache_dir: Path, log: Log, extra: Mapping[str, Path | bytes]
) -> Path:
    work.mkdir(parents=True)
    graph = import_graph(spec.entry_module)
    if spec.stream_entry:  # the streaming entry's imports go in too (it imports the handler's module)
        streamed = import_graph(spec.stream_entry_module)
        graph.modules.update({k: v for k, v in streamed.modules.items() if k not in graph.modules})
        graph.parents.update({k: v for k, v in streamed.parents.items() if k not in graph.parents})
        graph.external.update({k: v for k, v in streamed.external.items() if k not in graph.external})
    _check_boundaries(spec, graph)
    root = source_root()
    entries: dict[str, Path | bytes] = {
        path.relative_to(root).as_posix(): path for path in graph.modules.values()
    }
    packages = sorted({m.split(".")[1] for m in graph.modules if m.count(".") >= 1})
    log(
        f"[{spec.name}] {len(graph.modules)} agentarch modules from {spec.entry_module} ({', '.join(packages)})"
    )

    entries.update(_vendored(spec, distributions_of_imports(graph.external), work, cache_dir, log, entries))
    for service in spec.botocore_models:
        model_entries, version = _botocore_model(service)
        entries.update(model_entries)
        log(f"[{spec.name}] botocore model {service} {version} under {BOTOCORE_DATA_DIR}/")

    data = {
        path.relative_to(root).as_posix(): path
        for pattern in spec.package_data
        for path in sorted(root.glob(pattern))
        if path.is_file()
    }
    if data:
        entries.update(data)
        log(f"[{spec.name}] package data: {', '.join(sorted(data))}")
    entries.update(extra)

    if spec.kind == "agent":
        entries[AGENT_ENTRY_POINT] = _entry_shim(spec, shipped_policies=bool(extra)).encode("utf-8")
    if spec.stream_app:
        entries[STREAM_ENTRY_POINT] = stream_launcher(spec).encode("utf-8")

    artifact = work / spec.artifact
    write_zip(artifact, entries)
    log(f"[{spec.name}] {spec.artifact}: {len(entries)} files, {human_size(artifact.stat().st_size)}")
    return artifact


def _platform_provided(spec: FunctionSpec, dists: Sequence[Distribution], log: Log) -> set[str]:
    """What a Lambda gets from the Powertools layer and the runtime's boto3 (nothing for the agent)."""
    if spec.kind != "lambda":
        return set()
    runtime_sdk = closure([LAMBDA_RUNTIME_SDK_ROOT])
    layer = closure([POWERTOOLS_LAYER_ROOT]) - runtime_sdk
    from_layer = [d.name for d in dists if d.name in layer]
    from_runtime = [d.name for d in dists if d.name in runtime_sdk]
    log(f"[{spec.name}] from the Powertools layer: {', '.join(from_layer) or 'nothing'}")
    log(f"[{spec.name}] from the Lambda runtime: {', '.join(from_runtime) or 'nothing'}")
    return layer | runtime_sdk


def _vendored(
    spec: FunctionSpec,
    dists: Sequence[Distribution],
    work: Path,
    cache_dir: Path,
    log: Log,
    own: Mapping[str, Path | bytes],
) -> dict[str, Path | bytes]:
    """The third-party files the zip carries: wheels for linux aarch64 / CPython 3.13, less what the
    platform provides; a wheel for another platform, or a file that collides with agentarch's, fails."""
    provided = _platform_provided(spec, dists, log)
    vendor = [d.name for d in dists if d.name not in provided]
    if not vendor and not spec.extra_requirements:
        log(f"[{spec.name}] vendored: nothing")
        return {}
    requirements = requirement_lines(vendor, spec.extra_requirements)
    log(f"[{spec.name}] vendoring for linux aarch64 / CPython 3.13: {', '.join(requirements)}")
    site = work / "site"
    install_for_target(requirements, build_environment_pins(), site, cache_dir / "wheels", work / "pip", log)
    removed = remove_provided(site, provided) if provided else []
    if removed:
        log(f"[{spec.name}] left to the layer/runtime: {', '.join(removed)}")
    wheels = installed_wheels(site)
    foreign = [
        f"{w.name} {w.version} ({', '.join(w.tags)})"
        for w in wheels
        if not any(map(tag_runs_on_target, w.tags))
    ]
    if foreign:
        raise BuildError(
            f"{spec.name}: wheels that do not run on CPython 3.13 linux aarch64: {'; '.join(foreign)}"
        )
    log(f"[{spec.name}] {len(wheels)} wheels installed")
    vendored: dict[str, Path | bytes] = dict(tree_entries(site, skip_top=frozenset({"bin"})))
    clash = sorted(name for name in vendored if name in own)
    if clash:
        raise BuildError(f"{spec.name}: vendored files collide with agentarch's: {', '.join(clash[:5])}")
    return vendored


def _check_boundaries(spec: FunctionSpec, graph: ImportGraph) -> None:
    outside = sorted(module for module in graph.modules if not spec.may_contain(module))
    if outside:
        chains = "; ".join(" → ".join(graph.chain(module)) for module in outside[:3])
        raise BuildError(
            f"{spec.name} may carry only {', '.join(spec.allowed_packages)}, but its imports reach "
            f"{', '.join(outside)} ({chains})"
        )


def _botocore_model(service: str) -> tuple[dict[str, Path | bytes], str]:
    found = importlib.util.find_spec("botocore")
    if found is None or not found.submodule_search_locations:
        raise BuildError("botocore is not installed in the build environment")
    data = Path(next(iter(found.submodule_search_locations))) / "data" / service
    versions = sorted(p for p in data.iterdir() if p.is_dir()) if data.is_dir() else []
    if not versions:
        raise BuildError(f"botocore in the build environment has no service model for {service}")
    latest = versions[-1]
    entries: dict[str, Path | bytes] = {
        f"{BOTOCORE_DATA_DIR}/{service}/{latest.name}/{path.name}": path
        for path in sorted(latest.iterdir())
        if path.is_file()
    }
    return entries, latest.name


def stream_launcher(spec: FunctionSpec) -> str:
    """`run.sh`: what the Lambda Web Adapter runs as the handler of a streaming function. The Python
    the Lambda runtime provides serves the ASGI app with uvicorn (vendored in the zip) on loopback;
    the adapter relays each event to it and streams the answer back (AWS_LWA_INVOKE_MODE=response_stream)."""
    return (
        "#!/bin/bash\n"
        "# Written by `agentarch build`: the Lambda Web Adapter's entry for a streamed answer.\n"
        'export PYTHONPATH="${LAMBDA_TASK_ROOT:-/var/task}:/opt/python:${PYTHONPATH:-}"\n'
        f'exec python3 -m uvicorn {spec.stream_app} --host 127.0.0.1 --port "${{PORT:-{STREAM_PORT}}}" '
        "--no-access-log --timeout-keep-alive 900\n"
    )


def _entry_shim(spec: FunctionSpec, *, shipped_policies: bool = False) -> str:
    # POLICY_DIR names a folder inside this artifact (or an absolute path): the runtime's working
    # directory is not documented, so a relative one is made absolute against main.py's folder.
    # A zip built with --policies uses its own folder when POLICY_DIR is unset.
    from agentarch.config import Env  # here: the build's CLI starts without pydantic

    default = f' or "{AGENT_POLICY_DIR}"' if shipped_policies else ""
    return (
        f'"""AgentCore Runtime entry point (written by `agentarch build`): serves the agent on 0.0.0.0:8080."""\n'
        f"\n"
        f"import os\n"
        f"\n"
        f'_policy_dir = os.environ.get("{Env.POLICY_DIR}"){default}\n'
        f"if _policy_dir:\n"
        f'    os.environ["{Env.POLICY_DIR}"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), _policy_dir)\n'
        f"\n"
        f"from {spec.entry_module} import app, {spec.entry_callable}  # noqa: E402\n"
        f"\n"
        f'__all__ = ["app", "{spec.entry_callable}"]\n'
        f"\n"
        f'if __name__ == "__main__":\n'
        f"    {spec.entry_callable}()\n"
    )


def _commit(staged: list[tuple[FunctionSpec, Path]], out_dir: Path) -> list[BuiltArtifact]:
    """Copy each staged zip beside its final name, then rename it into place."""
    if not staged:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    partials: list[Path] = []
    built: list[BuiltArtifact] = []
    try:
        for spec, path in staged:
            partial = out_dir / f".{spec.artifact}.{os.getpid()}.partial"
            partials.append(partial)
            shutil.copyfile(path, partial)
        for (spec, _), partial in zip(staged, partials, strict=True):
            final = out_dir / spec.artifact
            os.replace(partial, final)
            built.append(BuiltArtifact(spec, final, final.stat().st_size, _sha256(final).hexdigest()))
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)
    return built


def _sha256(path: Path) -> Any:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest


def describe(spec: FunctionSpec, path: Path) -> dict[str, Any]:
    """The manifest entry of one artifact file: identity, hashes, and what the deployer must agree to."""
    digest = _sha256(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    modules = sorted(
        name[:-3].replace("/", ".").removesuffix(".__init__")
        for name in names
        if name.startswith("agentarch/") and name.endswith(".py")
    )
    wheels = sorted(
        name.split("/")[0].removesuffix(".dist-info")
        for name in names
        if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
    )
    entry: dict[str, Any] = {
        "function": spec.name,
        "file": spec.artifact,
        "size": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "sha256_base64": base64.b64encode(digest.digest()).decode("ascii"),
        "agentarch_modules": modules,
        "wheels": [wheel.replace("-", "==", 1) for wheel in wheels],
    }
    if spec.kind == "lambda":
        entry.update(
            kind="lambda",
            handler=spec.handler,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            layer=POWERTOOLS_LAYER_NAME,
            environment=dict(sorted(spec.environment.items())),
            botocore_models=list(spec.botocore_models),
            size_target=LAMBDA_SIZE_TARGET,
        )
    else:
        entry.update(
            kind="agent_runtime",
            runtime=AGENT_RUNTIME,
            python_version="{}.{}".format(*TARGET_PYTHON),
            platform="linux/arm64",
            entry_point=[AGENT_ENTRY_POINT],
            entry_module=spec.entry_module,
            # the Cedar policy folder main.py points POLICY_DIR at; null: agentarch's default policy
            policy_dir=AGENT_POLICY_DIR if any(n.startswith(f"{AGENT_POLICY_DIR}/") for n in names) else None,
        )
    return entry


def write_manifest(out_dir: Path, registry: Mapping[str, FunctionSpec] = FUNCTIONS) -> Path | None:
    """Describe every known artifact present in `out_dir` (atomically); None when there is none."""
    artifacts = {
        spec.artifact: describe(spec, out_dir / spec.artifact)
        for spec in registry.values()
        if (out_dir / spec.artifact).is_file()
    }
    if not artifacts:
        return None
    stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*fixed_timestamp())
    document = {"format": 1, "zip_timestamp": stamp, "artifacts": artifacts}
    target = out_dir / MANIFEST
    partial = out_dir / f".{MANIFEST}.{os.getpid()}.partial"
    partial.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(partial, target)
    return target


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest in `out_dir`, as written by `write_manifest`."""
    document: dict[str, Any] = json.loads((out_dir / MANIFEST).read_text())
    return document


def human_size(size: int) -> str:
    """1.2 MiB, 340.5 KiB, 12 B."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size} B"


def size_table(manifest: Mapping[str, Any]) -> list[str]:
    """Lines of the size table: each Lambda zip against its 1 MiB target, the agent zip's size."""
    rows = [("artifact", "size", "bytes", "target", "result")]
    for name, entry in sorted(manifest["artifacts"].items()):
        size = int(entry["size"])
        if entry["kind"] == "lambda":
            target = int(entry.get("size_target", LAMBDA_SIZE_TARGET))
            rows.append(
                (
                    name,
                    human_size(size),
                    str(size),
                    f"< {human_size(target)}",
                    "PASS" if size < target else "FAIL",
                )
            )
        else:
            rows.append((name, human_size(size), str(size), "(tracked)", "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
