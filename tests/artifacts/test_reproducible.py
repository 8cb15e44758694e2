"""Two builds of the same tree give the same bytes, so `terraform plan` shows no change."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from agentarch.dev.packaging.archive import ZIP_EPOCH
from agentarch.dev.packaging.builder import build, read_manifest
from agentarch.dev.packaging.registry import MANIFEST, STREAM_ENTRY_POINT
from tests.artifacts.conftest import LAMBDA_SPECS, Built


def test_two_builds_are_byte_identical(built: Built, tmp_path: Path) -> None:
    # Given a second build of everything into another directory
    again = tmp_path / "again"
    build((), again, log=lambda line: None)
    # Then every artifact and the manifest are the same bytes
    files = sorted(p.name for p in built.out_dir.iterdir())
    assert files == sorted(p.name for p in again.iterdir())
    assert MANIFEST in files and "agent.zip" in files
    for name in files:
        assert (built.out_dir / name).read_bytes() == (again / name).read_bytes(), f"{name} differs"


def test_zip_entries_are_sorted_stamped_and_plain(built: Built) -> None:
    for name in built.manifest["artifacts"]:
        with zipfile.ZipFile(built.out_dir / name) as archive:
            infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names), name
        assert {info.date_time for info in infos} == {ZIP_EPOCH}, name
        # Plain files, except the Web Adapter's start script, which Lambda must be able to run
        modes = {info.filename: info.external_attr >> 16 for info in infos}
        assert {mode for entry, mode in modes.items() if entry != STREAM_ENTRY_POINT} == {0o100644}, name
        assert modes.get(STREAM_ENTRY_POINT, 0o100755) == 0o100755, name
        assert {info.create_system for info in infos} == {3}, name
        assert not [n for n in names if n.endswith((".pyc", "/")) or "__pycache__" in n], name


def test_manifest_describes_each_file_for_terraform(built: Built) -> None:
    import base64
    import hashlib

    for name, entry in built.manifest["artifacts"].items():
        data = (built.out_dir / name).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        # Terraform's filebase64sha256() / source_code_hash
        assert entry["sha256_base64"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    agent = built.manifest["artifacts"]["agent.zip"]
    assert agent["runtime"] == "PYTHON_3_13" and agent["python_version"] == "3.13"
    assert agent["entry_point"] == ["main.py"]
    for spec in LAMBDA_SPECS:
        assert built.manifest["artifacts"][spec.artifact]["handler"] == spec.handler


@pytest.mark.skipif(not LAMBDA_SPECS, reason="no Lambda handler module exists yet")
def test_source_date_epoch_sets_the_entry_timestamps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    spec = LAMBDA_SPECS[0]
    build([spec.name], tmp_path, log=lambda line: None)
    with zipfile.ZipFile(tmp_path / spec.artifact) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert read_manifest(tmp_path)["zip_timestamp"] == "2023-11-14T22:13:20"
