"""Jupyter notebooks: their code cells are read as one module, findings are shown by cell, fixes go back
into the cells that change (checked against real Keras), and bad notebooks are one-line errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bnlint.readers.notebook import load_notebook, rewrite
from conftest import run_bnlint
from test_fix import keras_models
from test_applications_fidelity import compare
from test_reporters import parse_annotation, sarif_errors


def code(source: str, outputs: list | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs or [],
            "source": source.splitlines(keepends=True)}


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source.splitlines(keepends=True)}


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def save(path: Path, content: dict, indent: int = 1) -> Path:
    """Written as Jupyter writes notebooks: one-space indentation, non-ASCII kept, a final newline."""
    path.write_text(json.dumps(content, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


OUTPUT = {"name": "stdout", "output_type": "stream", "text": ["Model: \"sequential\" — summary\n"]}

# Cell 1 is Markdown, cell 3 a shell cell, cell 4 the model (BN004 on its line 3, BN003 on its line 6),
# cell 5 trains it on batches of 4 (BN010 on its line 3).
CELLS = [
    markdown("# A small model\n"),
    code("%matplotlib inline\n!pip install -q keras\nimport keras\nfrom keras import layers\n"),
    code("%%bash\nls -l | grep 'model' && echo done(\n"),
    code("model = keras.Sequential([\n"
         "    layers.Input((32, 32, 3)),\n"
         "    layers.Conv2D(32, 3),  # the stem\n"
         "    layers.BatchNormalization(),\n"
         "    layers.ReLU(),\n"
         "    layers.Dropout(0.3),\n"
         "    layers.BatchNormalization(),\n"
         "])\n"
         "model.summary()", outputs=[OUTPUT]),
    code("%%time\nmodel.fit?\nhistory = model.fit(x_train, y_train, batch_size=4)\n"),
]


def python_of(content: dict) -> str:
    """The notebook's code as IPython would run it, without the shell lines (this test's own reading)."""
    pieces = []
    for cell in content["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or source.startswith("%%bash"):
            continue
        pieces.extend(line for line in source.splitlines(keepends=True)
                      if not line.lstrip().startswith(("%", "!")) and not line.rstrip().endswith("?"))
        pieces.append("\n")
    return "".join(pieces)


def test_findings_are_shown_by_cell_in_every_output_format(tmp_path):
    save(tmp_path / "model.ipynb", notebook(*CELLS))
    text = run_bnlint("check", "model.ipynb", cwd=tmp_path)
    assert text.returncode == 1, text.stderr
    lines = text.stdout.splitlines()
    assert lines[:3] == [
        "model.ipynb:cell 4:3:5: BN004 [*] [redundant-bias] the bias of `Conv2D` is cancelled by the "
        "`BatchNormalization` after it; set `use_bias=False`",
        "model.ipynb:cell 4:6:5: BN003 [dropout-before-batchnorm] `Dropout` feeds `BatchNormalization` "
        "'batch_normalization_1' (variance shift between training and inference); move the dropout after the BN",
        lines[2],
    ]
    assert lines[2].startswith("model.ipynb:cell 5:3:11: BN010 [batchnorm-small-batch] `fit(batch_size=4)`")
    assert text.stderr == ""  # the shell cell, the magics and the help line are not Python errors

    found = json.loads(run_bnlint("check", "model.ipynb", "--output-format", "json", cwd=tmp_path).stdout)
    assert [(d["code"], d["cell"], d["location"], d["end_location"]) for d in found] == [
        ("BN004", 4, {"line": 3, "column": 5}, {"line": 3, "column": 25}),
        ("BN003", 4, {"line": 6, "column": 5}, {"line": 6, "column": 24}),
        ("BN010", 5, {"line": 3, "column": 11}, {"line": 3, "column": 52}),
    ]

    # GitHub and SARIF point into the notebook's JSON, at the string that holds the call.
    raw = (tmp_path / "model.ipynb").read_text().splitlines()
    row = next(number for number, line in enumerate(raw, start=1) if "layers.Conv2D(32, 3)" in line)
    column = raw[row - 1].index("layers.Conv2D") + 1
    github = run_bnlint("check", "model.ipynb", "--output-format", "github", cwd=tmp_path).stdout.splitlines()
    properties, message = parse_annotation(github[0])
    assert [properties[key] for key in ("file", "line", "col", "endLine", "endColumn")] == [
        "model.ipynb", str(row), str(column), str(row), str(column + len("layers.Conv2D(32, 3)"))]
    assert message.startswith("cell 4, line 3: the bias of `Conv2D`")

    junit = ET.fromstring(run_bnlint("check", "model.ipynb", "--output-format", "junit", cwd=tmp_path).stdout)
    names = [case.get("name") for case in junit.iter("testcase")]
    assert names[0] == "BN004 redundant-bias at cell 4, line 3, column 5"

    log = json.loads(run_bnlint("check", "model.ipynb", "--output-format", "sarif", cwd=tmp_path).stdout)
    assert sarif_errors(log) == []
    result = log["runs"][0]["results"][0]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["properties"]) == (
        row, column, {"cell": 4, "cellLine": 3, "cellColumn": 5})
    assert result["message"]["text"].startswith("cell 4, line 3: ")
    assert "fixes" not in result  # its replacement would edit the cell, not the JSON file SARIF points at


ESCAPED = (
    "import keras\n"
    "from keras import layers\n"
    "inputs = keras.Input((32, 32, 3))\n"
    "note = \"naïve 😀 \\\"q\\\"\"; x = layers.Conv2D(8, 3)(inputs)\n"
    "x = layers.BatchNormalization()(x)\n"
    "y = layers.Conv2D(\n"
    "    4, 3)(x)\n"
    "y = layers.BatchNormalization()(y)\n"
    "model = keras.Model(inputs, [x, y])\n"
)


@pytest.mark.parametrize("ensure_ascii", [False, True], ids=["utf8", "ascii"])
@pytest.mark.parametrize("as_list", [True, False], ids=["lines", "one-string"])
def test_github_and_sarif_positions_are_the_notebook_files_own(tmp_path, ensure_ascii, as_list):
    """Escaped quotes, non-ASCII text (``\\u00ef``, a surrogate pair) before the call on its line, a
    call over two lines, and a source stored as one string: the region covers the call's JSON text."""
    cell = code(ESCAPED)
    if not as_list:
        cell["source"] = ESCAPED
    content = notebook(markdown("# escapes\n"), cell)
    path = tmp_path / "model.ipynb"
    path.write_text(json.dumps(content, indent=1, ensure_ascii=ensure_ascii) + "\n", encoding="utf-8")
    raw = path.read_text(encoding="utf-8").splitlines()

    def covered(start_line, start_column, end_line, end_column):
        if start_line == end_line:
            return raw[start_line - 1][start_column - 1:end_column - 1]
        return raw[start_line - 1][start_column - 1:] + "\n" + raw[end_line - 1][:end_column - 1]

    encoded = [json.dumps("layers.Conv2D(8, 3)", ensure_ascii=ensure_ascii)[1:-1],
               json.dumps("layers.Conv2D(\n", ensure_ascii=ensure_ascii)[1:-1]]
    github = run_bnlint("check", "--select", "BN004", "model.ipynb", "--output-format", "github", cwd=tmp_path)
    shown = []
    for line in github.stdout.splitlines():
        properties, message = parse_annotation(line)
        shown.append((covered(*(int(properties[key]) for key in ("line", "col", "endLine", "endColumn"))),
                      message.split(":")[0]))
    assert shown[0] == (encoded[0], "cell 2, line 4")
    assert shown[1][0].startswith(encoded[1]) and shown[1][0].endswith("    4, 3)")  # (JSON: two strings)
    assert shown[1][1] == "cell 2, line 6"

    log = json.loads(run_bnlint("check", "--select", "BN004", "model.ipynb", "--output-format", "sarif",
                                cwd=tmp_path).stdout)
    assert sarif_errors(log) == []
    regions = [result["locations"][0]["physicalLocation"]["region"] for result in log["runs"][0]["results"]]
    assert covered(regions[0]["startLine"], regions[0]["startColumn"], regions[0]["endLine"],
                   regions[0]["endColumn"]) == encoded[0]
    assert regions[1]["properties"] == {"cell": 2, "cellLine": 6, "cellColumn": 5}


