"""The command line as a user meets it: output, exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BAD, GOOD, ROOT, run_bnlint



def test_text_output_format_and_exit_code_1(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("bad.py:4:5: BN003 [dropout-before-batchnorm] ")
    assert lines[1].startswith("bad.py:5:5: BN006 [momentum-convention] momentum=0.1 looks like PyTorch's")
    assert lines[-2:] == ["Found 2 findings in 1 file (1 file checked).", "2 more findings fixable with `--fix --unsafe-fixes`."]


def test_instances_are_counted_in_text_output(tmp_path, write):
    write("loop.py", """\
import keras
inputs = keras.Input((8,))
x = inputs
for i in range(4):
    x = keras.layers.Dense(8, name=f"fc{i}")(x)
    x = keras.layers.BatchNormalization()(x)
model = keras.Model(inputs, x)
""")
    result = run_bnlint("check", "loop.py", cwd=tmp_path)
    assert result.stdout.splitlines()[0].endswith("(4 instances: fc0, fc1, fc2, ...)")


def test_instances_in_several_models_name_each_layer_once_and_count_the_models(tmp_path, write):
    write("variants.py", """import keras

def stem(x):
    x = keras.layers.Conv2D(8, 3, name="stem_conv")(x)
    return keras.layers.BatchNormalization()(x)

def small():
    inputs = keras.Input((32, 32, 3))
    return keras.Model(inputs, stem(inputs), name="small")

def large():
    inputs = keras.Input((64, 64, 3))
    return keras.Model(inputs, stem(inputs), name="large")
