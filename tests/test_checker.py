"""Checking many files: parallel and serial runs report the same."""

from __future__ import annotations

from bnlint.checker import check_paths
from conftest import FIXTURES


def test_parallel_and_serial_runs_give_the_same_report(tmp_path, write):
    write("broken.py", "import keras\nmodel = keras.Sequential([\n")
    write("latin.py", b"import keras\nx = '\xe9'\n")
    paths = [str(FIXTURES), str(tmp_path)]
    serial = check_paths(paths, jobs=1)
    parallel = check_paths(paths, jobs=2)
    assert serial.files_checked == parallel.files_checked > 20
    assert [d.to_dict() for d in serial.diagnostics] == [d.to_dict() for d in parallel.diagnostics]
    assert [str(e) for e in serial.errors] == [str(e) for e in parallel.errors]
    assert len(parallel.errors) == 2 and "is not valid Python" in str(parallel.errors[0])


def test_a_warning_about_an_imported_module_is_given_once_per_run(tmp_path, write):
    # Every file that imports the module meets the same limit in it: one warning, not one per file.
    write("pkg/__init__.py", "")
    write("pkg/common.py", "import keras\n\ndef spin(x):\n    while True:\n        keras.layers.Dense(1)\n    return x\n")
    for name in ("a", "b"):
        write(f"pkg/{name}.py", "import keras\nfrom .common import spin\nx = spin(keras.Input((4,)))\n")
    for jobs in (1, 2):
        report = check_paths([str(tmp_path)], jobs=jobs)
        assert report.files_checked == 4
        assert [note.split(": ", 1)[1] for note in report.notes] == ["loop stopped after 10000 iterations"]


def test_jobs_sets_the_number_of_worker_processes(monkeypatch, capsys):
    import bnlint.forking
    from bnlint.cli import main

    asked = []

    def recording(tasks, function, workers, done):
        asked.append(workers)
        for task in tasks:
            done(function(task))

    monkeypatch.setattr(bnlint.forking, "run_forked", recording)
    monkeypatch.setattr(bnlint.forking, "can_fork", lambda: True)
    models = str(FIXTURES)
    assert main(["check", "--no-cache", "--jobs", "1", models]) == 1
    serial = capsys.readouterr().out
    assert asked == []  # one process: no workers at all
    assert main(["check", "--no-cache", "-j", "3", models]) == 1
    assert asked == [3] and capsys.readouterr().out == serial


def test_jobs_must_be_a_positive_whole_number(capsys):
    import pytest

    from bnlint.cli import main

    for value in ("0", "-2", "two"):
        with pytest.raises(SystemExit) as stopped:
            main(["check", "--jobs", value, str(FIXTURES)])
        assert stopped.value.code == 2
        assert capsys.readouterr().err.splitlines() == [  # one line: no argparse usage block before it
            f"bnlint: error: argument -j/--jobs: expects a positive whole number of processes, not {value!r} "
            "(see `bnlint check --help`)"]


def test_the_default_number_of_processes_is_the_cpus_this_process_may_use():
    # A CI job pinned to one CPU (taskset, a container's cpuset) gets one process, whatever the machine has.
    import subprocess
    import sys

    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " \
           "from bnlint.checker import usable_cpus; print(usable_cpus())"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "1\n"


def test_an_empty_rule_selection_on_the_command_line_is_refused(capsys):
    import pytest

    from bnlint.cli import main

    for option in ("--select", "--ignore", "--extend-select"):
        for value in ("", ",", " , "):
            with pytest.raises(SystemExit) as stopped:  # (`--select "$RULES"` with RULES unset would run no rule)
                main(["check", option, value, str(FIXTURES)])
            assert stopped.value.code == 2
            assert capsys.readouterr().err.splitlines() == [
                f"bnlint: error: argument {option}: expects rule codes, prefixes, names or ALL, comma-separated, "
                f"not {value!r} (see `bnlint check --help`)"]