def test_a_notebook_that_changed_since_it_was_checked_keeps_its_cell_positions(tmp_path):
    from bnlint.graph import Site
    from bnlint.readers.notebook import in_file

    assert in_file(Site(str(tmp_path / "gone.ipynb"), 3, 5, 3, 25, 4)) is None
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    assert in_file(Site(str(tmp_path / "broken.ipynb"), 3, 5, 3, 25, 4)) is None


def test_fix_rewrites_only_the_changed_cells_and_real_keras_builds_the_fixed_model(tmp_path):
    path = save(tmp_path / "model.ipynb", notebook(*CELLS))
    before = json.loads(path.read_text())
    diff = run_bnlint("check", "--diff", "--unsafe-fixes", "model.ipynb", cwd=tmp_path)
    assert diff.returncode == 1 and "+    layers.Conv2D(32, 3, use_bias=False),  # the stem" in diff.stdout
    assert json.loads(path.read_text()) == before  # --diff writes nothing

    fixed = run_bnlint("check", "--fix", "--unsafe-fixes", "model.ipynb", cwd=tmp_path)
    assert fixed.returncode == 1, fixed.stderr  # BN010 has no fix
    assert fixed.stdout.splitlines()[0].startswith("model.ipynb:cell 5:3:11: BN010")
    after = json.loads(path.read_text())
    assert path.read_text() == json.dumps(after, indent=1, ensure_ascii=False) + "\n"  # Jupyter's layout kept
    assert "".join(after["cells"][3]["source"]) == (
        "model = keras.Sequential([\n"
        "    layers.Input((32, 32, 3)),\n"
        "    layers.Conv2D(32, 3, use_bias=False),  # the stem\n"
        "    layers.BatchNormalization(),\n"
        "    layers.ReLU(),\n"
        "    layers.BatchNormalization(),\n"
        "    layers.Dropout(0.3),\n"
        "])\n"
        "model.summary()"  # (no final newline, as before)
    )
    # Everything else is as it was: other cells, magics, outputs, metadata.
    after["cells"][3]["source"] = before["cells"][3]["source"]
    assert after == before
    fixed_text = path.read_text()
    again = run_bnlint("check", "--fix", "--unsafe-fixes", "model.ipynb", cwd=tmp_path)
    assert again.stdout.count("BN0") == 1 and path.read_text() == fixed_text  # only BN010 is left; nothing changes

    # Real Keras builds the fixed cells into the model bnlint reads from the notebook.
    script = tmp_path / "cells.py"
    script.write_text(python_of(json.loads(fixed_text)).replace("history = model.fit", "# model.fit"))
    built = keras_models([script])[str(script)]
    graphs = json.loads(run_bnlint("graph", "model.ipynb", "--format", "json", cwd=tmp_path).stdout)
    assert len(built) == 1 and compare(built[0], graphs[0], graphs) == []
    classes = [layer["class_name"] for layer in built[0]["layers"]]
    assert classes[-2:] == ["BatchNormalization", "Dropout"]
    assert graphs[0]["nodes"][1]["origin"] == {"path": "model.ipynb", "line": 3, "column": 5, "end_line": 3,
                                                "end_column": 41, "cell": 4}


