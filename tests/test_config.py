"""[tool.bnlint] discovery and validation, through the command line a user runs."""

from __future__ import annotations

import pytest

from bnlint.config import find_config
from bnlint.errors import ConfigError
from conftest import run_bnlint

BAD = """\
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.Dropout(0.5), layers.BatchNormalization(momentum=0.1)])
"""


def codes(result):
    return sorted({line.split()[1] for line in result.stdout.splitlines() if ": BN" in line})


def test_config_is_found_by_walking_up_from_the_checked_path(tmp_path, write):
    write("pyproject.toml", '[project]\nname = "x"\n\n[tool.bnlint]\nignore = ["BN004"]\n')
    write("src/pkg/model.py", BAD)
    result = run_bnlint("check", "src", cwd=tmp_path)
    assert codes(result) == ["BN003", "BN006"]
    result = run_bnlint("check", str(tmp_path / "src" / "pkg" / "model.py"))
    assert codes(result) == ["BN003", "BN006"]


def test_nearest_config_wins_and_pyproject_without_table_is_skipped(tmp_path, write):
    write("pyproject.toml", '[tool.bnlint]\nselect = ["BN006"]\n')
    write("sub/pyproject.toml", '[project]\nname = "sub"\n')
    write("sub/inner/bnlint.toml", 'select = ["BN003"]\n')
    write("sub/model.py", BAD)
    write("sub/inner/model.py", BAD)
    assert codes(run_bnlint("check", "sub/model.py", cwd=tmp_path)) == ["BN006"]
    assert codes(run_bnlint("check", "sub/inner/model.py", cwd=tmp_path)) == ["BN003"]


def test_pyproject_that_never_names_bnlint_is_passed_over_unparsed(tmp_path, write):
    """Not bnlint's to judge: a broken pyproject.toml without [tool.bnlint] does not stop the check."""
    write("pyproject.toml", '[project\nname = "x"\n')
    write("model.py", BAD)
    assert codes(run_bnlint("check", "model.py", cwd=tmp_path)) == ["BN003", "BN006"]
    write("pyproject.toml", '[project\nname = "bnlint-user"\n')  # names bnlint: parsed, and refused
    result = run_bnlint("check", "model.py", cwd=tmp_path)
    assert result.returncode == 2 and "is not valid TOML" in result.stderr


def test_per_file_ignores_and_extend_select(tmp_path, write):
    write("pyproject.toml", '[tool.bnlint]\nselect = ["BN003"]\nextend-select = ["BN006"]\n'
          '[tool.bnlint.per-file-ignores]\n"legacy/*" = ["BN006"]\n')
    write("legacy/old.py", BAD)
    write("new.py", BAD)
    assert codes(run_bnlint("check", "legacy", cwd=tmp_path)) == ["BN003"]
    assert codes(run_bnlint("check", "new.py", cwd=tmp_path)) == ["BN003", "BN006"]


def test_exclude_skips_directories_and_files(tmp_path, write):
    write("pyproject.toml", '[tool.bnlint]\nextend-exclude = ["generated", "experiments/*.py"]\n')
    write("generated/a.py", BAD)
    write("experiments/b.py", BAD)
    write(".venv/lib/c.py", BAD)
    write("ok.py", BAD)
    result = run_bnlint("check", ".", cwd=tmp_path)
    assert "1 file checked" in result.stdout and "ok.py" in result.stdout


def test_patterns_starting_with_dot_slash_are_relative_to_the_configuration(tmp_path, write):
    write("pyproject.toml", '[tool.bnlint]\nselect = ["BN003", "BN006"]\nextend-exclude = ["./generated", '
          '".//experiments/*.py"]\n[tool.bnlint.per-file-ignores]\n"./legacy/old.py" = ["BN006"]\n')
    write("generated/a.py", BAD)
    write("experiments/b.py", BAD)
    write("legacy/old.py", BAD)
    result = run_bnlint("check", ".", cwd=tmp_path)
    assert "1 file checked" in result.stdout and codes(result) == ["BN003"]


