"""bnlint: lint, fix and fold the BatchNormalization structure of Keras models.

Importing bnlint imports neither TensorFlow nor Keras: the public API below
is loaded on first use, and Keras only when a live model is involved.

>>> import bnlint
>>> [d.code for d in bnlint.check("fixtures/saved/functional_bias_dropout_momentum.keras", select=["BN004"])]
['BN004']
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing is not imported at run time: a cached run would pay for it
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

# Public name -> the module that defines it (imported when the name is first used).
_EXPORTS = {
    "load": "bnlint.api",
    "check": "bnlint.api",
    "fix_source": "bnlint.api",
    "insert_batchnorm": "bnlint.api",
    "fold": "bnlint.folding",
    "ModelGraph": "bnlint.graph",
    "Layer": "bnlint.graph",
    "UNKNOWN": "bnlint.graph",
    "Diagnostic": "bnlint.diagnostics",
    "RewriteError": "bnlint.rewrite",
    "BuildError": "bnlint.keras_build",
    "UserError": "bnlint.errors",
    "InputError": "bnlint.errors",
    "ConfigError": "bnlint.errors",
}
_SUBMODULES = ("adapt",)

__all__ = sorted(_EXPORTS) + list(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'bnlint' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
