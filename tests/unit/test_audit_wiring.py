"""Which audit trail the settings give each writer, and the two argument keys (local file, KMS HMAC)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from agentarch.adapters import wiring
from agentarch.adapters.aws_audit import DynamoAuditStore, KmsArgumentKey
from agentarch.config import SettingsError, StorageSettings
from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.dev.sqlite import SqliteAuditStore
from agentarch.dev.testing.aws import REGION


def settings(**values: object) -> StorageSettings:
    names = {
        "backend": "STORAGE_BACKEND",
        "path": "SQLITE_PATH",
        "table": "AUDIT_TABLE",
        "key_id": "AUDIT_KEY_ID",
        "key_file": "AUDIT_KEY_FILE",
        "retention": "AUDIT_RETENTION_DAYS",
    }
    return StorageSettings.model_validate({names[k]: v for k, v in values.items()})


def test_no_storage_means_no_trail() -> None:
    assert wiring.audit_trail(settings()) is None


def test_the_local_trail_digests_with_a_private_key_file_made_on_first_use(tmp_path: Path) -> None:
    key_file = tmp_path / "state" / "audit.key"
    trail = wiring.audit_trail(
        settings(
            backend="sqlite", path=str(tmp_path / "state" / "db.sqlite3"), key_file=str(key_file), retention=7
        )
    )
    assert trail is not None and isinstance(trail.store, SqliteAuditStore)

    handle = trail.tool_call_started(
        AuditContext(Actor(id="alice"), "s-" + "0" * 40), tool="calculator", call_id="c1", args={"x": 1}
    )

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 32
    assert handle.started.expires_at is not None
    again = wiring.audit_trail(settings(backend="sqlite", path=str(tmp_path / "db2"), key_file=str(key_file)))
    assert again is not None and again.args_digest({"x": 1})[0] == handle.started.args_digest  # the same key


def test_aws_needs_the_audit_table() -> None:
    with pytest.raises(SettingsError, match="AUDIT_TABLE"):
        wiring.audit_trail(settings(backend="aws"))


def test_the_chat_lambda_gets_a_trail_without_a_key_and_the_agent_one_with_kms() -> None:
    chat = wiring.audit_trail(settings(backend="aws", table="t-audit"))
    agent = wiring.audit_trail(settings(backend="aws", table="t-audit", key_id="arn:aws:kms:x:1:key/k"))
    assert chat is not None and isinstance(chat.store, DynamoAuditStore)
    assert wiring.AwsBackend().argument_key(settings(backend="aws", table="t-audit")) is None
    assert agent is not None and isinstance(
        wiring.AwsBackend().argument_key(settings(backend="aws", key_id="k")), KmsArgumentKey
    )


@pytest.fixture
def kms(aws_credentials: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


def test_the_kms_key_macs_in_kms_and_the_digest_verifies_there(kms: Any) -> None:
    client = kms
    key_id = client.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    key = KmsArgumentKey(key_id, client=client)

    mac = key.mac(b"\x01" * 32)

    assert client.verify_mac(KeyId=key_id, Message=b"\x01" * 32, Mac=mac, MacAlgorithm="HMAC_SHA_256")[
        "MacValid"
    ]  # type: ignore[attr-defined]
    assert key.mac(b"\x01" * 32) == mac and key.mac(b"\x02" * 32) != mac


def test_a_backend_this_process_does_not_have_is_a_configuration_error() -> None:
    # Given a deployed function's process, which has only the aws backend (no zip carries the dev package)
    bare = wiring._BACKENDS.pop("sqlite")
    try:
        # When the settings name the local stack's SQLite backend
        with pytest.raises(SettingsError, match="STORAGE_BACKEND=sqlite: no such backend"):
            wiring.audit_trail(settings(backend="sqlite", path="/tmp/x.db"))
    finally:
        wiring.register_backend("sqlite", bare)


def test_a_missing_governance_table_names_the_governance_setting() -> None:
    from agentarch.config import GovernanceSettings

    with pytest.raises(SettingsError, match="QUOTAS_TABLE is required when GOVERNANCE_BACKEND=aws"):
        wiring.quota_store(GovernanceSettings.model_validate({"GOVERNANCE_BACKEND": "aws"}))
