"""The Python API: load models as graphs, lint them, fix source, insert BatchNormalization.

Everything here is importable without TensorFlow; Keras is imported only
when a live ``keras.Model`` is involved (passing one, ``to_keras()``,
:func:`insert_batchnorm`). Errors a user can cause raise
:class:`~bnlint.errors.UserError` subclasses (``InputError`` for a bad
path, ``ConfigError`` for an unknown rule or option) with a one-sentence
message; graph edits raise :class:`~bnlint.rewrite.RewriteError`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

from bnlint.diagnostics import Diagnostic
from bnlint.errors import ConfigError, InputError
from bnlint.graph import Layer, ModelGraph
from bnlint.readers.result import ReadResult
from bnlint.records import replace as _replace_fields

__all__ = ["load", "check", "fix_source", "insert_batchnorm"]

#: How a model read from a live object is named in findings: ``<model NAME>::layer``.
LIVE_DISPLAY = "<model {}>"


def load(source: str | os.PathLike | Any) -> list[ModelGraph]:
    """The layer graphs of a model file, Python source file, or live ``keras.Model``.

    The first graph is the model itself, then each nested model. For a
    ``.keras`` / ``.h5`` file or a live model, every node keeps its Keras
    serialisation, so the graph can be rewritten and rebuilt with
    :meth:`ModelGraph.to_keras`; the original weights are taken from the live
    model, or loaded from the file with Keras on first need. A live model
    is read from its serialised config (as saving it would write), never
    saved to disk. A Python file or Jupyter notebook gives the graphs
    ``bnlint check`` sees (a notebook's sites have lines of its code cells
    read as one source, as ``bnlint check`` reads them).

    Raises
    ------
    InputError
        The path cannot be read, or the object is not a functional or
        Sequential Keras model.

    Examples
    --------
    >>> import keras, bnlint
    >>> inputs = keras.Input((8,))
    >>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    >>> [graph] = bnlint.load(model)
    >>> [graph.layer(n).class_name for n in graph.nodes()]
    ['InputLayer', 'Dense']
    """
    if isinstance(source, (str, os.PathLike)):
        if not str(source):
            raise InputError("''", "is an empty path; name a model file")
        return _read(Path(source), str(source)).graphs
    return _load_live(source)


def check(
    target: ModelGraph | list[ModelGraph] | str | os.PathLike | Any,
    select: Iterable[str] | str | None = None,
    options: dict[str, Any] | None = None,
    ignore: Iterable[str] | str = (),
) -> list[Diagnostic]:
    """Lint a graph (or the graphs of one model), a path, or a live ``keras.Model``.

    *select* / *ignore* take what ``--select`` / ``--ignore`` take (codes, code
    prefixes, rule names, ``ALL``: a list, or one comma-separated string);
    without *select*, the default rules run.
    *options* are rule options by their ``[tool.bnlint]`` key
    (``{"bn-position": "before-activation"}``). For a path (a file or a
    directory), the path's ``[tool.bnlint]`` configuration applies as on the
    command line, with *select* replacing its selection and *options*
    overriding its options. New layers a rewrite inserted are reported as
    ``path::layer_name``.

    Raises
    ------
    InputError
        A path that does not exist or cannot be read.
    ConfigError
        An unknown rule selector or option, or an option value of the wrong type.

    Examples
    --------
    >>> import bnlint
    >>> source = '''
    ... import keras
    ... model = keras.Sequential([keras.layers.Dense(8), keras.layers.Dropout(0.5),
    ...                           keras.layers.BatchNormalization()])
    ... '''
    >>> from bnlint.readers.python_source import read_source
    >>> [d.code for d in bnlint.check(read_source(source, "m.py").graphs)]
    ['BN003']
    """
    from bnlint.engine import lint, resolve_selection

    overrides = _options(options)
    select, ignore = _selectors(select, "select"), _selectors(ignore, "ignore") or []
    if isinstance(target, (str, os.PathLike)):
        if not str(target):
            raise InputError("''", "is an empty path; name a file or directory ('.' for the current one)")
        return _check_path(str(target), select, ignore, overrides)
    graphs = _graphs(target)
    codes = resolve_selection(select, ignore)
    diagnostics: list[Diagnostic] = []
    for path in dict.fromkeys(_origin_path(graph) for graph in graphs):
        result = ReadResult(path, [g for g in graphs if _origin_path(g) == path])
        diagnostics.extend(lint(result, codes, overrides))
    return diagnostics


def fix_source(
    text: str,
    select: Iterable[str] | str | None = None,
    options: dict[str, Any] | None = None,
    unsafe: bool = False,
    path: str = "<string>",
) -> tuple[str, list[Diagnostic]]:
    """Fix Python model source text; return the new text and the findings that remain.

    Applies the safe fixes (and with *unsafe*, the unsafe ones too) until the
    text is stable, exactly as ``bnlint check --fix`` does to a file. *path*
    only names the text in the findings. Nothing is written anywhere. As
    ``bnlint check`` does with a file, text that names nothing a Keras model
    is made of (no ``keras``, ``tensorflow``, ``Dense``, ``Model(`` ...) is
    returned as it is, without being parsed.

    Raises
    ------
    InputError
        The text is not valid Python (and may build a Keras model).
    ConfigError
        An unknown rule selector or option.

    Examples
    --------
    >>> import bnlint
    >>> source = '''import keras
    ... model = keras.Sequential([
    ...     keras.layers.Conv2D(8, 3),
    ...     keras.layers.BatchNormalization(),
    ... ])
    ... '''
    >>> fixed, remaining = bnlint.fix_source(source)
    >>> "use_bias=False" in fixed, remaining
    (True, [])
    """
    from bnlint.engine import resolve_selection
    from bnlint.fixer import fix_source as fix

    if not isinstance(text, str):
        raise TypeError(f"fix_source() takes the source text as a str, not {type(text).__name__}"
                        + (" (decode it first)" if isinstance(text, (bytes, bytearray)) else ""))
    codes = resolve_selection(_selectors(select, "select"))
    bom = "\ufeff" if text.startswith("\ufeff") else ""  # (a file's byte order mark, decoded along: kept)
    outcome = fix(text[len(bom):], path, codes, _options(options), unsafe)
    return bom + outcome.text, outcome.diagnostics


def insert_batchnorm(
    model: Any,
    after: str | Iterable[str] | Callable[[Layer], bool],
    **batchnorm_config: Any,
) -> Any:
    """A new Keras model with a ``BatchNormalization`` after each chosen layer, all other weights kept.

    *after* chooses layers of the (outer) model by layer name or Keras class
    name (a string or several), or by a predicate on bnlint's
    :class:`~bnlint.graph.Layer` record (``lambda layer: layer.kind == "conv"``;
    ``layer.name``, ``layer.class_name``, ``layer.config`` are there too).
    *model* is a live ``keras.Model`` or a path to a ``.keras`` / ``.h5`` file.

    The new layers use bnlint's documented initialisation: gamma 1, beta 0,
    moving mean 0, moving variance 1, Keras' defaults epsilon 1e-3 and
    momentum 0.99 unless *batchnorm_config* says otherwise (any
    ``BatchNormalization`` argument). Their axis is the channel axis of the
    chosen layer's output (1 after a ``channels_first`` convolution, and after
    the pooling, padding, activations and merges that follow one; else -1), their
    dtype policy the chosen layer's (``mixed_float16`` stays so), and each
    is named ``<layer>_bn`` (``name=`` names the one BN when *after*
    chooses one layer). Every other layer keeps its weights bitwise. A layer
    with a fused activation (``Conv2D(..., activation="relu")``) gets its BN
    after that activation: the activation is part of the layer.
    The input model is not changed.

    Such a BN computes x / sqrt(1 + epsilon) in inference, so with the default
    epsilon the model's outputs change (more than epsilon / 2: a later BN
    subtracts its moving mean from the scaled values); ``epsilon=1e-9`` makes
    the new BNs exactly the identity in float32 until they are trained.

    Raises
    ------
    RewriteError
        Nothing matches *after*; or ``name=`` is taken, or *after* chooses several layers.

    Examples
    --------
    >>> import keras, bnlint
    >>> inputs = keras.Input((32, 32, 3), name="image")
    >>> x = keras.layers.Conv2D(8, 3, name="conv")(inputs)
    >>> model = keras.Model(inputs, keras.layers.ReLU(name="relu")(x))
    >>> bigger = bnlint.insert_batchnorm(model, after="Conv2D")
    >>> [layer.name for layer in bigger.layers]
    ['image', 'conv', 'conv_bn', 'relu']
    """
    from bnlint.layout import batchnorm_axis
    from bnlint.rewrite import RewriteError

    matches = _chooser(after)
    graph = load(model)[0]
    chosen = [node for node, layer in graph.layers() if layer.kind != "input" and matches(layer)]
    if not chosen:
        raise RewriteError(f"no layer of model '{graph.name}' matches after={after!r}")
    names = {layer.name for _, layer in graph.layers()}
    given = batchnorm_config.pop("name", None)
    if given is not None and (len(chosen) > 1 or given in names):
        problem = f"names one layer, and after={after!r} chooses {len(chosen)}" if len(chosen) > 1 else "is taken"
        raise RewriteError(f"name={given!r} {problem}")
    for node in chosen:
        layer = graph.layer(node)
        axis = batchnorm_axis(graph, node)
        name, number = given or f"{layer.name}_bn", 1
        while name in names:
            name, number = f"{layer.name}_bn_{number}", number + 1
        names.add(name)
        config = {"axis": axis, "momentum": 0.99, "epsilon": 1e-3, **batchnorm_config, "name": name}
        if "dtype" not in batchnorm_config and layer.config.get("dtype") is not None:
            config["dtype"] = layer.config["dtype"]  # (a mixed_float16 model's BN computes in float16 too)
        graph.insert_after(node, ("BatchNormalization", config))
    return graph.to_keras()


def _chooser(after: Any) -> Callable[[Layer], bool]:
    if callable(after):
        return after
    wanted = {after} if isinstance(after, str) else set(after) if isinstance(after, (list, tuple, set, frozenset)) \
        else {None}
    if not wanted or not all(isinstance(item, str) for item in wanted):
        raise TypeError(f"after= takes a layer name, a class name, a list of them, or a predicate, not {after!r}")
    return lambda layer: layer.name in wanted or layer.class_name in wanted


def _selectors(value: Iterable[str] | str | None, what: str) -> list[str] | None:
    """*select* / *ignore* as a list, each selector checked: a string is one comma-separated
    selector list, as on the command line.

    Raises
    ------
    TypeError
        *value* is not a string or an iterable of strings.
    ConfigError
        A selector names no rule (the message starts with *what*).
    """
    from bnlint.engine import resolve_selection

    if value is None:
        return None
    if isinstance(value, str):
        selectors = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, dict)):
        selectors = list(value)
    else:
        selectors = None
    if selectors is None or not all(isinstance(item, str) for item in selectors):
        raise TypeError(f"{what}= takes rule selectors (codes, prefixes, rule names, 'ALL') as a list of strings "
                        f"or one comma-separated string, not {value!r}")
    resolve_selection(selectors, origin=what)
    return selectors


def _read(path: Path, display: str) -> ReadResult:
    from bnlint.readers import read_path
    from bnlint.readers.modules import forget_answers

    forget_answers()  # each load sees the files as they are now
    if not path.exists():
        raise InputError(display, "no such file or directory")
    result = read_path(path, display)
    if path.suffix in (".keras", ".h5", ".hdf5") and result.graphs:
        _attach_weights(result.graphs[0], _FileModel(path, display))
    elif path.is_dir() and result.graphs:
        _attach_weights(result.graphs[0], _no_weights(display))
    return result


def _no_weights(display: str) -> Callable[[], Any]:
    def refuse() -> Any:
        raise InputError(display, "is a SavedModel directory, which Keras 3 cannot load, so its weights "
                                  "cannot be carried over (save the model as .keras to rebuild it)")

    return refuse


class _FileModel:
    """The Keras model in a saved file, loaded on first call (weights for ``to_keras``)."""

    def __init__(self, path: Path, display: str) -> None:
        self.path, self.display, self.model = path, display, None

    def __call__(self) -> Any:
        if self.model is None:
            import keras

            try:
                self.model = keras.saving.load_model(self.path, compile=False, safe_mode=True)
            except Exception as error:  # Keras raises many types for a file it cannot load
                raise InputError(self.display, f"cannot be loaded by Keras to take its weights "
                                               f"({type(error).__name__}: {error})") from error
        return self.model


def _load_live(model: Any) -> list[ModelGraph]:
    from bnlint.readers.saved_file import graphs_from_config

    keras = sys.modules.get("keras")  # a live model means Keras is imported already; never import it here
    if keras is None or not isinstance(model, keras.Model):
        raise InputError(repr(model)[:60], "is neither a path nor a Keras 3 keras.Model")
    display = LIVE_DISPLAY.format(model.name)
    try:
        spec = keras.saving.serialize_keras_object(model)
    except NotImplementedError:
        spec = {}
    if not isinstance(spec.get("config"), dict) or "layers" not in spec["config"]:
        raise InputError(display, "is a subclassed model; bnlint loads functional and Sequential models "
                                  "(their layer graph is in their config)")
    graphs = graphs_from_config(spec, display)
    _attach_weights(graphs[0], lambda: model)
    return graphs


def _attach_weights(graph: ModelGraph, source: Callable[[], Any]) -> None:
    """Give *graph* and its nested models' graphs their weight sources."""
    graph.weights = source
    for _, layer in graph.layers():
        if layer.kind == "model" and layer.submodel is not None and layer.submodel.weights is None:
            name = layer.name
            _attach_weights(layer.submodel, lambda parent=source, name=name: parent().get_layer(name))


