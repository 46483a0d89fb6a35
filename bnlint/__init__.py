"""bnlint: lint, fix and fold the BatchNormalization structure of Keras models.

Importing bnlint imports neither TensorFlow nor Keras.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """Import the public API lazily, so ``import bnlint`` stays light."""
    if name == "fold":
        from bnlint.folding import fold

        return fold
    raise AttributeError(f"module 'bnlint' has no attribute {name!r}")
