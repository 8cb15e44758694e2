"""Third-party dependencies: who provides each one, and installing the vendored ones for linux aarch64.

A Lambda gets Powertools (with pydantic and the X-Ray SDK) from the public layer
and boto3 from the Lambda runtime, so its zip vendors only what neither provides. The agent zip
vendors everything. Vendored wheels come from pip for CPython 3.13 on manylinux aarch64, never
from a source build, through a wheel cache so that a second build needs no network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.parser import Parser
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from agentarch.dev.packaging.registry import (
    MANYLINUX_GLIBC_MINORS,
    TARGET_PYTHON,
    WHEEL_ABIS,
    WHEEL_PLATFORMS,
)

# The environment markers of the target (Lambda python3.13 arm64 / AgentCore PYTHON_3_13 on ARM64).
TARGET_MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "{}.{}.0".format(*TARGET_PYTHON),
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "{}.{}.0".format(*TARGET_PYTHON),
    "python_version": "{}.{}".format(*TARGET_PYTHON),
    "sys_platform": "linux",
}


class DependencyError(Exception):
    """A dependency cannot be resolved or has no wheel for the target platform."""


@dataclass(frozen=True)
class Distribution:
    """A third-party distribution an artifact needs, and the import name that made it needed."""

    name: str  # canonical
    import_name: str
    importer: str


def distributions_of_imports(external: Mapping[str, str]) -> list[Distribution]:
    """Map top-level import names (name -> importing module) to installed distributions."""
    providers = metadata.packages_distributions()
    found: dict[str, Distribution] = {}
    missing: list[str] = []
    for import_name, importer in sorted(external.items()):
        dists = providers.get(import_name)
        if not dists:
            missing.append(f"{import_name} (imported by {importer})")
            continue
        for dist in dists:
            name = canonicalize_name(dist)
            found.setdefault(name, Distribution(name, import_name, importer))
    if missing:
        raise DependencyError(
            "no installed distribution provides " + ", ".join(missing) + "; install it or fix the import"
        )
    return sorted(found.values(), key=lambda d: d.name)


def closure(roots: Iterable[str], markers: Mapping[str, str] = TARGET_MARKERS) -> set[str]:
    """Canonical names of the roots and everything they require on the target, per installed metadata.

    A requirement that is not installed here is kept by name but not followed further.
    """
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    pending: list[tuple[str, frozenset[str]]] = []
    for root in roots:
        requirement = Requirement(root)
        pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    while pending:
        name, extras = pending.pop()
        keys = {(name, extra) for extra in ("", *extras)}
        if keys <= seen:
            continue
        seen |= keys
        names.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({**markers, "extra": extra}) for extra in ("", *extras)
            )
            if wanted:
                pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return names


def declared_requirements(project: str = "agentarch") -> dict[str, Requirement]:
    """The project's own runtime requirements (from its installed metadata, i.e. pyproject), by name."""
    declared: dict[str, Requirement] = {}
    for text in metadata.requires(project) or []:
        requirement = Requirement(text)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue  # optional-dependencies (dev) never ship
        declared[canonicalize_name(requirement.name)] = requirement
    return declared


def requirement_lines(needed: Iterable[str], extra: Iterable[str]) -> list[str]:
    """pip requirement lines: the declared specifier where pyproject has one, else the bare name."""
    declared = declared_requirements()
    lines: set[str] = set()
    for name in needed:
        requirement = declared.get(name)
        lines.add(_without_marker(requirement) if requirement is not None else name)
    for text in extra:
        try:
            Requirement(text)
        except InvalidRequirement as exc:
            raise DependencyError(f"invalid extra requirement {text!r}: {exc}") from None
        lines.add(text)
    return sorted(lines)


