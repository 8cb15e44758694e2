"""The web page's settings, read from a deployed example's `terraform output -json`.

Every example (terraform/examples/*) has an output `web_config`: `{"pattern", "api_url",
"runtime_url", "runtime_arn", "cognito": {"domain", "client_id", "region", "redirect_uri",
"logout_uri", "scope"}}`. The page's config is the same minus what its pattern does not use:
`api_url` is the base of `/chat` and `/conversations` (null in pattern 0); pattern 0 adds
`runtime_url` (the runtime's full invocation URL, as the examples' `runtime_url` output and the
local stack's `/local/config` give it) and `runtime_arn`; `insecure` flags patterns 0 and 1. No
`auth` key: the page signs in through the Cognito hosted UI. This module checks it and writes it;
the CLI exposes it as `agentarch web-config`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any

OUTPUT_NAME = "web_config"
COGNITO_KEYS = ("domain", "client_id", "region", "redirect_uri", "logout_uri", "scope")


class WebConfigError(ValueError):
    """The Terraform outputs do not hold a usable web page configuration."""


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WebConfigError(f"terraform output {OUTPUT_NAME}.{name} is missing or empty")
    return value.strip()


def _unwrap(outputs: dict[str, Any]) -> dict[str, Any]:
    if OUTPUT_NAME not in outputs:
        present = ", ".join(sorted(outputs)) or "none"
        raise WebConfigError(
            f"terraform output has no {OUTPUT_NAME!r} (outputs present: {present}). Run "
            "`terraform output -json` in one of terraform/examples/* after `terraform apply`."
        )
    entry = outputs[OUTPUT_NAME]
    # `terraform output -json` wraps each value: {"sensitive": false, "type": ..., "value": ...}
    if isinstance(entry, dict) and "value" in entry and "type" in entry:
        entry = entry["value"]
    if not isinstance(entry, dict):
        raise WebConfigError(f"terraform output {OUTPUT_NAME} is not an object")
    return entry


def web_config_from_terraform_output(outputs: dict[str, Any]) -> dict[str, Any]:
    """The page's config from `terraform output -json` (parsed); raises WebConfigError when unusable."""
    value = _unwrap(outputs)
    pattern = value.get("pattern")
    if isinstance(pattern, float) and pattern.is_integer():
        pattern = int(pattern)
    if not isinstance(pattern, int) or isinstance(pattern, bool) or pattern not in (0, 1, 2, 3):
        raise WebConfigError(f"terraform output {OUTPUT_NAME}.pattern must be 0, 1, 2 or 3, got {pattern!r}")
    cognito = value.get("cognito")
    if not isinstance(cognito, dict):
        raise WebConfigError(f"terraform output {OUTPUT_NAME}.cognito is missing")
    config: dict[str, Any] = {"pattern": pattern, "insecure": pattern in (0, 1)}
    if pattern == 0:
        config["api_url"] = None
        config["runtime_url"] = _text(value.get("runtime_url"), "runtime_url")
        config["runtime_arn"] = _text(value.get("runtime_arn"), "runtime_arn")
    else:
        config["api_url"] = _text(value.get("api_url"), "api_url").rstrip("/")
    config["cognito"] = {key: _text(cognito.get(key), f"cognito.{key}") for key in COGNITO_KEYS}
    return config


def _read(source: Path | str | IO[str]) -> dict[str, Any]:
    if isinstance(source, (str, Path)) and str(source) == "-":
        text = sys.stdin.read()
        origin = "standard input"
    elif isinstance(source, (str, Path)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise WebConfigError(f"cannot read {path}: {exc.strerror}") from None
        origin = str(path)
    else:
        text = source.read()
        origin = getattr(source, "name", "the given stream")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WebConfigError(f"{origin} is not JSON ({exc.msg}); expected `terraform output -json`") from None
    if not isinstance(data, dict):
        raise WebConfigError(f"{origin} is not a JSON object; expected `terraform output -json`")
    return data


def write_web_config(source: Path | str | IO[str], out_path: Path | str) -> dict[str, Any]:
    """Read `terraform output -json` from a file, a stream or "-" (stdin) and write the page's config."""
    config = web_config_from_terraform_output(_read(source))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return config


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`agentarch web-config [SOURCE] [--out DIR]`."""
    parser = sub.add_parser(
        "web-config",
        help="write the page and its config.json for a deployed example, from `terraform output -json`",
        description="Read `terraform output -json` of an example (a file, or - for standard input) and write "
        "the chat page with a config.json that points it at the deployed API and Cognito hosted UI.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("source", nargs="?", default="-", help="terraform output -json file, or - for stdin")
    parser.add_argument("--out", type=Path, default=Path(".agentarch/web"), help="directory to write")


def run(args: argparse.Namespace) -> int:
    import shutil

    from agentarch.dev.local.stack import WEB_DIR

    out: Path = args.out
    try:
        config = write_web_config(args.source, out / "config.json")
    except WebConfigError as exc:
        print(f"agentarch web-config: {exc}", file=sys.stderr)
        return 2
    for page_file in sorted(WEB_DIR.iterdir()):
        if page_file.is_file():
            shutil.copyfile(page_file, out / page_file.name)
    redirect = config["cognito"]["redirect_uri"]
    print(f"wrote {out}/config.json (pattern {config['pattern']}) and the page beside it", file=sys.stderr)
    print(f"serve it where Cognito redirects ({redirect}), e.g.:", file=sys.stderr)
    print(f"  python3 -m http.server 8000 --bind 127.0.0.1 --directory {out}", file=sys.stderr)
    return 0
