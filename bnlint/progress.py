"""A progress bar on standard error, for long runs on a terminal.

Checking a large tree or verifying folded models can take a while; a bar
shows that something is happening. It appears only when the stream is a
terminal and the run has already taken :data:`DELAY` seconds (short runs
and piped or redirected output never see it), redraws at most ten times a
second, and erases itself when the block ends, so the report that follows
starts on a clean line.

Examples
--------
>>> with progress_bar(3, "checking") as bar:
...     for _ in range(3):
...         bar.advance()
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["DELAY", "ProgressBar", "progress_bar"]

#: Seconds a run must have taken before the bar appears.
DELAY = 2.0
_REDRAW_EVERY = 0.1


class ProgressBar:
    """Counts finished items out of *total* and draws ``label [=====>    ] 12/40`` on *stream*.

    Use it through :func:`progress_bar`. *delay* defaults to :data:`DELAY`;
    *clock* is injectable for tests.
    """

    def __init__(
        self,
        total: int,
        label: str = "",
        stream: TextIO | None = None,
        delay: float | None = None,
        enabled: bool = True,
        clock=time.monotonic,
    ) -> None:
        self.total = max(total, 0)
        self.done = 0
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay = DELAY if delay is None else delay
        self.clock = clock
        self.started = clock()
        self.drawn = False
        self._last_draw = float("-inf")
        self._active = enabled and _is_terminal(self.stream)

    def advance(self, count: int = 1) -> None:
        """Record *count* more finished items, and redraw when due."""
        self.done = min(self.done + count, self.total)
        if not self._active:
            return
        now = self.clock()
        if now - self.started < self.delay:
            return
        if now - self._last_draw >= _REDRAW_EVERY or self.done == self.total:
            self._last_draw = now
            self._draw()

    def _draw(self) -> None:
        width = _terminal_width(self.stream)
        counter = f" {self.done}/{self.total}"
        label = f"{self.label} " if self.label else ""
        room = max(width - len(label) - len(counter) - 3, 0)  # brackets, and the last column (no wrap)
        filled = room * self.done // self.total if self.total else room
        line = f"{label}[{'=' * filled}{' ' * (room - filled)}]{counter}"
        # Never wider than the terminal less its last column: a wrapped bar leaves a line the eraser misses.
        self._write("\r" + line[:max(width - 1, 1)])
        self.drawn = True

    def close(self) -> None:
        """Erase the bar (if it was drawn), leaving the cursor at the start of an empty line."""
        if self.drawn:
            self._write("\r\x1b[2K")
            self.drawn = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or vanished terminal: stop drawing
            self._active = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def progress_bar(
    total: int, label: str = "", stream: TextIO | None = None, delay: float | None = None, enabled: bool = True
) -> ProgressBar:
    """A :class:`ProgressBar` over *total* items, for use as a context manager.

    Nothing is drawn unless *enabled*, *stream* (default: standard error)
    is a terminal, and *delay* seconds (default :data:`DELAY`) have passed
    since it was made.

    Examples
    --------
    >>> with progress_bar(2, "verifying", delay=0.5) as bar:
    ...     bar.advance()
    ...     bar.advance()
    >>> bar.done
    2
    """
    return ProgressBar(total, label, stream, delay, enabled)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80
