"""A model package in the keras-applications convention: Keras' modules are injected.

Its builders' modules hold ``layers = None`` and the like, and take Keras'
modules from their ``**kwargs`` with ``get_submodules_from_kwargs``; a
wrapper (``inject_keras_modules``) puts them there. Written for bnlint's
tests (``tests/test_injected_modules.py``), after the shape of the
``keras_applications``, ``efficientnet`` and ``segmentation_models``
packages.
"""

import functools

_KERAS_BACKEND = None
_KERAS_LAYERS = None
_KERAS_MODELS = None
_KERAS_UTILS = None


def get_submodules_from_kwargs(kwargs):
    backend = kwargs.get("backend", _KERAS_BACKEND)
    layers = kwargs.get("layers", _KERAS_LAYERS)
    models = kwargs.get("models", _KERAS_MODELS)
    utils = kwargs.get("utils", _KERAS_UTILS)
    unexpected = set(kwargs) - {"backend", "layers", "models", "utils"}
    if unexpected:
        raise TypeError(f"unexpected keyword arguments: {sorted(unexpected)}")
    return backend, layers, models, utils


def inject_keras_modules(builder):
    """*builder*, given Keras' own modules."""

    @functools.wraps(builder)
    def wrapper(*args, **kwargs):
        import keras

        kwargs.update(backend=keras.backend, layers=keras.layers, models=keras.models, utils=keras.utils)
        return builder(*args, **kwargs)

    return wrapper
