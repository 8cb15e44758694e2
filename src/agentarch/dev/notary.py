"""The local notary: the counterpart of the notary Lambda, on the local stack's SQLite file.

- Its own key: an ECDSA P-256 private key in `<state>/notary/notary.key` (0600), made on first run;
  the Lambdas and the agent are never told where it is. The public key sits beside the checkpoints.
- Write-once checkpoints: `<state>/notary/checkpoints/checkpoint-<n>.json`, each created with
  O_EXCL (a number is never written twice) and made read-only.
- Its feed: the `audit_appends` table (an AFTER INSERT trigger; the stream's INSERT) and the
  `audit_tampering` table (AFTER UPDATE/DELETE triggers; the stream's MODIFY/REMOVE).

Locally every process runs as one user and can read the key file: the local notary shows the
semantics, not the isolation (AWS gives that: a separate role, a KMS key, an Object Lock bucket).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from agentarch.core.timestamps import format_iso_millis, utc_now
from agentarch.services.notary import Checkpoint, HeadEntry, Notary, PublicKey, TamperEvent

if TYPE_CHECKING:  # the SQLite backend reads this module's checkpoints: no import cycle at run time
    from agentarch.dev.sqlite import SqliteDatabase

NOTARY_DIR = "notary"
KEY_FILE = "notary.key"
PUBLIC_KEY_FILE = "notary.pub"
CHECKPOINT_DIR = "checkpoints"
INTERVAL_SECONDS = 2.0  # at least once a minute, as in AWS; faster locally so a demo sees it


class FileSigner:
    """ECDSA P-256 with a PEM key file only the notary reads (made on first use, 0600)."""

    def __init__(self, path: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = ec.generate_private_key(ec.SECP256R1())
            data = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        self._key = loaded
        public = loaded.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_pem = public
        self.key_id = "local:" + hashlib.sha256(public).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))


class DirectoryCheckpoints:
    """`CheckpointStore` on a directory: files created exclusively and made read-only."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _numbers(self) -> list[int]:
        if not self.directory.exists():
            return []
        numbers = []
        for path in self.directory.glob("checkpoint-*.json"):
            try:
                numbers.append(int(path.stem.removeprefix("checkpoint-")))
            except ValueError:
                continue
        return sorted(numbers)

    def path(self, number: int) -> Path:
        return self.directory / f"checkpoint-{number:012d}.json"

    def latest(self) -> Checkpoint | None:
        for number in reversed(self._numbers()):
            try:
                return Checkpoint.model_validate_json(self.path(number).read_bytes())
            except ValueError:
                continue  # unreadable: verify names it; the notary goes on after it
        return None

    def put(self, checkpoint: Checkpoint) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.path(checkpoint.head.number)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "wb") as out:
            out.write(checkpoint.to_bytes())
        return True

    def raw(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        for number in self._numbers():
            if number > after:
                yield number, self.path(number).read_bytes()


def public_key(state_dir: Path) -> PublicKey:
    """The local notary's public key (what `agentarch audit verify` checks signatures with)."""
    return _public_key_in(state_dir / NOTARY_DIR)


def _public_key_in(directory: Path) -> PublicKey:
    path = directory / PUBLIC_KEY_FILE
    if not path.exists():
        raise FileNotFoundError(f"no notary public key at {path} (the local notary has not run yet)")
    return PublicKey(path.read_bytes())


def checkpoints(state_dir: Path) -> DirectoryCheckpoints:
    return DirectoryCheckpoints(state_dir / NOTARY_DIR / CHECKPOINT_DIR)


def reading(directory: Path) -> tuple[DirectoryCheckpoints, Callable[[], PublicKey]]:
    """What a reader of the notary's `directory` (`<state>/notary`, the local audit Lambda's
    `NOTARY_DIR`) gets: its checkpoints, and its public key, read on first use. Never the key file."""
    return DirectoryCheckpoints(directory / CHECKPOINT_DIR), lambda: _public_key_in(directory)


class LocalNotary:
    """Reads what was appended and tampered with since its last checkpoint and signs the next one."""

    def __init__(self, database: SqliteDatabase, state_dir: Path) -> None:
        directory = state_dir / NOTARY_DIR
        self._db = database
        self.signer = FileSigner(directory / KEY_FILE)
        public = directory / PUBLIC_KEY_FILE
        if not public.exists():
            public.write_bytes(self.signer.public_pem)
        self.checkpoints = checkpoints(state_dir)
        self._notary = Notary(self.signer, self.checkpoints)
        self._stop = threading.Event()

    def _position(self) -> tuple[int, int]:
        latest = self.checkpoints.latest()
        if latest is None or not latest.position:
            return 0, 0
        appended, tampered = latest.position.split(":")
        return int(appended), int(tampered)

    def run_once(self) -> Checkpoint | None:
        """One checkpoint over everything new since the last one; None when nothing changed."""
        appended, tampered = self._position()
        with self._db.connect() as connection:
            appends = connection.execute(
                "SELECT position, session_id, seq, hash, expires_at FROM audit_appends WHERE position > ? "
                "ORDER BY position",
                (appended,),
            ).fetchall()
            changes = connection.execute(
                "SELECT position, session_id, seq, change, old_hash, new_hash FROM audit_tampering "
                "WHERE position > ? ORDER BY position",
                (tampered,),
            ).fetchall()
        if not appends and not changes:
            return None
        now = format_iso_millis(utc_now())
        heads = [HeadEntry(session=s, seq=q, hash=h, expires_at=e) for _, s, q, h, e in appends]
        events = [
            TamperEvent(
                session=s,
                seq=q,
                change=c,
                seen_at=now,
                old_hash=old,
                new_hash=new,
                source=f"local:{position}",
            )
            for position, s, q, c, old, new in changes
        ]
        position = f"{appends[-1][0] if appends else appended}:{changes[-1][0] if changes else tampered}"
        return self._notary.checkpoint(heads, events, position=position)

    def run_forever(self, interval: float = INTERVAL_SECONDS) -> None:
        while not self._stop.wait(interval):
            try:
                self.run_once()
            except Exception as exc:  # keep notarising: the next round retries
                print(f"notary: this round failed ({type(exc).__name__}); retrying", file=sys.stderr)

    def stop(self) -> None:
        self._stop.set()


__all__ = ["DirectoryCheckpoints", "FileSigner", "LocalNotary", "checkpoints", "public_key", "reading"]
