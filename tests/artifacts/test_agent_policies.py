"""The agent zip carries its Cedar tool policy: agentarch's default, or a team's own folder.

A policy change is an artifact change (the S3 key carries the zip's hash, so the runtime redeploys);
an invalid folder never becomes an artifact; main.py points POLICY_DIR at the folder the zip carries.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentarch.agent.policy import DEFAULT_POLICY_DIR, CallHistory, load_tool_policy
from agentarch.core.identity import Actor
from agentarch.dev.cli.build import main
from agentarch.dev.packaging.builder import BuildError, build, read_manifest
from agentarch.dev.packaging.registry import AGENT_ENTRY_POINT, AGENT_POLICY_DIR
from tests.artifacts.conftest import AGENT_SPEC, Built

WEATHER_FOR_EVERYONE = (
    'permit (principal in Agentarch::Group::"weather"',
    "permit (principal",
)
SEATTLE = {"latitude": 47.61, "longitude": -122.33}


def team_folder(into: Path, *edit: str) -> Path:
    """A copy of agentarch's default policy folder, with one text replacement when `edit` is given."""
    shutil.copytree(DEFAULT_POLICY_DIR, into)
    if edit:
        rules = into / "tools.cedar"
        text = rules.read_text()
        assert edit[0] in text
        rules.write_text(text.replace(edit[0], edit[1]))
    return into


@dataclass
class TeamBuild:
    folder: Path
    out_dir: Path

    @property
    def zip(self) -> Path:
        return self.out_dir / AGENT_SPEC.artifact


@pytest.fixture(scope="module")
def team_build(tmp_path_factory: pytest.TempPathFactory) -> TeamBuild:
    """The agent built with a team's folder that lets everyone ask for the weather."""
    root = tmp_path_factory.mktemp("team-policy")
    folder = team_folder(root / "my-policies", *WEATHER_FOR_EVERYONE)
    build([AGENT_SPEC.name], root / "dist", policies=folder, log=lambda line: None)
    return TeamBuild(folder, root / "dist")


def entries(archive: Path, prefix: str) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as opened:
        return {n: opened.read(n) for n in opened.namelist() if n.startswith(prefix)}


def policy_dir_seen_by_the_agent(archive: Path, into: Path, environment: dict[str, str]) -> str | None:
    """POLICY_DIR as the agent module sees it once the zip's main.py has run (the app is a stub that
    records it, so no dependency is needed), run from an unrelated working directory."""
    with zipfile.ZipFile(archive) as opened:
        for name in opened.namelist():
            if name == AGENT_ENTRY_POINT or name.startswith(f"{AGENT_POLICY_DIR}/"):
                opened.extract(name, into)
    stub = into / "agentarch" / "agent"
    stub.mkdir(parents=True)
    (into / "agentarch" / "__init__.py").write_text("")
    (stub / "__init__.py").write_text("")
    (stub / "app.py").write_text(
        "import json, os\n"
        "app = None\n"
        "def main():\n    pass\n"
        "print('SEEN ' + json.dumps(os.environ.get('POLICY_DIR')))\n"
    )
    elsewhere = into.parent / f"{into.name}-cwd"
    elsewhere.mkdir()
    process = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(into)!r}); import main"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment},
        timeout=60,
        check=True,
    )
    seen: str | None = json.loads(process.stdout.split("SEEN ", 1)[1])
    return seen


def test_the_default_policy_ships_as_package_data_and_policy_dir_stays_unset(
    built: Built, tmp_path: Path
) -> None:
    shipped = entries(built.artifact(AGENT_SPEC), "agentarch/agent/policies/")
    assert shipped == {
        f"agentarch/agent/policies/{path.name}": path.read_bytes()
        for path in sorted(DEFAULT_POLICY_DIR.iterdir())
        if path.suffix in (".cedar", ".cedarschema")
    }
    assert set(shipped) >= {
        "agentarch/agent/policies/schema.cedarschema",
        "agentarch/agent/policies/tools.cedar",
    }
    assert entries(built.artifact(AGENT_SPEC), f"{AGENT_POLICY_DIR}/") == {}
    assert built.manifest["artifacts"][AGENT_SPEC.artifact]["policy_dir"] is None
    # Then the agent loads the packaged default (POLICY_DIR unset)
    assert policy_dir_seen_by_the_agent(built.artifact(AGENT_SPEC), tmp_path / "code", {}) is None


