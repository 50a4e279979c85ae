"""The one exception a gateway config problem raises, listing every problem found."""

from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """The gateway config cannot be used. `problems` are complete sentences, one per mistake,
    each naming the line and key path and saying how to fix it."""

    def __init__(self, source: Path | str, problems: list[str]) -> None:
        self.source = Path(source)
        self.problems = list(problems)
        count = len(self.problems)
        head = (f"gateway config {self.source}: {count} problem"
                f"{'' if count == 1 else 's'} to fix")
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in self.problems))
