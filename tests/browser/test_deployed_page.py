"""The page against a deployed example: Cognito hosted UI with the code flow + PKCE.

No cloud is reachable here, so Playwright stands in for Cognito and API Gateway at the network
layer; the page, its config.json (written by `agentarch web-config`) and the browser are real.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from playwright.sync_api import Page, Route, expect

from agentarch.dev.cli import main

pytestmark = pytest.mark.browser
DOMAIN = "agentarch-test.auth.us-east-1.amazoncognito.com"
API = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/api"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def deployed_page_url(tmp_path: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(tmp_path / "web")))
    origin = f"http://127.0.0.1:{server.server_port}/"
    outputs = {
        "web_config": {  # as `terraform output -json` prints it
            "sensitive": False,
            "type": ["object", {}],
            "value": {
                "pattern": 3,
                "api_url": API,
                "cognito": {
                    "domain": DOMAIN,
                    "client_id": "web-client-id",
                    "region": "us-east-1",
                    "redirect_uri": origin,
                    "logout_uri": origin,
                    "scope": "openid agentarch-api/chat",
                },
            },
        }
    }
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    assert main(["web-config", str(tmp_path / "outputs.json"), "--out", str(tmp_path / "web")]) == 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield origin
    server.shutdown()


def test_hosted_ui_sign_in_with_pkce_then_chat(page: Page, deployed_page_url: str) -> None:
    seen: dict[str, dict[str, list[str]]] = {}
    token = jwt.encode({"sub": "user-1", "exp": int(time.time()) + 3600, "token_use": "access"}, "k" * 32)

    def cognito(route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.path == "/oauth2/authorize":
            seen["authorize"] = parse_qs(url.query)
            state = seen["authorize"]["state"][0]
            route.fulfill(
                status=302, headers={"Location": f"{deployed_page_url}?code=the-code&state={state}"}
            )
        elif url.path == "/oauth2/token":
            seen["token"] = parse_qs(route.request.post_data or "")
            route.fulfill(json={"access_token": token, "id_token": token, "expires_in": 3600}, headers=CORS)
        else:
            route.abort()

    def api(route: Route) -> None:
        if route.request.method == "OPTIONS":
            allowed = "Authorization,Content-Type,Idempotency-Key"  # as the front door module's CORS
            route.fulfill(status=204, headers={**CORS, "Access-Control-Allow-Headers": allowed})
            return
        seen["api"] = {"authorization": [route.request.headers.get("authorization", "")]}
        if urlsplit(route.request.url).path.endswith("/conversations"):
            route.fulfill(json={"items": [], "next_cursor": None}, headers=CORS)
        else:
            body = {"session_id": "s" * 40, "response": "391", "tool_calls": [{"name": "calculator"}]}
            route.fulfill(json=body, headers=CORS)

    page.route(f"https://{DOMAIN}/**", cognito)
    page.route(f"{API}/**", api)

    page.goto(deployed_page_url)
    expect(page.locator("#login-form")).to_be_hidden()
    page.click("#hosted-login")
    expect(page.locator("#chat-form")).to_be_visible()
    page.fill("#message", "what is 17 * 23?")
    page.click("#send")
    expect(page.locator("#messages li.assistant").last).to_contain_text("391")

    authorize, exchange = seen["authorize"], seen["token"]
    assert authorize["response_type"] == ["code"] and authorize["client_id"] == ["web-client-id"]
    assert authorize["code_challenge_method"] == ["S256"]
    assert authorize["scope"] == ["openid agentarch-api/chat"]
    assert authorize["redirect_uri"] == [deployed_page_url]
    verifier = exchange["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert authorize["code_challenge"] == [challenge]
    assert exchange["grant_type"] == ["authorization_code"] and exchange["code"] == ["the-code"]
    assert seen["api"]["authorization"] == [f"Bearer {token}"]
    assert "code=" not in page.url  # the code does not linger in the address bar


CORS = {"Access-Control-Allow-Origin": "*"}
