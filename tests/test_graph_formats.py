"""`bnlint graph --format mermaid|dot`: drawings that parse and match the graph, with findings marked."""

from __future__ import annotations

import html
import json
import re
import shutil

import pydot
import pytest

from conftest import FIXTURES, ROOT, run_bnlint

# pydot's parser calls pyparsing names that pyparsing 3.3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MERGE = FIXTURES / "functional_merge_add_redundant_bias.py"
SAVED = ROOT / "fixtures" / "saved" / "functional_bias_dropout_momentum.keras"
ODD_NAMES = """\
import keras
from keras import layers

a = keras.Sequential([layers.Dense(8, name='say "hi" <b>'), layers.BatchNormalization(name="x#1 & `y`")])
b = keras.Sequential([layers.Dense(4), layers.Dropout(0.5), layers.BatchNormalization()])
"""

_NODE = re.compile(r'^  (n\d+)\["([^"]*)"\](:::finding)?$')
_EDGE = re.compile(r"^  (n\d+) --> (n\d+)$")
_ENTITY = re.compile(r"#(quot|lt|gt|amp|\d+);")


def mermaid_decode(label: str) -> list[str]:
    """The label's lines, entity codes resolved as Mermaid resolves them."""
    def entity(match: re.Match) -> str:
        name = match.group(1)
        return chr(int(name)) if name.isdigit() else html.unescape(f"&{name};")

    return [_ENTITY.sub(entity, line) for line in label.split("<br/>")]


def parse_mermaid(text: str) -> list[dict]:
    """Check *text* line by line against the flowchart grammar bnlint emits; return each block's nodes and edges."""
    blocks = re.findall(r"^```mermaid\n(.*?)\n```$", text, flags=re.MULTILINE | re.DOTALL)
    assert text.count("```") == 2 * len(blocks), "unbalanced code fences"
    parsed = []
    for block in blocks:
        lines = block.split("\n")
        assert lines[0] == "flowchart TD"
        nodes: dict[str, tuple[list[str], bool]] = {}
        edges = []
        for line in lines[1:]:
            if node := _NODE.match(line):
                assert node[1] not in nodes, f"node defined twice: {line}"
                nodes[node[1]] = (mermaid_decode(node[2]), bool(node[3]))
            elif edge := _EDGE.match(line):
                assert edge[1] in nodes and edge[2] in nodes, f"edge to an undefined node: {line}"
                edges.append((int(edge[1][1:]), int(edge[2][1:])))
            elif line.startswith("  %% ") or line.startswith("  classDef finding "):
                continue
            else:
                raise AssertionError(f"not flowchart syntax bnlint emits: {line!r}")
        parsed.append({"nodes": nodes, "edges": edges})
    return parsed


def graph_json(path, cwd) -> list[dict]:
    return json.loads(run_bnlint("graph", str(path), "--format", "json", cwd=cwd).stdout)


def findings_by_layer(path, cwd) -> dict[str, set[str]]:
    """Rule codes per layer name, from `bnlint check --output-format json`."""
    found: dict[str, set[str]] = {}
    for finding in json.loads(run_bnlint("check", str(path), "--output-format", "json", cwd=cwd).stdout):
        for layer in finding["layers"]:
            found.setdefault(layer, set()).add(finding["code"])
    return found


def test_mermaid_matches_the_graph_and_marks_findings(tmp_path):
    result = run_bnlint("graph", str(MERGE), "--format", "mermaid", cwd=tmp_path)
    assert result.returncode == 0
    (block,) = parse_mermaid(result.stdout)
    (model,) = graph_json(MERGE, tmp_path)
    findings = findings_by_layer(MERGE, tmp_path)
    assert sorted(findings) == ["conv2d_1", "conv2d_2"]
    assert len(block["nodes"]) == len(model["nodes"])
    for node in model["nodes"]:
        lines, marked = block["nodes"][f"n{node['id']}"]
        assert lines[:2] == [node["name"], node["class_name"]]
        codes = findings.get(node["name"], set())
        assert marked is bool(codes)
        if codes:
            assert set(lines[2].split()) == codes
        else:
            assert len(lines) == 2
    assert sorted(block["edges"]) == sorted((e["source"], e["target"]) for e in model["edges"])


