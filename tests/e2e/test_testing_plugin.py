"""The README's "Testing your own handlers" example runs as written, with the plugin found by its entry point."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def readme_python_files() -> dict[str, str]:
    """Each python block of the section whose first line is `# <file name>: …`."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Testing your own handlers", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    return {block.split(":", 1)[0].removeprefix("# "): block for block in blocks}


def test_the_readme_example_of_a_team_testing_its_own_route_passes(tmp_path: Path) -> None:
    # Given the README's handler and test, as a team would save them
    files = readme_python_files()
    assert sorted(files) == ["test_usage.py", "usage_handler.py"]
    for name, text in files.items():
        (tmp_path / name).write_text(text)

    # When pytest runs them in a project of their own (no conftest, the plugin from the entry point)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )

    # Then both tests pass
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