def test_ipython_syntax_reads_as_pass_and_python_cell_magics_keep_their_body(tmp_path):
    path = save(tmp_path / "n.ipynb", notebook(
        code("import keras\nfrom keras import layers\nfiles = !ls\n?keras\n"),
        code("%%capture\nfor _ in range(1):\n    %time model = keras.Sequential([layers.Dense(4), layers.Dropout(0.5),"
             " layers.BatchNormalization()])\n"),
        code("%%writefile helper.py\nthis is not python (\n"),
        code('summary = (\n    "%d layers"\n    % (3,)\n)\ndoc = """\n!not a shell line\n"""\ntotal = 1 + \\\n'
             '    2\n'),  # (no IPython here: each such line continues a statement)
        code("other = keras.Sequential([layers.Dense(4), layers.Dropout(0.5),  # noqa: BN003\n"
             "                         layers.BatchNormalization()])\n"),
    ))
    result = run_bnlint("check", "--select", "BN003", path.name, cwd=tmp_path)
    # The `%time` line is IPython: the model it builds is not read, and the noqa comment silences cell 4.
    assert (result.returncode, result.stdout.splitlines()[0], result.stderr) == (0, "All checks passed (1 file checked).", "")
    loaded = load_notebook(path, path.name)
    assert loaded.magics == ("files = !ls\n", "?keras\n", "%%capture\n",
                             "    %time model = keras.Sequential([layers.Dense(4), layers.Dropout(0.5), "
                             "layers.BatchNormalization()])\n")
    assert "# bnlint: cell 3" not in loaded.text  # a cell in another language is left out
    assert '    % (3,)\n' in loaded.text and "!not a shell line" in loaded.text and "    2\n" in loaded.text
    assert rewrite(loaded, loaded.text, path.name) == path.read_bytes()


