"""``bnlint fold --verify``: run the original and the folded model with real Keras and compare.

This is the only part of folding that imports Keras (and so TensorFlow).
Inputs are deterministic: standard normal floats from ``numpy`` seed 0 (for
integer inputs, integers in [0, 2)), with the model's own input shapes, batch
8, and 32 for any other unknown dimension. The check passes when the largest
absolute difference is at most ``1e-4`` times the largest absolute output and,
for every output whose last axis has more than one entry, the argmax along
that axis agrees for every sample. A model computing in half precision
(``mixed_float16``, ``mixed_bfloat16``, ``float16``) rounds every layer's
output to 11 or 8 significant bits, original and folded alike: there the
tolerance is 4 units in the last place of that type (``3.9e-3`` for
float16, ``3.1e-2`` for bfloat16), as 1e-4 is below what such a model
can resolve.

Keras 3.15 cannot load a tf_keras ``.h5`` file holding a DepthwiseConv,
SeparableConv or ConvTranspose layer: tf_keras writes keys of the base
convolution (``groups: 1``; for SeparableConv also ``kernel_initializer``,
``kernel_regularizer`` and ``kernel_constraint``, which it never uses) that
Keras 3's constructors reject. Both models are loaded with those keys dropped
(:func:`_keras2_compatible`), so a Keras 2 model can be verified; a
``groups`` other than 1 is kept, and the load fails as Keras would.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["RELATIVE_TOLERANCE", "VERIFY_STEPS", "VerifyResult", "compare_outputs", "tolerance", "verify_files",
           "verify_models"]

#: Largest accepted ``max |original - folded| / max |original|`` (of a model computing in float32 or wider).
RELATIVE_TOLERANCE = 1e-4

#: The tolerance of a model computing in a half-precision type: 4 units in its last place.
_HALF_PRECISION_TOLERANCE = {"float16": 4 * 2.0 ** -10, "bfloat16": 4 * 2.0 ** -7}  # (machine epsilons 2^-10, 2^-7)


@dataclass(frozen=True)
class VerifyResult:
    """How closely the folded model reproduces the original on one deterministic batch."""

    batch: int
    max_abs_error: float
    max_abs_output: float
    relative_error: float
    argmax_agree: int
    argmax_total: int
    #: Output values that are NaN or infinite in either model (the errors above are over the finite ones).
    non_finite: int = 0
    #: The largest accepted relative error: :data:`RELATIVE_TOLERANCE`, or more for a half-precision model.
    tolerance: float = RELATIVE_TOLERANCE

    @property
    def passed(self) -> bool:
        return (self.non_finite == 0 and self.relative_error <= self.tolerance
                and self.argmax_agree == self.argmax_total)

    def to_dict(self) -> dict:
        return {"batch": self.batch, "max_abs_error": self.max_abs_error, "max_abs_output": self.max_abs_output,
                "relative_error": self.relative_error, "argmax_agree": self.argmax_agree,
                "argmax_total": self.argmax_total, "non_finite": self.non_finite, "tolerance": self.tolerance,
                "passed": self.passed}

    def text(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        broken = f"{self.non_finite} output values not finite (NaN or inf), " if self.non_finite else ""
        return (f"verify ({verdict}): batch {self.batch}, {broken}max |error| {self.max_abs_error:.3g}, "
                f"{self.relative_error:.3g} of max |output| {self.max_abs_output:.3g} "
                f"(tolerance {self.tolerance:.2g}), " + (
                    f"argmax agrees on {self.argmax_agree}/{self.argmax_total}" if self.argmax_total
                    else "no argmax to compare (one value per output)"))


def compare_outputs(original: list[np.ndarray], folded: list[np.ndarray], batch: int,
                    tolerance: float = RELATIVE_TOLERANCE) -> VerifyResult:
    """Compare two models' outputs (lists of arrays, in output order)."""
    max_abs = max_out = 0.0
    agree = total = non_finite = 0
    for a, b in zip(original, folded):
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        finite = np.isfinite(a) & np.isfinite(b)  # (a NaN is never the largest of anything: count them apart)
        non_finite += int(finite.size - finite.sum())
        if finite.any():
            max_abs = max(max_abs, float(np.max(np.abs(a[finite] - b[finite]))))  # (inf - inf warns)
            max_out = max(max_out, float(np.max(np.abs(a[finite]))))
        if a.ndim >= 2 and a.shape[-1] > 1:
            same = np.argmax(a, axis=-1) == np.argmax(b, axis=-1)
            agree += int(same.sum())
            total += int(same.size)
    relative = max_abs / max_out if max_out > 0 else max_abs
    return VerifyResult(batch, max_abs, max_out, relative, agree, total, non_finite, tolerance)


