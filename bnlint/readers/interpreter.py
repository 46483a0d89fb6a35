"""A static interpreter for model-building Python code.

It walks a module's ``ast`` and evaluates it abstractly: values it can know
(numbers, strings, containers, user functions, imported names) are computed;
anything else is :data:`~bnlint.graph.UNKNOWN`. Calls on imported objects go
to :class:`~bnlint.readers.builder.ModelBuilder`, which turns Keras calls
into layer nodes. The user's code is never imported or executed: no builtin
with side effects is ever called, only pure functions on known values.

Limits keep every file finite: loop iterations, call depth and layer count
are capped; hitting a cap stops that part of the analysis and is recorded
in :attr:`Interpreter.notes`.
"""

from __future__ import annotations

import ast
import os
from functools import cached_property
from pathlib import Path

from bnlint import kinds
from bnlint.graph import UNKNOWN, Site
from bnlint.readers.builder import (
    WELL_KNOWN_NAMES,
    ExternalRef,
    KerasObject,
    LayerValue,
    ModelBuilder,
    ModelLayer,
    ModelValue,
    SequentialValue,
    TensorValue,
    canonical_name,
)
from bnlint.readers.hyperparameters import HyperParameters, HyperParameterScope, is_tuner_path
from bnlint.readers.known_values import (
    BINARY_OPERATORS,
    COMPARISONS,
    MAX_VALUE_SIZE,
    PURE_BUILTINS,
    PURE_CONSTANTS,
    PURE_FUNCTIONS,
    PURE_METHODS,
    UNARY_OPERATORS,
    call_pure,
    is_iterable,
    is_namedtuple_class,
    is_plain,
    modest_template,
    size_of,
    too_big_product,
)
from bnlint.readers.modules import note_read, resolve_module
from bnlint.errors import InputError
from bnlint.readers.python_source import decode_source, parse_python
from bnlint.records import dataclass, field

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Interpreter", "MAX_LOOP_ITERATIONS", "MAX_CALL_DEPTH", "MAX_LAYERS"]

MAX_LOOP_ITERATIONS = 10_000
#: A ``for`` loop stops once this many iterations in a row, past as many first ones, changed nothing.
IDLE_ITERATIONS = 100
MAX_CALL_DEPTH = 40
MAX_LAYERS = 50_000
# Other arguments a subclassed layer or model is read with, besides the first (to check fixes); past
# them, it is read once more with those arguments unknown.
_MAX_VARIANTS = 3
class AnalysisLimit(Exception):
    """A cap was hit; the message says which."""


class _TooManyItems(Exception):
    """A comprehension went past :data:`MAX_LOOP_ITERATIONS` items."""


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Abort(Exception):
    """A ``raise`` statement: the path that reached it is not one a model is built on."""


_NO_DEFAULT = object()


@dataclass(eq=False)
class FunctionValue:
    """A user-defined function or lambda, with the scope it closes over.

    Default values are evaluated once, when the ``def`` runs, as in Python.
    """

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    closure: "_Scope"
    defaults: list[Any]
    kw_defaults: list[Any]
    module: Any = None  # the _Module it was defined in


@dataclass(eq=False)
class PartialValue:
    """``functools.partial(func, *args, **kwargs)``."""

    func: Any
    args: list[Any]
    kwargs: dict[str, Any]
    node: ast.AST | None = None  # the call that made it


@dataclass(eq=False)
class ClassValue:
    """A class defined in the file; ``keras_base`` when it derives from a Keras layer or model."""

    node: ast.ClassDef
    keras_base: str | None
    methods: dict[str, FunctionValue]
    #: ``fit(...)`` calls on instances of a subclassed model (its graph gets them when it is read).
    fits: list = field(default_factory=list)
    #: Whether it derives from ``keras_tuner.HyperModel``: its ``build(hp)`` makes the model.
    hypermodel: bool = False
    #: Its bases that are classes of the code's own, in order.
    parents: list = field(default_factory=list)
    #: Its class-level variables (``expansion = 4``, a dataclass field's default), by name.
    attrs: dict = field(default_factory=dict)
    #: For a ``@dataclass`` that does not write its own ``__init__``: its fields, in order.
    fields: list | None = None
    #: For a Keras subclass: the arguments the file first instantiates it with (``Stage(8, 2)``),
    #: those that are not plain data UNKNOWN; its own reading uses them.
    example: tuple[list, dict] | None = None
    #: The other arguments the file instantiates it with, read only to check fixes (a few, in order),
    #: and past those, one set with every argument unknown (each position and keyword used past them).
    variants: list = field(default_factory=list)
    unknown_variant: tuple[list, dict] | None = None


@dataclass(eq=False)
class InstanceValue:
    """``self`` while a subclassed layer or model is analysed: its attributes are its sublayers."""

    cls: ClassValue
    attrs: dict[str, Any]
    #: The name Keras gives the object (its class's, snake_cased and numbered), when known.
    name: str | None = None
    #: The functional model ``super().__init__(inputs, outputs)`` made of it, if any.
    model: Any = None


@dataclass(eq=False)
class _Super:
    """``super()`` in a method of *instance* (the method's node): only ``__init__`` means something here."""

    instance: InstanceValue
    method: Any = None


