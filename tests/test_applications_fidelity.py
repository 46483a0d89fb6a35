"""bnlint's static reading of ``keras.applications`` equals what Keras builds.

For every builder in ``applications_builders.BUILDERS`` (ResNet50 ...
ConvNeXtXLarge), the graph that ``bnlint graph <builder's module source>
--format json`` recovers for that builder -- the graph whose ``"entry"`` is
the builder's function name, i.e. the function analysed uncalled with its
default arguments -- must equal the model real Keras builds with
``builder(weights=None)`` (``tests/keras_reference.py`` describes it).

What is compared (``compare(reference, graph)``; each difference is one
string ``"<category>: ..."``):

- ``model``: the model's name, and the names of its input and output layers.
- ``layer``: the set of unique layer names with their ``class_name``.
  bnlint's nodes are layer *calls*, so a shared layer is several nodes with
  one name; they count once. Two distinct bnlint layers (``layer_id``) with
  one name are a difference (Keras refuses duplicate names).
- ``edge``: the set of ``(producer, consumer, input index)`` between layers.
- ``config``: for each layer name on both sides, the values of
  ``keras_reference.CONFIG_KEYS`` that Keras' ``get_config()`` has (bools
  strictly, numbers with a 1e-9 relative tolerance, one-element axis lists as
  ints). bnlint's ``"<unknown>"`` or a missing key is a difference.

Raw tensor ops. Keras records ``x + 3.0`` or ``keras.ops.*`` calls as layers
of module ``keras.src.ops.*`` (flag ``op`` in the reference); bnlint records
them as nodes of kind ``op`` (or ``activation`` nodes whose ``class_name`` is
a qualified function name such as ``keras.ops.relu``) -- on bnlint's side a
node is an op when its kind is ``op`` or its ``class_name`` contains a dot.
Ops are compared only through their connectivity to real layers: they are
left out of the ``layer`` and ``config`` comparisons, and the ``edge`` sets
are taken after contracting every op-only path, i.e. producer layer ->
op -> ... -> op -> consumer layer becomes ``(producer, consumer, index at
which the path enters the consumer)``. Op names, op class names and the
number of ops do not matter; real layers must match exactly. (An op's Keras
auto-name still matters indirectly: ops and layers share Keras' naming
counters, so a wrong op count shows up in the names of later unnamed
layers.)

Nested models (ConvNeXt's ``Sequential`` stem and downsampling blocks) are a
layer of their parent (class ``Sequential``), and are also compared
themselves, recursively, against the bnlint graph of the same name (its
differences are prefixed ``"<nested model>/"``). Keras gives such a
``Sequential`` an auto-named ``InputLayer`` (``input_layer_1``, ...) when its
first call builds it; that layer is part of the comparison.

Running: ``python -m pytest tests/test_applications_fidelity.py`` from the
repository root. The Keras references are built once per session, in one
subprocess, for the builders selected (``-k ResNet50`` builds one model;
all 40 take about 1.5 minutes and 2.5 GB). Set ``BNLINT_KERAS_REFERENCE=FILE``
to keep them in FILE across sessions (rebuilt when Keras' version changes).
bnlint runs once per source module. For a per-builder overview while
working on the interpreter, see ``tests/keras_reference.py --report``.
TensorFlow is required: without it the tests fail, they are not skipped.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from applications_builders import BUILDERS
from conftest import ROOT
from keras_reference import CONFIG_KEYS, normalise_config_value

HERE = Path(__file__).resolve().parent
UNKNOWN = "<unknown>"
CATEGORIES = ("model", "layer", "edge", "config")
REFERENCE_TIMEOUT = 3600
BNLINT_TIMEOUT = 900


# ---------------------------------------------------------------------------
# The comparison (plain functions; also used by keras_reference.py --report)


def _bnlint_is_op(node: dict) -> bool:
    return node.get("kind") == "op" or "." in str(node.get("class_name") or "")


def _contract(vertices: dict, edges) -> set:
    """Edges between real layers after contracting op-only paths.

    ``vertices``: key -> (layer name, is_op); ``edges``: (src key, dst key,
    index). Returns {(src name, dst name, index)}."""
    preds = defaultdict(list)
    for src, dst, _ in edges:
        preds[dst].append(src)

    def vertex(key):
        return vertices.get(key, (f"<missing {key}>", False))

    @functools.lru_cache(maxsize=None)
    def real_sources(op_key) -> frozenset:
        found, seen, stack = set(), {op_key}, [op_key]
        while stack:
            for src in preds[stack.pop()]:
                name, is_op = vertex(src)
                if not is_op:
                    found.add(name)
                elif src not in seen:
                    seen.add(src)
                    stack.append(src)
        return frozenset(found)

    result = set()
    for src, dst, index in edges:
        dst_name, dst_op = vertex(dst)
        if dst_op:
            continue
        src_name, src_op = vertex(src)
        if src_op:
            result.update((name, dst_name, index) for name in real_sources(src))
        else:
            result.add((src_name, dst_name, index))
    return result


def _same(expected, actual) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    return expected == actual


def _find_nested_graph(name: str, parent: dict, graphs) -> dict | None:
    candidates = [g for g in graphs or () if g.get("name") == name and g is not parent]
    same_entry = [g for g in candidates if g.get("entry") == parent.get("entry")]
    pool = same_entry or candidates
    return pool[-1] if pool else None


def compare(reference: dict, graph: dict, graphs: list | None = None,
            _prefix: str = "") -> list[str]:
    """The differences between a Keras reference (``keras_reference``'s
    description of one model) and one bnlint graph (an element of ``bnlint
    graph --format json``), as ``"<category>: ..."`` strings; ``[]`` when
    they match. *graphs* (all graphs of the same bnlint run) is where nested
    models are looked up."""
    p = _prefix
    diffs: list[str] = []
    nodes = graph.get("nodes", [])
    by_id = {n["id"]: n for n in nodes}

    # -- model
    if reference.get("name") != graph.get("name"):
        diffs.append(f"model: {p}name: keras {reference.get('name')!r}, "
                     f"bnlint {graph.get('name')!r}")
    for side in ("inputs", "outputs"):
        if side not in reference:
            continue
        ours = [by_id[i]["name"] if i in by_id else f"<missing {i}>"
                for i in graph.get(side, [])]
        if sorted(reference[side]) != sorted(ours):
            diffs.append(f"model: {p}{side}: keras {reference[side]}, bnlint {ours}")

    # -- layers (real layers by unique name; ops left out)
    ref_layers = {l["name"]: l for l in reference["layers"] if not l.get("op")}
    ours_by_name: dict[str, list] = {}
    for node in nodes:
        if not _bnlint_is_op(node):
            ours_by_name.setdefault(node.get("name"), []).append(node)
    for name, layer in ref_layers.items():
        if name not in ours_by_name:
            diffs.append(f"layer: {p}missing in bnlint: {name} ({layer['class_name']})")
            continue
        classes = sorted({str(n.get("class_name")) for n in ours_by_name[name]})
        if classes != [layer["class_name"]]:
            diffs.append(f"layer: {p}{name}: class keras {layer['class_name']}, "
                         f"bnlint {' / '.join(classes)}")
    for name, group in ours_by_name.items():
        if name not in ref_layers:
            diffs.append(f"layer: {p}extra in bnlint: {name} ({group[0].get('class_name')})")
        layer_ids = {n.get("layer_id") for n in group}
        if len(layer_ids) > 1:
            diffs.append(f"layer: {p}{name}: name used by {len(layer_ids)} "
                         f"distinct layers in bnlint's graph")

    # -- edges (op-only paths contracted)
    ref_vertices = {l["name"]: (l["name"], bool(l.get("op"))) for l in reference["layers"]}
    ref_edges = _contract(ref_vertices, [tuple(e) for e in reference["edges"]])
    our_vertices = {n["id"]: (n.get("name"), _bnlint_is_op(n)) for n in nodes}
    our_edges = _contract(our_vertices, [(e["source"], e["target"], e.get("index", 0))
                                         for e in graph.get("edges", [])])
    order = {name: i for i, name in enumerate(ref_vertices)}

    def edge_key(edge):
        return (order.get(edge[1], len(order)), str(edge[1]), order.get(edge[0], len(order)),
                str(edge[0]), edge[2])

    for edge in sorted(ref_edges - our_edges, key=edge_key):
        diffs.append(f"edge: {p}missing in bnlint: {edge[0]} -> {edge[1]} [{edge[2]}]")
    for edge in sorted(our_edges - ref_edges, key=edge_key):
        diffs.append(f"edge: {p}extra in bnlint: {edge[0]} -> {edge[1]} [{edge[2]}]")

    # -- config
    for name, layer in ref_layers.items():
        found: dict[str, None] = {}  # every call of a shared layer; each message once
        for node in ours_by_name.get(name, []):
            config = node.get("config") or {}
            for key, expected in layer.get("config", {}).items():
                if key not in config:
                    found[f"config: {p}{name}.{key}: keras {expected!r}, bnlint missing"] = None
                    continue
                actual = normalise_config_value(key, config[key])
                if actual == UNKNOWN or not _same(expected, actual):
                    found[f"config: {p}{name}.{key}: keras {expected!r}, "
                          f"bnlint {actual!r}"] = None
        diffs.extend(found)

    # -- nested models
    for name, layer in ref_layers.items():
        sub = layer.get("submodel")
        if sub is None:
            continue
        nested = _find_nested_graph(sub["name"], graph, graphs)
        if nested is None:
            diffs.append(f"model: {p}nested model {sub['name']!r} ({sub['class_name']}): "
                         f"no bnlint graph of that name")
            continue
        diffs.extend(compare(sub, nested, graphs, _prefix=f"{p}{sub['name']}/"))
    return diffs


def _counts(diffs) -> dict:
    counts = {c: 0 for c in CATEGORIES}
    for diff in diffs:
        category = diff.split(":", 1)[0]
        counts[category] = counts.get(category, 0) + 1
    return counts


def summarize(diffs) -> str:
    """``"matching"`` or e.g. ``"12 layer diffs, 30 edge diffs, 2 config diffs"``."""
    if not diffs:
        return "matching"
    counts = _counts(diffs)
    return ", ".join(f"{n} {c} diffs" for c, n in counts.items() if n)


def format_diffs(diffs, limit: int = 20, indent: str = "  ") -> str:
    """The differences grouped by category, at most *limit* of each."""
    lines = []
    for category in _counts(diffs):
        group = [d.split(": ", 1)[1] for d in diffs if d.split(":", 1)[0] == category]
        if not group:
            continue
        lines.append(f"{indent}{category} ({len(group)}):")
        lines.extend(f"{indent}  {d}" for d in group[:limit])
        if len(group) > limit:
            lines.append(f"{indent}  ... and {len(group) - limit} more")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Running bnlint (once per source module) and picking a builder's graph


@functools.lru_cache(maxsize=None)
def bnlint_graphs(path: str) -> tuple[list, str | None]:
    """``(graphs, error)`` of ``bnlint graph PATH --format json``; cached per path."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bnlint", "graph", path, "--format", "json"],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=BNLINT_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [], f"bnlint graph {path}: timed out after {BNLINT_TIMEOUT}s"
    if proc.returncode != 0:
        return [], (f"bnlint graph {path}: exit {proc.returncode}\n"
                    f"{proc.stderr[-3000:]}")
    try:
        graphs = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        return [], f"bnlint graph {path}: output is not JSON ({exc})\n{proc.stdout[:500]}"
    return graphs, None


