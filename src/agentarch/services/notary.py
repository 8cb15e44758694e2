"""The notary: signed checkpoints of the audit trail's chain heads, kept where the writers cannot reach.

A hash chain proves that a record was not changed *relative to the records around it*; whoever holds
a writer's credentials can still rewrite a tail with recomputed hashes, or drop it. So a separate
party, the notary, watches the trail (the table's DynamoDB stream in AWS; the SQLite file's insert
order and its tamper triggers locally) and at least once a minute writes a **checkpoint**:

- `head` (what is signed): its number, time, the hash of the previous checkpoint's head (checkpoints
  chain like records do), the Merkle root over the chain heads of every session that changed since
  the previous checkpoint (one leaf per session: session, seq, hash, expiry), how many leaves, and the
  digest of the tampering the notary saw (every MODIFY or REMOVE of a record, TTL expiry aside);
- `signature`: ECDSA P-256 over the canonical JSON of `head`, with a key no writer may use (KMS
  asymmetric `Sign` in AWS; a key file only the notary reads locally);
- `entries` and `tampering`: the leaves and the tampering events themselves.

Checkpoints go to write-once storage (S3 Object Lock in AWS; a directory of files opened with
O_EXCL locally). `verify_trail` walks the store once per session and names each tamper class;
`export_bundle`/`verify_bundle` hand an investigator one session with a Merkle inclusion proof of its
head, and nothing about other sessions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby, islice
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentarch.core.timestamps import format_iso_millis, utc_now
from agentarch.services.audit import GENESIS, AuditRecord, Problem, StoredRecord, canonical_json, verify

CHECKPOINT_ALGORITHM = "ECDSA_SHA_256"  # P-256 over SHA-256 of the head's canonical JSON
CHECKPOINT_ATTEMPTS = 8  # two notaries racing for a number: retry on the next
BUNDLE_FORMAT = "agentarch-audit-bundle/1"
# A reader that stays up (the audit Lambda) checks at most this many new checkpoints per request, so a
# cold start after a long quiet never runs past the API's timeout; the next request goes on from there.
CHECKPOINTS_PER_CALL = 200  # a GET and a kms:Verify each: a few seconds, well inside the Lambda timeout

Change = Literal["modified", "removed"]


class HeadEntry(BaseModel):
    """One leaf: a session's chain head as the notary saw it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session: str
    seq: int = Field(ge=1)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    expires_at: int | None = None


class TamperEvent(BaseModel):
    """A stored record changed or removed after it was written (never a TTL expiry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session: str
    seq: int
    change: Change
    seen_at: str  # ISO-8601 UTC: when the notary saw it
    old_hash: str | None = None  # the record's hash before the change, when readable
    new_hash: str | None = None
    source: str = ""  # the stream event id (AWS) or the tamper log row (local)


class CheckpointHead(BaseModel):
    """What the notary signs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1)
    time: str
    prev: str = Field(pattern=r"^[0-9a-f]{64}$")  # hash of the previous head (GENESIS for the first)
    root: str = Field(pattern=r"^[0-9a-f]{64}$")  # Merkle root of the entries
    size: int = Field(ge=0)
    tampering: str = Field(pattern=r"^[0-9a-f]{64}$")  # sha256 of the tampering list's canonical JSON
    key_id: str
    algorithm: str = CHECKPOINT_ALGORITHM

    def digest(self) -> str:
        """The hash the next checkpoint links to."""
        return hashlib.sha256(self.signed_bytes()).hexdigest()

    def signed_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json")).encode("utf-8")


class Checkpoint(BaseModel):
    """A signed head with its leaves and the tampering it reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    head: CheckpointHead
    signature: str  # base64 of the DER ECDSA signature
    entries: tuple[HeadEntry, ...] = ()
    tampering: tuple[TamperEvent, ...] = ()
    position: str | None = None  # where the notary's source stopped (not signed: a hint for restarts)

    def to_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json")).encode("utf-8")


# --- the Merkle tree (RFC 6962 hashing: leaves and nodes are domain-separated) -------------------


def leaf_hash(entry: HeadEntry) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_json(entry.model_dump(mode="json")).encode("utf-8")).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def merkle_path(leaves: list[bytes], index: int) -> list[str]:
    """The audit path of leaf `index` (hex), bottom up, as RFC 6962 defines it."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*merkle_path(leaves[:k], index), merkle_root(leaves[k:]).hex()]
    return [*merkle_path(leaves[k:], index - k), merkle_root(leaves[:k]).hex()]


