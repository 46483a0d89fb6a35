"""A layer called on several tensors has them all as inputs, as Keras records the call.

``MultiHeadAttention()(query, value)`` and a loss layer's ``(labels, logits)``
were read with their first tensor only, which cut the graph.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT
from test_applications_fidelity import bnlint_graphs, compare, select_graph

SOURCE = ROOT / "tests" / "data" / "multi_input_calls" / "transformer_ctc.py"

KERAS_SIDE = r"""
import json, runpy, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
from keras_reference import describe_config
model = runpy.run_path(sys.argv[2])["transformer_ocr"]()
print(json.dumps(describe_config(model.get_config(), type(model).__name__)))
"""


def test_every_tensor_argument_is_an_input_as_in_keras():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", KERAS_SIDE, str(ROOT / "tests"), str(SOURCE)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    reference = json.loads(result.stdout.splitlines()[-1])
    graphs, error = bnlint_graphs(str(SOURCE))
    assert error is None, error
    graph = select_graph(graphs, "transformer_ocr")
    assert compare(reference, graph, graphs) == []
    names = [node["name"] for node in graph["nodes"]]
    sources = {names[node]: sorted((names[e["source"]], e["index"]) for e in graph["edges"] if e["target"] == node)
               for node in range(len(names))}
    assert sources["attention"] == [("context", 1), ("embed_bn", 0)]
    assert sources["ctc_loss"] == [("labels", 0), ("logits", 1)]