_BUILD_ONE = r"""
import json, runpy, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
from keras_reference import describe_config
model = runpy.run_path(sys.argv[2])[sys.argv[3]]()
print(json.dumps(describe_config(model.get_config(), type(model).__name__)))
"""


def keras_and_bnlint(source: Path, builder: str) -> tuple[dict, dict | None, list]:
    """``(reference, graph, graphs)``: the model real Keras builds by calling *builder* of the file
    *source* without arguments (in a subprocess), and bnlint's graphs of the file with the one whose
    entry is *builder*."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", _BUILD_ONE, str(HERE), str(source), builder],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    graphs, error = bnlint_graphs(str(source))
    assert error is None, error
    return json.loads(result.stdout.splitlines()[-1]), select_graph(graphs, builder), graphs


def graph_as_keras_builds(source: Path, builder: str) -> dict:
    """bnlint's graph of *builder* in *source*, asserted equal to the model real Keras builds from it."""
    reference, graph, graphs = keras_and_bnlint(source, builder)
    assert graph is not None, [g["name"] for g in graphs]
    assert compare(reference, graph, graphs) == []
    return graph


def select_graph(graphs: list, builder: str) -> dict | None:
    """The graph bnlint built by analysing *builder* uncalled (``entry``);
    of several, the outermost (not nested in another), the last if still
    ambiguous."""
    candidates = [g for g in graphs if g.get("entry") == builder]
    nested = {n.get("submodel") for g in candidates for n in g.get("nodes", [])
              if n.get("submodel")}
    outer = [g for g in candidates if g.get("name") not in nested] or candidates
    return outer[-1] if outer else None


