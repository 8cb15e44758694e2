"""What a static check reports: one problem, where it is, and which rule found it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in the Terraform tree, worded for the person who has to fix it."""

    file: Path
    rule: str
    message: str

    def render(self, root: Path | None = None) -> str:
        """`path: [rule] message`, with the path relative to `root` when it lies under it."""
        shown = self.file
        if root is not None:
            try:
                shown = self.file.resolve().relative_to(root.resolve())
            except ValueError:
                shown = self.file
        return f"{shown}: [{self.rule}] {self.message}"
