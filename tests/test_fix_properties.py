"""Property-based: generated model sources with injected mistakes, fixed, keep four properties.

Hypothesis writes models in every supported form (Sequential list,
Sequential().add, functional, a helper called in a loop) with random
mistakes for every rule that has a fix: a missing BN (BN001), a BN on the
minority side of its activation (BN002), dropout before BN (BN003), a bias
before BN (BN004), PyTorch's momentum (BN006), a doubled BN (BN009). After
`fix_source` with unsafe fixes:

1. the fixed source parses;
2. it re-lints clean for the fixed rules;
3. fixing it again changes nothing;
4. real Keras, running it, builds the graph bnlint predicts for it.

Property 4 needs TensorFlow (seconds to import), so each Hypothesis example
is a batch of models checked by one Keras process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint.engine import lint
from bnlint.fixer import fix_source
from bnlint.readers.python_source import read_source
from conftest import ROOT
from test_applications_fidelity import compare
from test_fix import KERAS_PROBE

FIXED = {"BN001", "BN002", "BN003", "BN004", "BN006", "BN009"}

block = st.fixed_dictionaries({
    "layer": st.sampled_from(["conv", "dense"]),
    "width": st.sampled_from([4, 8]),
    "bias": st.sampled_from(["", ", use_bias=True", ", use_bias=False"]),
    "fused": st.sampled_from(["", "", ', activation="relu"']),
    "bn": st.sampled_from(["one", "one", "one", "none", "two"]),  # none: BN001, two: BN009
    "momentum": st.sampled_from(["", "momentum=0.1", "momentum=0.9", "-1, 0.99"]),  # 0.1: BN006
    "order": st.sampled_from(["bn-act", "bn-act", "act-bn"]),  # a minority order: BN002
    "dropout": st.sampled_from(["none", "after", "before"]),  # before: BN003
})


def constructor(spec: dict, index: int) -> list[str]:
    """The layer constructors of one block, in order, as source expressions."""
    kind = "Conv2D" if spec["layer"] == "conv" else "Dense"
    size = ', 3, padding="same"' if kind == "Conv2D" else ""
    parts = [f'layers.{kind}({spec["width"]}{size}{spec["bias"]}{spec["fused"]}, name="l{index}")']
    momentum = spec["momentum"]
    norms = [f'layers.BatchNormalization({momentum}{", " if momentum else ""}name="bn{index}_{k}")'
             for k in range({"none": 0, "one": 1, "two": 2}[spec["bn"]])]
    activation = [f'layers.ReLU(name="relu{index}")']
    if spec["dropout"] == "before":
        parts.append(f'layers.Dropout(0.2, name="drop{index}")')
    parts += activation + norms if spec["order"] == "act-bn" else norms + activation
    if spec["dropout"] == "after":
        parts.append(f'layers.Dropout(0.2, name="drop{index}")')
    return parts


def source_for(form: str, blocks: list[dict]) -> str:
    shape = "(8, 8, 3)"  # Dense applies to the last axis of an image too
    head = "import keras\nfrom keras import layers\n\n"
    tail_layer = 'layers.Dense(3, name="head")'
    if form == "list":
        items = [f"    keras.Input({shape}),"] + [f"    {c}," for i, b in enumerate(blocks) for c in constructor(b, i)]
        items.append(f"    {tail_layer},")
        return head + "model = keras.Sequential([\n" + "\n".join(items) + "\n], name=\"generated\")\n"
    if form == "add":
        lines = ["model = keras.Sequential(name=\"generated\")", f"model.add(keras.Input({shape}))"]
        lines += [f"model.add({c})" for i, b in enumerate(blocks) for c in constructor(b, i)]
        lines.append(f"model.add({tail_layer})")
        return head + "\n".join(lines) + "\n"
    if form == "functional":
        lines = [f"inputs = keras.Input({shape})", "x = inputs"]
        lines += [f"x = {c}(x)" for i, b in enumerate(blocks) for c in constructor(b, i)]
        lines.append(f"x = {tail_layer}(x)")
        return head + "\n".join(lines) + "\nmodel = keras.Model(inputs, x, name=\"generated\")\n"
    # A helper called in a loop: one site, several instances (names from the loop index).
    body = [c.replace('name="', 'name=f"b{i}_') for c in constructor(blocks[0], 0)]
    lines = ["def block(x, i):"] + [f"    x = {c}(x)" for c in body] + ["    return x", ""]
    lines += [f"inputs = keras.Input({shape})", "x = inputs", f"for i in range({len(blocks)}):", "    x = block(x, i)"]
    lines.append(f"x = {tail_layer}(x)")
    return head + "\n".join(lines) + "\nmodel = keras.Model(inputs, x, name=\"generated\")\n"


model_sources = st.builds(
    source_for,
    st.sampled_from(["list", "add", "functional", "helper"]),
    st.lists(block, min_size=1, max_size=3),
)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(model_sources, min_size=8, max_size=8))
def test_fixes_keep_the_four_properties(tmp_path_factory, sources):
    directory = tmp_path_factory.mktemp("generated")
    paths = []
    for index, source in enumerate(sources):
        display = f"model_{index}.py"
        fixed = fix_source(source, display, FIXED, {}, unsafe=True).text
        compile(fixed, display, "exec")  # 1
        assert lint(read_source(fixed, display), FIXED) == [], fixed  # 2
        assert fix_source(fixed, display, FIXED, {}, unsafe=True).text == fixed  # 3
        path = directory / display
        path.write_text(fixed)
        paths.append(path)
    probe = subprocess.run(
        [sys.executable, "-c", KERAS_PROBE, str(ROOT / "tests"), *map(str, paths)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    built = json.loads(probe.stdout.splitlines()[-1])
    for path in paths:  # 4
        graphs = [g.to_dict() for g in read_source(path.read_text(), str(path)).graphs]
        (reference,) = built[str(path)]
        graph = next(g for g in graphs if g["name"] == reference["name"])
        assert compare(reference, graph, graphs) == [], path.read_text()
