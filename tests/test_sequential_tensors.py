"""Functional models made from a Sequential's own tensors: `seq.inputs`, `seq.input`, `seq.output`
and `seq.get_layer(name).output` (the Keras guide's feature extractor).

They were unknown: the guide's `feature_extractor` was not read at all, and a head put on a
Sequential encoder had no input. Each model is compared with the one real Keras builds.
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from test_applications_fidelity import graph_as_keras_builds

EXTRACTORS = ROOT / "tests" / "data" / "sequential_tensors" / "extractors.py"


@pytest.mark.parametrize("builder", ["build_feature_extractor", "build_decoder", "build_on_top"])
def test_a_model_made_from_a_sequential_s_tensors_is_read_as_keras_builds_it(builder):
    graph = graph_as_keras_builds(EXTRACTORS, builder)
    assert graph["inputs"] and graph["nodes"][graph["inputs"][0]]["class_name"] == "InputLayer"