""")
    result = run_bnlint("check", "variants.py", cwd=tmp_path)
    assert result.stdout.splitlines()[0].endswith("(2 instances in 2 models: stem_conv)")


def test_clean_run_exits_0(tmp_path, write):
    write("good.py", GOOD)
    result = run_bnlint("good.py", cwd=tmp_path)  # `bnlint PATH` means `bnlint check PATH`
    assert (result.returncode, result.stdout) == (0, "All checks passed (1 file checked).\n")


def test_json_output_schema(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", "--output-format", "json", cwd=tmp_path)
    first = json.loads(result.stdout)[0]
    assert first == {
        "code": "BN003",
        "name": "dropout-before-batchnorm",
        "message": first["message"],
        "path": "bad.py",
        "location": {"line": 4, "column": 5},
        "end_location": {"line": 4, "column": 24},
        "instances": 1,
        "layers": ["dropout"],
        "models": ["sequential"],
        "fix": {"description": "move the dropout after the BN", "applicability": "unsafe"},
        "unfixable": None,
    }


def test_exit_zero_and_statistics(tmp_path, write):
    write("bad.py", BAD)
    write("bad2.py", BAD)
    result = run_bnlint("check", ".", "--exit-zero", "--statistics", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[:2] == ["    2  BN003  [dropout-before-batchnorm]", "    2  BN006  [momentum-convention]"]


def test_select_from_the_command_line(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", "--select", "BN006", cwd=tmp_path)
    assert [line.split()[1] for line in result.stdout.splitlines() if ": BN" in line] == ["BN006"]


def test_unknown_rule_in_select_is_exit_2(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", "--select", "BN999", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "bnlint: error: command line: unknown rule selector 'BN999' (see `bnlint rule` for the list)\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("syntax.py", "import keras\nmodel = keras.Sequential([\n", "syntax.py: is not valid Python: '[' was never closed (line 2, column 26)"),
        ("latin.py", b"import keras\nname = '\xe9'\n", "latin.py: is not valid UTF-8 (byte 0xe9 at offset 21)"),
    ],
)
def test_unreadable_files_are_one_sentence_and_others_are_still_checked(tmp_path, write, name, content, message):
    write(name, content)
    write("bad.py", BAD)
    result = run_bnlint("check", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"bnlint: error: {message}"]
    assert "bad.py:4:5: BN003" in result.stdout  # the other file was still checked


def test_coding_cookie_is_honoured(tmp_path, write):
    write("latin.py", b"# -*- coding: latin-1 -*-\n" + BAD.encode() + b"name = '\xe9'\n")
    assert run_bnlint("check", "latin.py", cwd=tmp_path).returncode == 1


def test_a_coding_declaration_is_read_as_python_reads_it(tmp_path, write):
    write("bogus.py", b"# -*- coding: bogus -*-\n" + BAD.encode())
    write("bom_latin.py", b"\xef\xbb\xbf# -*- coding: latin-1 -*-\n" + BAD.encode())
    write("latin_ascii.py", b"# -*- coding: latin-1 -*-\n" + BAD.encode() + b"name = '\xc3\xa9'\n")  # UTF-8 bytes
    result = run_bnlint("check", "--no-cache", "bogus.py", "bom_latin.py", "latin_ascii.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "bnlint: error: bogus.py: is not valid Python: unknown encoding: bogus (its coding declaration)",
        "bnlint: error: bom_latin.py: is not valid Python: encoding problem: utf-8 (its coding declaration)"]
    assert "latin_ascii.py:" in result.stdout  # (latin-1 reads any bytes, as Python does)
    for name in ("bogus.py", "bom_latin.py"):  # Python refuses them too
        compiled = subprocess.run([sys.executable, "-c", f"compile(open({name!r}, 'rb').read(), {name!r}, 'exec')"],
                                  cwd=tmp_path, capture_output=True, text=True, check=False)
        assert compiled.returncode == 1 and "SyntaxError" in compiled.stderr


def test_empty_file_is_clean(tmp_path, write):
    write("empty.py", "")
    result = run_bnlint("check", "empty.py", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")


def test_missing_path_is_exit_2(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "nope.py", "bad.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "bnlint: error: nope.py: no such file or directory\n"
    assert "bad.py:4:5" in result.stdout
    assert "Found 2 findings in 1 file (1 file checked, 1 error)." in result.stdout.splitlines()
    # A run with errors never says that all checks passed.
    alone = run_bnlint("check", "nope.py", cwd=tmp_path)
    assert (alone.returncode, alone.stdout) == (2, "No findings (0 files checked, 1 error).\n")


def test_directory_with_a_symlink_loop_terminates(tmp_path, write):
    write("pkg/bad.py", BAD)
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "loop")
    result = run_bnlint("check", "pkg", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.count("BN003") == 1
    assert result.stderr == ""


def test_rule_command_prints_docs_and_table():
    doc = run_bnlint("rule", "BN003")
    assert doc.returncode == 0 and doc.stdout.startswith("dropout-before-batchnorm (BN003)\n")
    assert "## Why is this bad?" in doc.stdout
    assert run_bnlint("rule", "redundant-bias").stdout.startswith("redundant-bias (BN004)")
    table = run_bnlint("rule")
    assert "| BN006 | momentum-convention |" in table.stdout
    unknown = run_bnlint("rule", "BN999")
    assert (unknown.returncode, unknown.stderr) == (2, "bnlint: error: unknown rule 'BN999' (run `bnlint rule` for the list)\n")


def test_graph_command_json(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("graph", "bad.py", "--format", "json", cwd=tmp_path)
    (model,) = json.loads(result.stdout)
    assert model["name"] == "sequential"
    assert [n["class_name"] for n in model["nodes"]] == ["Dense", "Dropout", "BatchNormalization"]
    assert model["nodes"][2]["config"]["momentum"] == 0.1
    assert model["nodes"][1]["origin"] == {"path": "bad.py", "line": 4, "column": 5, "end_line": 4, "end_column": 24}
    assert model["edges"] == [{"source": 0, "target": 1, "index": 0}, {"source": 1, "target": 2, "index": 0}]


def test_graph_command_text(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("graph", "bad.py", cwd=tmp_path)
    assert result.stdout.splitlines()[0] == "model sequential (bad.py:2:9): 3 layer calls"
    assert "dropout: Dropout [dropout] <- 0" in result.stdout


def test_graph_command_warns_where_the_reader_stopped(tmp_path, write):
    write("loop.py", """\