@pytest.mark.parametrize("key, value", [
    ("exclude", '["data[12"]'), ("extend-exclude", '["ok", "runs/[!0-9"]'), ("per-file-ignores", '{"legacy/[ab.py" = ["BN006"]}'),
])
def test_a_pattern_with_an_unclosed_bracket_is_refused(tmp_path, write, key, value):
    # fnmatch takes `data[12` literally, so the pattern would quietly match nothing (ruff refuses it too).
    write("pyproject.toml", f'[tool.bnlint]\n{key} = {value}\n')
    write("m.py", BAD)
    result = run_bnlint("check", ".", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout.endswith("(0 files checked, 1 error).\n")
    assert result.stderr.count("\n") == 1 and f"'{key}' in [tool.bnlint]: pattern" in result.stderr
    assert "has a '[' that no ']' closes (write '[[]' for a literal '[')" in result.stderr


def test_patterns_with_bracket_sets_match_as_globs(tmp_path, write):
    write("pyproject.toml", '[tool.bnlint]\nextend-exclude = ["run[0-9].py", "lit[[]x].py", "set[]a].py"]\n')
    for name in ("run1.py", "lit[x].py", "set].py", "keep.py"):
        write(name, BAD)
    result = run_bnlint("check", ".", cwd=tmp_path)
    assert "1 file checked" in result.stdout and "keep.py" in result.stdout


def test_command_line_select_overrides_configuration(tmp_path, write):
    write("pyproject.toml", '[tool.bnlint]\nselect = ["BN003"]\n')
    write("m.py", BAD)
    assert codes(run_bnlint("check", "m.py", "--select", "BN006", cwd=tmp_path)) == ["BN006"]
    assert codes(run_bnlint("check", "m.py", "--extend-select", "BN006", cwd=tmp_path)) == ["BN003", "BN006"]
    assert codes(run_bnlint("check", "m.py", "--ignore", "BN003", cwd=tmp_path)) == []


@pytest.mark.parametrize(
    "content, message",
    [
        ('[tool.bnlint]\nselct = ["BN003"]\n', "unknown key 'selct' in [tool.bnlint]"),
        ('[tool.bnlint]\nselect = "BN003"\n', "'select' in [tool.bnlint] must be a list of strings"),
        ('[tool.bnlint]\nselect = ["BN999"]\n', "unknown rule selector 'BN999'"),
        ("[tool.bnlint\n", "is not valid TOML"),
    ],
)
def test_invalid_configuration_is_one_sentence_and_exit_2(tmp_path, write, content, message):
    write("pyproject.toml", content)
    write("m.py", BAD)
    result = run_bnlint("check", "m.py", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_find_config_returns_defaults_without_a_file(tmp_path):
    config = find_config(tmp_path)
    assert config.path is None and config.select is None and ".venv" in config.exclude


def test_find_config_rejects_a_non_table(tmp_path, write):
    write("pyproject.toml", '[tool]\nbnlint = 3\n')
    with pytest.raises(ConfigError, match="must be a table"):
        find_config(tmp_path)


def test_a_directory_named_explicitly_is_checked_inside_an_excluded_one(tmp_path, write):
    write("venv/lib/site-packages/keras/apps/model.py", BAD)
    write("venv/lib/site-packages/keras/apps/.venv/hidden.py", BAD)
    result = run_bnlint("check", "venv/lib/site-packages/keras/apps", cwd=tmp_path)
    assert "1 file checked" in result.stdout and "model.py" in result.stdout
    assert run_bnlint("check", ".", cwd=tmp_path).stdout.startswith("All checks passed (0 files checked)")


def test_explicit_files_are_checked_unless_force_exclude(tmp_path, write):
    write("pyproject.toml", '[tool.bnlint]\nextend-exclude = ["generated"]\n')
    write("generated/model.py", BAD)
    assert run_bnlint("check", "generated/model.py", cwd=tmp_path).returncode == 1
    forced = run_bnlint("check", "--force-exclude", "generated/model.py", cwd=tmp_path)
    assert (forced.returncode, forced.stdout) == (0, "All checks passed (0 files checked).\n")


def test_rule_options_are_read_and_validated(tmp_path, write):
    write("m.py", "import keras\nm = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization()])\n"
                  "m.fit(x, y, batch_size=8)\n")
    write("pyproject.toml", '[tool.bnlint]\nselect = ["BN010"]\nmin-batch-size = 16\n')
    assert "BN010" in run_bnlint("check", "m.py", cwd=tmp_path).stdout
    write("pyproject.toml", '[tool.bnlint]\nselect = ["BN010"]\n')
    assert run_bnlint("check", "m.py", cwd=tmp_path).returncode == 0
    write("pyproject.toml", '[tool.bnlint]\nmin-batch-size = "big"\n')
    bad = run_bnlint("check", "m.py", cwd=tmp_path)
    assert (bad.returncode, bad.stderr.strip().endswith("'min-batch-size' in [tool.bnlint] must be a positive whole number")) == (2, True)
    write("pyproject.toml", '[tool.bnlint]\nbn-position = "sideways"\n')
    bad = run_bnlint("check", "m.py", cwd=tmp_path)
    assert bad.returncode == 2 and "must be one of 'consistent', 'before-activation', 'after-activation'" in bad.stderr


@pytest.mark.parametrize("table, message", [
    ("[insert]\nepsilon = nan\n", "'insert' in the configuration 'epsilon' must be a finite number greater than 0"),
    ("[insert]\nepsilon = inf\n", "'insert' in the configuration 'epsilon' must be a finite number greater than 0"),
    ("[insert]\nepsilon = -1\n", "'insert' in the configuration 'epsilon' must be a finite number greater than 0"),
    ("[insert]\nepsilon = 0\n", "'insert' in the configuration 'epsilon' must be a finite number greater than 0"),
    ("[insert]\nmomentum = inf\n", "'insert' in the configuration 'momentum' must be a number from 0 up to (not including) 1"),
    ("[insert]\nmomentum = 7\n", "'insert' in the configuration 'momentum' must be a number from 0 up to (not including) 1"),
    ("[insert]\nmomentum = 1\n", "'insert' in the configuration 'momentum' must be a number from 0 up to (not including) 1"),
    ("min-batch-size = 16.5\n", "'min-batch-size' in the configuration must be a positive whole number"),
    ("min-batch-size = 0\n", "'min-batch-size' in the configuration must be a positive whole number"),
    ("min-batch-size = true\n", "'min-batch-size' in the configuration must be a positive whole number"),
])
def test_option_values_out_of_range_are_one_sentence_naming_the_file(tmp_path, write, table, message):
    write("bnlint.toml", table)
    write("m.py", BAD)
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"bnlint: error: {tmp_path / 'bnlint.toml'}: {message}\n")
    assert (tmp_path / "m.py").read_text() == BAD  # nothing written


def test_option_values_in_range_are_accepted(tmp_path, write):
    write("pyproject.toml", "[tool.bnlint]\nmin-batch-size = 1\n[tool.bnlint.insert]\nepsilon = 1e-5\nmomentum = 0\n")
    write("m.py", BAD)
    assert run_bnlint("check", "m.py", cwd=tmp_path).returncode == 1


@pytest.mark.parametrize("pattern", ["*.py", "nomatch/*"])
def test_an_unknown_code_in_per_file_ignores_is_reported_once_and_other_directories_are_checked(
        tmp_path, write, pattern):
    write("a/bnlint.toml", f'[per-file-ignores]\n"{pattern}" = ["BN999"]\n')
    write("a/m.py", BAD)
    write("b/m.py", BAD)
    result = run_bnlint("check", "--no-cache", "a", "b", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("unknown rule selector 'BN999'") == 1 and "a/bnlint.toml" in result.stderr
    assert "b/m.py:" in result.stdout and "a/m.py:" not in result.stdout
    assert "(1 file checked, 1 error)" in result.stdout


def test_a_symlinked_file_named_on_the_command_line_gets_the_configuration_of_where_it_is_named(tmp_path, write):
    write("shared/model.py", BAD)
    write("proj/pyproject.toml", '[tool.bnlint]\nselect = ["BN006"]\n')
    (tmp_path / "proj" / "model.py").symlink_to("../shared/model.py")
    named = run_bnlint("check", "--no-cache", "model.py", cwd=tmp_path / "proj")
    walked = run_bnlint("check", "--no-cache", ".", cwd=tmp_path / "proj")
    assert named.stdout == walked.stdout
    assert {line.split()[1] for line in named.stdout.splitlines() if ": BN" in line} == {"BN006"}


def test_exclude_and_per_file_ignores_match_through_a_symlinked_directory(tmp_path, write):
    write("proj/pyproject.toml", '[tool.bnlint]\nextend-exclude = ["gen/x"]\nper-file-ignores = {"legacy/*" = ["BN006"]}\n')
    write("proj/gen/x/m.py", BAD)
    write("proj/legacy/m.py", BAD)
    (tmp_path / "link").symlink_to("proj")
    direct = run_bnlint("check", "--no-cache", "proj", cwd=tmp_path)
    linked = run_bnlint("check", "--no-cache", "link/", cwd=tmp_path)
    assert direct.stdout.replace("proj/", "link/") == linked.stdout
    assert "gen/x" not in linked.stdout and "BN006" not in linked.stdout and "link/legacy/m.py" in linked.stdout


def test_a_configuration_file_starting_with_a_byte_order_mark_is_read(tmp_path, write):
    (tmp_path / "bnlint.toml").write_bytes(b'\xef\xbb\xbfselect = ["BN006"]\n')
    write("m.py", BAD)
    result = run_bnlint("check", "--no-cache", "m.py", cwd=tmp_path)
    assert result.returncode == 1 and codes(result) == ["BN006"], result.stderr


def test_a_nul_byte_is_one_sentence_without_a_line_of_none(tmp_path, write):
    (tmp_path / "m.py").write_bytes(b"import keras\nx = 1\x00\n")
    result = run_bnlint("check", "--no-cache", "m.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "bnlint: error: m.py: is not valid Python: source code string cannot contain null bytes\n"
