"""Hostile requests against the running stack: never a 5xx, always the error shape, and nothing a
client sends changes who it is or lets it reach an internal piece."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import ALICE, RunningStack
from tests.e2e.test_concurrency import health

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
SESSION = "s" + "7" * 40

# (name, method, path, body, extra headers, expected status, expected code)
HOSTILE: list[tuple[str, str, str, bytes | None, dict[str, str], int, str]] = [
    ("utf-16 body", "POST", "/api/chat", '{"message": "hi"}'.encode("utf-16"), JSON, 400, "malformed_json"),
    ("latin-1 body", "POST", "/api/chat", b'{"message": "caf\xe9"}', JSON, 400, "malformed_json"),
    ("nested 1,100 deep", "POST", "/api/chat", b"[" * 1100 + b"]" * 1100, JSON, 400, "malformed_json"),
    (
        "object nested 1,100 deep",
        "POST",
        "/api/chat",
        b'{"a":' * 1100 + b"1" + b"}" * 1100,
        JSON,
        400,
        "malformed_json",
    ),
    (
        "5,000-digit integer",
        "POST",
        "/api/chat",
        b'{"message": "x", "n": ' + b"9" * 5000 + b"}",
        JSON,
        400,
        "malformed_json",
    ),
    ("array body", "POST", "/api/chat", b'[{"message": "hi"}]', JSON, 422, "validation_error"),
    ("null body", "POST", "/api/chat", b"null", JSON, 422, "validation_error"),
    ("string body", "POST", "/api/chat", b'"hi"', JSON, 422, "validation_error"),
    (
        "form body",
        "POST",
        "/api/chat",
        b"message=hi",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "unsupported_media_type",
    ),
    ("TRACE", "TRACE", "/api/chat", None, {}, 404, "not_found"),
    ("FOO", "FOO", "/api/chat", None, {}, 404, "not_found"),
    ("PUT on chat", "PUT", "/api/chat", b"{}", JSON, 404, "not_found"),
    ("DELETE on the list", "DELETE", "/api/conversations", None, {}, 404, "not_found"),
    ("CR/LF in the path", "GET", "/api/chat%0D%0A", None, {}, 404, "not_found"),
    ("CR/LF after a route", "GET", "/api/conversations%0D%0AX-Injected:%201", None, {}, 404, "not_found"),
    ("unknown route", "GET", "/api/nothing-here", None, {}, 404, "not_found"),
    (
        "session id of 300 chars in chat",
        "POST",
        "/api/chat",
        json.dumps({"message": "hi", "session_id": "a" * 300}).encode(),
        JSON,
        422,
        "validation_error",
    ),
    (
        "session id of 300 chars in a path",
        "GET",
        "/api/conversations/" + "a" * 300,
        None,
        {},
        422,
        "validation_error",
    ),
    (
        "session id with a slash",
        "GET",
        "/api/conversations/" + quote("../" + "a" * 40, safe=""),
        None,
        {},
        404,
        "not_found",
    ),
    ("limit not a number", "GET", "/api/conversations?limit=ten", None, {}, 422, "validation_error"),
    ("limit huge", "GET", "/api/conversations?limit=" + "9" * 5000, None, {}, 422, "validation_error"),
    ("cursor garbage", "GET", "/api/conversations?cursor=%00%ff", None, {}, 422, "validation_error"),
    ("message of the wrong type", "POST", "/api/chat", b'{"message": 42}', JSON, 422, "validation_error"),
    ("page not found", "GET", "/no-such-page", None, {}, 404, "not_found"),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "headers", "status", "code"), HOSTILE, ids=[h[0] for h in HOSTILE]
)
def test_hostile_request_gets_a_4xx_with_the_error_shape(
    full_stack: RunningStack,
    name: str,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    token = full_stack.token(ALICE)

    answer = httpx.request(
        method,
        f"{full_stack.url}{path}",
        content=body,
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=30,
    )

    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"] and error["request_id"]


def test_media_types_are_case_insensitive(full_stack: RunningStack) -> None:
    answer = httpx.post(
        f"{full_stack.url}/api/chat",
        content=b'{"message": "what is 6 * 7?"}',
        headers={
            "Authorization": f"Bearer {full_stack.token()}",
            "Content-Type": "Application/JSON; Charset=UTF-8",
        },
        timeout=30,
    )

    assert answer.status_code == 200, answer.text
    assert "42" in answer.json()["response"]


def test_x_forwarded_for_does_not_buy_a_fresh_rate_limit_bucket(
    stack_factory: Callable[..., RunningStack],
) -> None:
    stack = stack_factory(2, "--rate-limit", "3", "--rate-window", "300")
    token = stack.token()

    statuses = [
        httpx.post(
            f"{stack.url}/api/chat",
            json={"message": "what is 1 + 1?"},
            headers={
                "Authorization": f"Bearer {token}",
                "X-Forwarded-For": f"10.0.0.{n}",
                "X-Real-IP": f"10.0.1.{n}",
            },
            timeout=30,
        ).status_code
        for n in range(6)
    ]

    assert statuses == [200, 200, 200, 429, 429, 429]


def _listening_tcp_ports(pids: set[int]) -> set[int]:
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _process_tree(root: int) -> set[int]:
    found, pending = set(), [root]
    while pending:
        pid = pending.pop()
        found.add(pid)
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pending += [int(c) for c in children]
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_only_the_front_door_and_the_sigv4_endpoint_listen_on_tcp(full_stack: RunningStack) -> None:
    config = full_stack.config()
    runtime_port = int(urlsplit(config["runtime_url"]).port or 0)
    front_port = int(full_stack.url.rsplit(":", 1)[1])

    ports = _listening_tcp_ports(_process_tree(full_stack.process.pid))

    assert ports == {front_port, runtime_port}
    assert (full_stack.state_dir / "run").stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/usr/bin/python3").exists(), reason="needs to become another user"
)
def test_another_local_user_cannot_reach_the_lambda_or_agent_sockets(
    stack_factory: Callable[..., RunningStack],
) -> None:
    # Given a stack whose state directory another user could enter, only the run directory (0700)
    # stands between that user and the internal sockets.
    outer = Path(tempfile.mkdtemp(prefix="agentarch-e2e-"))
    outer.chmod(0o755)
    stack = stack_factory(2, state_dir=outer / "state")
    stack.state_dir.chmod(0o755)
    sockets = sorted(str(p) for p in (stack.state_dir / "run").glob("*.sock"))
    probe = (
        "import socket, sys\n"
        "for path in sys.argv[1:]:\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    try:\n"
        "        s.connect(path); print('OPEN', path)\n"
        "    except OSError as e:\n"
        "        print('REFUSED', type(e).__name__)\n"
    )

    result = subprocess.run(
        ["/usr/bin/python3", "-c", probe, *sockets],
        user=65534,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert len(sockets) >= 2, sockets  # the chat Lambda and at least one agent worker
    assert "OPEN" not in result.stdout, result.stdout
    assert result.stdout.count("REFUSED PermissionError") == len(sockets), result.stdout + result.stderr


def _signed(stack: RunningStack, body: bytes, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Headers of a request validly signed by the chat Lambda's credentials (as if captured)."""
    creds = json.loads((stack.state_dir / "credentials.json").read_text())
    config = stack.config()
    url = config["runtime_url"]
    request = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/json", **(extra or {})}
    )
    request.context["timestamp"] = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    SigV4Auth(
        Credentials(creds["access_key_id"], creds["secret_access_key"]), "bedrock-agentcore", "us-east-1"
    ).add_auth(request)
    return dict(request.headers.items())


