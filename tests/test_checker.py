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
