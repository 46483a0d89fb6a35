"""Baselines: record today's findings, report only new ones, survive code moving around."""

from __future__ import annotations

import json
import shutil

import pytest

from bnlint.baseline import normalise_call
from conftest import ROOT, run_bnlint

MODEL = """\
import keras
from keras import layers

inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(16, 3, padding="same")(inputs)
x = layers.BatchNormalization()(x)
x = layers.Dense(8)(x)
x = layers.Dropout(0.5)(x)
x = layers.BatchNormalization(momentum=0.1)(x)
model = keras.Model(inputs, x)
"""
# The same model with its code moved: lines added above, statements reflowed, comments added.
MOVED = """\
'''A docstring that pushes everything down.'''
import keras
from keras import layers


def unrelated():
    return 1


inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(
    16,
    3,  # kernel
    padding="same",
)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Dense(8)(x)
x = layers.Dropout(0.5)(x)
x = layers.BatchNormalization(momentum=0.1)(x)
model = keras.Model(inputs, x)
"""


def codes(result) -> list[str]:
    return [finding["code"] for finding in json.loads(result.stdout)]


@pytest.fixture
def baselined(tmp_path, write):
    """A project with MODEL in src/ and a baseline of its three findings at the root."""
    write("src/model.py", MODEL)
    result = run_bnlint("check", "src", "--write-baseline", "bnlint-baseline.json", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "bnlint: recorded 3 findings in the baseline bnlint-baseline.json.\n"
    return tmp_path


def check(project, *args):
    return run_bnlint("check", "src", "--baseline", "bnlint-baseline.json", "--output-format", "json", *args,
                      cwd=project)


def test_baseline_file_format(baselined):
    data = json.loads((baselined / "bnlint-baseline.json").read_text())
    assert data == {"bnlint-baseline": 1, "findings": [
        {"path": "src/model.py", "code": "BN003", "call": "layers.Dropout(0.5)", "count": 1},
        {"path": "src/model.py", "code": "BN004", "call": "layers.Conv2D(16, 3, padding=\"same\")", "count": 1},
        {"path": "src/model.py", "code": "BN006", "call": "layers.BatchNormalization(momentum=0.1)", "count": 1},
    ]}


def test_baselined_findings_are_not_reported(baselined):
    result = check(baselined)
    assert (result.returncode, codes(result)) == (0, [])
    assert result.stderr == "bnlint: 3 findings recorded in the baseline bnlint-baseline.json not reported.\n"


def test_moving_code_keeps_the_baseline_valid(baselined):
    (baselined / "src" / "model.py").write_text(MOVED)
    assert run_bnlint("check", "src", cwd=baselined).returncode == 1  # the findings are still there, on other lines
    result = check(baselined, "--show-stale-baseline")
    assert (result.returncode, codes(result)) == (0, [])
    assert "stale" not in result.stderr


def test_a_new_finding_is_reported_and_a_repeat_beyond_the_count_is_new(baselined):
    source = MODEL.replace("model = keras.Model", "x = layers.Dense(8)(x)\nx = layers.Dropout(0.5)(x)\n"
                                                  "x = layers.BatchNormalization()(x)\nmodel = keras.Model")
    (baselined / "src" / "model.py").write_text(source)
    result = check(baselined)
    assert (result.returncode, codes(result)) == (1, ["BN003"])  # a second `layers.Dropout(0.5)` feeding a BN
    assert json.loads(result.stdout)[0]["location"]["line"] == 11  # the later of the two


def test_stale_entries_are_listed_on_request(baselined):
    (baselined / "src" / "model.py").write_text(MODEL.replace("momentum=0.1", "momentum=0.9"))
    quiet = check(baselined)
    assert (quiet.returncode, "stale" in quiet.stderr) == (0, False)
    result = check(baselined, "--show-stale-baseline")
    assert result.returncode == 0
    assert result.stderr.splitlines()[-1] == (
        "bnlint: stale baseline entry: src/model.py: BN006 `layers.BatchNormalization(momentum=0.1)`")


def test_entries_for_files_not_checked_are_not_stale(baselined, write):
    write("other/clean.py", "import keras\n")
    result = run_bnlint("check", "other", "--baseline", "bnlint-baseline.json", "--show-stale-baseline",
                        cwd=baselined)
    assert (result.returncode, result.stderr) == (0, "")


def test_paths_are_relative_to_the_baseline_file_not_the_working_directory(baselined):
    result = run_bnlint("check", ".", "--baseline", "../bnlint-baseline.json", "--output-format", "json",
                        cwd=baselined / "src")
    assert (result.returncode, codes(result)) == (0, [])


def test_editing_the_flagged_call_makes_it_a_new_finding(baselined):
    (baselined / "src" / "model.py").write_text(MODEL.replace('padding="same")', 'padding="same", name="stem")'))
    result = run_bnlint("check", "src", "--baseline", "bnlint-baseline.json", cwd=baselined)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("src/model.py:5:5: BN004 [*] [redundant-bias]")
    assert result.stdout.splitlines()[1] == "Found 1 finding in 1 file (1 file checked)."
    assert result.stderr == "bnlint: 2 findings recorded in the baseline bnlint-baseline.json not reported.\n"


def test_saved_model_findings_are_keyed_by_layer_name(tmp_path):
    shutil.copy(ROOT / "fixtures" / "saved" / "functional_bias_dropout_momentum.keras", tmp_path / "model.keras")
    assert run_bnlint("check", "model.keras", "--write-baseline", "b.json", cwd=tmp_path).returncode == 0
    entries = json.loads((tmp_path / "b.json").read_text())["findings"]
    assert {(e["code"], e["layer"]) for e in entries} == {("BN004", "conv"), ("BN006", "bn_momentum"),
                                                          ("BN003", "dropout")}
    result = run_bnlint("check", "model.keras", "--baseline", "b.json", cwd=tmp_path)
    assert result.returncode == 0


def test_baseline_is_not_written_when_files_cannot_be_checked(tmp_path, write):
    write("model.py", MODEL)
    write("broken.py", "import keras\nx = (\n")
    result = run_bnlint("check", ".", "--write-baseline", "b.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "bnlint: error: b.json: baseline not written because some files could not be checked")
    assert not (tmp_path / "b.json").exists()


@pytest.mark.parametrize("content, problem", [
    ("{not json", "b.json: is not a bnlint baseline: invalid JSON (Expecting property name enclosed in double "
                  "quotes: line 1 column 2 (char 1))"),
    ("[]", 'b.json: is not a bnlint baseline: no "bnlint-baseline" version key'),
    ('{"bnlint-baseline": 7, "findings": []}',
     "b.json: is a bnlint baseline of unknown version 7 (this bnlint reads version 1)"),
    ('{"bnlint-baseline": 1, "findings": {}}', 'b.json: is not a bnlint baseline: "findings" must be a list'),
    ('{"bnlint-baseline": 1, "findings": [{"path": "m.py", "code": "BN003", "call": "x()", "count": 0}]}',
     'b.json: is not a valid bnlint baseline: finding 1 needs a "path", a "code", one of "call"/"layer"/"message" '
     '(strings) and a positive integer "count"'),
    ('{"bnlint-baseline": 1, "findings": [{"path": "m.py", "code": "BN003"}]}',
     'b.json: is not a valid bnlint baseline: finding 1 needs a "path", a "code", one of "call"/"layer"/"message" '
     '(strings) and a positive integer "count"'),
])
def test_malformed_baseline_is_one_sentence_and_exit_2(tmp_path, write, content, problem):
    write("model.py", MODEL)
    write("b.json", content)
    result = run_bnlint("check", "model.py", "--baseline", "b.json", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"bnlint: error: {problem}\n")


def test_missing_baseline_file(tmp_path, write):
    write("model.py", MODEL)
    result = run_bnlint("check", "model.py", "--baseline", "nope.json", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2, "bnlint: error: nope.json: no such baseline file (create it with --write-baseline)\n")


def test_option_combinations_that_make_no_sense_are_refused(tmp_path, write):
    write("model.py", MODEL)
    stale = run_bnlint("check", "model.py", "--show-stale-baseline", cwd=tmp_path)
    assert stale.returncode == 2 and stale.stderr.endswith("bnlint: error: --show-stale-baseline needs --baseline FILE\n")
    both = run_bnlint("check", "model.py", "--baseline", "a.json", "--write-baseline", "b.json", cwd=tmp_path)
    assert both.returncode == 2 and "cannot be combined" in both.stderr


@pytest.mark.parametrize("source, expected", [
    ("layers.Dense( 8 )", "layers.Dense(8)"),
    ("layers.Dense(\n    8,\n    activation = 'relu',  # why\n)", 'layers.Dense(8, activation="relu")'),
    # black's quotes are the same key; a tuple's comma is not a trailing comma
    ("layers.Conv2D(8, 3, padding='same')", 'layers.Conv2D(8, 3, padding="same")'),
    ("layers.Reshape(\n    (3,),\n)", "layers.Reshape((3,))"),
    ("layers.Reshape((3))", "layers.Reshape((3))"),
    ("layers.Lambda(f('it\\'s'), r'\\d')", "layers.Lambda(f(\"it's\"), '\\\\d')"),
    ("keras.layers.Conv2D(filters * 2, (3, 3), **kwargs)", "keras.layers.Conv2D(filters*2, (3, 3), **kwargs)"),
    ("C(name=f'{prefix}_bn', axis=-1)", "C(name=f'{prefix}_bn', axis=-1)"),
    ("Dense(units=[1,\n2,])", "Dense(units=[1, 2])"),
])
def test_normalised_call_text(source, expected):
    assert normalise_call(source) == expected


def test_different_calls_stay_different():
    assert normalise_call("Dense(8)") != normalise_call("Dense(16)")
    assert normalise_call("Dense('a b')") != normalise_call("Dense('a  b')")  # a string's text is kept
    assert normalise_call("Reshape((3,))") != normalise_call("Reshape((3))")


def test_entries_written_before_quotes_were_normalised_still_match(tmp_path, write):
    write("model.py", MODEL)
    write("b.json", "\ufeff" + json.dumps({"bnlint-baseline": 1, "findings": [  # (with a byte order mark)
        {"path": "model.py", "code": "BN004", "call": "layers.Conv2D(16, 3, padding='same')", "count": 1}]}))
    result = run_bnlint("check", "model.py", "--baseline", "b.json", "--select", "BN004", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "All checks passed (1 file checked).\n")


@pytest.mark.parametrize("version", ["true", "1.0"])
def test_a_version_that_only_equals_1_is_unknown(tmp_path, write, version):
    write("model.py", MODEL)
    write("b.json", f'{{"bnlint-baseline": {version}, "findings": []}}')
    result = run_bnlint("check", "model.py", "--baseline", "b.json", cwd=tmp_path)
    assert result.returncode == 2 and "of unknown version" in result.stderr


def test_a_run_stopped_by_a_bad_baseline_leaves_the_output_file_alone(tmp_path, write):
    write("model.py", MODEL)
    write("b.json", "{")
    report = write("report.sarif", "previous report\n")
    result = run_bnlint("check", "model.py", "--baseline", "b.json", "--output-format", "sarif", "--output-file",
                        "report.sarif", cwd=tmp_path)
    assert result.returncode == 2
    assert report.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "model.py", "report.sarif"]


def test_a_form_feed_above_the_calls_does_not_shift_their_keys(tmp_path, write):
    # str.splitlines() also ends a line at a form feed (a page break, GNU style); Python does not.
    write("model.py", MODEL.replace("inputs = keras.Input", "\f\n# page two\f\ninputs = keras.Input"))
    run_bnlint("check", "model.py", "--write-baseline", "b.json", cwd=tmp_path)
    calls = [entry["call"] for entry in json.loads((tmp_path / "b.json").read_text())["findings"]]
    assert calls == ["layers.Dropout(0.5)", 'layers.Conv2D(16, 3, padding="same")',
                     "layers.BatchNormalization(momentum=0.1)"]


def test_standard_input_is_keyed_by_its_own_text_not_the_file_on_disk(baselined):
    # An editor pipes its unsaved buffer: two lines more than the file on disk.
    edited = "# a\n# b\n" + MODEL
    result = run_bnlint("check", "--stdin-filename", "src/model.py", "--baseline", "bnlint-baseline.json",
                        "--output-format", "json", cwd=baselined, stdin=edited)
    assert (result.returncode, codes(result)) == (0, [])
    changed = edited.replace("momentum=0.1", "momentum=0.2")
    result = run_bnlint("check", "--stdin-filename", "src/model.py", "--baseline", "bnlint-baseline.json",
                        "--output-format", "json", cwd=baselined, stdin=changed)
    assert (result.returncode, codes(result)) == (1, ["BN006"])


def test_a_baseline_named_through_a_symbolic_link_matches(baselined, tmp_path):
    link = tmp_path.parent / f"{tmp_path.name}-link"
    link.symlink_to(baselined, target_is_directory=True)
    result = run_bnlint("check", "src", "--baseline", str(link / "bnlint-baseline.json"), "--output-format",
                        "json", cwd=baselined)
    assert (result.returncode, codes(result)) == (0, [])
    result = run_bnlint("check", str(baselined / "src"), "--baseline", "bnlint-baseline.json", "--output-format",
                        "json", cwd=link)
    assert (result.returncode, codes(result)) == (0, [])


def test_entries_of_rules_that_did_not_run_are_not_stale(baselined):
    result = check(baselined, "--select", "BN004", "--show-stale-baseline")
    assert (result.returncode, "stale" in result.stderr) == (0, False)
    (baselined / "src" / "model.py").write_text(MODEL.replace('padding="same")', 'padding="same", use_bias=False)'))
    result = check(baselined, "--select", "BN004", "--show-stale-baseline")
    assert result.stderr.splitlines()[-1] == (
        'bnlint: stale baseline entry: src/model.py: BN004 `layers.Conv2D(16, 3, padding="same")`')


def test_a_baseline_nested_too_deeply_is_one_sentence(tmp_path, write):
    write("model.py", MODEL)
    write("b.json", "[" * 100_000)
    result = run_bnlint("check", "model.py", "--baseline", "b.json", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "bnlint: error: b.json: is not a bnlint baseline: its JSON is nested too deeply\n")


def test_entries_of_files_gone_from_a_checked_directory_are_stale(baselined):
    (baselined / "src" / "model.py").rename(baselined / "src" / "renamed.py")
    result = check(baselined, "--show-stale-baseline")
    assert sorted(codes(result)) == ["BN003", "BN004", "BN006"]  # new under the new name
    assert sum("stale baseline entry: src/model.py" in line for line in result.stderr.splitlines()) == 3
    (baselined / "other").mkdir()
    result = run_bnlint("check", "other", "--baseline", "bnlint-baseline.json", "--show-stale-baseline",
                        cwd=baselined)
    assert "stale" not in result.stderr  # src/ was not walked this time
