"""Reproducible zip files: the same inputs give the same bytes, so `terraform plan` sees no change.

Entries are sorted, carry one fixed timestamp (1980-01-01, or SOURCE_DATE_EPOCH when set), fixed
permissions (0644, what Lambda and AgentCore need to read them) and a fixed "made on Unix" header,
and are deflated at one fixed level. No directory entries, no bytecode, no caches. Byte identity
holds for the same zlib; a different zlib build may compress differently (the content is the same).
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

COMPRESSION = zipfile.ZIP_DEFLATED
COMPRESS_LEVEL = 9
FILE_MODE = 0o100644  # regular file, rw-r--r--
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_UNIX = 3

SKIPPED_DIRECTORIES = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def fixed_timestamp() -> tuple[int, int, int, int, int, int]:
    """The one timestamp every entry gets: SOURCE_DATE_EPOCH (UTC, not before 1980) or 1980-01-01."""
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if not raw:
        return ZIP_EPOCH
    moment = time.gmtime(int(raw))
    stamp = (moment.tm_year, moment.tm_mon, moment.tm_mday, moment.tm_hour, moment.tm_min, moment.tm_sec)
    return max(stamp, ZIP_EPOCH)


def is_shipped(relative: str) -> bool:
    """Whether a path inside a tree belongs in an artifact (no bytecode, no caches)."""
    parts = relative.split("/")
    return not any(part in SKIPPED_DIRECTORIES for part in parts) and not relative.endswith(SKIPPED_SUFFIXES)


def tree_entries(
    root: Path, prefix: str = "", skip_top: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Path]]:
    """(archive name, file) for every shipped file under `root`."""
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        if relative.split("/")[0] in skip_top or not is_shipped(relative):
            continue
        yield prefix + relative, path


# Files Lambda must be able to run: the Web Adapter's entry (`AWS_LAMBDA_EXEC_WRAPPER` runs the handler).
EXECUTABLES = frozenset({"run.sh"})
EXECUTABLE_MODE = 0o100755


def write_zip(destination: Path, entries: Mapping[str, Path | bytes]) -> None:
    """Write `entries` (archive name -> file or content) as a reproducible zip at `destination`."""
    stamp = fixed_timestamp()
    with zipfile.ZipFile(destination, "w", COMPRESSION, compresslevel=COMPRESS_LEVEL) as archive:
        for name in sorted(entries):
            source = entries[name]
            data = source if isinstance(source, bytes) else source.read_bytes()
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = COMPRESSION
            info.create_system = _UNIX
            info.external_attr = (EXECUTABLE_MODE if name in EXECUTABLES else FILE_MODE) << 16
            archive.writestr(info, data, compress_type=COMPRESSION, compresslevel=COMPRESS_LEVEL)