def _without_marker(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def build_environment_pins(exclude: Iterable[str] = ("agentarch",)) -> list[str]:
    """`name==version` for every distribution in the build environment: the versions the tests ran with."""
    skip = {canonicalize_name(name) for name in exclude}
    pins: dict[str, str] = {}
    for dist in metadata.distributions():
        raw = dist.metadata["Name"]
        if not raw:
            continue
        name = canonicalize_name(raw)
        if name not in skip:
            pins.setdefault(name, dist.version)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def _platform_arguments() -> list[str]:
    args = ["--only-binary=:all:", "--implementation", "cp"]
    args += ["--python-version", "{}.{}".format(*TARGET_PYTHON)]
    for abi in WHEEL_ABIS:
        args += ["--abi", abi]
    for platform in WHEEL_PLATFORMS:
        args += ["--platform", platform]
    return args


_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_NO_VERSION = re.compile(r"Could not find a version that satisfies the requirement (\S+)")


def _pip(args: list[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603


def _explain(process: subprocess.CompletedProcess[str], requirements: list[str]) -> DependencyError:
    output = process.stderr + process.stdout
    culprit = _NO_MATCH.search(output) or _NO_VERSION.search(output)
    errors = [line for line in output.splitlines() if line.startswith("ERROR")]
    detail = "\n  ".join(errors[-5:] or output.strip().splitlines()[-3:])
    if culprit:
        return DependencyError(
            f"no wheel of {culprit.group(1)} for CPython {'.'.join(map(str, TARGET_PYTHON))} on linux aarch64 "
            f"(manylinux, glibc ≤ 2.{MANYLINUX_GLIBC_MINORS[-1]}) and no pure-Python wheel; "
            f"a source build is not allowed. Pick a version that publishes one, or drop the dependency.\n"
            f"  pip said: {detail}"
        )
    return DependencyError(f"pip could not install {', '.join(requirements)} for linux aarch64:\n  {detail}")


def install_for_target(
    requirements: list[str],
    pins: list[str],
    target: Path,
    wheel_cache: Path,
    work: Path,
    log: Callable[[str], None] = print,
) -> None:
    """Install wheels for CPython 3.13 / manylinux aarch64 into `target`, downloading only what the cache lacks.

    First an offline install from the wheel cache; when that cannot satisfy the requirements,
    `pip download` fills the cache from the index and the offline install runs again. So the result
    always comes from the cache, and a warm cache needs no network at all.
    """
    work.mkdir(parents=True, exist_ok=True)
    wheel_cache.mkdir(parents=True, exist_ok=True)
    requirements_file = work / "requirements.txt"
    requirements_file.write_text("".join(f"{line}\n" for line in requirements))
    pins_file = work / "constraints.txt"
    pins_file.write_text("".join(f"{line}\n" for line in pins))
    files = ["-r", str(requirements_file), "-c", str(pins_file)]
    install = [
        "install", "--target", str(target), "--no-compile", "--no-index", "--find-links", str(wheel_cache),
        *_platform_arguments(), *files,
    ]  # fmt: skip
    if _pip(install).returncode == 0:
        return
    if target.exists():
        _empty(target)
    log(f"  the wheel cache ({wheel_cache}) lacks some wheels: downloading them from the index")
    download = _pip(
        ["download", "--dest", str(wheel_cache), "--progress-bar", "off", *_platform_arguments(), *files]
    )
    if download.returncode != 0:
        raise _explain(download, requirements)
    installed = _pip(install)
    if installed.returncode != 0:
        raise _explain(installed, requirements)


def _empty(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


@dataclass(frozen=True)
class InstalledWheel:
    """A distribution installed into a staging tree, as its .dist-info says."""

    name: str
    version: str
    tags: tuple[str, ...]
    files: tuple[str, ...]  # paths relative to the tree, from RECORD
    dist_info: str


def installed_wheels(tree: Path) -> list[InstalledWheel]:
    """Every .dist-info directly under `tree`: name, version, wheel tags, and its files."""
    wheels: list[InstalledWheel] = []
    for info in sorted(tree.glob("*.dist-info")):
        meta = Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"), headersonly=True)
        wheel = Parser().parsestr((info / "WHEEL").read_text(encoding="utf-8"), headersonly=True)
        record = info / "RECORD"
        files: list[str] = []
        if record.is_file():
            for line in record.read_text(encoding="utf-8").splitlines():
                path = line.rsplit(",", 2)[0] if line.strip() else ""
                if path:
                    files.append(path)
        wheels.append(
            InstalledWheel(
                name=canonicalize_name(meta["Name"]),
                version=str(meta["Version"]),
                tags=tuple(wheel.get_all("Tag") or ()),
                files=tuple(files),
                dist_info=info.name,
            )
        )
    return wheels


def tag_runs_on_target(tag: str) -> bool:
    """Whether a wheel tag (python-abi-platform) runs on CPython 3.13, linux aarch64."""
    parts = tag.split("-")
    if len(parts) != 3:
        return False
    pythons, abis, platforms = (part.split(".") for part in parts)
    major, minor = TARGET_PYTHON
    target_cp = f"cp{major}{minor}"
    python_ok = any(
        p in ("py3", f"py{major}{minor}", target_cp)
        or (p.startswith("cp3") and p[3:].isdigit() and int(p[3:]) <= minor and "abi3" in abis)
        for p in pythons
    )
    abi_ok = any(a in ("none", "abi3", target_cp) for a in abis)
    platform_ok = any(p == "any" or p in WHEEL_PLATFORMS for p in platforms)
    return python_ok and abi_ok and platform_ok


def remove_provided(tree: Path, provided: set[str]) -> list[str]:
    """Delete distributions the layer or runtime already provides from a staging tree; return their names."""
    removed: list[str] = []
    for wheel in installed_wheels(tree):
        if wheel.name not in provided:
            continue
        for relative in wheel.files:
            path = (tree / relative).resolve()
            if tree.resolve() in path.parents and path.is_file():
                path.unlink()
        shutil.rmtree(tree / wheel.dist_info, ignore_errors=True)
        removed.append(wheel.name)
    # Packages left empty by the removal (only __pycache__ or nothing) go too.
    for directory in sorted((p for p in tree.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(child for child in directory.iterdir() if child.name != "__pycache__"):
            shutil.rmtree(directory)
    return removed