def _inputs(model, batch: int, seed: int) -> list[np.ndarray] | dict[str, np.ndarray]:
    """One deterministic array per input of *model*; a dict by key for a model called with a dict."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = [batch] + [32 if size is None else int(size) for size in tuple(tensor.shape)[1:]]
        dtype = str(getattr(tensor, "dtype", "float32"))
        if "int" in dtype:
            arrays.append(rng.integers(0, 2, size=shape).astype(dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(dtype if "float" in dtype else "float32"))
    structure = _input_structure(model)
    if isinstance(structure, dict):  # Keras warns on (and may misorder) a list given for a dict of inputs
        by_tensor = {id(tensor): array for tensor, array in zip(model.inputs, arrays)}
        return {key: by_tensor[id(tensor)] for key, tensor in structure.items()}
    return arrays


def _input_structure(model):
    try:
        return model.input
    except (AttributeError, ValueError):  # a model Keras cannot name one input structure for
        return None


def _run(model, inputs: list[np.ndarray] | dict[str, np.ndarray]) -> list[np.ndarray]:
    result = model(inputs if isinstance(inputs, dict) or len(inputs) > 1 else inputs[0], training=False)
    if isinstance(result, dict):
        result = [result[key] for key in sorted(result)]
    if not isinstance(result, (list, tuple)):
        result = [result]
    return [np.asarray(item) for item in result]


#: Steps :func:`verify_files` reports to its *step* callback (import, 2 loads, 2 runs).
VERIFY_STEPS = 5


def _no_step() -> None:
    pass


def verify_models(original, folded, batch: int = 8, seed: int = 0, step: Callable[[], None] = _no_step
                  ) -> VerifyResult:
    """Compare two live Keras models on the same deterministic batch."""
    inputs = _inputs(original, batch, seed)
    expected = _run(original, inputs)
    step()
    actual = _run(folded, inputs)
    step()
    return compare_outputs(expected, actual, batch, max(tolerance(original), tolerance(folded)))


def tolerance(model) -> float:
    """The relative error *model*'s compute precision allows: more than :data:`RELATIVE_TOLERANCE` in half precision."""
    allowed = RELATIVE_TOLERANCE
    for layer in _all_layers(model):
        compute = getattr(layer, "compute_dtype", None)
        allowed = max(allowed, _HALF_PRECISION_TOLERANCE.get(str(compute), RELATIVE_TOLERANCE))
    return allowed


def _all_layers(model):
    for layer in getattr(model, "layers", ()):
        yield layer
        yield from _all_layers(layer)  # (a nested model's own)


def verify_files(original: Path, folded: Path, batch: int = 8, seed: int = 0,
                 step: Callable[[], None] = _no_step) -> VerifyResult:
    """Load both saved models with Keras (``compile=False``) and compare them.

    *step* is called after each of the :data:`VERIFY_STEPS` slow steps (for a progress bar).
    """
    keras = _import_keras()
    step()
    before = _load(keras, original, f"{folded}: was written, but could not be verified because Keras "
                                    f"{keras.__version__} cannot load {original}")
    step()
    after = _load(keras, folded, f"{folded}: was written, but Keras {keras.__version__} cannot load it to verify it")
    step()
    try:
        return verify_models(before, after, batch, seed, step)
    except Exception as error:  # noqa: BLE001 - a model Keras loads but cannot run (a Sequential never built)
        from bnlint.errors import UserError

        raise UserError(f"{folded}: was written, but could not be verified because Keras {keras.__version__} "
                        f"cannot run {original} ({_reason(error)})") from None


def _import_keras():
    """``import keras``, with TensorFlow's start-up chatter kept off standard error.

    ``TF_CPP_MIN_LOG_LEVEL=2`` quiets TensorFlow's logging, but not the lines
    its native code writes before logging is set up (TensorFlow 2.21's
    "All log messages before absl::InitializeLog() ..." and oneDNN notice),
    so the import runs with file descriptor 2 on ``/dev/null``. A user who
    sets ``TF_CPP_MIN_LOG_LEVEL`` below 2 sees everything.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "keras" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] not in ("2", "3"):
        import keras

        return keras
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        import keras
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras


def _load(keras, path: Path, failure: str):
    """``keras.saving.load_model`` (see :func:`_keras2_compatible`); a failure is a one-sentence UserError."""
    from bnlint.errors import UserError

    custom = _keras2_compatible(keras) if path.suffix.lower() in (".h5", ".hdf5") else None
    try:
        return keras.saving.load_model(path, compile=False, custom_objects=custom)
    except Exception as error:  # noqa: BLE001 - any loading failure is reported in one sentence
        raise UserError(f"{failure} ({_reason(error)})") from None


def _reason(error: Exception) -> str:
    """``TypeError: <the reason Keras gives, in one line>`` (see :func:`bnlint.keras_build.keras_reason`)."""
    from bnlint.keras_build import keras_reason

    return keras_reason(error)


# Keys tf_keras writes for these layers that Keras 3 rejects, and the only value each may have to be dropped
# (None: any value; the layers do not use them).
_KERAS2_ONLY_KEYS = {"groups": 1, "kernel_initializer": None, "kernel_regularizer": None, "kernel_constraint": None}


def _keras2_compatible(keras) -> dict:
    """Custom objects for the Keras 3 classes that cannot read what tf_keras wrote for them."""
    objects = {}
    for name in ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
                 "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):
        base = getattr(keras.layers, name)

        def from_config(cls, config: dict, _base=base):
            config = {key: value for key, value in config.items() if key not in _KERAS2_ONLY_KEYS
                      or _KERAS2_ONLY_KEYS[key] not in (None, value)}
            return _base.from_config.__func__(cls, config)

        objects[name] = type(name, (base,), {"from_config": classmethod(from_config)})
    return objects
