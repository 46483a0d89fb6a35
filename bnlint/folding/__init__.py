"""Fold inference-mode BatchNormalization into the layers next to it, in saved Keras models.

The input is a Keras 3 ``.keras`` or ``.h5`` file, or a Keras 2 (tf_keras)
``.h5`` or ``.keras`` file, which is written back as a Keras 2 ``.h5`` file.

:func:`fold_file` reads a ``.keras``/``.h5`` file with h5py, checks that its
config has the structure folding reads (:mod:`bnlint.folding.validate`),
decides per BN (:mod:`bnlint.folding.plan`), computes new weights in float64
(:mod:`bnlint.folding.maths`) and writes the folded model
(:mod:`bnlint.folding.archive`) — no TensorFlow involved. :func:`fold` is the
Python API; it imports Keras only for a live ``keras.Model`` or ``verify=True``.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from bnlint.errors import InputError, UserError

__all__ = ["FoldReport", "FoldResult", "fold", "fold_file"]


@dataclass
class FoldReport:
    """Per-BN decisions of one fold, notes, and the verification when one ran."""

    input: str
    output: str
    decisions: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verify: Any = None  # a bnlint.folding.verify.VerifyResult
    #: Why ``--verify`` could not run, when Keras could not load a model (the folded one was written).
    verify_error: str | None = None

    @property
    def folded(self) -> list:
        return [d for d in self.decisions if d.folded]

    @property
    def refused(self) -> list:
        return [d for d in self.decisions if not d.folded]

    def to_dict(self) -> dict:
        """The ``--report json`` document (see the README for its fields)."""
        return {
            "input": self.input,
            "output": self.output,
            "batchnorm_layers": len(self.decisions),
            "folded": len(self.folded),
            "refused": len(self.refused),
            "decisions": [decision.to_dict() for decision in self.decisions],
            "notes": list(self.notes),
            "verify": self.verify.to_dict() if self.verify is not None else None,
            "verify_error": self.verify_error,
        }

    def text(self, verbose: bool = False) -> str:
        """The human-readable report ``bnlint fold`` prints: refusals, and with *verbose* every fold too."""
        lines = [f"{self.input} -> {self.output}"]
        for decision in self.decisions:
            if decision.folded and not verbose:
                continue
            if decision.folded:
                where = "after" if decision.position == "after" else "before"
                kept = (f"; as the BN gave a model output, '{decision.into}' takes its name "
                        f"'{decision.renamed_to}'" if decision.renamed_to else "")
                lines.append(f"  folded   {decision.batchnorm} into {decision.into} (the BN was {where} it{kept})")
            else:
                lines.append(f"  refused  {decision.batchnorm}: {decision.reason}")
        count = len(self.decisions)
        lines.append(f"Folded {len(self.folded)} of {count} BatchNormalization layer{'s' if count != 1 else ''}"
                     f"{f'; {len(self.refused)} refused' if self.refused else ''}.")
        if self.verify is not None:
            lines.append(self.verify.text())
        return "\n".join(lines) + "\n"


class FoldResult(NamedTuple):
    """What :func:`fold` returns: the folded model (a path, or a live Keras model) and the report."""

    model: Any
    report: FoldReport


def fold_file(source: str | os.PathLike, out: str | os.PathLike, *, fold_preceding: bool = False,
              force: bool = False, verify: bool = False, progress: bool = False) -> FoldReport:
    """Fold the BNs of the saved model *source* and write the result to *out*.

    *out* is a ``.keras`` file unless it ends in ``.h5``; it is written
    atomically, must differ from *source*, and may exist only with *force*.
    With *verify*, both models are run with Keras (see
    :mod:`bnlint.folding.verify`) and the result is in ``report.verify``;
    *progress* then draws a progress bar on a terminal (:mod:`bnlint.progress`).

    Raises
    ------
    UserError
        Unreadable or unsupported input, or an output that may not be written;
        the message is one sentence naming the file.

    Example
    -------
    >>> report = fold_file("model.keras", "model.folded.keras")  # doctest: +SKIP
    >>> print(report.text())  # doctest: +SKIP
    """
    from bnlint.folding.archive import open_saved_model, write_saved_model
    from bnlint.folding.maths import FoldRefused
    from bnlint.folding.plan import plan_and_fold

    for given in (source, out):
        if not str(given):  # (Path("") is the current directory)
            raise InputError("''", "is an empty path; name a .keras or .h5 file")
    source, out = Path(source), Path(out)
    if not source.exists():
        raise InputError(str(source), "does not exist")
    if not source.is_file() and not source.is_dir():  # (reading a FIFO would wait for a writer forever)
        raise InputError(str(source), "is not a regular file or a directory (a FIFO, socket or device), "
                                      "so bnlint cannot read it")
    if out.suffix.lower() not in (".keras", ".h5", ".hdf5"):
        raise UserError(f"{out}: the output must end in .keras or .h5")
    if out.exists() or out.is_symlink():
        if out.exists() and source.resolve() == out.resolve():
            raise UserError(f"{out}: the output must not be the input file")
        if not force:
            raise UserError(f"{out}: already exists (use --force to overwrite it)")
        if out.is_dir():
            raise UserError(f"{out}: is a directory")
    if not out.parent.is_dir():
        raise UserError(f"{out}: its directory does not exist")
    stack = ExitStack()  # (a scratch directory, when the original must be verified as .h5)
    original = source
    model = open_saved_model(source, str(source))
    try:
        try:
            plan = plan_and_fold(model.config, model.layer_weights, fold_preceding, nested=model.nested_problem)
        except FoldRefused as refusal:
            raise InputError(str(source), f"cannot be folded: {refusal.reason}") from None
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise InputError(str(source), f"has a model config bnlint cannot fold "
                                          f"({type(error).__name__}: {error})") from None
        report = FoldReport(str(source), str(out), plan.decisions)
        try:
            write_saved_model(model, plan.config, plan.replaced, out, report.notes, plan.renamed)
        except UserError:
            raise
        # (h5py's, while copying weights; AttributeError and the like: a config the checks let through)
        except (OSError, RuntimeError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise UserError(f"{out}: could not be written from {source} ({type(error).__name__}: {error}); "
                            f"nothing was written") from None
        if verify and model.format == "keras" and model.is_keras_2:
            # Keras 3 cannot load tf_keras' own archives: the original runs as the same model saved as .h5.
            original = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bnlint-verify-"))) / "original.h5"
            try:
                write_saved_model(model, model.config, {}, original, [])
            except (UserError, OSError, RuntimeError, KeyError, TypeError, ValueError) as error:
                stack.close()
                raise UserError(f"{out}: was written, but could not be verified: bnlint could not write {source} "
                                f"as .h5 for Keras to load ({type(error).__name__}: {error})") from None
    finally:
        model.close()
    with stack:
        if verify:
            from bnlint.folding.verify import VERIFY_STEPS, verify_files
            from bnlint.progress import progress_bar

            try:
                with progress_bar(VERIFY_STEPS, "verifying", enabled=progress) as bar:
                    report.verify = verify_files(original, out, step=bar.advance)
            except UserError as error:  # (a custom layer, a Lambda: the fold stands, its report too)
                report.verify_error = str(error)
    return report


def fold(model: Any, out: str | os.PathLike | None = None, *, fold_preceding: bool = False,
         force: bool = False, verify: bool = False) -> FoldResult:
    """Fold BatchNormalization for inference, in a saved model or a live ``keras.Model``.

    Given a path, *out* is required: the folded model is written there (no
    TensorFlow is imported unless *verify*) and ``result.model`` is *out* as a
    :class:`~pathlib.Path`. Given a ``keras.Model``, the model is saved to a
    temporary ``.keras`` file, folded, and loaded back: ``result.model`` is a
    new live model (the input is not changed); *out*, when given, also keeps
    the folded file. The live model's ``Lambda`` layers and custom classes
    (registered or not) load back, since the file holds the caller's own
    model; ``report.output`` is *out*, or ``"NAME (folded, in memory)"``.

    Raises
    ------
    UserError
        The model cannot be read, folded or written (the message names the
        file, or ``model 'NAME'`` for a live model), or, live, Keras cannot
        save it or load the folded model back (a custom layer without a
        working ``get_config``).

    Example
    -------
    >>> import bnlint, keras
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4),
    ...                           keras.layers.BatchNormalization()])
    >>> folded, report = bnlint.fold(model)
    >>> [layer.__class__.__name__ for layer in folded.layers]
    ['Dense']
    >>> len(report.folded)
    1
    """
    if isinstance(model, (str, os.PathLike)):
        if out is None:
            raise UserError(f"{model}: bnlint.fold needs `out`, the path to write the folded model to")
        report = fold_file(model, out, fold_preceding=fold_preceding, force=force, verify=verify)
        if report.verify_error is not None:
            raise UserError(report.verify_error)
        return FoldResult(Path(out), report)
    import keras

    from bnlint.keras_build import keras_reason

    if not isinstance(model, keras.Model):
        raise TypeError(f"bnlint.fold takes a path or a keras.Model, not {type(model).__name__}")
    display = f"model '{model.name}'"
    with tempfile.TemporaryDirectory(prefix="bnlint-fold-") as directory:
        source = Path(directory) / "model.keras"
        try:
            model.save(source)
        except Exception as error:  # Keras raises many types for a model it cannot save
            raise UserError(f"{display}: cannot be saved as .keras to be folded ({keras_reason(error)})") from None
        target = Path(out) if out is not None else Path(directory) / "folded.keras"
        try:
            report = fold_file(source, target, fold_preceding=fold_preceding, force=force)
        except InputError as error:
            if error.path != str(source):
                raise
            raise InputError(display, error.problem) from None  # (not the temporary file, which the user never saw)
        try:
            # The file was written just now from the caller's own model: its Lambda layers load back,
            # and its custom classes are at hand, registered or not.
            classes = {type(layer).__name__: type(layer) for layer in model._flatten_layers(include_self=False)}
            folded = keras.saving.load_model(target, compile=False, safe_mode=False, custom_objects=classes)
        except Exception as error:  # a custom layer whose from_config() fails, ...
            raise UserError(f"{display}: was folded, but Keras cannot load the folded model back "
                            f"({keras_reason(error)})") from None
    report.output = str(target) if out is not None else f"{model.name} (folded, in memory)"
    report.input = getattr(model, "name", "model")
    if verify:
        from bnlint.folding.verify import verify_models

        report.verify = verify_models(model, folded)
    return FoldResult(folded, report)
