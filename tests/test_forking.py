"""bnlint.forking: the forked worker pool behind parallel `bnlint check` runs."""

from __future__ import annotations

import os
import time

import pytest

from bnlint.forking import MAX_TASKS, WorkerError, run_forked


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_every_task_runs_once_spread_over_the_workers():
    seen = []

    def work(task):
        time.sleep(0.01)
        return task * task, os.getpid()

    run_forked(list(range(40)), work, 2, seen.append)
    assert sorted(value for value, _ in seen) == [n * n for n in range(40)]
    pids = {pid for _, pid in seen}
    assert len(pids) == 2 and os.getpid() not in pids
    assert no_children_left()


def test_big_results_arrive_whole():
    seen = []
    run_forked([200_000, 5, 300_000], lambda n: "x" * n, 2, seen.append)
    assert sorted(map(len, seen)) == [5, 200_000, 300_000]


def test_a_failing_task_raises_here_with_its_traceback_and_stops_the_workers():
    def work(task):
        if task == 3:
            raise ValueError("task three is broken")
        time.sleep(0.05)
        return task

    with pytest.raises(WorkerError, match="task three is broken") as caught:
        run_forked(list(range(20)), work, 2, lambda result: None)
    assert "Traceback" in str(caught.value)
    assert no_children_left()


def test_a_worker_that_dies_is_reported():
    def work(task):
        if task == 1:
            os._exit(9)  # as if killed
        return task

    with pytest.raises(WorkerError, match="died"):
        run_forked([0, 1, 2], work, 1, lambda result: None)
    assert no_children_left()


def test_the_number_of_tasks_is_bounded():
    with pytest.raises(ValueError, match="bigger"):
        run_forked(list(range(MAX_TASKS + 1)), lambda t: t, 2, lambda result: None)


def test_an_interrupt_here_stops_the_workers():
    """Ctrl-C in the parent (here raised from the first result) stops and reaps every worker."""
    def interrupt(result):
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_forked([0, 60, 60, 60], lambda seconds: time.sleep(seconds), 2, interrupt)
    assert time.monotonic() - started < 30  # the sleeping workers were stopped, not waited for
    assert no_children_left()


HEAVY = """
import keras
from keras import layers
inputs = keras.Input((8,))
x = inputs
for _ in range(200):  # 40,000 layers, some seconds for each file (one loop stops at 10,000 iterations)
    for _ in range(200):
        x = layers.Dense(8)(x)
model = keras.Model(inputs, x)
"""


def test_ctrl_c_during_a_parallel_check_exits_130_without_a_traceback(tmp_path):
    import signal
    import subprocess
    import sys

    for n in range(8):
        (tmp_path / f"m{n}.py").write_text(HEAVY)
    process = subprocess.Popen([sys.executable, "-m", "bnlint", "check", "--no-cache", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err, err
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # no worker outlived it


def test_a_result_that_cannot_be_sent_is_reported_as_an_error():
    with pytest.raises(WorkerError, match="pickle"):
        run_forked([1], lambda task: (lambda: task), 1, lambda result: None)  # a lambda does not pickle
    assert no_children_left()