def _invoke(stack: RunningStack, body: bytes, headers: dict[str, str]) -> httpx.Response:
    config = stack.config()
    url = config["runtime_url"]
    return httpx.post(
        url,
        content=body,
        headers={**headers, "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": SESSION},
        timeout=30,
    )


def test_sigv4_covers_the_body_whatever_hash_the_caller_claims(secure_stack: RunningStack) -> None:
    signed_body = json.dumps({"prompt": "what is 1 + 1?", "session_id": SESSION}).encode()
    other_body = json.dumps(
        {"prompt": "what is 9 * 9?", "session_id": SESSION, "actor": {"id": "alice"}}
    ).encode()
    genuine = _signed(secure_stack, signed_body)
    unsigned_payload = _signed(secure_stack, signed_body, {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    claimed_hash = _signed(secure_stack, signed_body, {"X-Amz-Content-SHA256": "0" * 64})

    as_signed = _invoke(secure_stack, signed_body, genuine)
    swapped = _invoke(secure_stack, other_body, genuine)
    unsigned = _invoke(secure_stack, other_body, unsigned_payload)
    claimed = _invoke(secure_stack, other_body, claimed_hash)

    assert as_signed.status_code == 200
    assert swapped.status_code == 403
    assert unsigned.status_code == 403
    assert claimed.status_code == 403


def test_failed_sign_ins_are_throttled_per_user_and_per_address(
    stack_factory: Callable[..., RunningStack],
) -> None:
    stack = stack_factory(2, "--user", "carol:carol-password-3")

    def login(username: str, password: str, address: str = "127.0.0.1") -> httpx.Response:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as http:
            return http.post(
                f"{stack.url}/local-auth/login", json={"username": username, "password": password}
            )

    wrong = [login("carol", f"guess-{n}").status_code for n in range(7)]
    right_while_locked = login("carol", "carol-password-3")
    many_users = [login(f"user{n}", "guess", "127.0.0.5").status_code for n in range(25)]
    same_address_real_user = login("alice", ALICE[1], "127.0.0.5")
    other_address = login("alice", ALICE[1], "127.0.0.6")

    assert wrong[:5] == [401] * 5 and set(wrong[5:]) == {429}
    assert right_while_locked.status_code == 429
    assert right_while_locked.json()["error"]["code"] == "too_many_attempts"
    assert int(right_while_locked.headers["Retry-After"]) >= 1
    assert 429 in many_users and many_users.count(401) <= 20
    assert same_address_real_user.status_code == 429
    assert other_address.status_code == 200
    assert health(stack)["status"] == "ok"


def test_bodies_are_bounded_even_when_they_declare_no_length(full_stack: RunningStack) -> None:
    def chunked(size: int) -> Iterator[bytes]:
        sent = 0
        while sent < size:
            yield b"x" * 8192
            sent += 8192

    token = full_stack.token(ALICE)
    api = httpx.post(
        f"{full_stack.url}/api/chat",
        content=chunked(200_000),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )
    login = httpx.post(f"{full_stack.url}/local-auth/login", content=chunked(100_000), timeout=30)
    long_name = httpx.post(
        f"{full_stack.url}/local-auth/login", json={"username": "u" * 300, "password": "p"}, timeout=30
    )

    assert "content-length" not in {k.lower() for k in api.request.headers}  # sent chunked
    assert api.status_code == 413 and api.json()["error"]["code"] == "payload_too_large"
    assert login.status_code == 413 and login.json()["error"]["code"] == "payload_too_large"
    assert long_name.status_code == 400 and long_name.json()["error"]["code"] == "bad_request"