# ---------------------------------------------------------------------------
# The references: built once per session, for the builders selected


def _selected_builders(session) -> list[str]:
    selected = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if ("keras_references" in getattr(item, "fixturenames", ())
                and callspec is not None and "builder" in callspec.params):
            builder = callspec.params["builder"]
            if builder not in selected:
                selected.append(builder)
    return sorted(selected, key=list(BUILDERS).index)


@pytest.fixture(scope="session")
def keras_references(request, tmp_path_factory) -> dict:
    """The reference dump (``keras_reference`` format) of the selected builders."""
    builders = _selected_builders(request.session)
    out = tmp_path_factory.mktemp("keras_reference") / "reference.json"
    command = [sys.executable, str(HERE / "keras_reference.py"), "--out", str(out)]
    cache = os.environ.get("BNLINT_KERAS_REFERENCE")
    if cache:
        command += ["--reference", cache]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    if not builders:
        command += ["--list-only"]
    proc = subprocess.run(command + builders, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=REFERENCE_TIMEOUT)
    if proc.returncode != 0:
        pytest.fail("building the Keras references failed (is TensorFlow installed "
                    f"in {sys.executable}?):\n{proc.stderr[-4000:]}", pytrace=False)
    data = json.loads(out.read_text())
    print(f"\nkeras references: {len(builders)} builders in {data['seconds']:.1f}s, "
          f"peak rss {data['peak_rss_mb']:.0f} MB")
    return data


