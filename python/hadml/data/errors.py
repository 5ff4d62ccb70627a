"""Errors and skip bookkeeping shared by all readers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


class DataFormatError(ValueError):
    """Malformed or unphysical input; the message names file, line/event and the problem."""

    def __init__(self, path: str, where: str, problem: str) -> None:
        self.path, self.where, self.problem = str(path), where, problem
        super().__init__(f"{path}:{where}: {problem}")


@dataclass
class SkipReport:
    """What a reader in ``on_error='skip'`` mode dropped, and why."""

    path: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, problem: str) -> None:
        self.skipped.append((where, problem))

    def __len__(self) -> int:
        return len(self.skipped)

    def summary(self) -> str:
        if not self.skipped:
            return f"{self.path}: nothing skipped"
        reasons = Counter(p.split(":")[0] for _, p in self.skipped)
        parts = ", ".join(f"{n} x {r}" for r, n in reasons.most_common())
        return f"{self.path}: skipped {len(self.skipped)} event(s): {parts}"


def check_mode(on_error: str) -> None:
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
