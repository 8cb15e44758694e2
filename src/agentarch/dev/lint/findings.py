"""What a static check reports: one problem, where it is, and which rule found it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SEVERITIES = ("note", "warning", "error")  # ascending; `note` is "could not resolve", never a failure


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in the Terraform tree, worded for the person who has to fix it."""

    file: Path
    rule: str
    message: str
    severity: str = "error"
    line: int = 0
    hint: str = ""

    def shown_path(self, root: Path | None = None) -> Path:
        """The file relative to `root` when it lies under it."""
        if root is not None:
            try:
                return self.file.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        return self.file

    def render(self, root: Path | None = None) -> str:
        """`path[:line]: [rule] message`, plus the severity and hint when a rule gave them."""
        where = f"{self.shown_path(root)}:{self.line}" if self.line else f"{self.shown_path(root)}"
        text = f"{where}: [{self.rule}] {self.message}"
        if self.hint:
            text = f"{where}: {self.severity} [{self.rule}] {self.message}\n    fix: {self.hint}"
        return text