def root_from_path(leaf: bytes, index: int, size: int, path: list[str]) -> bytes:
    """Recompute the root from a leaf and its audit path (RFC 9162, 2.1.3.2)."""
    if index >= size:
        raise ValueError("the leaf index is outside the tree")
    fn, sn, node = index, size - 1, leaf
    for sibling_hex in path:
        sibling = bytes.fromhex(sibling_hex)
        if sn == 0:
            raise ValueError("the path is longer than the tree")
        if fn & 1 or fn == sn:
            node = _node(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            node = _node(node, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the path is shorter than the tree")
    return node


def tampering_digest(events: Iterable[TamperEvent]) -> str:
    return hashlib.sha256(canonical_json([e.model_dump(mode="json") for e in events]).encode()).hexdigest()


# --- the ports ------------------------------------------------------------------------------------


class Signer(Protocol):
    """Signs with a key the writers cannot use (KMS asymmetric key, or the local notary's key file)."""

    key_id: str

    def sign(self, message: bytes) -> bytes:
        """DER ECDSA P-256 signature over SHA-256 of `message`."""
        ...


class CheckpointStore(Protocol):
    """Write-once storage of checkpoints, numbered from 1."""

    def latest(self) -> Checkpoint | None:
        """The checkpoint with the highest number, or None before the first."""
        ...

    def put(self, checkpoint: Checkpoint) -> bool:
        """Store a new checkpoint; False (nothing written) when its number is taken."""
        ...

    def raw(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        """Every stored checkpoint numbered above `after`, as stored (number from its name, bytes), in
        number order."""
        ...


# --- writing checkpoints --------------------------------------------------------------------------


class Notary:
    """Turns what changed in the trail into the next signed checkpoint."""

    def __init__(self, signer: Signer, checkpoints: CheckpointStore, *, clock: Any = utc_now) -> None:
        self._signer = signer
        self._checkpoints = checkpoints
        self._clock = clock

    def checkpoint(
        self,
        records: Iterable[AuditRecord | HeadEntry],
        tampering: Iterable[TamperEvent] = (),
        *,
        position: str | None = None,
    ) -> Checkpoint | None:
        """Sign the newest head of every session among `records`; None when nothing changed."""
        heads: dict[str, HeadEntry] = {}
        for item in records:
            entry = (
                item
                if isinstance(item, HeadEntry)
                else HeadEntry(session=item.session, seq=item.seq, hash=item.hash, expires_at=item.expires_at)
            )
            known = heads.get(entry.session)
            if known is None or entry.seq > known.seq:
                heads[entry.session] = entry
        events = tuple(tampering)
        if not heads and not events:
            return None
        entries = tuple(sorted(heads.values(), key=lambda e: e.session))
        root = merkle_root([leaf_hash(e) for e in entries]).hex()
        for _ in range(CHECKPOINT_ATTEMPTS):
            previous = self._checkpoints.latest()
            head = CheckpointHead(
                number=1 if previous is None else previous.head.number + 1,
                time=format_iso_millis(self._clock()),
                prev=GENESIS if previous is None else previous.head.digest(),
                root=root,
                size=len(entries),
                tampering=tampering_digest(events),
                key_id=self._signer.key_id,
            )
            signature = base64.b64encode(self._signer.sign(head.signed_bytes())).decode()
            checkpoint = Checkpoint(
                head=head, signature=signature, entries=entries, tampering=events, position=position
            )
            if self._checkpoints.put(checkpoint):
                return checkpoint
        raise RuntimeError(
            f"another notary kept taking the next checkpoint number ({CHECKPOINT_ATTEMPTS} tries)"
        )


# --- verifying ------------------------------------------------------------------------------------


class SignatureCheck(Protocol):
    """Checks the notary's signatures: its public key in process (`PublicKey`), or KMS `Verify` where
    no crypto library ships (the audit Lambda's zip vendors nothing)."""

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """Whether `signature` is the notary's ECDSA P-256 signature over SHA-256 of `message`."""
        ...


class PublicKey:
    """The notary's public key (PEM or DER SubjectPublicKeyInfo, as KMS GetPublicKey returns it)."""

    def __init__(self, data: bytes) -> None:
        from cryptography.hazmat.primitives import serialization

        self._key: Any = (
            serialization.load_pem_public_key(data)
            if data.lstrip().startswith(b"-----")
            else serialization.load_der_public_key(data)
        )

    def verifies(self, signature: bytes, message: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            self._key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True

    def pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        data: bytes = self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return data.decode()


def signature_valid(checkpoint: Checkpoint, key: SignatureCheck) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        return False
    return key.verifies(signature, checkpoint.head.signed_bytes())


@dataclass(frozen=True)
class Signed:
    """A head the notary signed: in checkpoint `number`."""

    seq: int
    hash: str
    expires_at: int | None
    number: int


@dataclass
class Evidence:
    """What the checkpoints say, once checked: the signed heads per session and the tampering seen."""

    signed: dict[str, list[Signed]] = field(default_factory=dict)
    tampering: dict[str, list[TamperEvent]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    checkpoints: int = 0
    latest: str | None = None  # time of the newest valid checkpoint
    caught_up: bool = True  # a reader with a budget (`SessionVerifier`): whether it read the newest one
    next_number: int = 1  # where checking goes on: the number expected next, and the head it links to
    prev_digest: str = GENESIS

    @property
    def read_up_to(self) -> int:
        """The highest checkpoint number read so far (0 before the first)."""
        return self.next_number - 1


def check_checkpoints(
    raw: Iterable[tuple[int, bytes]], key: SignatureCheck, evidence: Evidence | None = None
) -> Evidence:
    """Check each checkpoint's signature, its numbering and its link to the previous one.

    A checkpoint that fails its signature (forged, or edited after signing) contributes nothing; a
    number missing from the sequence, or a link to a head other than the previous one, is named.
    Given the `evidence` of earlier checkpoints, it goes on from there (`raw` then holds only the
    checkpoints after `evidence.read_up_to`): a reader that stays up reads each checkpoint once.
    """
    evidence = Evidence() if evidence is None else evidence
    expected, prev_digest = evidence.next_number, evidence.prev_digest
    for number, data in raw:
        evidence.checkpoints += 1
        where = f"checkpoint {number}"
        try:
            checkpoint = Checkpoint.model_validate_json(data)
        except (ValueError, ValidationError):
            evidence.problems.append(
                Problem("", number, f"{where} cannot be read (edited or forged)", "checkpoint edited")
            )
            expected, prev_digest = number + 1, ""
            continue
        if number > expected:
            missing = f"{expected}" if number == expected + 1 else f"{expected}..{number - 1}"
            evidence.problems.append(
                Problem(
                    "", number, f"checkpoint(s) {missing} before {where} are missing", "checkpoint missing"
                )
            )
        if not signature_valid(checkpoint, key):
            evidence.problems.append(
                Problem(
                    "",
                    number,
                    f"{where}: the signature does not verify (forged or edited checkpoint)",
                    "checkpoint forged",
                )
            )
            expected, prev_digest = number + 1, ""
            continue
        head = checkpoint.head
        if head.number != number:
            evidence.problems.append(
                Problem(
                    "", number, f"{where} is signed as checkpoint {head.number} (moved)", "checkpoint edited"
                )
            )
        if number == expected and prev_digest and head.prev != prev_digest:
            evidence.problems.append(
                Problem(
                    "",
                    number,
                    f"{where} does not link to checkpoint {number - 1} (replaced or edited)",
                    "checkpoint edited",
                )
            )
        leaves = [leaf_hash(e) for e in checkpoint.entries]
        if merkle_root(leaves).hex() != head.root or head.size != len(leaves):
            evidence.problems.append(
                Problem(
                    "",
                    number,
                    f"{where}: its entries do not match the signed root (edited)",
                    "checkpoint edited",
                )
            )
            expected, prev_digest = number + 1, head.digest()
            continue
        if tampering_digest(checkpoint.tampering) != head.tampering:
            evidence.problems.append(
                Problem(
                    "",
                    number,
                    f"{where}: its tampering list does not match the signed digest (edited)",
                    "checkpoint edited",
                )
            )
        for entry in checkpoint.entries:
            evidence.signed.setdefault(entry.session, []).append(
                Signed(entry.seq, entry.hash, entry.expires_at, number)
            )
        for event in checkpoint.tampering:
            evidence.tampering.setdefault(event.session, []).append(event)
        evidence.latest = head.time
        expected, prev_digest = number + 1, head.digest()
    evidence.next_number, evidence.prev_digest = expected, prev_digest
    return evidence


@dataclass
class SessionReport:
    """One session's verdict: its records, the newest signed head, the first bad record, the problems."""

    session: str
    records: int = 0
    last_seq: int = 0
    signed_seq: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def first_bad(self) -> int | None:
        return min((p.seq for p in self.problems), default=None)

    @property
    def uncovered(self) -> tuple[int, int] | None:
        """Records no checkpoint covers yet (newer than the last signed head): (first, last) seq."""
        start = (self.signed_seq or 0) + 1
        return (start, self.last_seq) if self.last_seq >= start else None

    @property
    def state(self) -> str:
        if self.problems:
            return "tampered"
        if self.signed_seq is None:
            return "unsigned"
        return "signed" if self.uncovered is None else "partly signed"

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "state": self.state,
            "records": self.records,
            "last_seq": self.last_seq,
            "signed_seq": self.signed_seq,
            "first_bad_seq": self.first_bad,
            "tamper": self.problems[0].tamper if self.problems else None,
            "tamper_classes": sorted({p.tamper for p in self.problems}),
            "uncovered": list(self.uncovered) if self.uncovered else None,
            "problems": [p.message for p in self.problems],
        }


def check_session(
    session: str, stored: Iterable[StoredRecord], evidence: Evidence | None, now: float
) -> SessionReport:
    """The chain checks of `audit.verify`, then the signed heads and the notary's tampering log."""
    report = SessionReport(session)
    signed = evidence.signed.get(session, []) if evidence else []
    wanted = {s.seq: s for s in signed}
    mismatched: list[Signed] = []
    matched = 0

    def counted(items: Iterable[StoredRecord]) -> Iterator[StoredRecord]:
        nonlocal matched
        for item in items:
            report.records += 1
            report.last_seq = max(report.last_seq, item.seq)
            expected = wanted.get(item.seq)
            if expected is not None:
                try:
                    actual = json.loads(item.text).get("hash")
                except ValueError:
                    actual = None
                if actual == expected.hash:
                    matched = max(matched, item.seq)
                else:
                    mismatched.append(expected)
            yield item

    chain = verify(counted(stored), now=now)
    report.problems += chain.problems
    for expected in mismatched:
        # With an intact chain, the rewrite starts somewhere after the last head that still matches;
        # with a broken one, the chain's own problems already name the first bad record.
        report.problems.append(
            Problem(
                session,
                expected.seq if chain.problems else matched + 1,
                f"the chain was rewritten: seq {expected.seq} differs from the head signed in checkpoint "
                f"{expected.number} (the first changed record is after seq {matched})",
                "rewritten",
            )
        )
    if signed:
        newest = max(signed, key=lambda s: s.seq)
        report.signed_seq = newest.seq
        expired = newest.expires_at is not None and newest.expires_at <= now
        if report.records == 0 and not expired:
            report.problems.append(
                Problem(
                    session,
                    1,
                    f"the whole session was removed (checkpoint {newest.number} signed seq {newest.seq})",
                    "session removed",
                )
            )
        elif report.last_seq < newest.seq and not expired:
            report.problems.append(
                Problem(
                    session,
                    report.last_seq + 1,
                    f"the tail was truncated: records {report.last_seq + 1}..{newest.seq}, signed in checkpoint "
                    f"{newest.number}, are gone",
                    "truncated",
                )
            )
    for event in evidence.tampering.get(session, []) if evidence else []:
        report.problems.append(
            Problem(
                session,
                event.seq,
                f"the notary saw seq {event.seq} {event.change} at {event.seen_at}",
                "overwritten" if event.change == "modified" else "deleted",
            )
        )
    report.problems.sort(key=lambda p: p.seq)
    return report


def verify_trail(
    stored: Iterable[StoredRecord], evidence: Evidence | None, *, now: float | None = None
) -> Iterator[SessionReport]:
    """One report per session, streaming: the store is read once, a session at a time.

    Memory grows with the number of sessions the checkpoints name (their signed heads), never with
    the number of records. Sessions the checkpoints sign but the store no longer holds come last.
    """
    import time as _time

    moment = _time.time() if now is None else now
    seen: set[str] = set()
    for session, items in groupby(stored, key=lambda item: item.session):
        seen.add(session)
        yield check_session(session, items, evidence, moment)
    if evidence is not None:
        for session in sorted(set(evidence.signed) | set(evidence.tampering)):
            if session not in seen:
                yield check_session(session, (), evidence, moment)


class SessionVerifier:
    """The notary's evidence for a reader that stays up (the audit Lambda), checked as `agentarch audit
    verify` checks it (`check_checkpoints`; a session is then `check_session`), each checkpoint once.

    Checkpoints are read on demand and only those newer than the last read, at most `per_call` a
    call (`Evidence.caught_up` says whether it got to the newest); a failed read drops what was
    gathered, so the next call starts over. Without a notary (`checkpoints` None), the chain alone.
    """

    def __init__(
        self,
        checkpoints: CheckpointStore | None,
        signatures: Callable[[], SignatureCheck] | None,
        *,
        per_call: int = CHECKPOINTS_PER_CALL,
    ) -> None:
        self._checkpoints = checkpoints
        self._signatures = signatures
        self._key: SignatureCheck | None = None
        self._per_call = per_call
        self._evidence: Evidence | None = None
        self._lock = threading.Lock()

    @property
    def notarised(self) -> bool:
        return self._checkpoints is not None and self._signatures is not None

    def checked_evidence(self) -> Evidence | None:
        """The checked checkpoints so far, brought up to date; None without a notary."""
        if self._checkpoints is None or self._signatures is None:
            return None
        with self._lock:
            if self._key is None:
                self._key = self._signatures()
            current = self._evidence or Evidence()
            current_count = current.checkpoints
            self._evidence = None
            fresh = islice(self._checkpoints.raw(current.read_up_to), self._per_call)
            updated = check_checkpoints(fresh, self._key, current)
            updated.caught_up = updated.checkpoints - current_count < self._per_call
            self._evidence = updated
            return updated


# --- evidence for an investigator ---------------------------------------------------------------


def export_bundle(
    session: str,
    records: Iterable[StoredRecord],
    checkpoints: Iterable[tuple[int, bytes]],
    public_key_pem: str,
) -> Iterator[str]:
    """JSON lines: a header, the session's records, and the newest checkpoint head signing it with the
    Merkle path of its leaf. Other sessions appear only as hashes on that path."""
    yield canonical_json({"format": BUNDLE_FORMAT, "session": session, "public_key": public_key_pem})
    for item in records:
        yield canonical_json({"record": json.loads(item.text)})
    best: tuple[Checkpoint, int] | None = None
    for _, data in checkpoints:
        try:
            checkpoint = Checkpoint.model_validate_json(data)
        except (ValueError, ValidationError):
            continue
        for index, entry in enumerate(checkpoint.entries):
            if entry.session == session:
                best = (checkpoint, index)
    if best is None:
        return
    checkpoint, index = best
    leaves = [leaf_hash(e) for e in checkpoint.entries]
    yield canonical_json(
        {
            "checkpoint": checkpoint.head.model_dump(mode="json"),
            "signature": checkpoint.signature,
            "entry": checkpoint.entries[index].model_dump(mode="json"),
            "index": index,
            "path": merkle_path(leaves, index),
        }
    )


@dataclass
class BundleVerdict:
    session: str
    records: int
    signed_seq: int | None
    problems: list[str]

    @property
    def clean(self) -> bool:
        return not self.problems


def _read_bundle(
    lines: Iterable[str],
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, list[StoredRecord]]:
    """(header, proof, records) of a bundle's JSON lines."""
    header: Mapping[str, Any] | None = None
    proof: Mapping[str, Any] | None = None
    stored: list[StoredRecord] = []
    for line in lines:
        if not line.strip():
            continue
        value = json.loads(line)
        if "format" in value:
            header = value
        elif "record" in value:
            record = value["record"]
            stored.append(
                StoredRecord(
                    str(record.get("session")), int(record.get("seq", 0)), {}, canonical_json(record)
                )
            )
        elif "checkpoint" in value:
            proof = value
    return header, proof, stored


def verify_bundle(lines: Iterable[str], trusted_key: bytes | None = None) -> BundleVerdict:
    """Check a bundle offline: the chain, the signature over the checkpoint head, the Merkle path from
    the session's head to the signed root, and that the records reach the signed head."""
    header, proof, stored = _read_bundle(lines)
    problems: list[str] = []
    if header is None or header.get("format") != BUNDLE_FORMAT:
        return BundleVerdict("", 0, None, ["not an agentarch audit bundle"])
    session = str(header["session"])
    chain = verify(sorted(stored, key=lambda s: s.seq), now=0)
    problems += [f"seq {p.seq}: {p.message}" for p in chain.problems]
    problems += [f"seq {s.seq}: belongs to session {s.session}" for s in stored if s.session != session]
    if proof is None:
        problems.append("no checkpoint signs this session's head yet")
        return BundleVerdict(session, len(stored), None, problems)
    key = PublicKey(trusted_key if trusted_key is not None else str(header["public_key"]).encode())
    head = CheckpointHead.model_validate(proof["checkpoint"])
    entry = HeadEntry.model_validate(proof["entry"])
    try:
        signature = base64.b64decode(str(proof["signature"]), validate=True)
    except ValueError:
        signature = b""
    if not key.verifies(signature, head.signed_bytes()):
        problems.append(f"checkpoint {head.number}: the signature does not verify")
    try:
        root = root_from_path(leaf_hash(entry), int(proof["index"]), head.size, list(proof["path"]))
    except ValueError as exc:
        problems.append(f"the inclusion proof is malformed ({exc})")
    else:
        if root.hex() != head.root:
            problems.append("the inclusion proof does not lead to the signed root")
    if entry.session != session:
        problems.append("the signed entry is another session's")
    by_seq = {s.seq: json.loads(s.text).get("hash") for s in stored}
    if entry.seq not in by_seq:
        problems.append(f"the records stop before seq {entry.seq}, which the notary signed (truncated)")
    elif by_seq[entry.seq] != entry.hash:
        problems.append(f"seq {entry.seq} differs from the signed head (rewritten)")
    return BundleVerdict(session, len(stored), entry.seq, problems)


def stamp(moment: datetime | None = None) -> str:
    return format_iso_millis(moment or utc_now())


__all__ = [
    "Checkpoint",
    "CheckpointHead",
    "CheckpointStore",
    "Evidence",
    "HeadEntry",
    "Notary",
    "PublicKey",
    "SessionReport",
    "SessionVerifier",
    "SignatureCheck",
    "Signer",
    "TamperEvent",
    "check_checkpoints",
    "export_bundle",
    "merkle_path",
    "merkle_root",
    "root_from_path",
    "verify_bundle",
    "verify_trail",
]