def test_mermaid_escapes_labels_and_draws_one_block_per_model(tmp_path, write):
    write("odd.py", ODD_NAMES)
    result = run_bnlint("graph", "odd.py", "--format", "mermaid", cwd=tmp_path)
    first, second = parse_mermaid(result.stdout)
    labels = [lines[0] for lines, _ in first["nodes"].values()]
    assert labels == ['say "hi" <b>', "x#1 & `y`"]
    assert '"hi"' not in result.stdout and "<b>" not in result.stdout
    marked = [lines for lines, finding in second["nodes"].values() if finding]
    assert marked == [["dropout", "Dropout", "BN003"]]


def test_dot_parses_with_pydot_and_matches_the_graph(tmp_path):
    shutil.copy(SAVED, tmp_path / "model.keras")
    result = run_bnlint("graph", "model.keras", "--format", "dot", cwd=tmp_path)
    assert result.returncode == 0
    (graph,) = pydot.graph_from_dot_data(result.stdout)
    (model,) = graph_json("model.keras", tmp_path)
    findings = findings_by_layer("model.keras", tmp_path)
    assert findings == {"conv": {"BN004"}, "bn_momentum": {"BN006"}, "dropout": {"BN003"}}
    nodes = {node.get_name(): node for node in graph.get_nodes() if node.get_name() not in ("node", "edge", "graph")}
    assert len(nodes) == len(model["nodes"])
    for record in model["nodes"]:
        node = nodes[f"n{record['id']}"]
        lines = node.get("label").strip('"').split("\\n")
        assert lines[:2] == [record["name"], record["class_name"]]
        codes = findings.get(record["name"])
        assert (node.get("class") == '"finding"') is bool(codes)
        if codes:
            assert set(lines[2].split()) == codes
    edges = sorted((int(e.get_source()[1:]), int(e.get_destination()[1:])) for e in graph.get_edges())
    assert edges == sorted((e["source"], e["target"]) for e in model["edges"])
    merge_inputs = [e for e in graph.get_edges() if e.get("label")]
    assert [e.get("label") for e in merge_inputs] == ['"1"']  # the Add's second input


def test_dot_quotes_odd_names(tmp_path, write):
    write("odd.py", ODD_NAMES)
    result = run_bnlint("graph", "odd.py", "--format", "dot", cwd=tmp_path)
    first, second = pydot.graph_from_dot_data(result.stdout)
    labels = [n.get("label") for n in first.get_nodes() if n.get("label")]
    assert labels == ['"say \\"hi\\" <b>\\nDense\\nBN004"', '"x#1 & `y`\\nBatchNormalization"']
    assert second.get_name() == '"sequential_1"'


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_unreadable_path_is_exit_2(tmp_path, fmt):
    result = run_bnlint("graph", "missing.py", "--format", fmt, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", "bnlint: error: missing.py: no such file or directory\n")


def test_readme_mermaid_example_is_real_output(tmp_path, write):
    readme = (ROOT / "README.md").read_text().split("\n## Drawing a graph\n", 1)[1].split("\n## ", 1)[0]
    example = readme.split("````\n", 2)[1]
    write("bad.py", "from keras import layers, Sequential\nmodel = Sequential([\n    layers.Dense(8),\n"
                    "    layers.Dropout(0.5),\n    layers.BatchNormalization(momentum=0.1),\n])\n")
    assert run_bnlint("graph", "bad.py", "--format", "mermaid", cwd=tmp_path).stdout == example


def test_mermaid_warns_when_a_graph_exceeds_what_mermaid_draws(tmp_path, write):
    small = "import keras\nm = keras.Sequential([" + "keras.layers.Dense(4), " * 500 + "])\n"
    big = "import keras\nm = keras.Sequential([" + "keras.layers.Dense(4), " * 502 + "])\n"
    write("small.py", small)
    write("big.py", big)
    assert run_bnlint("graph", "small.py", "--format", "mermaid", cwd=tmp_path).stderr == ""  # 499 edges
    result = run_bnlint("graph", "big.py", "--format", "mermaid", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("```mermaid\n")
    assert result.stderr.startswith("bnlint: warning: big.py: model sequential has 501 edges and ")  # (names its file)
    assert result.stderr.rstrip().endswith("use --format dot for it")