def _reference(data: dict, builder: str) -> dict:
    for model in data["models"]:
        if model["builder"] == builder:
            if model.get("error"):
                pytest.fail(f"Keras could not build {builder}:\n{model['error']}",
                            pytrace=False)
            return model
    pytest.fail(f"no reference for {builder}", pytrace=False)


# ---------------------------------------------------------------------------
# The fidelity test


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_bnlint_graph_equals_keras_model(builder, keras_references):
    reference = _reference(keras_references, builder)
    graphs, error = bnlint_graphs(reference["module_file"])
    if error:
        pytest.fail(error, pytrace=False)
    graph = select_graph(graphs, builder)
    if graph is None:
        entries = sorted({repr(g.get("entry")) for g in graphs})
        pytest.fail(f"bnlint found no graph with entry {builder!r} in "
                    f"{reference['module_file']} ({len(graphs)} graphs; entries: "
                    f"{', '.join(entries) or 'none'})", pytrace=False)
    diffs = compare(reference, graph, graphs)
    if diffs:
        pytest.fail(f"{builder}: bnlint's graph differs from Keras' model "
                    f"({summarize(diffs)}):\n{format_diffs(diffs)}", pytrace=False)


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_model_layers_are_listed_in_keras_order(builder, keras_references):
    # `model.layers` (what `model.layers[i]` in the code indexes) as Keras lists it: the reference's
    # layers are its get_config() order, which is the model's operations, ops included.
    from bnlint.readers import read_path
    from bnlint.readers.builder import keras_layer_order

    reference = _reference(keras_references, builder)
    graphs = read_path(Path(reference["module_file"]), reference["module_file"]).graphs
    [graph] = [g for g in graphs if g.entry == builder and g.name == reference["name"]]
    assert [graph.layer(node).name for node in keras_layer_order(graph)] == [
        layer["name"] for layer in reference["layers"] if not layer.get("op")]


def test_builder_list_matches_installed_keras(keras_references):
    assert sorted(BUILDERS) == keras_references["available_builders"]
    for model in keras_references["models"]:
        if "module" in model:
            assert model["module"] == f"keras.src.applications.{BUILDERS[model['builder']]}"


# ---------------------------------------------------------------------------
# The comparison itself, on references converted to bnlint's graph shape