def test_a_cell_that_is_not_python_is_left_out_with_a_warning_as_ipython_runs_the_others(tmp_path):
    """IPython compiles each cell by itself: a broken cell fails alone. bnlint reads the notebook without it,
    says so, and fixes the other cells; the broken one, and the IPython lines around it, stay as written."""
    content = notebook(
        markdown("intro"),
        code("import keras\nfrom keras import layers\n"),
        code("%matplotlib inline\nx = (\ny = 2"),
        code("!ls\nmodel = keras.Sequential([keras.Input((8,)), layers.Dense(4), layers.BatchNormalization()])\n"),
    )
    path = save(tmp_path / "broken.ipynb", content)
    warning = ("bnlint: warning: broken.ipynb: cell 3 is not valid Python ('(' was never closed, line 2); "
               "bnlint read the notebook without it\n")
    checked = run_bnlint("check", path.name, cwd=tmp_path)
    assert (checked.returncode, checked.stderr) == (1, warning)
    assert checked.stdout.startswith("broken.ipynb:cell 4:2:46: BN004 [*] [redundant-bias]")

    fixed = run_bnlint("check", "--fix", path.name, cwd=tmp_path)
    assert (fixed.returncode, fixed.stderr) == (0, warning)
    after = json.loads(path.read_text())
    assert after["cells"][:3] == content["cells"][:3]
    assert after["cells"][3]["source"] == [
        "!ls\n",
        "model = keras.Sequential([keras.Input((8,)), layers.Dense(4, use_bias=False), "
        "layers.BatchNormalization()])\n"]


@pytest.mark.parametrize("data, problem", [
    (b"{not json", "is not a Jupyter notebook: its JSON is invalid (Expecting property name enclosed in double "
                   "quotes: line 1 column 2 (char 1))"),
    (b'{"cells": 3}', "is not a Jupyter notebook: it has no list of cells (nbformat 4)"),
    (b"\xff\xfe{}", "is not valid UTF-8 (byte 0xff at offset 0)"),
])
def test_a_file_that_is_not_a_notebook_is_one_line_and_exit_2(tmp_path, data, problem):
    (tmp_path / "bad.ipynb").write_bytes(data)
    result = run_bnlint("check", "bad.ipynb", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"bnlint: error: bad.ipynb: {problem}\n")


