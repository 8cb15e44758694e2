"""`agentarch dev`: the whole architecture on loopback, one real server per piece.

    browser ─► front door (:PORT: page, identity issuer, API Gateway + WAF emulation)
                 │  API Gateway proxy event
                 ▼
               Lambda service "chat" (Unix socket; one process per execution environment,
                 │  up to the reserved concurrency; the real handler, its own environment)
                 │  boto3 invoke_agent_runtime, SigV4
                 ▼
               runtime endpoint (AgentCore data plane: verifies SigV4 or, in patterns 0/1, the JWT)
                 │
                 ▼
               agent workers (BedrockAgentCoreApp on Unix sockets, one turn at a time each)

Internal pieces listen on Unix sockets under STATE_DIR/run (owner only), so the front door and the
SigV4 endpoint are the only ways in. Every process is supervised (restarted with backoff when it
exits), `/local/health` reports each piece's real state, and everything stops on Ctrl-C (or
SIGTERM) and dies with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import string
import subprocess
import sys
import threading
import time
import webbrowser
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import httpx
import uvicorn

from agentarch.adapters.cognito_tokens import DISCOVERY_SUFFIX
from agentarch.config import API_SCOPE, DEFAULT_MAX_BODY_BYTES, Env
from agentarch.dev.lambda_events import LOCAL_ACCOUNT, LOCAL_REGION
from agentarch.dev.local.environments import preexec
from agentarch.dev.local.frontdoor import (
    INTEGRATION_TIMEOUT_SECONDS,
    STREAM_TIMEOUT_SECONDS,
    FrontDoorSpec,
    LambdaRoute,
    build_app,
)
from agentarch.dev.local.identity import JWKS_PATH, LOCAL_CLIENT_ID, LocalIdentity, UserSpec, write_private
from agentarch.dev.local.ports import free_port, port_is_free
from agentarch.dev.local.runtime_endpoint import RuntimeEndpointSpec
from agentarch.dev.local.spans import SPAN_FILE_ENV, SPANS_FILE
from agentarch.dev.models import OFFLINE_MODEL_ENV, OFFLINE_SEED_ENV
from agentarch.dev.notary import NOTARY_DIR, LocalNotary
from agentarch.dev.packaging.registry import FunctionSpec, lambdas_of_pattern
from agentarch.dev.sqlite import BACKEND_NAME, DATABASE_FILE

LOCAL_RUNTIME_ARN = (
    f"arn:aws:bedrock-agentcore:{LOCAL_REGION}:{LOCAL_ACCOUNT}:runtime/agentarch_local-a1b2c3d4e5"
)
DEMO_USER = "demo"
DEMO_GROUPS = ("users", "weather", "support", "audit-admins")  # every tool, and the audit trail
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STARTUP_TIMEOUT_SECONDS = 90.0
MAX_RESTART_BACKOFF_SECONDS = 30.0


@dataclass
class StackOptions:
    """What `agentarch dev` was asked for."""

    pattern: int = 3
    port: int = 8000
    users: list[UserSpec] = field(default_factory=list)
    state_dir: Path = Path(".agentarch/state")
    rate_limit: int = 100
    rate_window_seconds: float = 60.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    open_browser: bool = True
    reserved_concurrency: dict[str, int] = field(default_factory=dict)  # function → N; -1 reserves none
    agent_workers: int = 4
    agent_read_timeout_seconds: float | None = None
    integration_timeout_seconds: float = INTEGRATION_TIMEOUT_SECONDS
    stream_timeout_seconds: float = STREAM_TIMEOUT_SECONDS  # a STREAM route's (the chat route's)
    policy_mode: str | None = None  # ENFORCE or LOG_ONLY; None: the agent's default (ENFORCE)
    policy_dir: Path | None = None  # None: the packaged tool policy
    chat_quotas: str | None = None  # CHAT_QUOTAS (JSON); None: the built-in default limits
    offline_model: str | None = None  # NAME[:OPTIONS] of agentarch.dev.models; None: the agent's own choice
    seed: int = 0  # the offline model's seed


@dataclass
class Child:
    """A process the stack started and supervises."""

    name: str
    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    health_url: str
    socket_path: str | None = None
    restarts: int = 0
    next_restart_at: float = 0.0

    def http(self, timeout: float) -> httpx.Client:
        """A client that reaches this child (over its Unix socket when it has one)."""
        transport = httpx.HTTPTransport(uds=self.socket_path) if self.socket_path else None
        return httpx.Client(transport=transport, timeout=timeout)


SWEEP_INTERVAL_SECONDS = 60.0  # as terraform/examples/3-full's schedule, but every minute
SCHEDULED_EVENT = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
PAUSE_AT = "AGENTARCH_DEV_PAUSE_AT"  # a start-up phase to hold at (tests of stopping at every phase)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM for the duration (in the main thread, where handlers can be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _load_or_create_secret(path: Path, make: str) -> str:
    if path.exists():
        return path.read_text().strip()
    value = make
    write_private(path, value)
    return value


class LocalStack:
    """Starts, watches and stops the local architecture."""

    def __init__(self, options: StackOptions, out: IO[str] | None = None) -> None:
        self.options = options
        self.out = out or sys.stdout
        self.state_dir = options.state_dir.resolve()
        self.public_url = f"http://127.0.0.1:{options.port}"
        self.issuer = f"{self.public_url}/local-auth"  # the local identity issuer (a user pool's issuer)
        self.children: list[Child] = []
        self.logs_dir = self.state_dir / "logs"
        self.run_dir = self.state_dir / "run"
        self._stopping = threading.Event()
        self._notary: LocalNotary | None = None
        self._interrupted = threading.Event()  # Ctrl-C or SIGTERM while starting: stop at the next safe point
        self._lock = threading.Lock()

    # ---- state -------------------------------------------------------------------------------

    def prepare_identity(self) -> tuple[LocalIdentity, list[tuple[str, str | None]]]:
        """Keys and users; returns (identity, [(username, password shown or None)])."""
        identity = LocalIdentity(self.state_dir, issuer=self.issuer)
        shown: list[tuple[str, str | None]] = []
        if self.options.users:
            for spec in self.options.users:
                identity.set_user(spec)
                shown.append((spec.username, None))
        else:
            alphabet = string.ascii_letters + string.digits
            password = _load_or_create_secret(
                self.state_dir / "demo-password", "".join(secrets.choice(alphabet) for _ in range(16))
            )
            identity.set_user(UserSpec(DEMO_USER, password, DEMO_GROUPS))
            shown.append((DEMO_USER, password))
        return identity, shown

    def local_credentials(self) -> dict[str, str]:
        """The stack's own AWS-shaped credentials: only the chat Lambda gets them."""
        path = self.state_dir / "credentials.json"
        if path.exists():
            creds: dict[str, str] = json.loads(path.read_text())
            return creds
        creds = {
            "access_key_id": "AKIALOCAL" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(11)),
            "secret_access_key": secrets.token_urlsafe(30),
        }
        write_private(path, json.dumps(creds))
        return creds

    # ---- processes ---------------------------------------------------------------------------

    def spawn(
        self,
        name: str,
        args: list[str],
        env: Mapping[str, str],
        health_url: str,
        socket_path: str | None = None,
    ) -> Child:
        """Start one supervised child process, its output going to a log file under the state directory."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.logs_dir / f"{name}.log"
        child = Child(
            name, args, dict(env), self._popen(args, env, log_path), log_path, health_url, socket_path
        )
        self.children.append(child)
        self.checkpoint(f"spawned:{name}")
        return child

    def checkpoint(self, phase: str) -> None:
        """A named point of start-up where a test may hold the stack (`AGENTARCH_DEV_PAUSE_AT=<phase>`),
        to stop it there deterministically: the stop must leave no process behind, wherever it comes."""
        if os.environ.get(PAUSE_AT) == phase:
            self.out.write(f"paused at {phase}\n")
            self.out.flush()
            self._interrupted.wait(3600)
        self.stop_if_interrupted()

    def stop_if_interrupted(self) -> None:
        """Start-up notes a Ctrl-C or SIGTERM instead of raising it wherever it lands (inside a fork,
        say, where it would be lost); it ends start-up here, at a point where every child is known."""
        if self._interrupted.is_set():
            raise KeyboardInterrupt

    @staticmethod
    def _popen(args: list[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                [sys.executable, "-m", *args],
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=preexec(),
            )

    def supervise(self) -> None:
        """Restart any child that exits, with a doubling backoff, until the stack stops; and run the
        schedules AWS would run (EventBridge's sweep of deleted conversations)."""
        next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS
        while not self._stopping.wait(0.25):
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS
                self.run_schedule()
            for child in list(self.children):
                if child.process.poll() is None:
                    continue
                now = time.monotonic()
                with self._lock:
                    if child.next_restart_at == 0.0:
                        backoff = min(2.0**child.restarts * 0.5, MAX_RESTART_BACKOFF_SECONDS)
                        child.next_restart_at = now + backoff
                        self.out.write(f"{child.name} exited ({child.process.returncode}); restarting\n")
                        self.out.flush()
                    if now < child.next_restart_at or self._stopping.is_set():
                        continue
                    child.restarts += 1
                    child.next_restart_at = 0.0
                    child.process = self._popen(child.args, child.env, child.log_path)

    def run_schedule(self) -> None:
        """What the EventBridge rule does in AWS: invoke the conversations Lambda with a scheduled
        event, so it sweeps the conversations deleted while a turn was in flight."""
        child = next((c for c in self.children if c.name == "lambda-conversations"), None)
        if child is None or child.process.poll() is not None:
            return
        with contextlib.suppress(httpx.HTTPError), child.http(timeout=30) as client:
            client.post("http://lambda/2015-03-31/functions/conversations/invocations", json=SCHEDULED_EVENT)

    async def health_report(self) -> dict[str, object]:
        """Each piece's real state: its process, and whether it answers its health check."""
        pieces: dict[str, object] = {}
        ok = True
        for child in list(self.children):
            state = "running" if child.process.poll() is None else "restarting"
            detail: dict[str, object] = {"state": state, "pid": child.process.pid, "restarts": child.restarts}
            if state == "running":
                try:
                    answer = await asyncio.to_thread(self._ping, child)
                    detail.update(answer)
                except httpx.HTTPError:
                    detail["state"] = "unresponsive"
            ok = ok and detail["state"] == "running"
            pieces[child.name] = detail
        return {"status": "ok" if ok else "degraded", "pieces": pieces}

    @staticmethod
    def _ping(child: Child) -> dict[str, object]:
        with child.http(timeout=2.0) as client:
            answer = client.get(child.health_url)
        answer.raise_for_status()
        body: dict[str, object] = answer.json()
        return body

    def wait_healthy(self) -> None:
        """Wait for every child to answer its health URL; fail with its log tail if one dies."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        pending = list(self.children)
        while pending:
            self.stop_if_interrupted()  # before a child's exit is read as a failure: Ctrl-C reaches it too
            for child in list(pending):
                if child.process.poll() is not None:
                    # A terminal's Ctrl-C reaches the children too: their exit may be seen a moment
                    # before this process's own handler has run.
                    self._interrupted.wait(0.5)
                    self.stop_if_interrupted()
                    tail = child.log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{child.name} exited during start-up:\n{tail}")
                with contextlib.suppress(httpx.HTTPError, OSError):
                    self._ping(child)
                    pending.remove(child)
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not ready after {STARTUP_TIMEOUT_SECONDS:.0f} s: {[c.name for c in pending]}"
                )
            if pending:
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop every child: SIGTERM, then SIGKILL for any that lingers. A second Ctrl-C or a SIGTERM
        does not cut this short (a child left half-stopped would outlive the stack)."""
        with _signals_held():
            if self._notary is not None:
                self._notary.stop()
            self._stop_children()

    def _stop_children(self) -> None:
        self._stopping.set()
        for child in self.children:
            if child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + 5
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()
        self.children.clear()

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AGENT_", "AGENTCORE_"))}
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start_backends(self) -> FrontDoorSpec:
        """Start the runtime endpoint (with its agent workers) and the Lambda services; return the
        front door wiring."""
        options = self.options
        creds = self.local_credentials()
        runtime_port = free_port()
        runtime_url = f"http://127.0.0.1:{runtime_port}"
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.run_dir.chmod(0o700)  # the sockets inside are the internal pieces' only doors

        agent_env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTARCH_")}
        agent_env.setdefault(
            Env.MODEL_PROVIDER, "bedrock" if os.environ.get(Env.BEDROCK_MODEL_ID) else "offline"
        )
        agent_env["PYTHONUNBUFFERED"] = "1"
        agent_env.update(self.storage_env())
        # Patterns 0/1: a browser calls the runtime, so the payload's actor is nobody the agent trusts.
        agent_env[Env.AGENT_INBOUND_AUTH] = "IAM" if options.pattern >= 2 else "JWT"
        if options.pattern < 2:  # the runtime's authorizer, as Terraform tells the agent: it verifies again
            agent_env[Env.AGENT_JWT_DISCOVERY_URL] = f"{self.issuer}{DISCOVERY_SUFFIX}"
            agent_env[Env.AGENT_JWT_ALLOWED_CLIENTS] = LOCAL_CLIENT_ID
        if options.policy_mode:
            agent_env[Env.POLICY_MODE] = options.policy_mode
        if options.policy_dir:
            agent_env[Env.POLICY_DIR] = str(options.policy_dir)
        agent_env[SPAN_FILE_ENV] = str(self.state_dir / SPANS_FILE)
        if options.offline_model:
            agent_env[OFFLINE_MODEL_ENV] = options.offline_model
            agent_env[OFFLINE_SEED_ENV] = str(options.seed)
        spec = RuntimeEndpointSpec(
            mode="iam" if options.pattern >= 2 else "jwt",
            runtime_arn=LOCAL_RUNTIME_ARN,
            region=LOCAL_REGION,
            socket_dir=str(self.run_dir),
            agent_log=str(self.logs_dir / "agent.log"),
            agent_env=agent_env,
            agent_workers=options.agent_workers,
            access_key_id=creds["access_key_id"],
            secret_access_key=creds["secret_access_key"],
            jwks_url=f"{self.public_url}{JWKS_PATH}",
            issuer=self.issuer,
            client_id=LOCAL_CLIENT_ID,
            cors_origins=(self.public_url, f"http://localhost:{options.port}")
            if options.pattern == 0
            else (),
        )
        spec_path = self.run_dir / "runtime-endpoint.json"
        write_private(spec_path, json.dumps(asdict(spec)))
        self.spawn(
            "runtime-endpoint",
            ["agentarch.dev.local.runtime_endpoint", str(spec_path), str(runtime_port)],
            self._base_env(),
            f"{runtime_url}/ping",
        )

        routes: list[LambdaRoute] = []
        for function in lambdas_of_pattern(options.pattern):
            socket_path = str(self.run_dir / f"lambda-{function.name}.sock")
            env = self._base_env() | self.function_env(function, runtime_url, creds)
            reserved = options.reserved_concurrency.get(function.name, -1)
            service = [
                "agentarch.dev.local.lambda_host",
                "serve",
                function.name,
                function.handler,
                socket_path,
            ]
            if function.stream_entry:  # its STREAM routes reach it as InvokeWithResponseStream
                service += ["--stream-handler", function.stream_entry]
            self.spawn(
                f"lambda-{function.name}",
                [*service, "--reserved-concurrency", str(reserved)],
                env,
                "http://lambda/ping",
                socket_path,
            )
            routes += [
                LambdaRoute(
                    method, path, function.name, socket_path, (method, path) in function.stream_routes
                )
                for method, path in function.routes
            ]

        return FrontDoorSpec(
            pattern=options.pattern,
            public_url=self.public_url,
            runtime_url=runtime_url,
            runtime_arn=LOCAL_RUNTIME_ARN,
            routes=tuple(routes),
            api_scope=API_SCOPE,
            rate_limit=options.rate_limit,
            rate_window_seconds=options.rate_window_seconds,
            max_body_bytes=options.max_body_bytes,
            allowed_origins=(self.public_url, f"http://localhost:{options.port}"),
            web_dir=WEB_DIR,
            integration_timeout_seconds=options.integration_timeout_seconds,
            stream_timeout_seconds=options.stream_timeout_seconds,
        )

    def storage_env(self) -> dict[str, str]:
        """Pattern 3 keeps conversations, messages and the audit trail in one SQLite file under the state
        directory; pattern 2 keeps only the audit trail there. The audit's HMAC key is a 0600 file
        beside it, made on first use."""
        if self.options.pattern < 2:
            return {}
        if self.options.pattern == 2:  # no conversations, but the trail (and its notary) as in pattern 3
            return {
                Env.AUDIT_BACKEND: BACKEND_NAME,
                Env.SQLITE_PATH: str(self.state_dir / DATABASE_FILE),
                Env.AUDIT_KEY_FILE: str(self.state_dir / "audit.key"),
            }
        return {
            Env.STORAGE_BACKEND: BACKEND_NAME,
            Env.SQLITE_PATH: str(self.state_dir / DATABASE_FILE),
            Env.AUDIT_KEY_FILE: str(self.state_dir / "audit.key"),
        }

    def governance_env(self, function: FunctionSpec) -> dict[str, str]:
        """The chat Lambda's quota counters and idempotency records: SQLite under the state directory."""
        if function.name != "chat":
            return {}
        env: dict[str, str] = {
            Env.GOVERNANCE_BACKEND: BACKEND_NAME,
            Env.SQLITE_PATH: str(self.state_dir / DATABASE_FILE),
        }
        if self.options.chat_quotas:
            env[Env.CHAT_QUOTAS] = self.options.chat_quotas
        return env

    def function_env(self, function: FunctionSpec, runtime_url: str, creds: dict[str, str]) -> dict[str, str]:
        """The environment Terraform would give the function, pointed at the local pieces."""
        return (
            self.storage_env()
            | self.governance_env(function)
            | {
                Env.AGENT_RUNTIME_ARN: LOCAL_RUNTIME_ARN,
                Env.AGENT_RUNTIME_QUALIFIER: "DEFAULT",
                Env.AGENTCORE_ENDPOINT_URL: runtime_url,
                Env.ALLOWED_ORIGINS: f"{self.public_url},http://localhost:{self.options.port}",
                Env.MAX_BODY_BYTES: str(self.options.max_body_bytes),
                Env.AWS_REGION: LOCAL_REGION,
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                "AWS_ACCESS_KEY_ID": creds["access_key_id"],
                "AWS_SECRET_ACCESS_KEY": creds["secret_access_key"],
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "POWERTOOLS_SERVICE_NAME": function.name,
                "POWERTOOLS_METRICS_NAMESPACE": "agentarch-local",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
            | (
                {Env.AGENT_READ_TIMEOUT_SECONDS: str(self.options.agent_read_timeout_seconds)}
                if self.options.agent_read_timeout_seconds
                else {}
            )
            | self.notary_reader_env(function)
        )

    def notary_reader_env(self, function: FunctionSpec) -> dict[str, str]:
        """The audit Lambda reads the local notary's checkpoints and public key (its bucket and
        kms:Verify in AWS); no writer is told where they are."""
        if function.name != "audit" or self.options.pattern < 2:
            return {}
        return {Env.NOTARY_DIR: str(self.state_dir / NOTARY_DIR)}

    # ---- the whole thing ---------------------------------------------------------------------

    def banner(self, users: list[tuple[str, str | None]]) -> str:
        """What a person needs to start using the stack."""
        lines = [
            "",
            f"agentarch local stack — pattern {self.options.pattern}",
            f"  open      {self.public_url}/",
        ]
        for name, password in users:
            lines.append(
                f"  user      {name}" + (f"  password {password}" if password else "  (password as given)")
            )
        lines += [f"  state     {self.state_dir}", f"  logs      {self.logs_dir}"]
        if self.options.pattern in (0, 1):
            lines += [
                "",
                f"  WARNING: pattern {self.options.pattern} is an insecure pattern, shown for contrast: the agent",
                "  runtime accepts the user's own token, so anyone holding it can bypass the front door.",
            ]
        lines += ["", "Press Ctrl-C to stop every process.", ""]
        return "\n".join(lines)

    def run(self) -> int:
        """Start everything, serve the front door in the foreground, stop everything on exit."""
        if not port_is_free(self.options.port):
            self.out.write(
                f"error: port {self.options.port} on 127.0.0.1 is in use; choose another with --port\n"
            )
            return 1
        if not self.state_dir.exists():
            self.state_dir.mkdir(parents=True, mode=0o700)  # keys, credentials, passwords, data
        identity, users = self.prepare_identity()
        # While starting, Ctrl-C and SIGTERM only take note (see `stop_if_interrupted`); once serving,
        # uvicorn handles both; SIGTERM stops the stack as Ctrl-C does, and stopping is never cut short.
        previous = {sig: signal.signal(sig, self._note_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.out.write(f"starting pattern {self.options.pattern} on {self.public_url} …\n")
            self.out.flush()
            spec = self.start_backends()
            self.start_notary()
            self.wait_healthy()
            self.checkpoint("healthy")
            app = build_app(spec, identity, self.health_report)
            config = uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.options.port,
                log_level="warning",
                proxy_headers=False,  # the client's address is the peer's, never a header's
            )
            server = uvicorn.Server(config)
            threading.Thread(target=self._announce, args=(server, users), daemon=True).start()
            threading.Thread(target=self.supervise, daemon=True).start()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, _interrupt)
            self.stop_if_interrupted()
            server.run()
            return 0
        except RuntimeError as exc:
            self.out.write(f"error: {exc}\n")
            return 1
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def start_notary(self) -> None:
        """Patterns 2 and 3: the local notary signs the trail's chain heads (a thread of this process,
        with its own key file; the Lambdas and the agent are never told where it is)."""
        if self.options.pattern < 2:
            return
        from agentarch.dev.sqlite import SqliteDatabase

        self._notary = LocalNotary(SqliteDatabase(self.state_dir / DATABASE_FILE), self.state_dir)
        threading.Thread(target=self._notary.run_forever, name="notary", daemon=True).start()

    def _note_interrupt(self, signum: int, frame: object) -> None:
        self._interrupted.set()

    def _announce(self, server: uvicorn.Server, users: list[tuple[str, str | None]]) -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        self.out.write(self.banner(users))
        self.out.flush()
        if self.options.open_browser:
            with contextlib.suppress(webbrowser.Error):
                webbrowser.open(f"{self.public_url}/")