def graphs_from_reference(reference: dict, entry: str | None = None) -> list[dict]:
    """bnlint graph JSON (the model and its nested models) equivalent to a
    reference: one node per layer, ops as ``kind: "op"`` nodes with a
    qualified ``class_name``."""
    graphs: list[dict] = []
    counter = iter(range(10**9))

    def convert(ref: dict) -> dict:
        ids, nodes = {}, []
        for layer in ref["layers"]:
            node_id = len(nodes)
            ids[layer["name"]] = node_id
            node = {"id": node_id, "name": layer["name"], "layer_id": next(counter),
                    "class_name": layer["class_name"], "kind": "other",
                    "config": copy.deepcopy(layer["config"]), "origin": None}
            if layer.get("op"):
                node["kind"] = "op"
                node["class_name"] = f"keras.ops.{layer['class_name'].lower()}"
            if "submodel" in layer:
                node["kind"] = "model"
                node["submodel"] = layer["submodel"]["name"]
                convert(layer["submodel"])
            nodes.append(node)
        graph = {"name": ref["name"], "entry": entry, "origin": None,
                 "inputs": [ids[n] for n in ref["inputs"]],
                 "outputs": [ids[n] for n in ref["outputs"]],
                 "nodes": nodes,
                 "edges": [{"source": ids[s], "target": ids[d], "index": i}
                           for s, d, i in ref["edges"]]}
        graphs.append(graph)
        return graph

    convert(reference)
    return graphs


def _node(graph: dict, name: str) -> dict:
    return next(n for n in graph["nodes"] if n["name"] == name)


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_compare_finds_no_difference_between_a_reference_and_itself(builder, keras_references):
    reference = _reference(keras_references, builder)
    graphs = graphs_from_reference(reference, entry=builder)
    graph = select_graph(graphs, builder)
    assert graph is not None and graph["name"] == reference["name"]
    assert compare(reference, graph, graphs) == []


