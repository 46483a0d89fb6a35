"""The progress bar: drawn on a terminal after the delay, never on a pipe, erased at the end."""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pytest

from bnlint import progress
from bnlint.progress import progress_bar
from conftest import FIXTURES

ERASE = "\r\x1b[2K"


def read_all(fd: int) -> str:
    """Everything written so far to the other end of *fd* (a pty master or a pipe)."""
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the pty's other side is closed
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode()


@pytest.fixture
def terminal():
    """A pseudo-terminal: ``(stream writing to it, master fd to read what was drawn)``."""
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w")
    yield stream, master
    stream.close()
    os.close(master)


@pytest.fixture
def pipe():
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w")
    yield stream, read_end
    stream.close()
    os.close(read_end)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_draws_on_a_terminal_and_erases_itself(terminal):
    stream, master = terminal
    with progress.ProgressBar(4, "checking", stream=stream, delay=0) as bar:
        bar.advance(4)
    drawn = read_all(master)
    assert "checking [" in drawn and "] 4/4" in drawn
    assert drawn.endswith(ERASE)


def test_nothing_before_the_delay(terminal):
    stream, master = terminal
    clock = Clock()
    bar = progress.ProgressBar(10, "checking", stream=stream, delay=2.0, clock=clock)
    clock.now += 1.9
    bar.advance()
    assert read_all(master) == ""
    clock.now += 0.2
    bar.advance()
    assert "] 2/10" in read_all(master)
    bar.close()
    assert read_all(master) == ERASE


def test_short_run_leaves_no_trace(terminal):
    stream, master = terminal
    with progress.ProgressBar(3, stream=stream, delay=2.0, clock=Clock()) as bar:
        bar.advance(3)
    assert read_all(master) == ""  # not drawn, so nothing to erase either


def test_redraws_are_throttled(terminal):
    stream, master = terminal
    clock = Clock()
    bar = progress.ProgressBar(1000, stream=stream, delay=0, clock=clock)
    for _ in range(999):
        bar.advance()  # the clock stands still: one draw, then none until 0.1 s pass (or the end)
    clock.now += 0.1
    bar.advance()
    assert read_all(master).count("\r") == 2


def test_bar_fits_the_terminal_width(terminal):
    stream, master = terminal
    with progress.ProgressBar(7, "checking", stream=stream, delay=0) as bar:
        bar.advance(3)
    first = read_all(master).split("\r")[1]
    assert len(first) < 80 and first.count("=") > 0 and first.endswith("] 3/7")


def test_never_on_a_pipe(pipe):
    stream, read_end = pipe
    with progress.ProgressBar(5, "checking", stream=stream, delay=0) as bar:
        bar.advance(5)
    stream.flush()
    assert read_all(read_end) == ""


def test_disabled_bar_draws_nothing(terminal):
    stream, master = terminal
    with progress_bar(5, "checking", stream=stream, delay=0, enabled=False) as bar:
        bar.advance(5)
    assert read_all(master) == "" and bar.done == 5


def test_default_delay_is_two_seconds(terminal, monkeypatch):
    stream, _ = terminal
    assert progress.ProgressBar(1, stream=stream).delay == 2.0
    monkeypatch.setattr(progress, "DELAY", 0.5)
    assert progress_bar(1, stream=stream).delay == 0.5


# `bnlint check` in a subprocess, with the delay injected as 0 so that even a short run draws.
PROBE = "import sys\nimport bnlint.progress\nbnlint.progress.DELAY = 0\nfrom bnlint.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def run_check(stderr, tmp_path) -> subprocess.CompletedProcess:
    files = [str(p) for p in sorted(FIXTURES.glob("good_*.py"))]
    return subprocess.run(
        [sys.executable, "-c", PROBE, "check", "--no-cache", *files],
        stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=tmp_path, timeout=120,
    )


def test_check_draws_on_a_terminal(terminal, tmp_path):
    stream, master = terminal
    result = run_check(stream, tmp_path)
    assert result.returncode == 0
    drawn = read_all(master)
    count = len(list(FIXTURES.glob("good_*.py")))
    assert "checking [" in drawn and f"] {count}/{count}" in drawn
    assert drawn.endswith(ERASE)
    assert "\r" not in result.stdout  # the report itself is untouched


def test_check_never_draws_on_a_pipe(tmp_path):
    result = run_check(subprocess.PIPE, tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_fold_verify_draws_on_a_terminal_and_not_on_a_pipe(terminal, tmp_path):
    stream, master = terminal
    source = FIXTURES.parent / "saved" / "functional_bias_dropout_momentum.keras"
    command = [sys.executable, "-c", PROBE, "fold", str(source), str(tmp_path / "out.keras"), "--verify", "--force"]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=stream, text=True, timeout=180)
    assert result.returncode == 0
    drawn = read_all(master)
    assert "verifying [" in drawn and "] 5/5" in drawn
    assert "verify (ok)" in result.stdout and "\r" not in result.stdout
    piped = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert piped.returncode == 0 and "verifying [" not in piped.stderr


def test_bar_on_a_narrow_terminal_is_cut_to_fit(terminal, monkeypatch):
    """Wider than the terminal, the line wrapped, and the eraser (which clears one line) left a piece above."""
    stream, master = terminal
    monkeypatch.setattr(progress, "_terminal_width", lambda stream: 12)
    with progress.ProgressBar(132, "checking", stream=stream, delay=0) as bar:
        bar.advance(5)
    drawn = [piece for piece in read_all(master).split("\r") if piece and not piece.startswith("\x1b")]
    assert drawn and all(len(piece) <= 11 for piece in drawn), drawn
