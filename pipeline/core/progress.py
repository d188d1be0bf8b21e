"""How long-running library functions report progress without knowing who listens: a callable taking what is
being done, how much of it is done and of how much (None: unknown). The CLI draws it (a bar on a terminal,
plain lines otherwise); Airflow tasks and tests pass nothing."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]


def silent(step: str, done: int, total: int | None) -> None:
    """The default listener: nobody."""