@pytest.mark.parametrize("builder", ["MobileNetV3Small", "ConvNeXtTiny"])
def test_compare_catches_mutations(builder, keras_references):
    """Ops and nested models included: both builders have raw ops, ConvNeXt
    nested Sequential models."""
    reference = _reference(keras_references, builder)

    def mutated(change):
        graphs = graphs_from_reference(reference, entry=builder)
        graph = select_graph(graphs, builder)
        change(graph, graphs)
        return compare(reference, graph, graphs)

    real = [l for l in reference["layers"] if not l.get("op") and l["class_name"] == "Conv2D"]
    conv = real[3]["name"]

    # a renamed layer: missing + extra layer, and its edges move with it
    def rename(graph, graphs):
        _node(graph, conv)["name"] = conv + "_renamed"
    diffs = mutated(rename)
    assert f"layer: missing in bnlint: {conv} (Conv2D)" in diffs
    assert f"layer: extra in bnlint: {conv}_renamed (Conv2D)" in diffs
    assert _counts(diffs)["layer"] == 2 and _counts(diffs)["edge"] >= 2

    # a changed class
    def reclass(graph, graphs):
        _node(graph, conv)["class_name"] = "DepthwiseConv2D"
    assert mutated(reclass) == [f"layer: {conv}: class keras Conv2D, bnlint DepthwiseConv2D"]

    # a missing edge (between real layers)
    def drop_edge(graph, graphs):
        target = _node(graph, conv)["id"]
        graph["edges"] = [e for e in graph["edges"] if e["target"] != target]
    diffs = mutated(drop_edge)
    assert len(diffs) == 1 and diffs[0].startswith("edge: missing in bnlint: ")
    assert diffs[0].endswith(f" -> {conv} [0]")

    # a changed input index
    def reindex(graph, graphs):
        target = _node(graph, conv)["id"]
        for e in graph["edges"]:
            if e["target"] == target:
                e["index"] = 1
    diffs = mutated(reindex)
    assert _counts(diffs) == {"model": 0, "layer": 0, "edge": 2, "config": 0}

    # changed, unknown and missing config values
    def config(value):
        def change(graph, graphs):
            if value is None:
                del _node(graph, conv)["config"]["filters"]
            else:
                _node(graph, conv)["config"]["filters"] = value
        return change
    filters = real[3]["config"]["filters"]
    assert mutated(config(filters + 1)) == [
        f"config: {conv}.filters: keras {filters}, bnlint {filters + 1}"]
    assert mutated(config(UNKNOWN)) == [
        f"config: {conv}.filters: keras {filters}, bnlint '<unknown>'"]
    assert mutated(config(None)) == [f"config: {conv}.filters: keras {filters}, bnlint missing"]
    assert mutated(config(float(filters))) == []  # 16 == 16.0

    def use_bias_as_int(graph, graphs):
        node = _node(graph, conv)
        node["config"]["use_bias"] = int(node["config"]["use_bias"])
    assert len(mutated(use_bias_as_int)) == 1  # bools compare strictly

    # a changed model name
    def rename_model(graph, graphs):
        graph["name"] = "other"
    assert mutated(rename_model) == [f"model: name: keras {reference['name']!r}, bnlint 'other'"]

    # op names, op class names and op kinds do not matter ...
    ops = [l["name"] for l in reference["layers"] if l.get("op")]
    assert ops

    def rename_ops(graph, graphs):
        for node in graph["nodes"]:
            if node["name"] in ops:
                node["name"] = "op_" + node["name"]
                node["class_name"] = "operator.add"
                node["kind"] = "activation"
    assert mutated(rename_ops) == []

    # ... but an op that is disconnected from its consumer does
    def cut_op(graph, graphs):
        op_id = _node(graph, ops[0])["id"]
        graph["edges"] = [e for e in graph["edges"] if e["source"] != op_id]
    diffs = mutated(cut_op)
    assert diffs and all(d.startswith("edge: missing in bnlint: ") for d in diffs)

    # an op chain a -> op1 -> op2 -> b that bnlint sees as a -> op2 -> b
    # (ConvNeXt's residual sums are chains of raw `+`) keeps the contracted edges
    def chained(graph):
        for e in graph["edges"]:
            if (_bnlint_is_op(graph["nodes"][e["source"]])
                    and _bnlint_is_op(graph["nodes"][e["target"]])):
                return e
        return None

    def collapse_op(graph, graphs):
        link = chained(graph)
        upstream, op = link["source"], link["target"]
        graph["edges"] = [e for e in graph["edges"] if e is not link]
        graph["edges"] += [dict(e, target=op, index=link["index"]) for e in graph["edges"]
                           if e["target"] == upstream]
    if builder == "ConvNeXtTiny":
        assert chained(graphs_from_reference(reference, entry=builder)[-1]) is not None
        assert mutated(collapse_op) == []

    # a real layer that bnlint takes for an op is missing
    def as_op(graph, graphs):
        _node(graph, conv)["kind"] = "op"
    diffs = mutated(as_op)
    assert f"layer: missing in bnlint: {conv} (Conv2D)" in diffs

    # duplicate names of distinct layers
    def duplicate(graph, graphs):
        other = next(n for n in graph["nodes"] if n["name"] == real[4]["name"])
        other["name"] = conv
    diffs = mutated(duplicate)
    assert f"layer: {conv}: name used by 2 distinct layers in bnlint's graph" in diffs

    if builder == "ConvNeXtTiny":
        stem = next(l for l in reference["layers"] if "submodel" in l)["submodel"]
        stem_conv = stem["layers"][1]["name"]

        def nested_config(graph, graphs):
            nested = next(g for g in graphs if g["name"] == stem["name"])
            _node(nested, stem_conv)["config"]["filters"] = 1
        assert mutated(nested_config) == [
            f"config: {stem['name']}/{stem_conv}.filters: keras "
            f"{stem['layers'][1]['config']['filters']}, bnlint 1"]

        def nested_missing(graph, graphs):
            graphs[:] = [g for g in graphs if g["name"] != stem["name"]]
        assert mutated(nested_missing) == [
            f"model: nested model {stem['name']!r} (Sequential): no bnlint graph of that name"]


def test_summary_and_formatting():
    diffs = [f"edge: missing in bnlint: a{i} -> b [0]" for i in range(25)] + [
        "config: c.momentum: keras 0.99, bnlint '<unknown>'"]
    assert summarize([]) == "matching"
    assert summarize(diffs) == "25 edge diffs, 1 config diffs"
    text = format_diffs(diffs)
    assert "edge (25):" in text and "... and 5 more" in text and "a19 -> b" in text
    assert "a20 -> b" not in text and "config (1):" in text