def test_a_notebook_saved_by_colab_is_fixed_in_its_own_layout(tmp_path):
    """Colab writes two-space indentation, `<`, `>` and `&` as \\u003c, \\u003e and \\u0026, and no final newline."""
    content = notebook(markdown("<b>Fashion & MNIST</b> →"), *CELLS[1:])
    text = json.dumps(content, indent=2, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    path = tmp_path / "colab.ipynb"
    path.write_text(text, encoding="utf-8")
    result = run_bnlint("check", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert result.returncode == 1 and "cannot write" not in result.stderr, result.stderr
    written = path.read_text(encoding="utf-8")
    after = json.loads(written)
    expected = json.dumps(after, indent=2, ensure_ascii=False)
    assert written == expected.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    assert after["cells"][0] == content["cells"][0] and after["cells"][3] != content["cells"][3]


def test_a_notebook_whose_json_layout_bnlint_cannot_keep_is_checked_not_rewritten(tmp_path):
    path = save(tmp_path / "wide.ipynb", notebook(*CELLS), indent=3)
    data = path.read_bytes()
    result = run_bnlint("check", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert path.read_bytes() == data
    assert result.returncode == 1 and "model.ipynb" not in result.stdout
    assert result.stdout.count("wide.ipynb:cell ") == 3
    assert ("wide.ipynb: fixes were not applied: bnlint cannot write this notebook's JSON back in its own "
            "layout; it was only checked") in result.stderr
    # Neither that run's summary nor a plain check offers the fixes `--fix` declines (the findings say why).
    for run in (result, run_bnlint("check", path.name, cwd=tmp_path)):
        assert "fixable" not in run.stdout and "[*]" not in run.stdout, run.stdout
        assert run.stdout.count("(not fixed: bnlint cannot write this notebook's JSON back in its own layout)") == 2  # (the third has no fix)


def test_a_windows_notebook_with_crlf_json_is_checked_and_offers_no_fix(tmp_path):
    path = tmp_path / "windows.ipynb"
    path.write_bytes(json.dumps(notebook(*CELLS), indent=1).replace("\n", "\r\n").encode() + b"\r\n")
    data = path.read_bytes()
    result = run_bnlint("check", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert path.read_bytes() == data and result.returncode == 1
    assert result.stdout.count("windows.ipynb:cell ") == 3 and "fixable" not in result.stdout


def test_notebooks_are_found_in_directories_cached_and_baselined(tmp_path):
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    save(project / "notebooks" / "train.ipynb", notebook(*CELLS))
    (project / "notebooks" / ".ipynb_checkpoints").mkdir()  # Jupyter's autosaved copies: excluded by default
    save(project / "notebooks" / ".ipynb_checkpoints" / "train-checkpoint.ipynb", notebook(*CELLS))
    (project / "pyproject.toml").write_text("[tool.bnlint]\n")
    cold = run_bnlint("check", ".", cwd=project)
    stored = "".join(entry.read_text() for entry in (project / ".bnlint_cache").rglob("*") if entry.is_file())
    assert '"cell":{"$tuple":[4,' in stored  # the entry the warm run reads keeps each finding's cell
    warm = run_bnlint("check", ".", cwd=project)
    assert cold.stdout == warm.stdout and "notebooks/train.ipynb:cell 4:3:5: BN004" in warm.stdout
    assert "checkpoint" not in warm.stdout and "(1 file checked)" in warm.stdout
    assert run_bnlint("check", "--write-baseline", "baseline.json", ".", cwd=project).returncode == 0
    recorded = json.loads((project / "baseline.json").read_text())["findings"]
    assert {(f["code"], f["call"]) for f in recorded} == {
        ("BN003", "layers.Dropout(0.3)"), ("BN004", "layers.Conv2D(32, 3)"),
        ("BN010", "model.fit(x_train, y_train, batch_size=4)")}
    assert run_bnlint("check", "--baseline", "baseline.json", ".", cwd=project).returncode == 0


def test_top_level_await_in_a_cell_is_read_and_fixed_around(tmp_path):
    # IPython runs `await` outside a function (its autoawait): Python's parser accepts it there (only its
    # compiler refuses), so the cell is read, and a fix elsewhere keeps it.
    path = save(tmp_path / "async.ipynb", notebook(
        code("import asyncio\nimport keras\nfrom keras import layers\nawait asyncio.sleep(0)\n"),
        code("model = keras.Sequential([keras.Input((8,)), layers.Dense(4), layers.BatchNormalization()])\n"),
    ))
    checked = run_bnlint("check", path.name, cwd=tmp_path)
    assert (checked.returncode, checked.stderr) == (1, "")
    assert checked.stdout.startswith("async.ipynb:cell 2:1:46: BN004 [*]")
    fixed = run_bnlint("check", "--fix", path.name, cwd=tmp_path)
    assert (fixed.returncode, fixed.stderr) == (0, "")
    cells = json.loads(path.read_text())["cells"]
    assert "".join(cells[0]["source"]).endswith("await asyncio.sleep(0)\n")
    assert "layers.Dense(4, use_bias=False)" in "".join(cells[1]["source"])


@pytest.mark.parametrize("separator", ["\x0c", "\x1c", "\u2028"])
def test_cell_lines_count_as_python_does_after_a_form_feed_or_unicode_line_separator(tmp_path, separator):
    # Python ends lines at LF, CRLF and CR only; str.splitlines() also at these, which shifted later cells.
    path = save(tmp_path / "m.ipynb", notebook(
        code(f"import keras\nfrom keras import layers\nx = 1  # a{separator}b\n"),
        code("model = keras.Sequential([\n    layers.Dense(8),\n    layers.Dropout(0.5),\n"
             "    layers.BatchNormalization(momentum=0.1),\n])\n"),
    ))
    result = run_bnlint("check", "--select", "BN003", path.name, cwd=tmp_path)
    assert result.stdout.splitlines()[0].startswith("m.ipynb:cell 2:3:5: BN003 "), result.stdout + result.stderr


@pytest.mark.parametrize("metadata", [{"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}},
                                      {"language_info": {"name": "julia"}}])
def test_a_notebook_in_another_language_is_passed_over_with_a_warning(tmp_path, metadata):
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": ["model <- keras_model_sequential() %>% layer_dense(units = 8)\n"]}
    (tmp_path / "r.ipynb").write_text(json.dumps({"cells": [cell], "metadata": metadata, "nbformat": 4,
                                                  "nbformat_minor": 5}))
    result = run_bnlint("check", "--no-cache", "r.ipynb", cwd=tmp_path)
    assert result.returncode == 0 and "not valid Python" not in result.stderr
    language = metadata.get("kernelspec", {}).get("language") or metadata["language_info"]["name"]
    assert result.stderr == f"bnlint: warning: r.ipynb: a notebook in {language}, not Python; bnlint read nothing in it\n"


def test_a_cell_whose_source_is_not_text_is_left_out_with_a_warning(tmp_path):
    content = notebook(
        code("import keras\nfrom keras import layers\n"),
        code("x = 1\n"),
        code("model = keras.Sequential([keras.Input((8,)), layers.Dense(4), layers.BatchNormalization()])\n"),
    )
    content["cells"][1]["source"] = ["x = 1\n", 5]  # (a damaged file: nbformat wants strings)
    path = save(tmp_path / "damaged.ipynb", content)
    checked = run_bnlint("check", "--no-cache", path.name, cwd=tmp_path)
    assert checked.returncode == 1 and checked.stdout.startswith("damaged.ipynb:cell 3:")
    assert checked.stderr == ("bnlint: warning: damaged.ipynb: cell 2 has a source that is not text (nbformat 4 "
                              "wants a string or a list of strings); bnlint read the notebook without it\n")


def test_a_fix_withdrawn_for_an_if_in_another_cell_names_that_cell(tmp_path):
    path = save(tmp_path / "n.ipynb", notebook(
        code("import keras\nfrom keras import layers\nuse_bn = True\ninputs = keras.Input((16, 16, 3))\n"
             "x = layers.Conv2D(8, 3)(inputs)"),
        markdown("# The BN, when asked for"),
        code("if use_bn:\n    x = layers.BatchNormalization()(x)\nmodel = keras.Model(inputs, x)"),
    ))
    result = run_bnlint("check", "--no-cache", "--fix", str(path))
    assert "(not fixed: an `if` (cell 3, line 1) holds some of the layers" in result.stdout, result.stdout
    assert result.returncode == 1