def _graphs(target: Any) -> list[ModelGraph]:
    if isinstance(target, ModelGraph):
        return [target]
    if isinstance(target, (list, tuple)) and all(isinstance(g, ModelGraph) for g in target):
        return list(target)
    return load(target)


def _origin_path(graph: ModelGraph) -> str:
    return graph.origin.path if graph.origin is not None else "<graph>"


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    """Rule options, validated as ``[tool.bnlint]`` validates them."""
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options= takes a dict of rule options by their [tool.bnlint] key, not {options!r}")
    if not options:
        return {}
    from bnlint.engine import all_rules

    known = {key: option for rule in all_rules().values() for key, option in rule.options.items()}
    for key, value in options.items():
        if key not in known:
            raise ConfigError(f"options: unknown rule option '{key}' (known: {', '.join(sorted(known))})")
        problem = known[key].problem(value)
        if problem is not None:
            raise ConfigError(f"options: '{key}' {problem}")
    return dict(options)


def _check_path(argument: str, select: Any, ignore: Iterable[str], overrides: dict) -> list[Diagnostic]:
    from bnlint.checker import Selection, _per_file_ignored, check_file, codes_for
    from bnlint.discovery import discover

    targets, errors = discover([argument])
    if errors:
        raise errors[0]
    selection = Selection(tuple(select) if select is not None else None, tuple(ignore))
    diagnostics: list[Diagnostic] = []
    for target in targets:
        config = _replace_fields(target.config, options={**target.config.options, **overrides})
        codes = codes_for(config, selection) - _per_file_ignored(target.path, config)
        outcome = check_file(_replace_fields(target, config=config), frozenset(codes))
        if isinstance(outcome, Exception):
            raise outcome
        diagnostics.extend(outcome.diagnostics)
    return diagnostics
