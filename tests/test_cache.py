"""The per-file result cache: hits, every kind of invalidation, corrupt entries, and identical output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import bnlint
import bnlint.checker as checker
from bnlint import cache
from bnlint.checker import check_paths
from conftest import FIXTURES, ROOT, run_bnlint

BAD = (
    "import keras\n"
    "model = keras.Sequential([\n"
    "    keras.layers.Dense(8),\n"
    "    keras.layers.BatchNormalization(),\n"
    "    keras.layers.Dropout(0.5),\n"
    "    keras.layers.BatchNormalization(momentum=0.1),\n"
    "])\n"
)
BAD_CODES = ["BN004", "BN003", "BN006", "BN009"]
GOOD = "import keras\nmodel = keras.Sequential([keras.layers.Dense(8, use_bias=False), keras.layers.BatchNormalization()])\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project directory (the current directory, no configuration file) holding ``m.py``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text(BAD)
    return tmp_path


@pytest.fixture
def checked(monkeypatch):
    """The display names of the files actually read and linted (not answered from the cache)."""
    seen: list[str] = []
    real = checker.check_file

    def spy(target, *args, **kwargs):
        seen.append(target.display)
        return real(target, *args, **kwargs)

    monkeypatch.setattr(checker, "check_file", spy)
    return seen


def run(paths=("m.py",), **kwargs):
    return check_paths(list(paths), jobs=1, cache=True, **kwargs)


def codes(report) -> list[str]:
    return [d.code for d in report.diagnostics]


def test_second_run_is_answered_from_the_cache(project, checked):
    first = run()
    assert checked == ["m.py"] and codes(first) == BAD_CODES
    checked.clear()
    second = run()
    assert checked == []
    assert [d.to_dict() for d in second.diagnostics] == [d.to_dict() for d in first.diagnostics]
    assert second.files_checked == 1


def test_cached_findings_keep_fix_and_origin_objects(project):
    first, second = run(), run()
    assert second.diagnostics == first.diagnostics  # dataclass equality: origins, fixes, intents, applicability
    assert any(d.fix is not None for d in second.diagnostics)


def test_changed_content_invalidates(project, checked):
    run()
    (project / "m.py").write_text(GOOD)
    checked.clear()
    assert codes(run()) == [] and checked == ["m.py"]
    (project / "m.py").write_text(BAD)  # back to the first content: its entry was replaced, so read again
    checked.clear()
    assert codes(run()) == BAD_CODES and checked == ["m.py"]


def test_changed_configuration_invalidates(project, checked):
    run()
    (project / "pyproject.toml").write_text("[tool.bnlint]\nignore = ['BN006', 'BN009']\n")
    checked.clear()
    assert codes(run()) == ["BN004", "BN003"] and checked == ["m.py"]
    checked.clear()
    assert codes(run()) == ["BN004", "BN003"] and checked == []
    (project / "pyproject.toml").write_text(
        "[tool.bnlint]\nignore = ['BN006', 'BN009']\nper-file-ignores = {'m.py' = ['BN003']}\n"
    )
    checked.clear()
    assert codes(run()) == ["BN004"] and checked == ["m.py"]


def test_changed_rule_option_invalidates(project, checked):
    (project / "m.py").write_text(
        "import keras\nm = keras.Sequential([keras.layers.Dense(8, use_bias=False), keras.layers.BatchNormalization()])\n"
        "m.fit(x, y, batch_size=4)\n"
    )
    assert codes(run()) == ["BN010"]
    (project / "pyproject.toml").write_text("[tool.bnlint]\nmin-batch-size = 2\n")
    checked.clear()
    assert codes(run()) == [] and checked == ["m.py"]


def test_command_line_selection_is_part_of_the_key(project, checked):
    run()
    checked.clear()
    assert codes(run(selection=checker.Selection(select=("BN006",)))) == ["BN006"] and checked == ["m.py"]
    checked.clear()
    assert codes(run(selection=checker.Selection(ignore=("BN006",)))) == ["BN004", "BN003", "BN009"]
    assert checked == ["m.py"]


def test_new_version_invalidates(project, checked, monkeypatch):
    run()
    monkeypatch.setattr(bnlint, "__version__", "99.0.0")
    checked.clear()
    run()
    assert checked == ["m.py"]


USES_BLOCK = (
    "import keras\nfrom blocks import block\n\ninp = keras.Input((4,))\n"
    "model = keras.Model(inp, block(keras.layers.Dense(8)(inp)))\n"
)
BLOCK_WITH_BN = "from keras import layers\n\ndef block(x):\n    return layers.BatchNormalization()(x)\n"
BLOCK_WITHOUT_BN = "from keras import layers\n\ndef block(x):\n    return layers.Activation('relu')(x)\n"


def test_changed_imported_sibling_module_invalidates(project, checked):
    (project / "blocks.py").write_text(BLOCK_WITH_BN)
    (project / "m.py").write_text(USES_BLOCK)
    assert codes(run()) == ["BN004"]  # the Dense in m.py feeds the BN made in blocks.py
    checked.clear()
    assert codes(run()) == ["BN004"] and checked == []
    (project / "blocks.py").write_text(BLOCK_WITHOUT_BN)
    assert codes(run()) == [] and checked == ["m.py"]


def test_sibling_module_appearing_invalidates(project, checked):
    (project / "m.py").write_text(USES_BLOCK)
    assert codes(run()) == []
    (project / "blocks.py").write_text(BLOCK_WITH_BN)
    checked.clear()
    assert codes(run()) == ["BN004"] and checked == ["m.py"]


def entries(root: Path) -> list[Path]:
    """The cache's bucket files (one per directory of checked files and settings)."""
    return sorted((root / cache.CACHE_DIR).rglob("*.json"))


