"""Powertools' idempotency on both persistence layers: its DynamoDB layer under moto, and the local
SQLite layer that implements its `BasePersistenceLayer`. One suite, the same answers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from moto import mock_aws

from agentarch.dev.sqlite import SqliteDatabase, SqliteIdempotencyStore
from agentarch.dev.testing import LocalLambdaContext
from agentarch.dev.testing.aws import (
    IDEMPOTENCY_TABLE_NAME,
    REGION,
    create_idempotency_table,
    dynamodb_writes_one_at_a_time,
)
from agentarch.handlers.chat import idempotency_config


@pytest.fixture(params=["aws", "sqlite"])
def layer(
    request: pytest.FixtureRequest, tmp_path: Path, aws_credentials: None
) -> Iterator[BasePersistenceLayer]:
    if request.param == "aws":
        with mock_aws(), dynamodb_writes_one_at_a_time():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            create_idempotency_table(dynamodb)
            yield DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE_NAME, boto3_client=dynamodb)
    else:
        yield SqliteIdempotencyStore(SqliteDatabase(tmp_path / "state" / "agentarch.sqlite3"))


def once(layer: BasePersistenceLayer, config: IdempotencyConfig = idempotency_config) -> Callable[..., Any]:
    """The chat Lambda's configuration (actor and key scope the record, the request is validated)."""
    config.register_lambda_context(LocalLambdaContext())  # as the handler does: in-progress records expire

    @idempotent_function(data_keyword_argument="scope", persistence_store=layer, config=config)
    def run(*, scope: dict[str, Any], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return work()

    return run


def scope(actor: str, key: str, message: str) -> dict[str, Any]:
    return {"actor": actor, "key": key, "request": {"message": message, "session_id": None}}


def test_the_same_key_and_body_answer_the_first_answer_without_running_again(
    layer: BasePersistenceLayer,
) -> None:
    runs: list[int] = []
    run = once(layer)

    def work() -> dict[str, Any]:
        runs.append(1)
        return {"answer": len(runs)}

    first = run(scope=scope("alice", "key-00000001", "hi"), work=work)
    again = run(scope=scope("alice", "key-00000001", "hi"), work=work)

    assert first == again == {"answer": 1}
    assert len(runs) == 1


def test_the_same_key_with_another_body_is_refused(layer: BasePersistenceLayer) -> None:
    run = once(layer)
    run(scope=scope("alice", "key-00000002", "hi"), work=lambda: {"answer": 1})

    with pytest.raises(IdempotencyValidationError):
        run(scope=scope("alice", "key-00000002", "something else"), work=lambda: {"answer": 2})


def test_another_actors_identical_key_is_another_record(layer: BasePersistenceLayer) -> None:
    run = once(layer)
    run(scope=scope("alice", "key-00000003", "hi"), work=lambda: {"answer": "alice's"})

    assert run(scope=scope("bob", "key-00000003", "hi"), work=lambda: {"answer": "bob's"}) == {
        "answer": "bob's"
    }


def test_a_failed_run_leaves_no_record_so_the_retry_runs(layer: BasePersistenceLayer) -> None:
    run = once(layer)

    def fail() -> dict[str, Any]:
        raise RuntimeError("the agent failed")

    with pytest.raises(RuntimeError):
        run(scope=scope("alice", "key-00000004", "hi"), work=fail)

    assert run(scope=scope("alice", "key-00000004", "hi"), work=lambda: {"answer": 2}) == {"answer": 2}


def test_sixteen_concurrent_retries_of_one_key_run_the_work_once(layer: BasePersistenceLayer) -> None:
    run = once(layer)
    barrier = threading.Barrier(16)
    others_refused = threading.Event()
    runs: list[int] = []
    refusals: list[int] = []
    lock = threading.Lock()

    def work() -> dict[str, Any]:
        runs.append(1)
        others_refused.wait(30)  # still running while every other client asks
        return {"answer": 1}

    def client(_: int) -> str:
        barrier.wait()
        try:
            run(scope=scope("alice", "key-00000005", "hi"), work=work)
        except IdempotencyAlreadyInProgressError:
            with lock:
                refusals.append(1)
                if len(refusals) == 15:
                    others_refused.set()
            return "in progress"
        return "ran"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(client, range(16)))

    assert sorted(outcomes) == ["in progress"] * 15 + ["ran"]
    assert len(runs) == 1
