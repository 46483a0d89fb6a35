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


def test_sigterm_to_the_parent_stops_the_workers(tmp_path):
    """`kill PID`, `docker stop`: only the parent is signalled; its workers must not run on orphaned."""
    import signal
    import subprocess
    import sys

    for n in range(8):
        (tmp_path / f"m{n}.py").write_text(HEAVY)
    process = subprocess.Popen([sys.executable, "-m", "bnlint", "check", "--no-cache", "-j", "2", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(1.5)
    process.send_signal(signal.SIGTERM)  # the parent alone
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # no worker left in its process group


def test_a_killed_worker_is_one_sentence_and_exit_2(tmp_path, monkeypatch, capsys):
    import signal

    import bnlint.checker as checker
    from bnlint.cli import main

    for n in range(6):
        (tmp_path / f"m{n}.py").write_text("import keras\nmodel = keras.Sequential([keras.layers.Dense(2)])\n")
    real = checker.check_file

    def killed_on_m3(target, *args, **kwargs):
        if target.path.name == "m3.py":
            os.kill(os.getpid(), signal.SIGKILL)  # the out-of-memory killer's way
        return real(target, *args, **kwargs)

    monkeypatch.setattr(checker, "check_file", killed_on_m3)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "-j", "2", "."]) == 2
    assert no_children_left()
    assert capsys.readouterr().err == ("bnlint: error: the run stopped: a worker process died: 1 of 6 tasks have no "
                                       "result; no report was made\n")


def test_the_number_of_workers_is_capped(tmp_path, monkeypatch):
    import bnlint.checker as checker
    import bnlint.forking as forking

    started = []
    real = forking.run_forked
    monkeypatch.setattr(forking, "run_forked", lambda tasks, f, workers, done: (started.append(workers),
                                                                               real(tasks, f, 2, done)))
    for n in range(200):
        (tmp_path / f"m{n}.py").write_text("import keras\nmodel = keras.Sequential([keras.layers.Dense(2)])\n")
    report = checker.check_paths([str(tmp_path)], jobs=1800, cache=False)
    assert report.files_checked == 200 and started == [checker._MAX_WORKERS]
