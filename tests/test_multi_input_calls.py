"""A layer called on several tensors has them all as inputs, as Keras records the call.

``MultiHeadAttention()(query, value)`` and a loss layer's ``(labels, logits)``
were read with their first tensor only, which cut the graph.
"""

from __future__ import annotations

from conftest import ROOT
from test_applications_fidelity import compare, keras_and_bnlint

SOURCE = ROOT / "tests" / "data" / "multi_input_calls" / "transformer_ctc.py"


def test_every_tensor_argument_is_an_input_as_in_keras():
    reference, graph, graphs = keras_and_bnlint(SOURCE, "transformer_ocr")
    assert compare(reference, graph, graphs) == []
    names = [node["name"] for node in graph["nodes"]]
    sources = {names[node]: sorted((names[e["source"]], e["index"]) for e in graph["edges"] if e["target"] == node)
               for node in range(len(names))}
    assert sources["attention"] == [("context", 1), ("embed_bn", 0)]
    assert sources["ctc_loss"] == [("labels", 0), ("logits", 1)]
