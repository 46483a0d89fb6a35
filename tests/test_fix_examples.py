"""Every fixable INVALID example and every bad fixture, fixed: the four properties.

For each rule with a fix, each INVALID example is fixed for that rule; each
bad fixture is fixed for every fixable rule it marks. Then:

1. the fixed source parses;
2. it re-lints clean for the rules fixed, but for the findings that had
   no fix (their reason said why);
3. fixing it again changes nothing;
4. real Keras, running it, builds models whose graphs equal what bnlint
   reads from it.

Sources written for Keras 2 (`tf_keras`, `tf.nn.relu(x)` on symbolic
tensors) are run with those spellings changed to their Keras 3 equivalents
(`keras`, `keras.ops.relu(x)`), and bnlint reads the same changed text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from bnlint.engine import all_rules, lint
from bnlint.fixer import fix_source
from bnlint.readers.python_source import read_source
from conftest import FIXTURES, ROOT, expected_findings
from test_applications_fidelity import compare
from test_fix import KERAS_PROBE

FIXABLE = {code for code, rule in all_rules().items() if rule.fix}



def keras3(source: str) -> str:
    """Keras 2 spellings that Keras 3 refuses, changed to their Keras 3 equivalents."""
    source = re.sub(r"\btf_keras\b", "keras", source)
    if "tf.nn." in source:
        source = re.sub(r"\btf\.nn\.(relu|relu6|elu|selu|silu|sigmoid)\(", r"keras.ops.\1(", source)
        source = "import keras\n" + source
    return source


def cases():
    """(name, source, codes to fix, options)."""
    for code, rule in all_rules().items():
        if not rule.fix:
            continue
        for index, example in enumerate(rule.INVALID):
            source, options = example if isinstance(example, tuple) else (example, {})
            yield f"{code.lower()}_example_{index}", source, {code}, options
    for path in sorted(FIXTURES.glob("*.py")):
        codes = {code for _, code in expected_findings(path.read_text())} & FIXABLE
        if codes and not path.name.startswith("good_"):
            yield path.stem, path.read_text(), codes, {}


def test_every_fixable_example_and_fixture(tmp_path):
    written = []
    fixed_something = 0
    for name, source, codes, options in cases():
        source = keras3(source)
        display = f"{name}.py"
        # Findings with no fix stay (a KerasTuner hyperparameter is not replaced by one value).
        unfixable = {(d.code, tuple(d.instances)) for d in lint(read_source(source, display), codes, options)
                     if d.fix is None and d.unfixable is not None}
        fixed = fix_source(source, display, codes, options, unsafe=True)
        fixed_something += fixed.text != source
        compile(fixed.text, display, "exec")  # 1
        remaining = [d for d in lint(read_source(fixed.text, display), codes, options)
                     if (d.code, tuple(d.instances)) not in unfixable]
        assert remaining == [], (name, [(d.code, d.message, d.unfixable) for d in remaining])  # 2
        assert fix_source(fixed.text, display, codes, options, unsafe=True).text == fixed.text, name  # 3
        path = tmp_path / display
        path.write_text(fixed.text)
        written.append(path)
    assert fixed_something >= 30  # the cases do exercise the fixes
    probe = subprocess.run(
        [sys.executable, "-c", KERAS_PROBE, str(ROOT / "tests"), *map(str, written)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    built = json.loads(probe.stdout.splitlines()[-1])
    for path in written:  # 4
        graphs = [g.to_dict() for g in read_source(path.read_text(), str(path)).graphs]
        references = built[str(path)]
        # Every file builds a Sequential or functional model, except those that only subclass keras.Model.
        assert references or "class " in path.read_text(), path.name
        for reference in references:
            graph = next((g for g in graphs if g["name"] == reference["name"]), None)
            assert graph is not None, (path.name, reference["name"], [g["name"] for g in graphs])
            assert compare(reference, graph, graphs) == [], (path.name, path.read_text())
