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
    root: str = ""  # the root module (example) the finding came from, as shown to the user
    module: str = ""  # the module instance inside that root (`module.a.module.b`); "" for the root itself

    def shown_path(self, root: Path | None = None) -> Path:
        """The file relative to `root` when it lies under it."""
        if root is not None:
            try:
                return self.file.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        return self.file

    def where(self, root: Path | None = None) -> str:
        """`path[:line]`, prefixed by the root and module it came from when known:
        `terraform/examples/3-full -> module.api (terraform/modules/front_door/main.tf:12)`."""
        where = f"{self.shown_path(root)}:{self.line}" if self.line else f"{self.shown_path(root)}"
        if not self.root:
            return where
        return f"{self.root} -> {self.module} ({where})" if self.module else f"{self.root} ({where})"

    def render(self, root: Path | None = None) -> str:
        """`where: [rule] message`, plus the severity and hint when a rule gave them."""
        where = self.where(root)
        text = f"{where}: [{self.rule}] {self.message}"
        if self.hint:
            text = f"{where}: {self.severity} [{self.rule}] {self.message}\n    fix: {self.hint}"
        return text