@pytest.mark.parametrize("garbage", [b"", b"{not json", b'{"content": 1}', b"\xff\xfe", b"[]", b'{"x": 1}'])
def test_corrupt_bucket_is_recomputed_not_an_error(project, checked, garbage):
    first = run()
    [bucket] = entries(project)
    bucket.write_bytes(garbage)
    checked.clear()
    again = run()
    assert checked == ["m.py"] and not again.errors
    assert again.diagnostics == first.diagnostics
    json.loads(bucket.read_bytes())  # rewritten whole
    checked.clear()
    run()
    assert checked == []


@pytest.mark.parametrize("damage", [
    lambda entry: entry.clear(),
    lambda entry: entry.update(content=None),
    lambda entry: entry.update(diagnostics=[{"$": "Diagnostic", "code": "BN001"}]),
    lambda entry: entry.update(dependencies=[["module"]]),
    lambda entry: entry["diagnostics"][0].update({"$": "Popen"}),  # only bnlint's finding classes are built
    # Valid JSON of the right shape, but edited: the checksum no longer matches.
    lambda entry: entry.update(diagnostics=["x"]),
    lambda entry: entry["diagnostics"][0]["origin"].update(line="ten"),
    lambda entry: entry["diagnostics"][0].update(code="BN999"),
    lambda entry: entry["diagnostics"][0].update(message="INVENTED"),
    lambda entry: entry.update(notes=[5]),
    lambda entry: entry.pop("sum"),
])
def test_corrupt_entry_is_recomputed(project, checked, damage):
    first = run()
    [bucket] = entries(project)
    data = json.loads(bucket.read_bytes())
    [entry] = data.values()
    damage(entry)
    bucket.write_text(json.dumps(data))
    checked.clear()
    assert run().diagnostics == first.diagnostics and checked == ["m.py"]


def test_one_bucket_per_directory(project):
    (project / "pkg").mkdir()
    for name in ("a.py", "b.py", "pkg/c.py"):
        (project / name).write_text(BAD)
    run(["."])
    buckets = [json.loads(b.read_bytes()) for b in entries(project)]
    assert sorted(len(b) for b in buckets) == [1, 3]  # the project directory's three files, and pkg's one


def test_concurrent_runs_keep_each_others_entries(project, checked):
    (project / "a.py").write_text(GOOD)
    run(["m.py"])
    run(["a.py"])  # same directory, same settings: same bucket, merged on write
    checked.clear()
    run(["m.py"])
    run(["a.py"])
    assert checked == []


