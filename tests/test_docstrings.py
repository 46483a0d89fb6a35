"""The examples in the API modules' (and a few others') docstrings run (doctest), Keras ones included."""

from __future__ import annotations

import doctest
import importlib

import pytest

from conftest import ROOT

MODULES = ["bnlint", "bnlint.graph", "bnlint.rewrite", "bnlint.api", "bnlint.keras_build", "bnlint.adapt",
           "bnlint.writers.arguments", "bnlint.reporters.text", "bnlint.config", "bnlint.folding.validate", "bnlint.layout"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    if name in ("bnlint.keras_build", "bnlint.adapt", "bnlint.api", "bnlint.graph"):
        pytest.importorskip("keras")
    monkeypatch.chdir(ROOT)  # examples name repository fixtures by relative path
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