import keras
model = keras.Sequential([keras.layers.Dense(8)])
while True:
    keras.layers.Dense(8)
""")
    for fmt in ("text", "json", "mermaid"):
        result = run_bnlint("graph", "loop.py", "--format", fmt, cwd=tmp_path)
        assert result.returncode == 0, fmt
        assert result.stderr == "bnlint: warning: loop.py:3: loop stopped after 10000 iterations\n", fmt


def test_a_bug_of_bnlint_on_one_file_is_one_line_and_the_others_are_checked(tmp_path, write, monkeypatch, capsys):
    import bnlint.engine
    import bnlint.readers
    from bnlint.cli import main

    write("bad.py", BAD)
    write("boom.py", BAD)
    lint, read_path = bnlint.engine.lint, bnlint.readers.read_path

    def failing_lint(result, *args, **kwargs):
        if result.path.endswith("boom.py"):
            raise AttributeError("'Lambda' object has no attribute 'name'")
        return lint(result, *args, **kwargs)

    def failing_read(path, display):
        if display.endswith("boom.py"):
            raise KeyError("node")
        return read_path(path, display)

    monkeypatch.setattr(bnlint.engine, "lint", failing_lint)
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the second time from the cache, which keeps no internal error
        assert main(["check", "bad.py", "boom.py"]) == 2
    monkeypatch.setattr(bnlint.engine, "lint", lint)
    assert main(["check", "bad.py", "boom.py"]) == 1
    capsys.readouterr()
    monkeypatch.setattr(bnlint.engine, "lint", failing_lint)
    assert main(["check", "--no-cache", "bad.py", "boom.py"]) == 2
    out, err = capsys.readouterr()
    assert "bad.py:4:5: BN003" in out  # the other file was checked
    assert err == ("bnlint: error: boom.py: bnlint failed on this file (AttributeError: 'Lambda' object has no "
                   "attribute 'name'); this is a bug in bnlint, please report it with the file\n")
    monkeypatch.setattr(bnlint.readers, "read_path", failing_read)
    assert main(["graph", "bad.py", "boom.py"]) == 2
    out, err = capsys.readouterr()
    assert out.startswith("model sequential (bad.py:2:9)")
    assert err.startswith("bnlint: error: boom.py: bnlint failed on this file (KeyError: 'node'); this is a bug")


def test_console_script_matches_python_dash_m(tmp_path, write):
    write("bad.py", BAD)
    script = Path(sys.executable).parent / "bnlint"
    assert script.exists(), "the console script is not installed beside this Python"
    via_script = subprocess.run([str(script), "check", "bad.py"], cwd=tmp_path, capture_output=True, text=True)
    via_module = run_bnlint("check", "bad.py", cwd=tmp_path)
    assert (via_script.returncode, via_script.stdout) == (via_module.returncode, via_module.stdout)


def test_version():
    result = run_bnlint("--version")
    assert result.returncode == 0 and result.stdout.startswith("bnlint ")


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`bnlint check | head -1`: the rest of the output meets a closed pipe, quietly."""
    for index in range(300):  # well over a pipe's 64 KiB of findings
        (tmp_path / f"model_{index}.py").write_text(BAD, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "bnlint", "check", "--no-cache", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert process.stdout.readline().startswith(str(tmp_path).encode())
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr, stderr
    assert process.returncode in (1, 2)


def test_standard_input_is_checked_as_the_file_it_names(tmp_path, write):
    result = run_bnlint("check", "-", cwd=tmp_path, stdin=BAD)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("-:4:5: BN003 [dropout-before-batchnorm] ")
    # --stdin-filename: the name in findings, and the configuration of its directory.
    write("pkg/pyproject.toml", '[tool.bnlint]\nignore = ["BN006"]\n')
    named = run_bnlint("check", "--stdin-filename", "pkg/model.py", cwd=tmp_path, stdin=BAD)
    assert named.returncode == 1
    assert [line.split(" ")[:2] for line in named.stdout.splitlines()[:-2]] == [["pkg/model.py:4:5:", "BN003"]]
    # The project's own modules are read, as for a file on disk.
    write("pkg/blocks.py", "from keras import layers\n\ndef dense(n):\n    return layers.Dense(n)\n")
    imported = "from keras import layers, Sequential\nfrom blocks import dense\nmodel = Sequential([dense(8), layers.BatchNormalization()])\n"
    assert "pkg/model.py:3:" not in run_bnlint("check", "--stdin-filename", "pkg/model.py", cwd=tmp_path,
                                                 stdin=imported).stdout
    assert "pkg/blocks.py" not in run_bnlint("check", "--stdin-filename", "pkg/model.py", cwd=tmp_path,
                                               stdin=imported).stdout  # (reported when blocks.py is checked)
    assert not (tmp_path / "pkg" / ".bnlint_cache").exists() and not (tmp_path / ".bnlint_cache").exists()
    # With --force-exclude, the name's exclude patterns apply, as they do to a file named on the command line.
    write("pkg/pyproject.toml", '[tool.bnlint]\nignore = ["BN006"]\nextend-exclude = ["gen"]\n')
    excluded = run_bnlint("check", "--force-exclude", "--stdin-filename", "pkg/gen/model.py", cwd=tmp_path, stdin=BAD)
    assert (excluded.returncode, excluded.stdout) == (0, "All checks passed (0 files checked).\n")
    assert run_bnlint("check", "--stdin-filename", "pkg/gen/model.py", cwd=tmp_path, stdin=BAD).returncode == 1


def test_fixing_standard_input_writes_the_fixed_source_to_standard_output(tmp_path):
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "-", cwd=tmp_path, stdin=BAD)
    assert result.returncode == 0, result.stderr
    assert result.stdout == BAD.replace("momentum=0.1", "momentum=0.9").replace(
        "    layers.Dropout(0.5),\n    layers.BatchNormalization(momentum=0.9),\n",
        "    layers.BatchNormalization(momentum=0.9),\n    layers.Dropout(0.5),\n").replace(
        "Dense(8)", "Dense(8, use_bias=False)")  # (with the dropout moved, the BN cancels the bias: BN004)
    assert result.stderr == "Fixed 3 findings; all checks passed (1 file checked).\n"  # the report, beside it
    clean = run_bnlint("check", "--fix", "-", cwd=tmp_path, stdin=GOOD)
    assert (clean.returncode, clean.stdout) == (0, GOOD)
    # Source bnlint cannot read comes back as it went in (an editor piping its buffer keeps it), exit 2.
    broken = "import keras\nmodel = keras.Sequential([\n"
    failed = run_bnlint("check", "--fix", "-", cwd=tmp_path, stdin=broken)
    assert (failed.returncode, failed.stdout) == (2, broken)
    assert "bnlint: error: -: is not valid Python: '[' was never closed (line 2, column 26)\n" in failed.stderr
    latin = "import keras\nname = '\xe9'\n".encode("latin-1")
    undecodable = subprocess.run([sys.executable, "-m", "bnlint", "check", "--fix", "-"], cwd=tmp_path,
                                 capture_output=True, input=latin, timeout=120)
    assert (undecodable.returncode, undecodable.stdout) == (2, latin)
    # With --output-file the report goes there; standard output still gets the source.
    to_file = run_bnlint("check", "--fix", "--output-file", "report.txt", "-", cwd=tmp_path, stdin=GOOD)
    assert (to_file.returncode, to_file.stdout, to_file.stderr) == (0, GOOD, "")
    assert (tmp_path / "report.txt").read_text() == "All checks passed (1 file checked).\n"


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["check", "-", "a.py"], BAD, "standard input (- or --stdin-filename) is checked alone, without other paths"),
    (["check", "--stdin-filename", "m.ipynb"], BAD,
     "m.ipynb: bnlint reads only Python source from standard input (a name ending in .py, or none); "
     "give a notebook or saved model by its path"),
    (["check", "-"], "import keras\nname = '\xe9'\n".encode("latin-1").decode("latin-1"), None),
])
def test_standard_input_that_cannot_be_read_is_one_sentence(tmp_path, args, stdin, message):
    if message is None:  # bytes that are not UTF-8
        result = subprocess.run([sys.executable, "-m", "bnlint", *args], cwd=tmp_path, capture_output=True,
                                input=stdin.encode("latin-1"), timeout=120)
        assert (result.returncode, result.stderr.decode()) == (
            2, "bnlint: error: -: (standard input) is not valid UTF-8 (byte 0xe9 at offset 21)\n")
        return
    result = run_bnlint(*args, cwd=tmp_path, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"bnlint: error: {message}"


@pytest.mark.parametrize("command", [["check"], ["check", "--fix"], ["graph"], ["clean"]])
def test_a_file_name_the_system_refuses_is_one_sentence(tmp_path, write, command):
    long_name = "a" * 300 + ".py"
    result = run_bnlint(*command, long_name, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"bnlint: error: {long_name}: cannot be read (File name too long)"]
    write("bad.py", BAD)  # the other paths are still checked
    assert "bad.py:4:5: BN003" in run_bnlint("check", long_name, "bad.py", cwd=tmp_path).stdout


def test_a_stdin_filename_the_system_refuses_is_one_sentence(tmp_path):
    long_name = "a" * 300 + ".py"
    result = run_bnlint("check", "--stdin-filename", long_name, cwd=tmp_path, stdin=BAD)
    assert result.returncode == 2
    assert result.stderr == f"bnlint: error: {long_name}: cannot be a file name (File name too long)\n"


@pytest.mark.parametrize("command", [["check"], ["check", "--fix"], ["graph"], ["clean"]])
def test_an_empty_path_is_refused_not_read_as_the_current_directory(tmp_path, write, command):
    write("bad.py", BAD)
    result = run_bnlint(*command, "", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "bnlint: error: '': is an empty path; name a file or directory ('.' for the current one)"]
    assert "bad.py" not in result.stdout
    assert (tmp_path / "bad.py").read_text() == BAD


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("command", [["check"], ["graph"]])
def test_a_fifo_named_on_the_command_line_is_refused_not_read(tmp_path, write, command):
    os.mkfifo(tmp_path / "fifo.py")  # reading it would wait forever for a writer
    write("bad.py", BAD)
    result = run_bnlint(*command, "fifo.py", "bad.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["bnlint: error: fifo.py: is not a regular file or a directory "
                                          "(a FIFO, socket or device), so bnlint cannot read it"]
    assert "bad.py" in result.stdout


def test_fold_names_an_empty_path_and_what_a_keras_archive_lacks(tmp_path):
    import zipfile

    source = ROOT / "fixtures" / "saved" / "functional_bias_dropout_momentum.keras"
    for args in ([str(source), ""], ["", "out.keras"]):
        result = run_bnlint("fold", *args, cwd=tmp_path)
        assert (result.returncode, result.stderr) == (2, "bnlint: error: '': is an empty path; name a .keras or "
                                                         ".h5 file\n")
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(tmp_path / "no_weights.keras", "w") as copy:
        for name in original.namelist():
            if name != "model.weights.h5":
                copy.writestr(name, original.read(name))
    result = run_bnlint("fold", "no_weights.keras", "out.keras", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "bnlint: error: no_weights.keras: is a zip archive without "
                                                     "model.weights.h5, so not a Keras 3 .keras model bnlint can fold\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no_weights.keras"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fold_refuses_a_fifo_instead_of_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "in.keras")
    result = run_bnlint("fold", "in.keras", "out.keras", cwd=tmp_path)
    assert result.returncode == 2 and not (tmp_path / "out.keras").exists()
    assert result.stderr.splitlines() == ["bnlint: error: in.keras: is not a regular file or a directory "
                                          "(a FIFO, socket or device), so bnlint cannot read it"]


@pytest.mark.parametrize("args", [["--select", "BN999"], ["--stdin-filename", "a" * 300 + ".py"]])
def test_fixing_standard_input_that_cannot_be_checked_gives_the_source_back(tmp_path, args):
    # An editor piping its buffer through `bnlint check --fix -` keeps it when the run stops early.
    result = run_bnlint("check", "--fix", *args, "-", cwd=tmp_path, stdin=BAD)
    assert (result.returncode, result.stdout) == (2, BAD)
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("bnlint: error: ")


def test_a_directory_that_cannot_be_read_is_one_error_and_the_rest_is_checked(tmp_path, write, monkeypatch, capsys):
    from bnlint.cli import main

    write("bad.py", BAD)
    for name in ("private", "listed"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.py").write_text("import keras\n")
    real_scandir, real_is_file = os.scandir, Path.is_file

    def scandir(path="."):  # (the tests run as root, whom permissions do not stop)
        if os.path.basename(os.fspath(path)) == "private":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    def is_file(path):  # a directory that can be listed but not entered
        if path.parent.name in ("private", "listed"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_is_file(path)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(Path, "is_file", is_file)
    monkeypatch.chdir(tmp_path)
    for command in (["check", "--no-cache", "."], ["graph", "."]):
        assert main(command) == 2
        out, err = capsys.readouterr()
        assert err.splitlines() == [
            "bnlint: error: listed/m.py: cannot be read (Permission denied)",
            "bnlint: error: private: cannot be read (Permission denied), so the files in it are not checked"]
        assert command[0] == "graph" or "bad.py:" in out


def test_names_from_the_checked_code_cannot_start_a_line_of_their_own(tmp_path, write, monkeypatch, capsys):
    from bnlint.cli import main

    # A layer name that would be a GitHub workflow command on a line of its own, and terminal escapes.
    write("g.py", 'import keras\nmodel = keras.Sequential([keras.layers.Dense(8), keras.layers.Dropout(0.5),\n'
                  '    keras.layers.BatchNormalization(name="bn\\n::error file=README.md::injected\\x1b[2J")])\n')
    write("evil\nbnlint: error: fake.py", "import keras\ndef broken(:\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "."]) == 2
    out, err = capsys.readouterr()
    assert not any(line.startswith("::") or "\x1b" in line for line in (out + err).splitlines())
    assert "'bn\\n::error file=README.md::injected\\x1b[2J'" in out
    assert err.splitlines() == ["bnlint: error: evil\\nbnlint: error: fake.py: is not valid Python: invalid syntax "
                                "(line 2, column 12)"]


def test_fix_of_a_read_only_file_leaves_it_and_reports_its_findings(tmp_path, write, monkeypatch, capsys):
    import bnlint.fixer
    from bnlint.cli import main

    fixable = "import keras\nmodel = keras.Sequential([keras.layers.Conv2D(8, 3), keras.layers.BatchNormalization()])\n"
    write("bad.py", fixable)
    write("other.py", fixable)
    (tmp_path / "bad.py").chmod(0o444)
    real_access = os.access
    # (the tests run as root, whom the mode does not stop: os.access is what a user would get)
    monkeypatch.setattr(bnlint.fixer.os, "access", lambda path, mode: Path(path).name != "bad.py"
                        and real_access(path, mode))
    monkeypatch.chdir(tmp_path)
    expected = main(["check", "--no-cache", "bad.py"])
    capsys.readouterr()
    assert main(["check", "--no-cache", "--fix", "bad.py", "other.py"]) == 2
    out, err = capsys.readouterr()
    assert (tmp_path / "bad.py").read_text() == fixable and "use_bias=False" in (tmp_path / "other.py").read_text()
    assert err == "bnlint: error: bad.py: is read-only, so it was not fixed\n"
    assert expected == 1 and "bad.py:2:" in out and "(1 fixed, 1 remaining; 2 files checked, 1 error)" in out