def test_a_teams_policy_folder_ships_in_the_agent_zip_and_main_py_points_the_agent_at_it(
    team_build: TeamBuild, tmp_path: Path
) -> None:
    # The folder's schema and policies, byte for byte, beside main.py
    assert entries(team_build.zip, f"{AGENT_POLICY_DIR}/") == {
        f"{AGENT_POLICY_DIR}/{name}": (team_build.folder / name).read_bytes()
        for name in ("schema.cedarschema", "tools.cedar")
    }
    assert (
        read_manifest(team_build.out_dir)["artifacts"][AGENT_SPEC.artifact]["policy_dir"] == AGENT_POLICY_DIR
    )

    # POLICY_DIR unset, or the Terraform variable's relative path: the shipped folder, made absolute
    # against main.py's folder whatever the working directory; an absolute path is kept
    unpacked = tmp_path / "code"
    seen = policy_dir_seen_by_the_agent(team_build.zip, unpacked, {})
    assert seen == str(unpacked / AGENT_POLICY_DIR)
    again = tmp_path / "code2"
    assert policy_dir_seen_by_the_agent(team_build.zip, again, {"POLICY_DIR": AGENT_POLICY_DIR}) == str(
        again / AGENT_POLICY_DIR
    )
    assert (
        policy_dir_seen_by_the_agent(team_build.zip, tmp_path / "code3", {"POLICY_DIR": "/opt/p"}) == "/opt/p"
    )

    # and what is loaded from there is the team's rule: weather for a user in no group
    nobody = Actor(id="user-1")
    history = CallHistory()
    assert load_tool_policy(Path(seen)).is_allowed(nobody, "weather", SEATTLE, history).allowed
    assert not load_tool_policy().is_allowed(nobody, "weather", SEATTLE, history).allowed


def test_a_policy_change_changes_the_agent_zip_and_its_hash(team_build: TeamBuild, tmp_path: Path) -> None:
    # Given the same team folder with one limit changed (five tool calls per turn instead of four)
    changed = team_folder(tmp_path / "my-policies")
    shutil.copyfile(team_build.folder / "tools.cedar", changed / "tools.cedar")
    rules = changed / "tools.cedar"
    rules.write_text(rules.read_text().replace("turn_total >= 4", "turn_total >= 5"))

    # When it is built
    build([AGENT_SPEC.name], tmp_path / "dist", policies=changed, log=lambda line: None)

    # Then the artifact's hash, the one in the runtime's S3 key, is another
    before = read_manifest(team_build.out_dir)["artifacts"][AGENT_SPEC.artifact]["sha256"]
    after = read_manifest(tmp_path / "dist")["artifacts"][AGENT_SPEC.artifact]["sha256"]
    assert before != after


def test_an_invalid_policy_folder_fails_the_build_with_the_policy_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a folder whose policy names a tool the schema does not have
    folder = team_folder(tmp_path / "bad")
    with (folder / "extra.cedar").open("w") as extra:
        extra.write(
            '@id("shell-for-everyone")\npermit (principal, action == Agentarch::Action::"shell", resource);\n'
        )
    out = tmp_path / "dist"

    # When it is built, through the API and the command line
    with pytest.raises(BuildError, match=r"extra\.cedar:\d+") as failure:
        build([AGENT_SPEC.name], out, policies=folder, log=lambda line: None)
    status = main([AGENT_SPEC.name, "--out", str(out), "--policies", str(folder)])

    # Then both refuse with the file and line of the bad policy, and nothing is written
    error = capsys.readouterr().err
    assert status == 1
    assert "nothing written" in error and "extra.cedar" in error and "shell" in error
    assert "shell" in str(failure.value)
    assert not out.exists()


def test_policies_without_the_agent_in_the_build_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="agent"):
        build(["chat"], tmp_path / "dist", policies=DEFAULT_POLICY_DIR, log=lambda line: None)
    assert not (tmp_path / "dist").exists()
