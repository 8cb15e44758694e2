"""checkov, from its own virtual environment, passes on the whole Terraform tree."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.terraform.conftest import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIP = re.compile(r"#\s*checkov:skip=(?P<id>[A-Z0-9_]+)(?::(?P<reason>.*))?")


@pytest.mark.skipif(
    not CHECKOV.exists(), reason="no .venv-checkov: run scripts/bootstrap.sh --test (make test does)"
)
def test_checkov_reports_no_failed_check() -> None:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    env.pop("BC_API_KEY", None)
    result = subprocess.run(
        [str(CHECKOV), "-d", "terraform", "--framework", "terraform", "--quiet", "--compact"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"checkov failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert "Failed checks: 0" in result.stdout or result.stdout.strip() == "", result.stdout[-2000:]


def test_every_checkov_skip_says_why() -> None:
    skips = []
    for tf in sorted((ROOT / "terraform").rglob("*.tf")):
        for number, line in enumerate(tf.read_text(encoding="utf-8").splitlines(), start=1):
            match = SKIP.search(line)
            if match:
                skips.append(
                    (tf.relative_to(ROOT), number, match.group("id"), (match.group("reason") or "").strip())
                )
    assert skips, "expected the justified skips to be found"
    unjustified = [f"{path}:{n} {check}" for path, n, check, reason in skips if len(reason) < 20]
    assert unjustified == [], "skips without a reason: " + ", ".join(unjustified)


@pytest.mark.skipif(
    not CHECKOV.exists(), reason="no .venv-checkov: run scripts/bootstrap.sh --test (make test does)"
)
def test_checkov_reads_the_spend_caps_and_fails_none_of_them() -> None:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    env.pop("BC_API_KEY", None)
    result = subprocess.run(
        [str(CHECKOV), "-d", "terraform/modules/spend_limits", "--framework", "terraform", "-o", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = json.loads(result.stdout)
    summary, results = report["summary"], report["results"]
    checked = {
        c["resource"].split("[")[0] for kind in ("passed_checks", "skipped_checks") for c in results[kind]
    }

    assert (summary["failed"], summary["parsing_errors"]) == (0, 0), results["failed_checks"]
    # both tables, the budget, the topic, its policy, its subscription and the alarm are read; checkov
    # has checks for the tables, the topic and the alarm (none for a budget or a subscription)
    assert summary["resource_count"] == 7
    assert {
        "aws_dynamodb_table.quotas",
        "aws_dynamodb_table.idempotency",
        "aws_sns_topic.alerts",
        "aws_cloudwatch_metric_alarm.model_tokens",
    } <= checked