def test_entry_naming_an_unknown_class_is_a_miss(project, checked):
    run()
    [bucket] = entries(project)
    data = json.loads(bucket.read_bytes())
    [entry] = data.values()
    entry["diagnostics"][0]["$"] = "Popen"
    bucket.write_text(json.dumps(data))
    checked.clear()
    assert codes(run()) == BAD_CODES and checked == ["m.py"]


def test_unwritable_cache_is_not_an_error(project, checked):
    (project / cache.CACHE_DIR).write_text("a file where the directory should be")
    report = run()
    assert codes(report) == BAD_CODES and not report.errors
    checked.clear()
    run()
    assert checked == ["m.py"]  # nothing could be stored, nothing is read


def test_input_errors_are_cached_too(project, checked):
    (project / "m.py").write_text("import keras\nmodel = keras.Sequential([\n")
    first = run()
    checked.clear()
    second = run()
    assert checked == [] and [str(e) for e in second.errors] == [str(e) for e in first.errors]
    assert "is not valid Python" in str(second.errors[0])


def test_a_missing_package_is_not_cached(project, checked, monkeypatch):
    """"needs h5py" is about this machine, not the file: once h5py is there, the next run reads it."""
    import shutil
    import sys

    shutil.copy(ROOT / "fixtures" / "saved" / "functional_bias_dropout_momentum.h5", project / "m.h5")
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` raises ImportError
    first = run(["m.h5"])
    assert [e.problem for e in first.errors] == ["needs h5py to be read (pip install h5py)"]
    monkeypatch.delitem(sys.modules, "h5py")
    checked.clear()
    second = run(["m.h5"])
    assert checked == ["m.h5"] and second.errors == [] and "BN004" in codes(second)


def test_cachedir_tag_and_gitignore(project):
    run()
    directory = project / cache.CACHE_DIR
    tag = (directory / "CACHEDIR.TAG").read_bytes()
    assert tag.startswith(b"Signature: 8a477f597d28d172789f06886806bc55")  # the exact header the spec requires
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"


def test_cache_lives_beside_the_configuration_file(tmp_path, monkeypatch):
    (tmp_path / "proj" / "src").mkdir(parents=True)
    (tmp_path / "proj" / "pyproject.toml").write_text("[tool.bnlint]\n")
    (tmp_path / "proj" / "src" / "m.py").write_text(BAD)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run([str(tmp_path / "proj" / "src")])
    assert (tmp_path / "proj" / cache.CACHE_DIR / "CACHEDIR.TAG").is_file()
    assert not (elsewhere / cache.CACHE_DIR).exists()


def test_fixing_bypasses_the_cache(project, checked):
    run()
    checked.clear()
    report = run(fix=checker.FixMode(write=False, unsafe=True))
    assert checked == ["m.py"] and report.diffs


def test_large_file_with_unchanged_stat_is_not_rehashed(project, monkeypatch, checked):
    monkeypatch.setattr(cache, "_TRUST_STAT_FROM", 0)
    run()
    hashed = []
    real = cache.content_hash
    monkeypatch.setattr(cache, "content_hash", lambda path: hashed.append(path) or real(path))
    checked.clear()
    run()
    assert checked == [] and hashed == []
    (project / "m.py").write_text(GOOD)  # any write changes ctime (and here size): hashed again
    assert codes(run()) == [] and checked == ["m.py"] and hashed


def test_small_file_with_same_stat_but_new_content_is_a_miss(project, checked):
    run()
    path = project / "m.py"
    info = path.stat()
    path.write_text(BAD.replace("0.5", "0.6"))  # same size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # same mtime: only the content tells
    checked.clear()
    run()
    assert checked == ["m.py"]


def test_savedmodel_directory_is_keyed_on_every_file(tmp_path, monkeypatch, checked):
    import shutil

    monkeypatch.chdir(tmp_path)
    source = ROOT / "fixtures" / "saved" / "functional_bias_dropout_momentum_tfkeras_savedmodel"
    shutil.copytree(source, tmp_path / "model")
    first = run(["model"])
    assert first.diagnostics and checked == ["model"]
    checked.clear()
    assert run(["model"]).diagnostics == first.diagnostics and checked == []
    (tmp_path / "model" / "fingerprint.pb").write_bytes(b"changed")
    run(["model"])
    assert checked == ["model"]


def test_every_fixture_is_cached(tmp_path, monkeypatch, checked):
    """Every finding of every fixture (sources and saved models) survives the JSON round trip."""
    monkeypatch.chdir(tmp_path)
    paths = [str(ROOT / "fixtures")]
    first = check_paths(paths, jobs=1, cache=True)
    assert first.files_checked > 90 and len(checked) == first.files_checked
    checked.clear()
    second = check_paths(paths, jobs=1, cache=True)
    assert checked == []
    assert second.diagnostics == first.diagnostics and second.notes == first.notes


def test_parallel_run_fills_the_cache(tmp_path, monkeypatch, checked):
    monkeypatch.chdir(tmp_path)
    paths = [str(FIXTURES)]
    uncached = check_paths(paths, jobs=1)
    parallel = check_paths(paths, jobs=2, cache=True)  # forked workers make the entries, the parent writes them
    runs = []
    real = checker._run
    monkeypatch.setattr(checker, "_run", lambda work, *args: runs.append(len(work)) or real(work, *args))
    checked.clear()
    warm = check_paths(paths, jobs=2, cache=True)
    assert runs == [] and checked == []  # no file reached the pool (or a serial check)
    assert uncached.diagnostics == parallel.diagnostics == warm.diagnostics
    one = sorted(FIXTURES.glob("good_*.py"))[0]
    copy = tmp_path / "copy"
    copy.mkdir()
    for source in sorted(FIXTURES.glob("*.py"))[:10]:
        (copy / source.name).write_text(source.read_text())
    check_paths([str(copy)], jobs=2, cache=True)
    (copy / one.name).write_text(one.read_text() + "\n")
    runs.clear()
    check_paths([str(copy)], jobs=2, cache=True)
    assert runs == [1]  # only the changed file is checked


# --- the command line -------------------------------------------------------------------------


def test_cli_output_is_identical_cached_and_uncached(tmp_path):
    fixtures = str(ROOT / "fixtures")
    for fmt in ("text", "json"):
        cold = run_bnlint("check", fixtures, "--output-format", fmt, cwd=tmp_path)
        assert (tmp_path / cache.CACHE_DIR).is_dir()
        warm = run_bnlint("check", fixtures, "--output-format", fmt, cwd=tmp_path)
        uncached = run_bnlint("check", fixtures, "--output-format", fmt, "--no-cache", cwd=tmp_path)
        assert cold.returncode == warm.returncode == uncached.returncode == 1
        assert cold.stdout == warm.stdout == uncached.stdout
        assert cold.stderr == warm.stderr == uncached.stderr
    text = run_bnlint("check", fixtures, cwd=tmp_path).stdout
    assert "[*]" in text and "fixable with `--fix`" in text


def test_no_cache_neither_reads_nor_writes(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    run_bnlint("check", "m.py", "--no-cache", cwd=tmp_path)
    assert not (tmp_path / cache.CACHE_DIR).exists()
    run_bnlint("check", "m.py", cwd=tmp_path)
    for bucket in entries(tmp_path):  # a poisoned entry: --no-cache must not read it
        data = json.loads(bucket.read_bytes())
        for entry in data.values():
            entry["diagnostics"] = []
            entry["sum"] = cache._entry_sum(entry)  # (its checksum made to match, as a real hit's does)
        bucket.write_text(json.dumps(data))
    assert run_bnlint("check", "m.py", cwd=tmp_path).returncode == 0  # (the poisoned entry is what a hit looks like)
    assert run_bnlint("check", "m.py", "--no-cache", cwd=tmp_path).returncode == 1


def test_invalid_selector_is_reported_on_a_warm_run(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    run_bnlint("check", "m.py", cwd=tmp_path)
    result = run_bnlint("check", "m.py", "--select", "BN999", cwd=tmp_path)
    assert result.returncode == 2 and "unknown rule selector 'BN999'" in result.stderr


def test_clean_removes_the_cache_and_says_so(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    run_bnlint("check", "m.py", cwd=tmp_path)
    result = run_bnlint("clean", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"Removed {tmp_path.resolve() / cache.CACHE_DIR}\n"
    assert not (tmp_path / cache.CACHE_DIR).exists()
    again = run_bnlint("clean", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == f"No cache to remove in {tmp_path.resolve()}\n"


def test_clean_empties_a_symlinked_cache_and_keeps_the_link(tmp_path):
    # A `.bnlint_cache` symlink puts the cache on another disk: `check` writes through it, so `clean`
    # must empty it too, keeping the link, and never touch a linked directory bnlint did not make.
    project, elsewhere, foreign = tmp_path / "proj", tmp_path / "scratch" / "cache", tmp_path / "foreign"
    project.mkdir()
    elsewhere.mkdir(parents=True)
    (project / "m.py").write_text(BAD)
    (project / cache.CACHE_DIR).symlink_to(elsewhere)
    run_bnlint("check", "m.py", cwd=project)
    assert (elsewhere / "CACHEDIR.TAG").is_file() and any((elsewhere / "entries").rglob("*.json"))
    result = run_bnlint("clean", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Emptied {elsewhere.resolve()} (the cache {project.resolve() / cache.CACHE_DIR} links to)\n"
    assert (project / cache.CACHE_DIR).is_symlink() and list(elsewhere.iterdir()) == []
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    (project / cache.CACHE_DIR).unlink()
    (project / cache.CACHE_DIR).symlink_to(foreign)
    result = run_bnlint("clean", cwd=project)
    assert result.stdout == f"No cache to remove in {project.resolve()}\n"
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_clean_of_a_missing_path_is_an_error(tmp_path):
    result = run_bnlint("clean", "nope", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "bnlint: error: nope: no such file or directory\n"


@pytest.mark.parametrize("configured", [False, True])
def test_warm_run_imports_no_reader_rule_or_engine(tmp_path, configured):
    """A run answered from the cache stays cheap: the interpreter, the rules and the engine are never imported."""
    import shutil
    import subprocess
    import sys

    probe = (
        "import sys\nfrom bnlint.cli import main\nmain(sys.argv[1:])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('bnlint.readers.interpreter', 'bnlint.rules',"
        " 'bnlint.engine', 'bnlint.readers.builder'))))\n"
    )
    if configured:  # a configuration without rule options needs no rule to validate it
        (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\nignore = ['BN011']\n")
        shutil.copytree(FIXTURES, tmp_path / "models")
        files = ["models"]
    else:
        files = [str(p) for p in sorted(FIXTURES.glob("*.py"))]
    command = [sys.executable, "-c", probe, "check", *files]
    cold = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert cold.stdout.splitlines()[-1] != "[]"
    warm = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert warm.stdout.splitlines()[-1] == "[]", warm.stderr


def test_warm_run_imports_neither_dataclasses_nor_inspect(tmp_path):
    """bnlint.records stands in for dataclasses on the cached path: importing it would cost ~10 ms."""
    import subprocess
    import sys

    probe = ("import sys\nfrom bnlint.cli import main\nmain(sys.argv[1:])\n"
             "print(sorted(m for m in ('dataclasses', 'inspect') if m in sys.modules))\n")
    command = [sys.executable, "-c", probe, "check", *[str(p) for p in sorted(FIXTURES.glob("*.py"))]]
    subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    warm = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert warm.stdout.splitlines()[-1] == "[]", warm.stderr


@pytest.mark.parametrize("edited", ["m.py", "blocks.py"])
def test_a_file_edited_while_it_is_checked_is_not_cached(project, monkeypatch, edited):
    """An editor saving during a run: the findings are of the text read, so they must not be filed under
    the new text (the entry's hashes are taken after the check)."""
    (project / "blocks.py").write_text(BLOCK_WITH_BN)
    (project / "m.py").write_text(USES_BLOCK)
    real = checker.check_file

    def check_then_edit(target, *args, **kwargs):
        outcome = real(target, *args, **kwargs)
        if edited == "m.py":
            (project / "m.py").write_text(USES_BLOCK.replace("Dense(8)", "Dense(8, use_bias=False)"))
        else:
            (project / "blocks.py").write_text(BLOCK_WITHOUT_BN)
        return outcome

    monkeypatch.setattr(checker, "check_file", check_then_edit)
    assert codes(run()) == ["BN004"]  # (what the file said when it was read)
    monkeypatch.setattr(checker, "check_file", real)
    assert codes(run()) == codes(check_paths(["m.py"], jobs=1, cache=False)) == []