class _Scope:
    """Variables of one frame, chained to the enclosing (closure) scope."""

    def __init__(self, parent: _Scope | None = None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent
        #: Names a ``global`` or ``nonlocal`` statement gave to another scope, with that scope.
        self.outer: dict[str, _Scope] | None = None

    def lookup(self, name: str) -> tuple[bool, Any]:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return True, scope.vars[name]
            scope = scope.parent
        return False, None


class _Module:
    """A source file being evaluated: where sites point, and what it binds."""

    def __init__(self, path: str, lines: list[str], tree: ast.Module, file: Path | None) -> None:
        self.path = path
        self.lines = lines
        self.tree = tree
        self.file = file

    @cached_property
    def bound_names(self) -> set[str]:
        # Needed only when a name is found nowhere, so computed only then.
        return _names_bound_in(self.tree)

    @cached_property
    def yields(self) -> bool:
        """Whether the word ``yield`` is in the file: without it, no function of it is a generator."""
        return any("yield" in line for line in self.lines)


@dataclass(eq=False)
class LocalModule:
    """A module of the reading file's own package, read (not imported) on first use."""

    qualname: str
    file: Path
    display: str


@dataclass(eq=False)
class _LazyImport:
    """``from .blocks import conv_bn``: the name, resolved when first used."""

    module: LocalModule
    name: str


class Interpreter:
    """Evaluates one module and collects the Keras models it builds.

    Parameters
    ----------
    tree:
        The parsed module.
    path:
        The file's path as it should appear in sites.
    lines:
        The file's lines, used to turn ``ast``'s UTF-8 byte offsets into columns.
    """

    def __init__(self, tree: ast.Module, path: str, lines: list[str], file: Path | None = None) -> None:
        self.tree = tree
        self.path = path
        self.builder = ModelBuilder(path)
        self.notes: list[str] = []
        #: Models of subclassed layers made with other arguments, read only to check fixes.
        self.variants: list[ModelGraph] = []
        self._tensor_params: dict[ast.AST, frozenset[str]] = {}
        self._depth = 0
        self._module = _Module(path, lines, tree, file)
        self._invoked: set[ast.AST] = set()
        self._module_scope = _Scope()
        self._loaded: dict[Path, _Scope] = {}
        self._resolved: dict[Path, Path] = {}
        self._sites: dict[ast.AST, Site] = {}
        # How many calls of each function are under way; for the recursive ones (all but the
        # outermost), their arguments and what they could read.
        self._active: dict[ast.AST, int] = {}
        self._recursing: dict[ast.AST, list[tuple[list, dict, list]]] = {}
        # Loops running their one iteration for a count bnlint does not know (see _exec_For).
        self._loops_run_once: set[ast.AST] = set()
        # Calls of functions that work on plain data alone, and their results (:meth:`_data_call_key`).
        self._data_functions: dict[ast.AST, tuple[tuple[str, ...], frozenset[str]] | None] = {}
        self._data_results: dict[tuple, Any] = {}
        self._guards_fired = 0  # (a result that a recursion guard made unknown depends on its caller)
        self.builder.user_activation = self._user_activation
        self._user_activations: dict[FunctionValue, Any] = {}
        self._layer_activations: dict[ClassValue, str | None] = {}

    def run(self) -> list:
        """Evaluate the module; return its :class:`~bnlint.graph.ModelGraph` objects.

        Then every top-level function that the module never called is
        analysed as an entry point with its default arguments (required ones
        UNKNOWN), so that model builders in a library file are checked: first
        the functions no other function names (``ResNet50``), then any
        helper still not reached.
        """
        scope = self._module_scope
        try:
            self._exec_block(self.tree.body, scope)
        except AnalysisLimit as limit:
            self.notes.append(str(limit))
        except (_Return, _Break, _Continue, _Abort):
            pass
        functions = [
            scope.vars[node.name]
            for node in self.tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and isinstance(scope.vars.get(node.name), FunctionValue)
            and scope.vars[node.name].node is node
        ]
        referenced = _names_used_by_other_functions(self.tree)
        roots = [f for f in functions if f.node.name not in referenced]
        for function in roots + [f for f in functions if f not in roots]:
            if function.node not in self._invoked:
                self._analyse_entry(function)
        for node in self.tree.body:
            cls = scope.vars.get(node.name) if isinstance(node, ast.ClassDef) else None
            if not (isinstance(cls, ClassValue) and cls.node is node):
                continue
            if cls.hypermodel and "build" in cls.methods and cls.methods["build"].node not in self._invoked:
                self._analyse_hypermodel(cls)
            if not cls.keras_base:
                if not cls.hypermodel and cls.node not in self._invoked and _names_keras_layers(cls.node):
                    self._analyse_plain_class(cls)
                continue
            if "call" in cls.methods:
                self._analyse_class(cls)
                for example in [*cls.variants, *([cls.unknown_variant] if cls.unknown_variant else [])]:
                    self._analyse_variant(cls, example)
            elif (cls.keras_base == "keras.Model" or cls.keras_base.endswith(".Sequential")) and _defines(
                    node, "__init__") and (
                    cls.methods["__init__"].node not in self._invoked):  # (not if the file instantiates it)
                self._analyse_functional_class(cls)
        self.builder.user_activation = None  # (a cycle: the builder would keep this interpreter alive)
        return self.builder.finish()

    def _analyse_entry(self, function: FunctionValue) -> None:
        self.builder.begin_entry(function.node.name)
        kwargs: dict[str, Any] = {"**entry": True}
        if _requires(function, "hp"):  # KerasTuner's `def build_model(hp):`
            kwargs["hp"] = self._hyperparameters()
        try:
            self._call_function(function, [], kwargs, function.node)
        except AnalysisLimit as limit:
            self.notes.append(str(limit))
        finally:
            self.builder.begin_entry(None)

    # -- positions -------------------------------------------------------

    def site(self, node: ast.AST) -> Site:
        site = self._sites.get(node)
        if site is None:
            site = self._sites[node] = self._make_site(node)
        return site

    def _make_site(self, node: ast.AST) -> Site:
        return Site(
            self._module.path,
            node.lineno,
            self._column(node.lineno, node.col_offset) + 1,
            node.end_lineno or node.lineno,
            self._column(node.end_lineno or node.lineno, node.end_col_offset or 0) + 1,
        )

    def _column(self, line: int, byte_offset: int) -> int:
        """ast offsets count UTF-8 bytes; users count characters."""
        lines = self._module.lines
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace"))

    # -- statements ------------------------------------------------------

    def _exec_block(self, body: list[ast.stmt], scope: _Scope) -> None:
        for statement in body:
            self._exec(statement, scope)

    def _exec(self, node: ast.stmt, scope: _Scope) -> None:
        method = _STATEMENTS.get(type(node))
        if method is not None:
            method(self, node, scope)
        # Statements without a handler (assert, global, del, ...) cannot build layers.

    def _exec_Expr(self, node: ast.Expr, scope: _Scope) -> None:
        self._eval(node.value, scope)

    def _exec_Delete(self, node: ast.Delete, scope: _Scope) -> None:
        for target in node.targets:
            self._delete(target, scope)

    def _delete(self, target: ast.expr, scope: _Scope) -> None:
        """``del queue[0]``, ``del options["name"]``, ``del self.cache``, ``del x`` (then unknown)."""
        if isinstance(target, ast.Subscript):
            container, key = self._item(target, scope)
            if container is not None:
                try:
                    del container[key]
                except (IndexError, KeyError, TypeError):
                    pass
        elif isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._delete(item, scope)
        elif isinstance(target, ast.Attribute):
            owner = self._eval(target.value, scope)
            if isinstance(owner, InstanceValue):
                owner.attrs.pop(target.attr, None)
        elif isinstance(target, ast.Name):
            self._assign(target, UNKNOWN, scope)

    def _item(self, target: ast.Subscript, scope: _Scope) -> tuple[list | dict | None, Any]:
        """The list or dict and the known key that ``container[key] = ...`` or ``del container[key]``
        changes, or ``(None, key)`` when bnlint does not know them."""
        container = self._eval(target.value, scope)
        key = self._eval(target.slice, scope)
        return (container if isinstance(container, (list, dict)) and is_plain(key) else None), key

    def _exec_Assign(self, node: ast.Assign, scope: _Scope) -> None:
        value = self._eval(node.value, scope)
        for target in node.targets:
            self._assign(target, value, scope)

    def _exec_AnnAssign(self, node: ast.AnnAssign, scope: _Scope) -> None:
        if node.value is not None:
            self._assign(node.target, self._eval(node.value, scope), scope)

    def _exec_AugAssign(self, node: ast.AugAssign, scope: _Scope) -> None:
        current = self._eval(node.target, scope) if isinstance(node.target, (ast.Name, ast.Attribute)) else UNKNOWN
        value = self._binary(node.op, current, self._eval(node.value, scope), node)
        if type(current) is list and type(value) is list and isinstance(node.op, ast.Add):
            current[:] = value  # (`blocks += [...]` extends the list in place: other names for it see the new items)
            value = current
        self._assign(node.target, value, scope)

    def _exec_Import(self, node: ast.Import, scope: _Scope) -> None:
        for alias in node.names:
            if alias.asname:
                local = self._local_module(alias.name, 0)
                scope.vars[alias.asname] = local or ExternalRef(canonical_name(alias.name))
            else:  # `import proj.blocks` binds `proj`; `proj.blocks` is then looked up as an attribute
                top = alias.name.split(".")[0]
                scope.vars[top] = self._local_module(top, 0) or ExternalRef(canonical_name(top))

    def _exec_ImportFrom(self, node: ast.ImportFrom, scope: _Scope) -> None:
        source = self._local_module(node.module, node.level)
        for alias in node.names:
            if alias.name == "*":
                if source is not None:  # `from ..imports import *`: a module of the project's own
                    self._import_all(source, scope)
                continue
            target = alias.asname or alias.name
            qualname = f"{node.module}.{alias.name}" if node.module else alias.name
            submodule = self._local_module(qualname if not node.level else (node.module + "." if node.module else "") + alias.name, node.level)
            if submodule is not None:
                scope.vars[target] = submodule
            elif source is not None:
                scope.vars[target] = _LazyImport(source, alias.name)
            elif node.level:
                scope.vars[target] = UNKNOWN  # a relative import we cannot find
            else:
                ref = ExternalRef(canonical_name(qualname))
                scope.vars[target] = PURE_CONSTANTS.get(ref.path, ref)  # (`from string import ascii_lowercase`)

    def _import_all(self, module: LocalModule, scope: _Scope) -> None:
        """``from module import *``: the names in its ``__all__``, or else those not starting with ``_``."""
        loaded = self._load(module)
        if loaded is None:
            return
        exported = loaded.vars.get("__all__")
        if isinstance(exported, (list, tuple)) and all(isinstance(name, str) for name in exported):
            names = [name for name in exported if name in loaded.vars]
        else:
            names = [name for name in loaded.vars if not name.startswith("_")]
        for name in names:
            scope.vars[name] = loaded.vars[name]

    def _local_module(self, module: str | None, level: int) -> LocalModule | None:
        """The module of the file's own package that an import names, if it has a source file."""
        if self._module.file is None or (not module and not level):
            return None
        found = resolve_module(self._module.file, module, level)
        if found is None:
            return None
        display = os.path.join(os.path.dirname(self._module.path), os.path.relpath(found, self._module.file.parent))
        return LocalModule(module or "", found, os.path.normpath(display))

    def _module_attribute(self, module: LocalModule, name: str, seen: frozenset = frozenset()) -> Any:
        """``module.name`` for a module read from source (Keras' own helpers stay modelled)."""
        external = ExternalRef(canonical_name(f"{module.qualname}.{name}"))
        if self.builder.models_call(external.path):
            return external
        scope = self._load(module)
        found, value = scope.lookup(name) if scope is not None else (False, None)
        if not found:  # a submodule the package does not import itself (`import proj.blocks`)
            return self._local_module(f"{module.qualname}.{name}", 0) or external
        if isinstance(value, _LazyImport):  # re-exported from another module (`layers/__init__.py`)
            key = (value.module.file, value.name)
            return UNKNOWN if key in seen else self._module_attribute(value.module, value.name, seen | {key})
        return value

    def _load(self, module: LocalModule) -> _Scope | None:
        """Evaluate a sibling module's top level once (its functions become callable)."""
        key = self._resolved.get(module.file)
        if key is None:
            key = self._resolved[module.file] = module.file.resolve()  # a syscall per path part: once
        if key in self._loaded:
            return self._loaded[key]
        scope = self._loaded[key] = _Scope()
        try:
            lines, tree = _parse_module(key, module.file)
        except (OSError, InputError, SyntaxError, ValueError):
            self.notes.append(f"{self.path}: could not read imported module {module.display}")
            return scope
        caller_module = self._module
        self._module = _Module(module.display, lines, tree, module.file)
        try:
            self._exec_block(tree.body, scope)
        except (_Return, _Break, _Continue, _Abort):
            pass
        finally:
            self._module = caller_module
        return scope

    def _exec_FunctionDef(self, node: ast.FunctionDef, scope: _Scope) -> None:
        # Decorators (keras_export, tf.function) do not change what the body builds.
        scope.vars[node.name] = self._function(node, scope)

    _exec_AsyncFunctionDef = _exec_FunctionDef

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: _Scope) -> FunctionValue:
        defaults = [self._eval(d, scope) for d in node.args.defaults]
        kw_defaults = [self._eval(d, scope) if d is not None else _NO_DEFAULT for d in node.args.kw_defaults]
        return FunctionValue(node, scope, defaults, kw_defaults, self._module)

    def _exec_ClassDef(self, node: ast.ClassDef, scope: _Scope) -> None:
        keras_base = None
        hypermodel = False
        methods: dict[str, FunctionValue] = {}
        parents: list[ClassValue] = []
        for base in node.bases:
            value = self._eval(base, scope)
            if isinstance(value, ExternalRef) and value.path.startswith("keras."):
                keras_base = value.path
            elif isinstance(value, ExternalRef) and is_tuner_path(value.path) and value.path.endswith(".HyperModel"):
                hypermodel = True
            elif isinstance(value, ClassValue):
                parents.append(value)
                keras_base = keras_base or value.keras_base
                hypermodel = hypermodel or value.hypermodel
                methods.update(value.methods)  # inherited methods; the class's own override them
        attrs: dict[str, Any] = {}
        fields: list[str] = []
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods[statement.name] = self._function(statement, scope)
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                if not _is_class_var(statement.annotation):
                    fields.append(statement.target.id)
                if statement.value is not None:
                    attrs[statement.target.id] = self._class_variable(statement.value, scope)
            elif isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
                value = self._class_variable(statement.value, scope)
                attrs.update((target.id, value) for target in statement.targets)
        is_dataclass = keras_base is None and not _defines(node, "__init__") and any(
            self._is_dataclass_decorator(decorator, scope) for decorator in node.decorator_list)
        scope.vars[node.name] = ClassValue(node, keras_base, methods, hypermodel=hypermodel, parents=parents,
                                           attrs=attrs, fields=fields if is_dataclass else None)

    def _class_variable(self, value: ast.expr, scope: _Scope) -> Any:
        """The value of a class-level variable: a constant expression, or a dataclass ``field(default=...)``.

        Anything that calls (a layer made in the class body, a default factory) is UNKNOWN; a
        ``field()`` without a default is ``_NO_DEFAULT``.
        """
        if isinstance(value, ast.Call):
            func = self._eval(value.func, scope)
            if isinstance(func, ExternalRef) and func.path == "dataclasses.field":
                keywords = {k.arg: k.value for k in value.keywords}
                if "default" in keywords:
                    return self._class_variable(keywords["default"], scope)
                return UNKNOWN if "default_factory" in keywords else _NO_DEFAULT  # (a fresh value per instance)
            return UNKNOWN
        if any(isinstance(child, (ast.Call, ast.Lambda, ast.NamedExpr)) for child in ast.walk(value)):
            return UNKNOWN
        return self._eval(value, scope)

    def _is_dataclass_decorator(self, decorator: ast.expr, scope: _Scope) -> bool:
        """``@dataclass``, ``@dataclasses.dataclass`` or ``@dataclass(frozen=True)`` (not ``init=False``)."""
        if isinstance(decorator, ast.Call):
            if any(k.arg == "init" and not (isinstance(k.value, ast.Constant) and k.value.value) for k in decorator.keywords):
                return False
            decorator = decorator.func
        if not isinstance(decorator, (ast.Name, ast.Attribute)):
            return False
        value = self._eval(decorator, scope)
        return isinstance(value, ExternalRef) and value.path == "dataclasses.dataclass"

    def _analyse_class(self, cls: ClassValue) -> None:
        """Read a subclassed layer or model: sublayers from ``__init__``/``build``, wiring from ``call``.

        The class is instantiated with the arguments the file first makes
        it with (those that are plain data: ``Stage(8, 2)``), or else with its
        default arguments (required ones unknown), and called on one input
        of unknown shape, in a fresh naming session; the layers ``call``
        applies form a model named after the class.
        """
        name = cls.node.name
        self.builder.begin_entry(name)
        try:
            self._read_class(cls, *(cls.example or ([], {})))
        except AnalysisLimit as limit:
            self.notes.append(str(limit))
        finally:
            self.builder.begin_entry(None)

    def _analyse_variant(self, cls: ClassValue, example: tuple[list, dict]) -> None:
        """Read a subclassed layer or model again with other arguments the file makes it with
        (``ConvBlock(8, use_bn=False)`` after ``ConvBlock(8)``), aside: the model it gives is not one of
        the file's (:attr:`~bnlint.readers.result.ReadResult.variants`), but a fix to the class must
        hold for it too (:func:`bnlint.engine.lint`)."""
        self.builder.begin_entry(cls.node.name)
        try:
            with self.builder.scratch():
                model = self._read_class(cls, *example)
            if isinstance(model, ModelValue):
                self.variants.append(model.graph)
        except AnalysisLimit:
            pass  # (the class's own reading has noted it)
        finally:
            self.builder.begin_entry(None)

    def _read_class(self, cls: ClassValue, args: list, kwargs: dict) -> Any:
        """The model a subclassed layer or model gives when made with *args* and *kwargs* and called on one input."""
        name = cls.node.name
        instance = InstanceValue(cls, {})
        if "__init__" in cls.methods:
            self._call_function(cls.methods["__init__"], [instance, *args], {**kwargs, "**entry": True}, cls.node)
        if "build" in cls.methods:
            self._call_function(cls.methods["build"], [instance, UNKNOWN], {"**entry": True}, cls.node)
        inputs = self.builder.make_input([], {}, self.site(cls.node))
        outputs = self._call_function(cls.methods["call"], [instance, inputs], {"**entry": True}, cls.node)
        model = self.builder.make_model([inputs, outputs], {"name": instance.name or kinds.to_snake_case(name)},
                                        self.site(cls.node))
        if isinstance(model, ModelValue):
            model.graph.fits = cls.fits
        return model

    def _analyse_plain_class(self, cls: ClassValue) -> None:
        """Read a class of the code's own that nothing in the file instantiates and that is not a Keras class.

        Its ``__init__`` runs with its default arguments (required ones
        unknown), then each method nothing has called yet (not the dunder
        ones), in order, on that instance, in one naming session: a GAN
        class builds its networks in ``__init__``, a builder class in a
        ``build`` method that another module calls.
        """
        self.builder.begin_entry(cls.node.name)
        try:
            instance = self._instance(cls, [], {"**entry": True}, cls.node)
            for name, method in cls.methods.items():
                if name.startswith("__") or method.node in self._invoked or isinstance(method.node, ast.Lambda):
                    continue
                self._call_function(method, _bound_to(method, cls, instance), {"**entry": True}, method.node)
        except AnalysisLimit as limit:
            self.notes.append(str(limit))
        finally:
            self.builder.begin_entry(None)

    def _analyse_hypermodel(self, cls: ClassValue) -> None:
        """Read a ``keras_tuner.HyperModel`` subclass: the model its ``build`` makes with default hyperparameters.

        The class is instantiated with its default arguments (required ones
        unknown), as a tuner would build it, in a fresh naming session.
        """
        self.builder.begin_entry(cls.node.name)
        try:
            instance = self._instance(cls, [], {"**entry": True}, cls.node)
            self._build_hypermodel(instance, self._hyperparameters(), cls.node)
        except AnalysisLimit as limit:
            self.notes.append(str(limit))
        finally:
            self.builder.begin_entry(None)

    def _analyse_functional_class(self, cls: ClassValue) -> None:
        """Read a functional subclass: ``__init__`` builds the graph and hands it to ``super().__init__``.

        keras_hub and keras_cv build their backbones this way. The class's own
        ``__init__`` runs with its default arguments (required ones unknown);
        a class that only inherits it builds the same model, so is not read again.
        """
        name = cls.node.name
        self.builder.begin_entry(name)
        try:
            instance = InstanceValue(cls, {}, kinds.to_snake_case(name))
            self._call_function(cls.methods["__init__"], [instance], {"**entry": True}, cls.node)
            if isinstance(instance.model, ModelValue):
                instance.model.graph.fits = cls.fits
        except AnalysisLimit as limit:
            self.notes.append(str(limit))
        finally:
            self.builder.begin_entry(None)

    def super_init(self, parent: _Super, args: list, kwargs: dict, node: ast.Call) -> Any:
        """``super().__init__(...)`` in a method of an instance's class.

        For a Keras model class given ``inputs`` and ``outputs`` (positionally
        or by keyword) it makes the functional model, named as Keras names the
        object (its ``name`` argument, else its class's), and records it on
        the instance. For a plain class of the code's own, the ``__init__``
        of the next class of the code's own after the method's in the
        instance's class order runs. Anything else initialises nothing that
        matters here.
        """
        instance = parent.instance
        following = _next_method(instance.cls, parent.method, "__init__")
        if following is not None:  # (a Keras subclass of a subclass of the code's own runs its parent's too)
            self._call_function(following, [instance, *args], kwargs, node)
            return None
        if instance.name is None and isinstance(kwargs.get("name"), str):
            instance.name = kwargs["name"]  # (`super().__init__(name="mlp_net")`: the model's name in Keras)
        if instance.cls.keras_base and instance.cls.keras_base.endswith(".Sequential"):
            # `class Net(keras.Sequential)`: the instance is that Sequential (`self.add(...)` grows it)
            if instance.model is None:
                name = instance.name or kinds.to_snake_case(instance.cls.node.name)
                instance.model = self.builder.make_sequential(args, {**kwargs, "name": name}, self.site(node))
            return None
        if instance.cls.keras_base != "keras.Model":
            return None
        default = instance.name or self.builder.auto_name(kinds.to_snake_case(instance.cls.node.name))
        model = self.builder.make_model(args, kwargs, self.site(node), default_name=default)
        if isinstance(model, ModelValue):
            instance.model = model
        return None

    def _exec_Raise(self, node: ast.Raise, scope: _Scope) -> None:
        raise _Abort

    def _exec_Return(self, node: ast.Return, scope: _Scope) -> None:
        raise _Return(self._eval(node.value, scope) if node.value is not None else None)

    def _exec_Break(self, node: ast.Break, scope: _Scope) -> None:
        raise _Break

    def _exec_Continue(self, node: ast.Continue, scope: _Scope) -> None:
        raise _Continue

    def _exec_Global(self, node: ast.Global, scope: _Scope) -> None:
        # tf_keras' builders set the module's `layers` this way (`global layers; layers = ...`),
        # and block helpers elsewhere in the module read it.
        module = scope
        while module.parent is not None:
            module = module.parent
        if module is not scope:
            scope.outer = scope.outer or {}
            scope.outer.update(dict.fromkeys(node.names, module))

    def _exec_Nonlocal(self, node: ast.Nonlocal, scope: _Scope) -> None:
        scope.outer = scope.outer or {}
        for name in node.names:
            holder = scope.parent
            while holder is not None and name not in holder.vars:
                holder = holder.parent
            if holder is not None:
                scope.outer[name] = holder

    def _exec_If(self, node: ast.If, scope: _Scope) -> None:
        test = self._truth(self._eval(node.test, scope))
        if test is UNKNOWN:
            # An undecidable condition takes one branch, never both (both
            # would invent layers). Argument checks raise in one branch: take
            # the other. Otherwise take the `if` branch, where model code
            # mostly puts the common case (`if include_top:`); the Keras
            # settings such checks usually read (image_data_format) are known.
            test = not _always_raises(node.body) or _always_raises(node.orelse)
        self._exec_block(node.body if test else node.orelse, scope)

    def _exec_For(self, node: ast.For, scope: _Scope) -> None:
        iterable = self._eval(node.iter, scope)
        if not is_iterable(iterable):
            if not isinstance(iterable, _NOT_ITERABLE):  # (they raise in Python: nothing runs)
                if node not in self._loops_run_once and _reads_tensors(node, scope):
                    # (Not again within itself: `for k, v in unknown: ... Params(v)` whose __init__ loops
                    # the same way. Nor a loop that works on no tensor known here: it builds nothing
                    # connected, and reading it cost a fifth more time on keras_hub's sources.)
                    self._loops_run_once.add(node)
                    try:
                        self._loop(node, scope, [UNKNOWN], lambda item: self._assign(node.target, item, scope))
                    finally:
                        self._loops_run_once.discard(node)
                _forget_loop_effects(node, scope, keep_tensors=True)
            return
        idle = False

        def items():
            # A long loop whose iterations, IDLE_ITERATIONS in a row past the first IDLE_ITERATIONS, made
            # no layer and changed nothing in reach but its own variable is a training loop
            # (`for epoch in range(30000):` around `train_on_batch`): it stops there, quietly, instead
            # of running to the iteration cap and stopping the analysis of what follows it.
            nonlocal idle
            targets = _names_bound_by(node.target)
            previous, unchanged = None, 0
            for count, item in enumerate(iterable):
                if count >= IDLE_ITERATIONS:
                    state = self._loop_state(scope, targets)
                    unchanged = unchanged + 1 if previous is not None and _same_state(state, previous) else 0
                    if unchanged >= IDLE_ITERATIONS:
                        idle = True
                        return
                    previous = state
                yield item

        completed = self._loop(node, scope, items(), lambda item: self._assign(node.target, item, scope))
        if completed and not idle:
            self._exec_block(node.orelse, scope)

    def _exec_While(self, node: ast.While, scope: _Scope) -> None:
        stuck = False
        endless_generator = type(node.test) is ast.Constant and bool(node.test.value) and _yields_in(node)

        def conditions():
            nonlocal stuck, unknown
            previous = None
            while (test := self._truth(self._eval(node.test, scope))) is not False:
                if test is UNKNOWN:
                    unknown = True  # one more iteration, then what it changes is unknown (below)
                    if node not in self._loops_run_once and _reads_tensors(node, scope):
                        self._loops_run_once.add(node)
                        yield None
                    return
                if endless_generator:
                    # A generator's endless loop (`while True: ... yield batch`) runs once per item its
                    # consumer draws (`model.fit(generator)`), which bnlint does not follow: one iteration
                    # shows what an item is made of. Run to the iteration cap, a data generator took seconds.
                    # (A loop with a condition runs as any other: `while i < n: yield ...` ends.)
                    yield None
                    _forget_loop_effects(node, scope)
                    stuck = True
                    return
                # An iteration that made no layer and changed no variable in
                # reach (nor a container's size, nor an attribute of `self`)
                # leaves the next one to do the same: `while True:` whose exits
                # depend on unknown values (`try: x = x.parent except
                # AttributeError: return False`) would run to the iteration cap
                # and stop the whole analysis there.
                state = self._loop_state(scope)
                if previous is not None and _same_state(state, previous):
                    stuck = True
                    return
                previous = state
                yield None

        unknown = False
        running = node not in self._loops_run_once
        try:
            completed = self._loop(node, scope, conditions(), lambda item: None)
        finally:
            if running:
                self._loops_run_once.discard(node)
        if completed and not stuck and not unknown:
            self._exec_block(node.orelse, scope)
        if unknown:
            _forget_loop_effects(node, scope, keep_tensors=True)

    def _loop_state(self, scope: _Scope, ignored: frozenset = frozenset()) -> list:
        """What a loop iteration could change: layers made, and the variables of every enclosing scope.

        The values themselves are kept (compared as :func:`_same_state` does), so that no id is reused meanwhile;
        *ignored* names of the innermost scope (a ``for`` loop's own variables) are left out.
        """
        state: list = [len(self.builder.workspace), self.builder.layers_made]
        if ignored:
            _add_values(state, [(name, value) for name, value in scope.vars.items() if name not in ignored])
            scope = scope.parent
        while scope is not None:
            _add_values(state, scope.vars.items())
            scope = scope.parent
        return state

    def _loop(self, node: ast.For | ast.While, scope: _Scope, items, bind) -> bool:
        """Run a loop body per item; False when it ended by ``break`` (or was cut short)."""
        made = (len(self.builder.workspace), self.builder.layers_made)
        for count, item in enumerate(items):
            if count >= MAX_LOOP_ITERATIONS:
                if made == (len(self.builder.workspace), self.builder.layers_made):
                    # Plain data (`while True:` whose exits depend on unknown values, as in path
                    # and queue helpers): what it binds or grows is unknown, and the analysis goes on.
                    _forget_loop_effects(node, scope)
                    return False
                raise AnalysisLimit(  # it was making layers: what follows would be wrong
                    f"{self._module.path}:{node.lineno}: loop stopped after {MAX_LOOP_ITERATIONS} iterations"
                )
            bind(item)
            try:
                self._exec_block(node.body, scope)
            except _Break:
                return False
            except _Continue:
                continue
        return True

    def _exec_With(self, node: ast.With, scope: _Scope) -> None:
        entered: list[HyperParameterScope] = []
        try:
            for item in node.items:
                context = self._eval(item.context_expr, scope)  # it may build layers
                if isinstance(context, HyperParameterScope):  # `with hp.conditional_scope(...)`
                    context.enter()
                    entered.append(context)
                if item.optional_vars is not None:
                    self._assign(item.optional_vars, UNKNOWN, scope)  # what __enter__ returns is not known
            self._exec_block(node.body, scope)
        finally:
            for context in reversed(entered):
                context.exit()

    _exec_AsyncWith = _exec_With

    def _exec_Try(self, node: ast.Try, scope: _Scope) -> None:
        # The body is what normally runs; handlers are the exceptional path.
        self._exec_block(node.body, scope)
        self._exec_block(node.orelse, scope)
        self._exec_block(node.finalbody, scope)

    _exec_TryStar = _exec_Try  # (`except*`, Python 3.11)

    def _exec_Match(self, node: ast.Match, scope: _Scope) -> None:
        """``match`` runs the first case whose pattern matches the subject and whose guard holds.

        A case bnlint cannot decide is taken, as an ``if`` whose condition is unknown is (one
        branch, never two): the first such case, unless its body always raises and a later one
        does not.
        """
        subject = self._eval(node.subject, scope)
        candidates = []  # the cases that may run: undecided ones, up to the first that surely matches
        for case in node.cases:
            matched = self._match(case.pattern, subject, scope)
            if matched is not False and case.guard is not None:
                guard = self._truth(self._eval(case.guard, scope))
                matched = False if guard is False else (matched if guard is True else UNKNOWN)
            if matched is not False:
                candidates.append(case)
            if matched is True:
                break
        if candidates:
            chosen = next((case for case in candidates if not _always_raises(case.body)), candidates[0])
            self._match(chosen.pattern, subject, scope)  # (its captures, again: a later case may have rebound them)
            self._exec_block(chosen.body, scope)

    def _match(self, pattern: ast.pattern, subject: Any, scope: _Scope) -> Any:
        """Whether *pattern* matches *subject* (True, False or UNKNOWN), binding its capture names."""
        if isinstance(pattern, ast.MatchAs):
            matched = True if pattern.pattern is None else self._match(pattern.pattern, subject, scope)
            if pattern.name is not None and matched is not False:
                self._assign(ast.Name(pattern.name, ast.Store()), subject if matched is True else UNKNOWN, scope)
            return matched
        if isinstance(pattern, (ast.MatchValue, ast.MatchSingleton)):
            value = self._eval(pattern.value, scope) if isinstance(pattern, ast.MatchValue) else pattern.value
            if subject is UNKNOWN or value is UNKNOWN or not (is_plain(subject) and is_plain(value)):
                return UNKNOWN
            return subject is value if isinstance(pattern, ast.MatchSingleton) else subject == value
        if isinstance(pattern, ast.MatchOr):
            results = [self._match(option, subject, scope) for option in pattern.patterns]
            return True if True in results else (UNKNOWN if UNKNOWN in results else False)
        for child in ast.walk(pattern):  # (sequence, mapping and class patterns: their captures are unknown)
            if isinstance(child, (ast.MatchAs, ast.MatchStar)) and child.name is not None:
                self._assign(ast.Name(child.name, ast.Store()), UNKNOWN, scope)
            elif isinstance(child, ast.MatchMapping) and child.rest is not None:
                self._assign(ast.Name(child.rest, ast.Store()), UNKNOWN, scope)
        return UNKNOWN

    # -- assignment ------------------------------------------------------

    def _assign(self, target: ast.expr, value: Any, scope: _Scope) -> None:
        if isinstance(target, ast.Name):
            outer = scope.outer
            (outer.get(target.id, scope) if outer else scope).vars[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = list(value) if isinstance(value, (list, tuple)) else None
            starred = [i for i, elt in enumerate(target.elts) if isinstance(elt, ast.Starred)]
            if items is not None and not starred and len(items) == len(target.elts):
                for elt, item in zip(target.elts, items):
                    self._assign(elt, item, scope)
            elif items is not None and len(starred) == 1 and len(items) >= len(target.elts) - 1:
                k = starred[0]
                tail = len(target.elts) - k - 1
                for elt, item in zip(target.elts[:k], items[:k]):
                    self._assign(elt, item, scope)
                self._assign(target.elts[k].value, items[k:len(items) - tail], scope)
                for elt, item in zip(target.elts[k + 1:], items[len(items) - tail:]):
                    self._assign(elt, item, scope)
            elif type(value) is TensorValue:
                # `a, b = ops.split(x, 2)`, `out, h, c = LSTM(8, return_state=True)(x)`, `f1, f2 = backbone(x)`:
                # one tensor per output, all of the node that made them (the graph stays connected).
                for elt in target.elts:
                    if isinstance(elt, ast.Starred):
                        self._assign(elt.value, UNKNOWN, scope)
                    else:
                        self._assign(elt, TensorValue(value.node, value.graph), scope)
            else:
                for elt in target.elts:
                    self._assign(elt.value if isinstance(elt, ast.Starred) else elt, UNKNOWN, scope)
        elif isinstance(target, ast.Subscript):
            container, key = self._item(target, scope)
            if container is not None:
                try:
                    container[key] = value
                except (IndexError, TypeError):
                    pass
        elif isinstance(target, ast.Attribute):
            if target.attr == "__defaults__" and isinstance(target.value, ast.Attribute) and (
                    target.value.attr == "__new__"):
                # `BlockArgs.__new__.__defaults__ = (None,) * len(BlockArgs._fields)`: a namedtuple's
                # defaults, set as Python before 3.7 could (the class was made for this read).
                owner = self._eval(target.value.value, scope)
                if is_namedtuple_class(owner) and isinstance(value, tuple) and len(value) <= len(owner._fields):
                    owner.__new__.__defaults__ = value
                return
            owner = self._eval(target.value, scope)
            if isinstance(owner, InstanceValue):
                owner.attrs[target.attr] = value

    # -- expressions -----------------------------------------------------

    def _eval(self, node: ast.expr | None, scope: _Scope) -> Any:
        return _EXPRESSIONS.get(type(node), _eval_other)(self, node, scope)

    def _eval_Yield(self, node: ast.Yield | ast.YieldFrom, scope: _Scope) -> Any:
        value = self._eval(node.value, scope)  # (`yield keras.Model(...)` makes that model)
        # (`scope` is the generator function's own: a comprehension cannot hold a `yield`.)
        yielded = scope.vars.setdefault(_YIELDED, [])
        if type(yielded) is list:
            if type(node) is ast.Yield:
                yielded.append(value)
            elif isinstance(value, (list, tuple)):  # `yield from blocks`
                yielded.extend(value)
            else:
                scope.vars[_YIELDED] = UNKNOWN  # what it yields is not known, nor its items after
        return UNKNOWN  # what the consumer sends back

    _eval_YieldFrom = _eval_Yield

    def _eval_Constant(self, node: ast.Constant, scope: _Scope) -> Any:
        return node.value

    def _is_unbound(self, name: str, scope: _Scope) -> bool:
        return not scope.lookup(name)[0] and name not in self._module.bound_names

    def _eval_Name(self, node: ast.Name, scope: _Scope) -> Any:
        found, value = scope.lookup(node.id)
        if found:
            if isinstance(value, _LazyImport):
                value = self._module_attribute(value.module, value.name)
            return value
        if node.id in PURE_BUILTINS:
            return PURE_BUILTINS[node.id]
        if node.id in _CALLING_BUILTINS:
            return _CALLING_BUILTINS[node.id]
        if node.id in WELL_KNOWN_NAMES:
            path = WELL_KNOWN_NAMES[node.id]
        elif node.id in kinds.LAYER_KINDS or node.id in kinds.LEGACY_ALIASES:
            # A snippet that uses Conv2D without importing it means Keras' Conv2D.
            path = "keras.layers." + node.id
        else:
            return UNKNOWN  # (`super`, `open`, ...: the file's bound names are not needed to say so)
        return UNKNOWN if node.id in self._module.bound_names else ExternalRef(path)

    def _eval_Attribute(self, node: ast.Attribute, scope: _Scope) -> Any:
        if node.attr == "add" and isinstance(node.value, ast.Name) and self._is_unbound(node.value.id, scope):
            # A snippet's `model.add(...)` on a name it never assigns: the
            # model was a Sequential made in a part of the code we do not have.
            sequential = self.builder.make_sequential([], {}, self.site(node.value))
            self._module_scope.vars[node.value.id] = sequential
            return _BoundMethod(sequential, "add")
        value = self._eval(node.value, scope)
        if type(value) is InstanceValue:  # (`self.filters`, the commonest in class-based code)
            return _instance_attribute(value, node.attr)
        if type(value) is ExternalRef:  # (`layers.Conv2D`, the commonest in functional code)
            ref = value.attribute(node.attr)
            return PURE_CONSTANTS.get(ref.path, ref)
        return self._attribute(value, node.attr)

    def _attribute(self, value: Any, attr: str) -> Any:
        """``value.attr`` (and ``getattr(value, "attr")``) for an evaluated *value*."""
        if type(value) is InstanceValue:  # (`self.filters`, the commonest in class-based code)
            return _instance_attribute(value, attr)
        if isinstance(value, ExternalRef):
            ref = value.attribute(attr)
            return PURE_CONSTANTS.get(ref.path, ref)
        if isinstance(value, LocalModule):
            return self._module_attribute(value, attr)
        if isinstance(value, TensorValue):
            if attr == "get_shape":  # TensorFlow's `x.get_shape().as_list()`
                return _BoundMethod(value.shape, "get_shape")
            return self.builder.tensor_attribute(value, attr)
        if isinstance(value, (str, list, dict, tuple)) and attr in PURE_METHODS.get(type(value), ()):
            return _BoundMethod(value, attr)
        if type(value) is tuple and attr == "as_list":  # a static shape, as TensorFlow's TensorShape
            return _BoundMethod(value, "as_list")
        if isinstance(value, tuple):
            if type(value) is not tuple and is_namedtuple_class(type(value)):  # block_args.num_repeat
                if attr in value._fields:
                    return getattr(value, attr)
                return _BoundMethod(value, attr) if attr in _NAMEDTUPLE_METHODS else UNKNOWN
        elif isinstance(value, type) and is_namedtuple_class(value) and attr in ("_fields", "_field_defaults"):
            return getattr(value, attr)
        if isinstance(value, HyperParameters):
            if attr == "values":
                return value.values
            return _BoundMethod(value, attr) if attr in HyperParameters.METHODS else UNKNOWN
        if isinstance(value, SequentialValue) and attr in ("add", "pop", "fit", "get_layer"):
            return _BoundMethod(value, attr)
        if isinstance(value, SequentialValue) and attr in ("input", "inputs", "output", "outputs"):
            made = self.builder.sequential_tensors(value)  # (`keras.Model(seq.inputs, ...)`)
            if made is None:
                return UNKNOWN
            tensor = made[0].output if attr.startswith("input") else made[-1].output
            return [tensor] if attr.endswith("s") else tensor
        if isinstance(value, ModelValue) and attr in ("fit", "get_layer"):
            return _BoundMethod(value, attr)
        if isinstance(value, ModelLayer) and attr in ("output", "input", "name"):
            return getattr(value, attr)
        if type(value) is LayerValue and attr == "name":
            return value.name
        if attr == "layers" and isinstance(value, (ModelValue, SequentialValue)):
            return self.builder.model_layers(value)
        if isinstance(value, ModelValue) and attr in ("input", "output", "inputs", "outputs", "name"):
            # `base.output` in transfer learning; a list is a copy: code may change the list it gets
            found = value.graph.name if attr == "name" else getattr(value, attr)
            return list(found) if isinstance(found, list) else found
        if isinstance(value, LayerValue) and value.instance is not None and attr == "fit" and (
            value.instance.cls.keras_base in ("keras.Model", "keras.Sequential")
        ):
            return _BoundMethod(value.instance.cls, attr)  # a subclassed model's own fit
        if isinstance(value, _Super):
            if attr == "__init__":
                return _BoundMethod(value, attr)
            following = _next_method(value.instance.cls, value.method, attr)  # `super().call(x)`
            return PartialValue(following, [value.instance], {}) if following is not None else UNKNOWN
        if type(value) is LayerValue and value.instance is not None and attr != "call":
            # a custom layer's own attributes and methods (`block.build(shape)`)
            return _instance_attribute(value.instance, attr)
        if isinstance(value, ClassValue):  # `BasicBlock.expansion`, `Blocks.conv_bn(x, 8)`
            found = _class_attribute(value, attr, missing=_NO_DEFAULT)
            if found is _NO_DEFAULT and attr in value.methods:
                method = value.methods[attr]
                bound = _bound_to(method, value, None)
                return PartialValue(method, bound, {}) if bound else method
            return UNKNOWN if found is _NO_DEFAULT else found
        return UNKNOWN

    def _eval_List(self, node: ast.List, scope: _Scope) -> Any:
        return self._sequence(node.elts, scope)

    def _eval_Tuple(self, node: ast.Tuple, scope: _Scope) -> Any:
        items = self._sequence(node.elts, scope)
        return tuple(items) if items is not UNKNOWN else UNKNOWN

    def _eval_Set(self, node: ast.Set, scope: _Scope) -> Any:
        items = self._sequence(node.elts, scope)
        try:
            return set(items) if items is not UNKNOWN else UNKNOWN
        except TypeError:
            return UNKNOWN

    def _sequence(self, elements: list[ast.expr], scope: _Scope) -> Any:
        items: list[Any] = []
        for element in elements:
            if isinstance(element, ast.Starred):
                value = self._eval(element.value, scope)
                if not isinstance(value, (list, tuple)):
                    return UNKNOWN
                items.extend(value)
            else:
                items.append(self._eval(element, scope))
        return items

    def _eval_Dict(self, node: ast.Dict, scope: _Scope) -> Any:
        result: dict = {}
        for key_node, value_node in zip(node.keys, node.values):
            value = self._eval(value_node, scope)
            if key_node is None:
                if not isinstance(value, dict):
                    return UNKNOWN
                result.update(value)
                continue
            key = self._eval(key_node, scope)
            if not is_plain(key):
                return UNKNOWN
            result[key] = value
        return result

    def _eval_JoinedStr(self, node: ast.JoinedStr, scope: _Scope) -> Any:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
                continue
            assert isinstance(value, ast.FormattedValue)
            inner = self._eval(value.value, scope)
            if value.format_spec is None and value.conversion == -1 and type(inner) in (str, int):
                parts.append(str(inner))  # (most of them: layer names such as f"{name}_conv")
                continue
            spec = self._eval(value.format_spec, scope) if value.format_spec else ""
            if not is_plain(inner) or not isinstance(spec, str) or not modest_template(spec):
                return UNKNOWN
            try:
                if value.conversion == ord("r"):
                    inner = repr(inner)
                elif value.conversion == ord("s"):
                    inner = str(inner)
                parts.append(format(inner, spec))
            except (TypeError, ValueError):
                return UNKNOWN
        return "".join(parts)

    def _eval_BinOp(self, node: ast.BinOp, scope: _Scope) -> Any:
        spine = [node]  # `a + b + c + …` nests down the left: walked in a loop, not by recursion
        while isinstance(spine[-1].left, ast.BinOp):
            spine.append(spine[-1].left)
        value = self._eval(spine[-1].left, scope)
        for operation in reversed(spine):
            value = self._binary(operation.op, value, self._eval(operation.right, scope), operation)
        return value

    def _binary(self, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        numbers = type(left) in _NUMBERS and type(right) in _NUMBERS  # (the commonest: `filters * 2`, `i + 1`)
        if not numbers:  # (two numbers need none of these checks)
            if isinstance(left, TensorValue) or isinstance(right, TensorValue):
                return self.builder.apply_to_tensor(type(op).__name__, [left, right], self.site(node))
            if isinstance(op, ast.Add) and type(left) is type(right) and type(left) in (list, tuple):
                # (`keras.Sequential(features + head)`, DenseNet's `features = features + [x]`: lists of
                # layers or tensors, which are not plain data, join like any others)
                return left + right if len(left) + len(right) <= MAX_VALUE_SIZE else UNKNOWN
            if not (is_plain(left) and is_plain(right)):
                return UNKNOWN
            if isinstance(op, ast.Mult) and too_big_product(left, right):
                return UNKNOWN
            if isinstance(op, ast.Mod) and isinstance(left, str) and not modest_template(left):
                return UNKNOWN
        function = BINARY_OPERATORS.get(type(op))  # (none for `@`)
        if function is None:
            return UNKNOWN
        if isinstance(op, (ast.Pow, ast.LShift)) and isinstance(right, (int, float)) and abs(right) > 256:
            return UNKNOWN
        try:
            result = function(left, right)
        except (ArithmeticError, TypeError, ValueError):
            return UNKNOWN
        return result if size_of(result) <= MAX_VALUE_SIZE else UNKNOWN

    def _eval_UnaryOp(self, node: ast.UnaryOp, scope: _Scope) -> Any:
        operand = self._eval(node.operand, scope)
        if isinstance(operand, TensorValue):
            return self.builder.apply_to_tensor(type(node.op).__name__, [operand], self.site(node))
        if isinstance(node.op, ast.Not):
            truth = self._truth(operand)
            return UNKNOWN if truth is UNKNOWN else not truth
        if not is_plain(operand):
            return UNKNOWN
        try:
            return UNARY_OPERATORS[type(node.op)](operand)
        except TypeError:
            return UNKNOWN

    def _eval_BoolOp(self, node: ast.BoolOp, scope: _Scope) -> Any:
        result: Any = UNKNOWN
        for value_node in node.values:
            result = self._eval(value_node, scope)
            truth = self._truth(result)
            if truth is UNKNOWN:
                return UNKNOWN
            if isinstance(node.op, ast.And) and not truth:
                return result
            if isinstance(node.op, ast.Or) and truth:
                return result
        return result

    def _eval_Compare(self, node: ast.Compare, scope: _Scope) -> Any:
        left = self._eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = self._eval(right_node, scope)
            if isinstance(op, (ast.Is, ast.IsNot)) and (left is None or right is None) and (
                left is not UNKNOWN and right is not UNKNOWN
            ):
                outcome = COMPARISONS[type(op)](left, right)
            elif (is_plain(left) or _comparable(left)) and (is_plain(right) or _comparable(right)):
                try:
                    outcome = COMPARISONS[type(op)](left, right)
                except TypeError:
                    return UNKNOWN
            else:
                return UNKNOWN
            if not outcome:
                return False
            left = right
        return True

    def _eval_IfExp(self, node: ast.IfExp, scope: _Scope) -> Any:
        test = self._truth(self._eval(node.test, scope))
        if test is UNKNOWN:
            # As for an undecidable `if` statement: the first branch, when the expression may make
            # layers (`BatchNormalization()(x) if use_bn else x`, `layer(x, training=t) if flag else
            # layer(x)`); a choice between plain values (`64 if small else 128`) stays unknown.
            if not self._may_make_layers(node, scope):
                return UNKNOWN
            test = True
        return self._eval(node.body if test else node.orelse, scope)

    def _may_make_layers(self, node: ast.IfExp, scope: _Scope) -> bool:
        """Whether a branch calls something, or the other branch is a tensor variable."""
        if any(isinstance(child, ast.Call) for branch in (node.body, node.orelse) for child in _walk(branch)):
            return True
        return any(isinstance(branch, ast.Name) and isinstance(scope.lookup(branch.id)[1], TensorValue)
                   for branch in (node.body, node.orelse))

    def _eval_Subscript(self, node: ast.Subscript, scope: _Scope) -> Any:
        value = self._eval(node.value, scope)
        key = self._eval(node.slice, scope)
        if isinstance(value, TensorValue):
            return self.builder.apply_to_tensor("getitem", [value], self.site(node))
        if isinstance(value, HyperParameters):  # hp["units"]
            return value.call("get", [key], {})
        if isinstance(value, (list, tuple, dict, str)) and (is_plain(key) or isinstance(key, slice)):
            try:
                return value[key]
            except (IndexError, KeyError, TypeError):
                return UNKNOWN
        return UNKNOWN

    def _eval_Slice(self, node: ast.Slice, scope: _Scope) -> Any:
        parts = [self._eval(part, scope) for part in (node.lower, node.upper, node.step)]
        if all(part is None or isinstance(part, int) for part in parts):
            return slice(*parts)
        return UNKNOWN

    def _eval_NamedExpr(self, node: ast.NamedExpr, scope: _Scope) -> Any:
        value = self._eval(node.value, scope)
        self._assign(node.target, value, scope)
        return value

    def _eval_Lambda(self, node: ast.Lambda, scope: _Scope) -> Any:
        return self._function(node, scope)

    def _eval_ListComp(self, node: ast.ListComp, scope: _Scope) -> Any:
        return self._comprehension(node, scope, lambda inner: [self._eval(node.elt, inner)])

    def _eval_GeneratorExp(self, node: ast.GeneratorExp, scope: _Scope) -> Any:
        # Consumed at once: sum(...), tuple(...), "".join(...) are what model code does with them.
        return self._comprehension(node, scope, lambda inner: [self._eval(node.elt, inner)])

    def _eval_SetComp(self, node: ast.SetComp, scope: _Scope) -> Any:
        items = self._comprehension(node, scope, lambda inner: [self._eval(node.elt, inner)])
        return set(items) if items is not UNKNOWN and is_plain(items) else UNKNOWN

    def _eval_DictComp(self, node: ast.DictComp, scope: _Scope) -> Any:
        pairs = self._comprehension(node, scope, lambda inner: [(self._eval(node.key, inner), self._eval(node.value, inner))])
        if pairs is UNKNOWN or not all(is_plain(key) for key, _ in pairs):
            return UNKNOWN
        return dict(pairs)

    def _comprehension(self, node, scope: _Scope, produce) -> Any:
        """Items of a comprehension over known iterables, or UNKNOWN."""
        results: list[Any] = []
        inner = _Scope(scope)
        count = 0

        def loop(level: int) -> bool:
            nonlocal count
            if level == len(node.generators):
                count += 1
                if count > MAX_LOOP_ITERATIONS:
                    raise _TooManyItems
                results.extend(produce(inner))
                return True
            generator = node.generators[level]
            iterable = self._eval(generator.iter, inner)
            if not is_iterable(iterable):
                return False
            for item in iterable:
                self._assign(generator.target, item, inner)
                conditions = [self._truth(self._eval(cond, inner)) for cond in generator.ifs]
                if any(c is UNKNOWN for c in conditions):
                    return False
                if all(conditions) and not loop(level + 1):
                    return False
            return True

        made = (len(self.builder.workspace), self.builder.layers_made)
        try:
            return results if loop(0) else UNKNOWN
        except _TooManyItems:
            message = f"{self._module.path}:{node.lineno}: comprehension stopped after {MAX_LOOP_ITERATIONS} items"
            if made != (len(self.builder.workspace), self.builder.layers_made):
                raise AnalysisLimit(message) from None  # it was making layers: what follows would be wrong
            self.notes.append(message)  # plain data: its value is unknown, and the analysis goes on
            return UNKNOWN

    def _eval_Call(self, node: ast.Call, scope: _Scope) -> Any:
        if type(node.func) is ast.Name and node.func.id == "super" and (not node.args or (
                len(node.args) == 2 and type(node.args[1]) is ast.Name and node.args[1].id == "self")):
            # `super()`, and Python 2's `super(Net, self)` (taken as the class the method is in)
            found, instance = scope.lookup("<self>")
            if found and not scope.lookup("super")[0]:
                return _Super(instance, scope.lookup("<method>")[1])
        func = self._eval(node.func, scope)
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                value = self._eval(arg.value, scope)
                if isinstance(value, (list, tuple)):
                    args.extend(value)
                else:
                    args.append(UNKNOWN)
            else:
                args.append(self._eval(arg, scope))
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            value = self._eval(keyword.value, scope)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
            elif isinstance(value, dict) and all(isinstance(k, str) for k in value):
                kwargs.update(value)
            else:
                kwargs["**"] = UNKNOWN
        if self.builder.tuning:  # arguments computed in a KerasTuner search space may be hyperparameters
            computed = _computed_arguments(node)
            if computed:
                self.builder.computed_arguments[self.site(node)] = computed
        return self._call(func, args, kwargs, node)

    def _call(self, func: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        if len(self.builder.workspace) > MAX_LAYERS:
            raise AnalysisLimit(f"{self.path}: stopped after {MAX_LAYERS} layer calls")
        if type(func) is LayerValue and func.instance is None:  # (the commonest call: a Keras layer on a tensor)
            return self.builder.call_layer(func, args, kwargs, self.site(node))
        if isinstance(func, PartialValue):
            return self._call(func.func, func.args + list(args), {**func.kwargs, **kwargs}, node)
        if isinstance(func, ExternalRef):
            path = func.path
            if path.endswith(".__init__") and args and isinstance(args[0], InstanceValue):
                # `keras.Model.__init__(self, inputs=..., outputs=...)`: the base's __init__, named
                return self.super_init(_Super(args[0]), list(args[1:]), kwargs, node)
            if not path.startswith("keras."):  # (Keras' own, the commonest, go straight to the builder)
                if path == "functools.partial" and args:
                    return PartialValue(args[0], list(args[1:]), kwargs, node)
                if path == "functools.reduce":
                    return self._reduce(args, kwargs, node)
                if path in PURE_FUNCTIONS:
                    return call_pure(PURE_FUNCTIONS[path], args, kwargs)
                if is_tuner_path(path):
                    return self._call_tuner(path, args, kwargs, node)
                if path.endswith(_MODULE_GETTER_PATHS):  # (imported from a package not read)
                    return _MODULE_GETTERS[path.rpartition(".")[2]](args, kwargs)
            return self.builder.call_external(func, args, kwargs, self.site(node))
        if isinstance(func, ClassValue):
            if func.hypermodel or func.keras_base is None:
                return self._instance(func, args, kwargs, node)
            if func.keras_base == "keras.Model" and "__init__" not in func.methods and (
                    len(args) >= 2 or "outputs" in kwargs or "output" in kwargs):
                # `EDSRModel(inputs, outputs)`: a Model subclass that keeps Model's __init__ (to override
                # train_step, say), made from tensors, is a functional model of that class.
                model = self.builder.make_model(args, kwargs, self.site(node), kinds.to_snake_case(func.node.name))
                if isinstance(model, ModelValue):
                    return model
            example = ([_plain_or_unknown(value) for value in args],
                       {key: _plain_or_unknown(value) for key, value in kwargs.items()})
            if func.example is None:
                func.example = example
            elif example != func.example and example not in func.variants:
                if len(func.variants) < _MAX_VARIANTS:
                    func.variants.append(example)
                else:  # more than are read one by one: once more, with what the others have unknown
                    args_seen, kwargs_seen = func.unknown_variant or ([], {})
                    func.unknown_variant = ([UNKNOWN] * max(len(args), len(args_seen)),
                                            {**kwargs_seen, **dict.fromkeys(kwargs, UNKNOWN)})
            base = func.keras_base.rpartition(".")[2]
            init = func.methods.get("__init__")
            given = kwargs
            if init is not None and args and not isinstance(init.node, ast.Lambda):
                # `ConvBNReLU(16)`: its config names the positional arguments as its `__init__` does (`filters`)
                params = [p.arg for p in init.node.args.posonlyargs + init.node.args.args][1:]
                given = {**dict(zip(params, args)), **kwargs}
            layer = self.builder.construct_custom(
                func.node.name, args, given, self.site(node), base if kinds.kind_of(base) != "other" else None,
                own_init="__init__" in func.methods)
            layer.instance = InstanceValue(func, {}, layer.name)
            if "__init__" in func.methods:
                # Sublayers made in __init__ take their automatic names now, as in Keras.
                self._call_function(func.methods["__init__"], [layer.instance, *args], kwargs, node)
            if layer.base is None and "call" in func.methods:
                activation = self._layer_activation(layer.instance, node)
                if activation is not None:
                    layer.config["activation"] = activation
            # A functional subclass (`super().__init__(inputs=..., outputs=...)`) is that model.
            return layer.instance.model if layer.instance.model is not None else layer
        if isinstance(func, LayerValue) and func.instance is not None:
            self._build_once(func.instance, args, node)
            output = self.builder.call_object(func, args, kwargs, self.site(node))
            if isinstance(output, TensorValue) and "call" in func.instance.cls.methods:
                produced = self._custom_output(func.instance, args, kwargs, node)
                if isinstance(produced, (list, tuple)):  # `return [x1_x2, x1]`: one tensor per output, of this node
                    tensors = [TensorValue(output.node, output.graph, item.shape) for item in produced]
                    return tensors if isinstance(produced, list) else tuple(tensors)
                output.shape = produced.shape if isinstance(produced, TensorValue) else UNKNOWN
            return output
        if isinstance(func, FunctionValue):
            if type(func.node) is not ast.Lambda and func.node.name in _MODULE_GETTERS:  # the project's own
                return _MODULE_GETTERS[func.node.name](args, kwargs)
            if len(args) == 1 and not kwargs and type(args[0]) is TensorValue:
                return self._apply_function(func, args[0], node)
            return self._call_function(func, args, kwargs, node)
        if isinstance(func, InstanceValue) and "__call__" in func.cls.methods:  # a plain class's block object
            return self._call_function(func.cls.methods["__call__"], [func, *args], kwargs, node)
        if isinstance(func, (LayerValue, ModelValue, SequentialValue, KerasObject)):
            return self.builder.call_object(func, args, kwargs, self.site(node))
        if isinstance(func, _BoundMethod):
            return func.call(self, args, kwargs, node)
        if type(func) is type and is_namedtuple_class(func):
            if "**" in kwargs:
                return UNKNOWN
            try:
                return func(*args, **kwargs)
            except TypeError:  # arguments missing or unexpected, as Python would raise
                return UNKNOWN
        if func is map or func is filter:
            return self._map(func, args, kwargs, node)
        if func is getattr:  # `getattr(layers, "Conv2D")`; with a default, only what is known to be there
            if kwargs or len(args) not in (2, 3) or not isinstance(args[1], str):
                return UNKNOWN
            return self._attribute(args[0], args[1])
        if func is setattr:  # `setattr(self, f"bn{i}", BatchNormalization())` in a subclass's __init__
            if not kwargs and len(args) == 3 and isinstance(args[1], str) and isinstance(args[0], InstanceValue):
                args[0].attrs[args[1]] = args[2]
            return None
        if func is isinstance:
            return _isinstance(args) if not kwargs else UNKNOWN
        if func is callable:
            return _callable(args[0]) if len(args) == 1 and not kwargs else UNKNOWN
        if func is type:
            return type(args[0]) if len(args) == 1 and not kwargs and _builtin_typed(args[0]) else UNKNOWN
        if func in PURE_BUILTINS.values() and "**" not in kwargs:
            return call_pure(func, args, kwargs)
        if func is UNKNOWN and isinstance(node, ast.Call):
            getter = _MODULE_GETTERS.get(_callee_name(node.func))
            if getter is not None:
                return getter(args, kwargs)  # (a relative import not found)
        if func is UNKNOWN and _has_tensor(args, kwargs):
            # An unknown function applied to tensors still passes them on.
            return self.builder.apply_to_tensor(_callee_name(node.func), list(args) + list(kwargs.values()), self.site(node))
        return UNKNOWN

    def _map(self, func: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        """``map(function, *iterables)`` and ``filter(function, iterable)`` over known items, as a list."""
        if kwargs or len(args) < 2 or (func is filter and len(args) != 2) or not all(
                is_iterable(items) for items in args[1:]):
            return UNKNOWN
        if min(len(items) for items in args[1:]) > MAX_LOOP_ITERATIONS:
            raise AnalysisLimit(f"{self._module.path}:{node.lineno}: {func.__name__} stopped after "
                                f"{MAX_LOOP_ITERATIONS} items")
        if func is map:
            return [self._call(args[0], list(items), {}, node) for items in zip(*args[1:])]
        kept = []
        for item in args[1]:
            keep = self._truth(item if args[0] is None else self._call(args[0], [item], {}, node))
            if keep is UNKNOWN:
                return UNKNOWN
            if keep:
                kept.append(item)
        return kept

    def _reduce(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        """``functools.reduce(function, items[, initial])``, calling *function* as the code would.

        A ``compose(*layers)`` helper folds layers into one callable this way (keras-yolo3's
        ``compose(DarknetConv2D(...), BatchNormalization(), LeakyReLU())``).
        """
        if kwargs or len(args) not in (2, 3) or not isinstance(args[1], (list, tuple)):
            return UNKNOWN
        items = list(args[1])
        if len(args) == 2:
            if not items:
                return UNKNOWN  # Python raises TypeError
            result, items = items[0], items[1:]
        else:
            result = args[2]
        if len(items) > MAX_LOOP_ITERATIONS:
            raise AnalysisLimit(f"{self._module.path}:{node.lineno}: reduce stopped after {MAX_LOOP_ITERATIONS} items")
        for item in items:
            result = self._call(args[0], [result, item], {}, node)
        return result

    def _call_tuner(self, path: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        """A call into KerasTuner: ``HyperParameters()``, or a tuner made from a hypermodel.

        A tuner (``RandomSearch(build_model, ...)``, ``Hyperband(hypermodel=MyHyperModel(), ...)``,
        any KerasTuner class given a hypermodel) builds it once when it is made, with every
        hyperparameter at its default (or at the values of its ``hyperparameters=`` argument):
        that build is run here. The tuner itself is unknown.
        """
        if path.endswith(".HyperParameters"):
            return self._hyperparameters() if not args and not kwargs else UNKNOWN
        hypermodel = kwargs.get("hypermodel", args[0] if args else None)
        given = kwargs.get("hyperparameters")
        hp = self._hyperparameters(given.values if isinstance(given, HyperParameters) else None)
        if isinstance(hypermodel, (FunctionValue, PartialValue)):
            self._call(hypermodel, [hp], {}, node)
        elif isinstance(hypermodel, InstanceValue) and hypermodel.cls.hypermodel and "build" in hypermodel.cls.methods:
            self._build_hypermodel(hypermodel, hp, node)
        return UNKNOWN

    def _instance(self, cls: ClassValue, args: list, kwargs: dict, node: ast.AST) -> InstanceValue:
        """``cls(*args, **kwargs)`` for a class that is not a Keras layer or model: its ``__init__`` run on a fresh instance.

        A plain class of the code's own (a GAN whose ``__init__`` builds its
        generator and discriminator with its methods) or a ``HyperModel``.
        """
        self._invoked.add(cls.node)
        instance = InstanceValue(cls, {})
        if cls.fields is not None:  # the `__init__` a dataclass writes: each field from the call or its default
            fields = _dataclass_fields(cls)
            unknown = "**" in kwargs
            for index, name in enumerate(fields):
                if index < len(args):
                    instance.attrs[name] = args[index]
                elif name in kwargs:
                    instance.attrs[name] = kwargs[name]
                else:
                    default = _class_attribute(cls, name, _NO_DEFAULT)
                    instance.attrs[name] = UNKNOWN if unknown or default is _NO_DEFAULT else default
            if "__post_init__" in cls.methods:
                self._call_function(cls.methods["__post_init__"], [instance], {}, node)
        elif "__init__" in cls.methods:
            self._call_function(cls.methods["__init__"], [instance, *args], kwargs, node)
        return instance

    def _default_instance(self, annotation: ast.expr, scope: _Scope) -> InstanceValue | None:
        """An instance made with no arguments of the class a required parameter is annotated with, if it can be.

        Configuration-driven models take their settings as one object (``def
        __init__(self, cfg: ResNetConfig)``): a dataclass whose fields all
        have defaults, or a class of the code's own whose ``__init__`` needs no
        argument and makes no Keras objects, stands for the configuration the
        model is built with when nothing says otherwise.
        """
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # `cfg: "ResNetConfig"`
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if not isinstance(annotation, (ast.Name, ast.Attribute)):
            return None
        cls = self._eval(annotation, scope)
        if not isinstance(cls, ClassValue) or cls.keras_base is not None or cls.hypermodel:
            return None
        if cls.fields is not None:
            if any(_class_attribute(cls, name, _NO_DEFAULT) is _NO_DEFAULT for name in _dataclass_fields(cls)):
                return None
        elif "__init__" in cls.methods:
            init = cls.methods["__init__"]
            spec = init.node.args
            if len(spec.posonlyargs + spec.args) - 1 > len(init.defaults) or _NO_DEFAULT in init.kw_defaults:
                return None
        if any(_names_keras_layers(c.node) for c in _class_order(cls)):
            return None
        return self._instance(cls, [], {}, annotation)

    def _build_hypermodel(self, instance: InstanceValue, hp: HyperParameters, node: ast.AST) -> None:
        """``instance.build(hp)``, then the class's own ``fit(hp, model, ...)`` if it has one (a trial's training)."""
        methods = instance.cls.methods
        model = self._call_function(methods["build"], [instance, hp], {}, node)
        if "fit" in methods and isinstance(model, (ModelValue, SequentialValue)):
            self._call_function(methods["fit"], [instance, hp, model], {}, node)  # (the data: unknown)

    def _hyperparameters(self, values: dict | None = None) -> HyperParameters:
        """A fresh ``keras_tuner.HyperParameters``: layers made from now on may take hyperparameters."""
        self.builder.tuning = True
        return HyperParameters(values)

    def _tensor_parameters(self, function: ast.AST) -> frozenset[str]:
        """The parameters a function applies layers to: ``x`` in ``Conv2D(8, 3)(x)``, ``Add()([x, y])``,
        ``layers.add([x, y])``, or passes where another top-level function of the file does
        (``se_block(x)``); directly, not through another variable."""
        memo = self._tensor_params
        if function in memo:
            return memo[function]
        memo[function] = frozenset()  # (while it is worked out: a recursive helper)
        spec = function.args
        params = [p.arg for p in spec.posonlyargs + spec.args]
        names = set(params) | {p.arg for p in spec.kwonlyargs}
        used: set[str] = set()
        for node in _walk(function):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            callee = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Call) or callee in _MERGE_FUNCTIONS:
                for arg in node.args[:1]:  # the inputs (not `Dropout(0.5)(x, training)`'s flag)
                    items = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
                    used.update(item.id for item in items if isinstance(item, ast.Name) and item.id in names)
                continue
            helper = self._module_functions.get(callee) if isinstance(func, ast.Name) else None
            if helper is None:
                continue
            helper_spec = helper.args
            helper_params = [p.arg for p in helper_spec.posonlyargs + helper_spec.args]
            tensors = self._tensor_parameters(helper)
            for index, arg in enumerate(node.args):
                if isinstance(arg, ast.Name) and arg.id in names and index < len(helper_params) and (
                        helper_params[index] in tensors):
                    used.add(arg.id)
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Name) and keyword.value.id in names and keyword.arg in tensors:
                    used.add(keyword.value.id)
        memo[function] = frozenset(used)
        return memo[function]

    @cached_property
    def _module_functions(self) -> dict[str, ast.FunctionDef]:
        return {node.name: node for node in self.tree.body if isinstance(node, ast.FunctionDef)}

    def _build_once(self, instance: InstanceValue, args: list, node: ast.AST) -> None:
        """Run a custom layer's ``build`` on its first call, as Keras does (its sublayers take their
        automatic names then), unless the code built it already."""
        build = instance.cls.methods.get("build")
        if build is None or instance.attrs.get("built") is True:
            return
        shape = args[0].shape if args and isinstance(args[0], TensorValue) else UNKNOWN
        self._call_function(build, [instance, shape], {}, node)

    def _custom_output(self, instance: InstanceValue, args: list, kwargs: dict, node: ast.AST) -> Any:
        """What a custom layer's ``call`` returns on placeholders of its inputs, run in scratch (for the
        shapes of its outputs): a tensor, a non-empty list or tuple of tensors, or UNKNOWN."""
        with self.builder.scratch():
            args = self.builder.placeholders(list(args))
            output = self._call_function(instance.cls.methods["call"], [instance, *args], kwargs, node)
        if isinstance(output, TensorValue) or (isinstance(output, (list, tuple)) and output and all(
                type(item) is TensorValue for item in output)):
            return output
        return UNKNOWN

    def _user_activation(self, value: Any) -> Any:
        """What a function of the code's own passed as an activation computes, from running it in scratch.

        ``"<function NAME>"`` (``"<lambda>"``) when it applies a hidden
        nonlinearity: a known activation other than a squashing one, or a
        squashing one that gates its input (``x * sigmoid(x)``: the input
        also reaches the result around it); ``"linear"`` when it returns its
        input; UNKNOWN otherwise, a squashing function on the output (a
        softmax with a temperature) included.
        """
        if not isinstance(value, (FunctionValue, PartialValue)):
            return UNKNOWN
        if value not in self._user_activations:
            self._user_activations[value] = UNKNOWN  # (while it runs: an activation that makes layers with itself)
            self._user_activations[value] = self._run_activation(value)
        return self._user_activations[value]

    def _apply_function(self, func: FunctionValue, tensor: TensorValue, node: ast.AST) -> Any:
        """A function of the code's own called on one tensor; when it applied a hidden nonlinearity with ops
        alone (``x = mish(x)``), its last op records the activation (:attr:`~bnlint.graph.Layer.applies`)."""
        workspace = self.builder.workspace
        first = workspace.next_node
        output = self._call_function(func, [tensor], {}, node)
        if not (type(output) is TensorValue and output.graph is workspace and output.node >= first
                and workspace.next_node - first <= _SMALL_FUNCTION):
            return output
        made = range(first, workspace.next_node)
        layer = workspace.layer(output.node)
        if layer.kind == "op" and any(tensor.node in workspace.predecessors(n) for n in made) and all(
                workspace.layer(n).kind in ("op", "activation")
                and all(p == tensor.node or p >= first for p in workspace.predecessors(n)) for n in made):
            if _hidden_nonlinearity(workspace, output.node, tensor.node, first):
                layer.applies = kinds.own_function_activation(getattr(func.node, "name", "<lambda>"))
        return output

    def _layer_activation(self, instance: InstanceValue, node: ast.AST) -> str | None:
        """``"<class Mish>"`` for a layer class of the code's own, without weights, whose ``call`` applies a
        hidden nonlinearity to its input (YOLOv4's ``class Mish(Layer)``), as :meth:`_user_activation`
        tells for functions; else None. Decided once per class."""
        cls = instance.cls
        if cls not in self._layer_activations:
            self._layer_activations[cls] = None
            if not _has_weights(cls.node):
                found = self._user_activation(PartialValue(cls.methods["call"], [instance], {}, node))
                if kinds.is_own_function(found):
                    self._layer_activations[cls] = kinds.own_class_activation(cls.node.name)
        return self._layer_activations[cls]

    def _run_activation(self, func: FunctionValue | PartialValue) -> Any:
        inner = func.func if isinstance(func, PartialValue) else func
        node = func.node if isinstance(func, FunctionValue) else func.node or getattr(inner, "node", None)
        if node is None:
            return UNKNOWN
        invoked = not isinstance(inner, FunctionValue) or inner.node in self._invoked
        with self.builder.scratch():
            probe = self.builder.placeholder()
            try:
                if isinstance(func, PartialValue):
                    output = self._call(func, [probe], {}, node)
                else:
                    output = self._call_function(func, [probe], {}, node)
            except AnalysisLimit:
                output = UNKNOWN
            finally:
                if not invoked:  # (Keras calls it, not the code: an uncalled function stays an entry point)
                    self._invoked.discard(inner.node)
            graph = self.builder.workspace
        if output is probe:
            return "linear"
        if not isinstance(output, TensorValue) or output.graph is not graph:
            return UNKNOWN
        if _hidden_nonlinearity(graph, output.node, probe.node):
            name = inner.path.rpartition(".")[2] if isinstance(inner, ExternalRef) else getattr(
                getattr(inner, "node", None), "name", "<lambda>")
            return kinds.own_function_activation(name, partial=isinstance(func, PartialValue))
        return UNKNOWN

    def _call_function(self, func: FunctionValue, args: list, kwargs: dict, node: ast.AST) -> Any:
        if self._depth >= MAX_CALL_DEPTH:
            raise AnalysisLimit(f"{self._module.path}:{node.lineno}: call depth exceeds {MAX_CALL_DEPTH}")
        self._invoked.add(func.node)
        if args and type(args[0]) is InstanceValue and args[0].cls.methods.get("build") is func:
            args[0].attrs["built"] = True  # `block.build(shape)` called by the code: not built again on its call
        key = self._data_call_key(func, args, kwargs)
        if key is None:
            return self._call_tracked(func, args, kwargs)
        if key in self._data_results:
            return _plain_copy(self._data_results[key])
        guards = self._guards_fired
        result = self._call_tracked(func, args, kwargs)
        kept = _plain_copy(result)
        if kept is not _NOT_PLAIN and guards == self._guards_fired and len(self._data_results) < _MAX_DATA_RESULTS:
            self._data_results[key] = kept
        return result

    def _data_call_key(self, func: FunctionValue, args: list, kwargs: dict) -> tuple | None:
        """What decides the result of a call of a data-only function (:func:`_data_function`), or None.

        HarDNet's channel counts come from a helper that calls itself on every earlier layer
        (exponentially often: 45,000 calls to build tf2cv's six HarDNets, 6 s); its values, known and
        immutable, and those it reads from outside, give one result, kept for the next equal call.
        """
        node = func.node
        names = self._data_functions.get(node, _NOT_PLAIN)
        if names is _NOT_PLAIN:
            names = self._data_functions[node] = _data_function(node)
        if names is None:
            return None
        free, looping = names
        key: list = [node]
        for value in (*args, *func.defaults, *func.kw_defaults):
            part = _plain_key(value)
            if part is None:
                return None
            key.append(part)
        for name, value in kwargs.items():
            part = _plain_key(value)
            if part is None:
                return None
            key.append((name, part))
        module = func.module or self._module
        for name in free:
            found, value = func.closure.lookup(name)
            if found:
                part = "<itself>" if value is func else _plain_key(value)
            elif name in PURE_BUILTINS and name not in module.bound_names:
                part = "<builtin>"
            elif name in looping:
                part = "<unbound>"  # (read only in the comprehension that binds it)
            else:
                part = None
            if part is None:
                return None
            key.append(part)
        return tuple(key)

    def _call_tracked(self, func: FunctionValue, args: list, kwargs: dict) -> Any:
        active = self._active.get(func.node, 0)
        calls = None
        if active:  # a recursive call
            calls = self._recursing.setdefault(func.node, [])
            state = self._loop_state(func.closure)
            _add_values(state, [*enumerate(args), *kwargs.items()])  # (their sizes, and instances' attributes)
            if any(_same_arguments(args, kwargs, *call[:2], lists=True) and _same_state(state, call[2], lists=True)
                   for call in calls):
                # It would do what the recursive call it is in does, forever: `convert(boxes["boxes"])`
                # inside `convert(boxes)` when `isinstance(boxes, dict)` is unknown, `f(values[::2],
                # weights[:-1])` with `weights == []` when the check that raises on it cannot be decided.
                # Its value is unknown.
                self._guards_fired += 1
                return UNKNOWN
            calls.append((list(args), dict(kwargs), state))
        self._active[func.node] = active + 1
        try:
            return self._run_function(func, args, kwargs)
        finally:
            self._active[func.node] = active
            if calls is not None:
                calls.pop()

    def _run_function(self, func: FunctionValue, args: list, kwargs: dict) -> Any:
        scope = _Scope(func.closure)
        caller_module = self._module
        self._module = func.module or caller_module
        self._bind_arguments(func, args, kwargs, scope)
        if args and isinstance(args[0], InstanceValue):
            scope.vars["<self>"] = args[0]  # for super(); no identifier can clash with these
            scope.vars["<method>"] = func.node
        # A generator function's items are drawn at once, in order, into a list (each `yield` adds to
        # it): what model code does with them (`Sequential(list(blocks()))`, `for layer in blocks():`)
        # sees them all.
        self._depth += 1
        try:
            if isinstance(func.node, ast.Lambda):
                return self._eval(func.node.body, scope)
            self._exec_block(func.node.body, scope)
            returned = None
        except _Return as done:
            returned = done.value
        except (_Abort, _Break, _Continue):
            return UNKNOWN
        finally:
            self._depth -= 1
            self._module = caller_module
        if _YIELDED in scope.vars:
            return scope.vars[_YIELDED]
        if returned is None and (func.module or caller_module).yields and not isinstance(func.node, ast.Lambda) and (
                _yields_in(func.node)):
            return []  # (a generator function that yielded nothing)
        return returned

    def _bind_arguments(self, func: FunctionValue, args: list, kwargs: dict, scope: _Scope) -> None:
        spec = func.node.args
        positional = spec.posonlyargs + spec.args
        defaults = [_NO_DEFAULT] * (len(positional) - len(func.defaults)) + list(func.defaults)
        kwargs = dict(kwargs)
        unknown_extra = kwargs.pop("**", None) is not None
        entry = kwargs.pop("**entry", False)
        # An entry point callable without arguments (`EfficientNetB0(include_top=True, ..., **kwargs)`)
        # is analysed as that call, so its `*args` and `**kwargs` are empty. A helper with required
        # parameters (`conv_bn(x, filters, **kwargs)`) may be passed anything there: they stay unknown.
        unknown_rest = entry and any(d is _NO_DEFAULT for d in [*defaults, *func.kw_defaults])
        for index, (param, default) in enumerate(zip(positional, defaults)):
            if index < len(args):
                value = args[index]
            elif param.arg in kwargs:
                value = kwargs.pop(param.arg)
            elif entry and default is _NO_DEFAULT and param.annotation is not None and (
                    made := self._default_instance(param.annotation, scope)) is not None:
                value = made  # `cfg: ResNetConfig`: a configuration with its defaults
            elif entry and default is _NO_DEFAULT and param.arg in self._tensor_parameters(func.node):
                # A helper analysed on its own (`def se_block(x, ratio)`): the parameter it applies
                # layers to stands for a tensor made elsewhere, so a gate or a residual that starts
                # at it keeps both ends (`Multiply()([x, gate])`, `add([x, y])`).
                value = self.builder.placeholder()
            elif unknown_extra or default is _NO_DEFAULT:
                value = UNKNOWN
            else:
                value = default
            scope.vars[param.arg] = value
        if spec.vararg is not None:
            scope.vars[spec.vararg.arg] = tuple(args[len(positional):]) if not unknown_rest else UNKNOWN
        for param, default in zip(spec.kwonlyargs, func.kw_defaults):
            if param.arg in kwargs:
                scope.vars[param.arg] = kwargs.pop(param.arg)
            elif default is not _NO_DEFAULT and not unknown_extra:
                scope.vars[param.arg] = default
            else:
                scope.vars[param.arg] = UNKNOWN
        if spec.kwarg is not None:
            scope.vars[spec.kwarg.arg] = UNKNOWN if unknown_extra or unknown_rest else kwargs
        if entry and scope.vars.get("weights") is not None and "weights" in (p.arg for p in positional + spec.kwonlyargs):
            # Entry points are analysed without pretrained weights: loading them
            # needs the network, and the architecture is what bnlint checks.
            scope.vars["weights"] = None

    # -- truth -----------------------------------------------------------

    @staticmethod
    def _truth(value: Any) -> Any:
        """True, False, or UNKNOWN when the value cannot be decided statically."""
        if is_plain(value):
            return bool(value)
        if isinstance(value, (LayerValue, TensorValue, ModelValue, SequentialValue, FunctionValue, ExternalRef,
                              InstanceValue, ClassValue, PartialValue)):
            return True
        return UNKNOWN


# Handlers by node type, looked up once per node instead of by name.
_STATEMENTS = {
    getattr(ast, name[len("_exec_"):]): function
    for name, function in vars(Interpreter).items()
    if name.startswith("_exec_") and hasattr(ast, name[len("_exec_"):])
}
_EXPRESSIONS = {
    getattr(ast, name[len("_eval_"):]): function
    for name, function in vars(Interpreter).items()
    if name.startswith("_eval_") and hasattr(ast, name[len("_eval_"):])
}
_EXPRESSIONS[type(None)] = lambda interpreter, node, scope: None  # an absent expression (`return`)


def _eval_other(interpreter: Interpreter, node: ast.expr, scope: _Scope) -> Any:
    """Expressions without a handler (await, yield, ...) cannot be known statically."""
    return UNKNOWN


@dataclass(eq=False)
class _BoundMethod:
    """A method of a known value: a pure one of a builtin type, or ``Sequential.add``."""

    owner: Any
    name: str

    def call(self, interpreter: Interpreter, args: list, kwargs: dict, node: ast.Call) -> Any:
        if isinstance(self.owner, (SequentialValue, ModelValue)):
            return interpreter.builder.call_method(self.owner, self.name, args, kwargs, interpreter.site(node))
        if isinstance(self.owner, ClassValue):  # fit on an instance of a subclassed model
            return interpreter.builder.record_fit(self.owner.fits, args, kwargs, interpreter.site(node))
        if isinstance(self.owner, _Super):
            return interpreter.super_init(self.owner, args, kwargs, node)
        if self.name in ("get_shape", "as_list"):  # the shape the method was taken from, as TensorFlow gives it
            return UNKNOWN if args or kwargs or self.owner is UNKNOWN else (
                self.owner if self.name == "get_shape" else list(self.owner))
        if "**" in kwargs:
            return UNKNOWN
        if self.name == "format" and not modest_template(self.owner):
            return UNKNOWN
        mutating = self.name in ("append", "extend", "insert", "pop", "reverse", "update", "setdefault")
        if not mutating and self.name != "_replace" and not all(is_plain(a) for a in list(args) + list(kwargs.values())):
            return UNKNOWN
        if isinstance(self.owner, HyperParameters):
            return self.owner.call(self.name, args, kwargs)
        try:
            result = getattr(self.owner, self.name)(*args, **kwargs)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            return UNKNOWN
        if isinstance(result, (type({}.items()), type({}.keys()), type({}.values()))):
            result = list(result)
        return result


# The methods of a namedtuple's instances the interpreter calls (`_replace` takes any values).
_NAMEDTUPLE_METHODS = frozenset({"_replace", "_asdict", "index", "count"})

# The Keras modules `get_submodules_from_kwargs` hands out, in its order.
_SUBMODULES = ("backend", "layers", "models", "utils")


def _injected_submodules(args: list, kwargs: dict) -> Any:
    """``backend, layers, models, utils = get_submodules_from_kwargs(kwargs)``: Keras' own modules.

    The convention of keras-applications (Keras 2's model builders) and the
    packages that follow it (efficientnet, classification_models,
    segmentation_models): a builder's module holds ``layers = None`` and the
    like, and its entry point takes Keras' modules from its ``**kwargs``,
    where a wrapper of the package put them (``inject_keras_modules``). A
    module the call does not find among the known arguments is Keras' own.
    """
    if len(args) != 1 or kwargs:
        return UNKNOWN
    given = args[0] if isinstance(args[0], dict) else {}
    return tuple(given[key] if isinstance(given.get(key), ExternalRef) else ExternalRef("keras." + key)
                 for key in _SUBMODULES)


def _keras_submodule(args: list, kwargs: dict) -> Any:
    """``layers = get_keras_submodule("layers")``: keras-applications' older form (1.0.6 and before)."""
    if len(args) != 1 or kwargs or args[0] not in (*_SUBMODULES, "engine"):
        return UNKNOWN
    return ExternalRef("keras." + args[0])


# Functions, by name, that hand Keras' modules to model code, wherever they are defined.
_MODULE_GETTERS = {"get_submodules_from_kwargs": _injected_submodules, "get_keras_submodule": _keras_submodule}
_MODULE_GETTER_PATHS = tuple("." + name for name in _MODULE_GETTERS)


def _computed_arguments(node: ast.Call) -> frozenset:
    """The arguments of *node* not written as literals: keyword names, and positions up to any ``*args``."""
    computed: set = set()
    for index, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            break
        if not _is_literal(arg):
            computed.add(index)
    computed.update(keyword.arg for keyword in node.keywords if keyword.arg and not _is_literal(keyword.value))
    return frozenset(computed)


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_literal(element) for element in node.elts)
    return isinstance(node, ast.Constant)


def _requires(function: FunctionValue, name: str) -> bool:
    """Whether *function* has a parameter *name* without a default."""
    spec = function.node.args
    positional = spec.posonlyargs + spec.args
    required = positional[:len(positional) - len(function.defaults)]
    required += [p for p, default in zip(spec.kwonlyargs, function.kw_defaults) if default is _NO_DEFAULT]
    return any(param.arg == name for param in required)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (list, dict, set)) else -1


def _same_state(state: list, previous: list, lists: bool = False) -> bool:
    """Whether two :meth:`Interpreter._loop_state` snapshots hold the same counts and the same values
    (:func:`_same_value`: the very same objects, equal scalars, or tuples and Keras utility results of such;
    with *lists*, lists of such too)."""
    return state[:2] == previous[:2] and len(state) == len(previous) and all(
        name == old_name and _same_value(value, old_value, lists) and size == old_size
        for (name, value, size), (old_name, old_value, old_size) in zip(state[2:], previous[2:]))


def _same_arguments(args: list, kwargs: dict, old_args: list, old_kwargs: dict, lists: bool = False) -> bool:
    """Whether two calls pass the very same values (equal ones, for immutable scalars; with *lists*, lists of
    the same values too)."""
    return len(args) == len(old_args) and kwargs.keys() == old_kwargs.keys() and all(
        _same_value(value, old, lists) for value, old in zip(args, old_args)
    ) and all(_same_value(value, old_kwargs[key], lists) for key, value in kwargs.items())


# What ``isinstance`` can be asked about: the builtin types a value here has as in the program.
_BUILTIN_TYPES = (bool, int, float, complex, str, bytes, list, tuple, dict, set, range, type(None))
# Values that are Keras objects or code, never an instance of a builtin type.
_OBJECTS = (TensorValue, LayerValue, ModelValue, SequentialValue, KerasObject, FunctionValue, PartialValue,
            ClassValue, InstanceValue, LocalModule, HyperParameters, ModelLayer)


def _isinstance(args: list) -> Any:
    """``isinstance(value, int)``, ``isinstance(value, (list, tuple))``: known for known values and builtin types.

    (``if isinstance(kernel_size, int): kernel_size = (kernel_size,) * 2``
    must not take its branch for a tuple.)
    """
    if len(args) != 2:
        return UNKNOWN
    value, types = args
    types = types if type(types) is tuple else (types,)
    if not types or not all(t in _BUILTIN_TYPES for t in types):
        return UNKNOWN
    if _builtin_typed(value):
        return isinstance(value, types)  # (a list's items may be unknown; it is a list all the same)
    return False if isinstance(value, _OBJECTS) else UNKNOWN


def _builtin_typed(value: Any) -> bool:
    """Whether *value* has here the builtin type it has in the program (its items may still be unknown)."""
    return type(value) in _BUILTIN_TYPES


def _callable(value: Any) -> Any:
    """``callable(activation)``: false for data (``"relu"``), true for layers, models and functions."""
    if _builtin_typed(value) or isinstance(value, TensorValue):
        return False
    if isinstance(value, (LayerValue, ModelValue, SequentialValue, FunctionValue, PartialValue, ClassValue)):
        return True
    return UNKNOWN  # (an import may be a function or a constant; an initializer object is callable)


def _comparable(value: Any) -> bool:
    """Known data, a builtin type, or a tuple or list of these: ``type(x) in (list, tuple)`` can be decided."""
    if type(value) in (tuple, list):
        return all(_comparable(item) for item in value)
    return (type(value) is type and value in _BUILTIN_TYPES) or is_plain(value)


def _add_values(state: list, items) -> None:
    """``(name, value, size)`` for each named value into a state snapshot, and each attribute of an instance."""
    for name, value in items:
        state.append((name, value, _size(value)))
        if isinstance(value, InstanceValue):
            state.extend((attr, item, _size(item)) for attr, item in value.attrs.items())


def _same_value(value: Any, old: Any, lists: bool = False) -> bool:
    if value is old:
        return True
    if type(value) is not type(old):
        return False
    if type(value) in (int, float, str, bool, bytes):
        return value == old
    # A tuple, or a call of a Keras utility, made again of the same things in every iteration
    # (`return masked, missing, (y, x)`; `labels = to_categorical(y[idx], 11)`).
    if type(value) is tuple or (lists and type(value) is list):
        return len(value) == len(old) and all(_same_value(item, was, lists) for item, was in zip(value, old))
    return type(value) is KerasObject and value.path == old.path and _same_arguments(
        value.args, value.kwargs, old.args, old.kwargs)


def _has_tensor(args: list, kwargs: dict) -> bool:
    values = list(args) + list(kwargs.values())
    return any(
        isinstance(v, TensorValue) or (isinstance(v, (list, tuple)) and any(isinstance(i, TensorValue) for i in v))
        for v in values
    )


def _callee_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return "call"


def _parse_module(path: Path, looked_up: Path) -> tuple[list[str], ast.Module]:
    """An imported sibling module's lines and tree (*path* resolved from *looked_up*), parsed once per
    process and content.

    The text is read every time: a long-lived process must see an edited
    module (and the result cache is told what was read: :func:`~bnlint.readers.modules.note_read`).
    The parse is shared with the module's own check, when the same
    process checks it (:func:`~bnlint.readers.python_source.parse_python`). It is decoded as the
    module's own check decodes it: UTF-8 with or without a BOM, or the encoding its coding cookie names.
    """
    data = path.read_bytes()
    note_read(data, looked_up, path)
    return parse_python(path, decode_source(data, str(path)).text)


def _defines(node: ast.ClassDef, method: str) -> bool:
    """Whether the class body itself defines *method* (not only inherits it)."""
    return any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == method for s in node.body)


# A function applied to a tensor that makes more nodes than this is not an activation function.
_SMALL_FUNCTION = 16


# Layers that compute or normalise features: a function that applies one is not an activation.
_FEATURE_KINDS = frozenset({"conv", "dense", "embedding", "recurrent", "attention", "batchnorm", "norm", "model"})


def _hidden_nonlinearity(graph, output: int, source: int, first: int = 0) -> bool:
    """Whether the nodes from *first* on that make *output* from *source* apply a hidden nonlinearity.

    That is, a known activation other than a squashing one (``x * tanh(softplus(x))``), or a squashing
    one that gates its input (``x * sigmoid(x)``: *source* also reaches *output* around it); not a
    squashing function on the output itself (a softmax with a temperature), and never a function
    that applies a weight or normalisation layer on the way.
    """
    made, stack = {output}, [output]  # (its ancestors from *first* on: not back to the model's inputs)
    while stack:
        for producer in graph.predecessors(stack.pop()):
            if producer >= first and producer not in made:
                made.add(producer)
                stack.append(producer)
    activations = {}
    for node in made:
        layer = graph.layer(node)
        if layer.kind in _FEATURE_KINDS:
            return False  # (a residual block written as a layer of its own computes features)
        if layer.kind == "activation" and isinstance(layer.get("activation"), str):
            activations[node] = layer.get("activation")
    squashing = {node for node, name in activations.items() if name in kinds.SQUASHING_ACTIVATIONS}
    if output in squashing:
        return False  # an output or gating function
    hidden = any(name not in kinds.SQUASHING_ACTIVATIONS and name != "linear" for name in activations.values())
    return hidden or bool(squashing and _reaches_around(graph, output, source, squashing))


def _reaches_around(graph, node: int, source: int, avoided: set[int]) -> bool:
    """Whether *source* reaches *node* in *graph* along a path through none of *avoided*."""
    seen, stack = {node}, [node]
    while stack:
        for producer in graph.predecessors(stack.pop()):
            if producer == source:
                return True
            if producer not in seen and producer not in avoided:
                seen.add(producer)
                stack.append(producer)
    return False


def _always_raises(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Raise)


def _walk(node: ast.AST):
    """Every node under *node* (itself included), in no particular order: ``ast.walk``, three times faster."""
    stack = [node]
    pop, push, extend, AST = stack.pop, stack.append, stack.extend, ast.AST
    while stack:
        node = pop()
        if not isinstance(node, AST):
            continue  # list items that are not nodes (None keys of {**a}, names of `global`)
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                extend(value)
            elif isinstance(value, AST):
                push(value)


_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
# Statements and expressions a data-only function has none of: they reach beyond its own values.
_REACHING_OUT = (*_NEW_SCOPES, ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom, ast.With, ast.AsyncWith,
                 ast.AsyncFor, ast.Yield, ast.YieldFrom, ast.Await)
_PLAIN_METHOD_NAMES = frozenset().union(*PURE_METHODS.values())
_NOT_PLAIN = object()
_NUMBERS = (int, float)  # (not bool: `True + 1` takes the general way, as any other type)
_MAX_DATA_RESULTS = 100_000
_PLAIN_SCALARS = (int, float, bool, str, bytes, type(None), range)


def _data_function(node: ast.AST) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """The names a function reads from outside itself, if it computes on plain data alone; else None.

    Such a function (no decorator, nested scope, import, ``global`` or ``yield``; assigning only
    names and items, not attributes; calling only names and the methods of builtin types) given
    known immutable values and reading known immutable values (or itself, or a builtin) cannot make
    a layer or change anything its caller sees: an equal call gives an equal result. The second
    part are those of the names that only a comprehension binds: in its own scope, so that, read
    elsewhere in the function, they are the enclosing scope's, or bound nowhere.
    """
    if type(node) is not ast.FunctionDef or node.decorator_list:
        return None
    spec = node.args
    bound = {arg.arg for arg in (*spec.posonlyargs, *spec.args, *spec.kwonlyargs, spec.vararg, spec.kwarg)
             if arg is not None}
    read: set[str] = set()
    stores: list[ast.Name] = []
    looping: set[ast.Name] = set()  # the names of comprehension targets
    for statement in node.body:
        for child in _walk(statement):
            kind = type(child)
            if kind is ast.Name:
                (read.add(child.id) if type(child.ctx) is ast.Load else stores.append(child))
            elif isinstance(child, _REACHING_OUT):
                return None
            elif kind is ast.Attribute and type(child.ctx) is not ast.Load:
                return None
            elif kind is ast.Call and not (type(child.func) is ast.Name or (
                    type(child.func) is ast.Attribute and child.func.attr in _PLAIN_METHOD_NAMES)):
                return None
            elif kind is ast.comprehension:
                looping.update(n for n in _walk(child.target) if type(n) is ast.Name)
    bound.update(name.id for name in stores if name not in looping)
    free = read - bound
    return tuple(sorted(free)), frozenset(name.id for name in looping) & free


def _plain_key(value: Any) -> Any:
    """A hashable stand-in for an immutable known value (types kept apart: ``1``, ``1.0``, ``True``), or None."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return (kind, repr(value)) if kind is float else (kind, value)
    if kind is tuple:
        items = tuple(_plain_key(item) for item in value)
        return None if None in items else (tuple, items)
    return "<unknown>" if value is UNKNOWN else None


def _plain_copy(value: Any) -> Any:
    """A copy of a plain-data value (lists, dicts and sets new), or ``_NOT_PLAIN``."""
    kind = type(value)
    if kind in _PLAIN_SCALARS or value is UNKNOWN:
        return value
    if kind in (list, tuple, set):
        items = [_plain_copy(item) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else kind(items)
    if kind is dict:
        pairs = [(_plain_copy(k), _plain_copy(v)) for k, v in value.items()]
        return _NOT_PLAIN if any(k is _NOT_PLAIN or v is _NOT_PLAIN for k, v in pairs) else dict(pairs)
    return _NOT_PLAIN


def _plain_or_unknown(value: Any) -> Any:
    copy = _plain_copy(value)
    return UNKNOWN if copy is _NOT_PLAIN else copy


def _walk_body(node: ast.AST):
    """Every node under *node* that runs in its scope: :func:`_walk`, not entering nested functions,
    lambdas or classes."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _NEW_SCOPES):
                stack.append(child)


def _names_used_by_other_functions(tree: ast.Module) -> set[str]:
    """Names that top-level functions and classes use, other than their own."""
    used: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = {n.id for n in _walk(node) if type(n) is ast.Name}
            names.discard(node.name)
            used |= names
    return used


def _instance_attribute(instance: InstanceValue, name: str) -> Any:
    """``instance.name``: its own attribute, else its method bound to it, else its class's attribute."""
    if name in instance.attrs:
        return instance.attrs[name]
    method = instance.cls.methods.get(name)
    if method is None:
        if name in ("add", "pop") and type(instance.model) is SequentialValue:
            return _BoundMethod(instance.model, name)  # (`self.add(layer)` in a Sequential subclass)
        return _class_attribute(instance.cls, name)
    bound = _bound_to(method, instance.cls, instance)
    return PartialValue(method, bound, {}) if bound else method


def _bound_to(method: FunctionValue, cls: ClassValue, instance: Any) -> list:
    """What a method read from *cls* (or from *instance*, when not None) is bound to: nothing for a
    ``@staticmethod`` (or a plain function read from the class), the class for a ``@classmethod``."""
    decorators = {d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else None
                  for d in getattr(method.node, "decorator_list", ())}
    if "staticmethod" in decorators:
        return []
    if "classmethod" in decorators:
        return [cls]
    return [instance] if instance is not None else []


def _class_attribute(cls: ClassValue, name: str, missing: Any = UNKNOWN) -> Any:
    """The class-level variable *name* of *cls* or of the first class it derives from that has one
    (*missing* when none has, or it is a dataclass field without a default value)."""
    for owner in (cls, *_class_order(cls)[1:]) if name not in cls.attrs else (cls,):
        if name in owner.attrs:
            value = owner.attrs[name]
            return missing if value is _NO_DEFAULT else value
    return missing


def _is_class_var(annotation: ast.expr) -> bool:
    """``ClassVar[int]`` (or ``typing.ClassVar``): a class variable, not a dataclass field."""
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    name = annotation.id if isinstance(annotation, ast.Name) else annotation.attr if isinstance(
        annotation, ast.Attribute) else None
    return name == "ClassVar"


def _dataclass_fields(cls: ClassValue) -> list[str]:
    """The fields of dataclass *cls*, its bases' first, in the order its ``__init__`` takes them."""
    fields: list[str] = []
    for base in reversed(_class_order(cls)):
        for name in base.fields or ():
            if name not in fields:
                fields.append(name)
    return fields


def _class_order(cls: ClassValue) -> list[ClassValue]:
    """*cls* and the classes of the code's own it derives from, in Python's method resolution order."""
    order: list[ClassValue] = []

    def merge(sequences: list[list[ClassValue]]) -> None:  # the C3 linearisation
        sequences = [list(seq) for seq in sequences if seq]
        while sequences:
            for seq in sequences:
                head = seq[0]
                if not any(head in other[1:] for other in sequences):
                    break
            else:
                return  # no consistent order (Python would refuse the class): stop here
            order.append(head)
            sequences = [[c for c in seq if c is not head] for seq in sequences]
            sequences = [seq for seq in sequences if seq]

    merge([[cls], *[_class_order(parent) for parent in cls.parents], list(cls.parents)])
    return order


def _next_method(cls: ClassValue, method: Any, name: str) -> FunctionValue | None:
    """The method *name* that ``super().name`` in *method* (a node) of an instance of *cls* reaches,
    when a class of the code's own defines it (None when it is Keras' or ``object``'s)."""
    order = _class_order(cls)
    owners = [i for i, c in enumerate(order) if any(statement is method for statement in c.node.body)]
    for following in order[owners[0] + 1:] if owners else []:
        if _defines(following.node, name):
            return following.methods[name]
    return None


# Names whose mention in a class marks it as one that may build models (see _names_keras_layers).
_MODEL_NAMES = frozenset({"Model", "Sequential", "Input", "Functional"})


def _names_keras_layers(node: ast.ClassDef) -> bool:
    """Whether the class's code names a Keras layer class, ``Model``, ``Sequential`` or ``Input``.

    Uninstantiated plain classes are read only then: running every class of a
    large library (TensorFlow's sources) for models it cannot build costs a quarter more time.
    """
    for child in ast.walk(node):
        name = child.id if isinstance(child, ast.Name) else child.attr if isinstance(child, ast.Attribute) else None
        if name is not None and (name in kinds.LAYER_KINDS or name in kinds.LEGACY_ALIASES or name in _MODEL_NAMES):
            return True
    return False


def _has_weights(node: ast.ClassDef) -> bool:
    """Whether a layer class may make weights: it has a ``build`` method, or calls ``add_weight`` or
    makes a variable."""
    for child in ast.walk(node):
        if isinstance(child, ast.FunctionDef) and child.name == "build":
            return True
        name = child.attr if isinstance(child, ast.Attribute) else child.id if isinstance(child, ast.Name) else None
        if name in ("add_weight", "add_variable", "Variable"):
            return True
    return False


# Keras' functional merge helpers, which take tensors as layer calls do (`layers.add([x, y])`).
_MERGE_FUNCTIONS = frozenset({"add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"})


# Values a method call in a loop cannot have changed: modules, classes, functions, immutable data.
_UNCHANGED_BY_CALLS = (ExternalRef, LocalModule, _LazyImport, ClassValue, FunctionValue, PartialValue,
                       str, bytes, tuple, int, float, bool, type(None))


# Known values a `for` loop cannot iterate (anything else not listed is iterated once, unknown).
_NOT_ITERABLE = (int, float, complex, type(None))
# Builtins the interpreter calls itself, since they call the code's own functions.
_CALLING_BUILTINS = {"map": map, "filter": filter, "getattr": getattr, "setattr": setattr}
# The list a generator function's items go to (no identifier can clash with it).
_YIELDED = "<yielded>"


def _forget_loop_effects(node: ast.For | ast.While, scope: _Scope, keep_tensors: bool = False) -> None:
    """Make UNKNOWN what a loop cut short may have changed: the variables it assigns, the
    containers whose methods it calls or whose items it sets, and the attributes it sets.

    With *keep_tensors* (a loop run once for a count bnlint does not know), a variable or container
    holding only tensors keeps them: a loop that builds blocks runs at least once, and the tensor one
    iteration leaves connects the code after the loop as the last iteration's would.
    """
    def holder_of(name: str) -> _Scope | None:
        if scope.outer and name in scope.outer:  # `global` or `nonlocal`
            return scope.outer[name]
        current: _Scope | None = scope
        while current is not None and name not in current.vars:
            current = current.parent
        return current

    for child in _walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            holder = holder_of(child.id) or scope
            if not (keep_tensors and _only_tensors(holder.vars.get(child.id))):
                holder.vars[child.id] = UNKNOWN
            continue
        if isinstance(child, ast.Subscript) and isinstance(child.ctx, ast.Store):
            owner = child.value
        elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            owner = child.func.value  # `parts.append(tail)`
        elif isinstance(child, ast.Attribute) and isinstance(child.ctx, ast.Store):
            instance = scope.lookup(child.value.id)[1] if isinstance(child.value, ast.Name) else None
            if isinstance(instance, InstanceValue):
                instance.attrs[child.attr] = UNKNOWN
            continue
        else:
            continue
        found = holder_of(owner.id) if isinstance(owner, ast.Name) else None
        if found is not None and not isinstance(found.vars.get(owner.id), _UNCHANGED_BY_CALLS) and not (
                keep_tensors and _only_tensors(found.vars.get(owner.id))):
            found.vars[owner.id] = UNKNOWN  # (not `np` of `np.random.randint(...)`: modules stay)


def _reads_tensors(node: ast.For | ast.While, scope: _Scope) -> bool:
    """Whether a variable the loop names holds a tensor (or a list of them) now: a loop that builds on them."""
    return any(type(child) is ast.Name and _only_tensors(scope.lookup(child.id)[1]) for child in _walk(node))


def _yields_in(node: ast.stmt) -> bool:
    """Whether a ``yield`` runs in *node*'s own scope: in a function's body (a generator function), or
    in a loop (not in a function or class nested there). Noted on the node, which the parsed-tree
    cache shares between the files a process reads."""
    found = getattr(node, "_bnlint_yields", None)
    if found is None:
        parts = node.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else [node]
        found = node._bnlint_yields = any(
            type(child) in (ast.Yield, ast.YieldFrom) for part in parts for child in _walk_body(part))
    return found


def _only_tensors(value: Any) -> bool:
    """A tensor, or a non-empty list or tuple of tensors (``skips`` of a U-Net)."""
    if type(value) is TensorValue:
        return True
    return type(value) in (list, tuple) and bool(value) and all(type(item) is TensorValue for item in value)


def _names_bound_by(target: ast.expr) -> frozenset[str]:
    """The variables an assignment target binds (``i``, ``(i, name)``, ``[a, *rest]``)."""
    return frozenset(node.id for node in ast.walk(target) if isinstance(node, ast.Name))


def _names_bound_in(tree: ast.Module) -> set[str]:
    """Every name the file binds anywhere (so unbound well-known names can mean Keras)."""
    bound: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound
