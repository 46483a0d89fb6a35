"""A static interpreter for model-building Python code.

It walks a module's ``ast`` and evaluates it abstractly: values it can know
(numbers, strings, containers, user functions, imported names) are computed;
anything else is :data:`~bnlint.graph.UNKNOWN`. Calls on imported objects go
to :class:`~bnlint.readers.keras_api.ModelBuilder`, which turns Keras calls
into layer nodes. The user's code is never imported or executed: no builtin
with side effects is ever called, only pure functions on known values.

Limits keep every file finite: loop iterations, call depth and layer count
are capped; hitting a cap stops that part of the analysis and is recorded
in :attr:`Interpreter.notes`.
"""

from __future__ import annotations

import ast
import builtins
import operator
from dataclasses import dataclass
from typing import Any, Callable

from bnlint.graph import UNKNOWN, Site
from bnlint.readers.keras_api import (
    WELL_KNOWN_NAMES,
    ExternalRef,
    LayerValue,
    ModelBuilder,
    ModelValue,
    SequentialValue,
    TensorValue,
    canonical_name,
)
from bnlint import kinds

__all__ = ["Interpreter", "MAX_LOOP_ITERATIONS", "MAX_CALL_DEPTH", "MAX_LAYERS"]

MAX_LOOP_ITERATIONS = 10_000
MAX_CALL_DEPTH = 40
MAX_LAYERS = 50_000
# Containers and strings larger than this are not worth knowing exactly.
_MAX_VALUE_SIZE = 100_000

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.BitAnd: operator.and_,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_, ast.Invert: operator.invert}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
# Builtins that are pure on known arguments; nothing else is ever called.
_PURE_BUILTINS: dict[str, Callable] = {
    name: getattr(builtins, name)
    for name in (
        "abs", "bool", "dict", "divmod", "enumerate", "float", "int", "len", "list", "max",
        "min", "range", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
        "any", "all", "isinstance",
    )
}
_PURE_METHODS = {
    str: {"format", "join", "upper", "lower", "replace", "strip", "lstrip", "rstrip", "split",
          "startswith", "endswith", "title", "capitalize"},
    list: {"append", "extend", "insert", "pop", "copy", "index", "count", "reverse"},
    dict: {"get", "items", "keys", "values", "update", "copy", "pop", "setdefault"},
    tuple: {"index", "count"},
}


class AnalysisLimit(Exception):
    """A cap was hit; the message says which."""


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


@dataclass(eq=False)
class FunctionValue:
    """A user-defined function or lambda, with the scope it closes over."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    closure: "_Scope"


class _Scope:
    """Variables of one frame, chained to the enclosing (closure) scope."""

    def __init__(self, parent: _Scope | None = None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Any]:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return True, scope.vars[name]
            scope = scope.parent
        return False, None


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

    def __init__(self, tree: ast.Module, path: str, lines: list[str]) -> None:
        self.tree = tree
        self.path = path
        self.lines = lines
        self.builder = ModelBuilder(path)
        self.notes: list[str] = []
        self._depth = 0
        self._bound_names = _names_bound_in(tree)

    def run(self) -> list:
        """Evaluate the module; return its :class:`~bnlint.graph.ModelGraph` objects."""
        scope = _Scope()
        try:
            self._exec_block(self.tree.body, scope)
        except AnalysisLimit as limit:
            self.notes.append(str(limit))
        except (_Return, _Break, _Continue):
            pass
        return self.builder.finish()

    # -- positions -------------------------------------------------------

    def site(self, node: ast.expr) -> Site:
        return Site(
            self.path,
            node.lineno,
            self._column(node.lineno, node.col_offset) + 1,
            node.end_lineno or node.lineno,
            self._column(node.end_lineno or node.lineno, node.end_col_offset or 0) + 1,
        )

    def _column(self, line: int, byte_offset: int) -> int:
        """ast offsets count UTF-8 bytes; users count characters."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace"))

    # -- statements ------------------------------------------------------

    def _exec_block(self, body: list[ast.stmt], scope: _Scope) -> None:
        for statement in body:
            self._exec(statement, scope)

    def _exec(self, node: ast.stmt, scope: _Scope) -> None:
        method = getattr(self, "_exec_" + type(node).__name__, None)
        if method is not None:
            method(node, scope)
        # Statements without a handler (raise, assert, global, del, ...) cannot build layers.

    def _exec_Expr(self, node: ast.Expr, scope: _Scope) -> None:
        self._eval(node.value, scope)

    def _exec_Assign(self, node: ast.Assign, scope: _Scope) -> None:
        value = self._eval(node.value, scope)
        for target in node.targets:
            self._assign(target, value, scope)

    def _exec_AnnAssign(self, node: ast.AnnAssign, scope: _Scope) -> None:
        if node.value is not None:
            self._assign(node.target, self._eval(node.value, scope), scope)

    def _exec_AugAssign(self, node: ast.AugAssign, scope: _Scope) -> None:
        current = self._eval(node.target, scope) if isinstance(node.target, ast.Name) else UNKNOWN
        value = self._binary(node.op, current, self._eval(node.value, scope), node)
        self._assign(node.target, value, scope)

    def _exec_Import(self, node: ast.Import, scope: _Scope) -> None:
        for alias in node.names:
            if alias.asname:
                scope.vars[alias.asname] = ExternalRef(canonical_name(alias.name))
            else:
                top = alias.name.split(".")[0]
                scope.vars[top] = ExternalRef(canonical_name(top))

    def _exec_ImportFrom(self, node: ast.ImportFrom, scope: _Scope) -> None:
        if node.level or not node.module:
            # A relative import names the user's own code, which is never read.
            for alias in node.names:
                scope.vars[alias.asname or alias.name] = UNKNOWN
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            ref = ExternalRef(canonical_name(f"{node.module}.{alias.name}"))
            scope.vars[alias.asname or alias.name] = ref

    def _exec_FunctionDef(self, node: ast.FunctionDef, scope: _Scope) -> None:
        scope.vars[node.name] = FunctionValue(node, scope)

    _exec_AsyncFunctionDef = _exec_FunctionDef

    def _exec_ClassDef(self, node: ast.ClassDef, scope: _Scope) -> None:
        scope.vars[node.name] = UNKNOWN

    def _exec_Return(self, node: ast.Return, scope: _Scope) -> None:
        raise _Return(self._eval(node.value, scope) if node.value is not None else None)

    def _exec_Break(self, node: ast.Break, scope: _Scope) -> None:
        raise _Break

    def _exec_Continue(self, node: ast.Continue, scope: _Scope) -> None:
        raise _Continue

    def _exec_If(self, node: ast.If, scope: _Scope) -> None:
        test = self._truth(self._eval(node.test, scope))
        # An undecidable condition takes the `if` branch: model code mostly
        # guards the common configuration there (channels_last, include_top).
        self._exec_block(node.body if test is not False else node.orelse, scope)

    def _exec_For(self, node: ast.For, scope: _Scope) -> None:
        iterable = self._eval(node.iter, scope)
        if not _is_iterable_value(iterable):
            return
        completed = self._loop(node, scope, iter(iterable), lambda item: self._assign(node.target, item, scope))
        if completed:
            self._exec_block(node.orelse, scope)

    def _exec_While(self, node: ast.While, scope: _Scope) -> None:
        def conditions():
            while self._truth(self._eval(node.test, scope)) is True:
                yield None

        if self._loop(node, scope, conditions(), lambda item: None):
            self._exec_block(node.orelse, scope)

    def _loop(self, node: ast.For | ast.While, scope: _Scope, items, bind) -> bool:
        """Run a loop body per item; False when it ended by ``break``."""
        for count, item in enumerate(items):
            if count >= MAX_LOOP_ITERATIONS:
                raise AnalysisLimit(
                    f"{self.path}:{node.lineno}: loop stopped after {MAX_LOOP_ITERATIONS} iterations"
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
        for item in node.items:
            value = self._eval(item.context_expr, scope)
            if item.optional_vars is not None:
                self._assign(item.optional_vars, UNKNOWN if value is not None else value, scope)
        self._exec_block(node.body, scope)

    _exec_AsyncWith = _exec_With

    def _exec_Try(self, node: ast.Try, scope: _Scope) -> None:
        # The body is what normally runs; handlers are the exceptional path.
        self._exec_block(node.body, scope)
        self._exec_block(node.orelse, scope)
        self._exec_block(node.finalbody, scope)

    # -- assignment ------------------------------------------------------

    def _assign(self, target: ast.expr, value: Any, scope: _Scope) -> None:
        if isinstance(target, ast.Name):
            scope.vars[target.id] = value
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
            else:
                for elt in target.elts:
                    self._assign(elt.value if isinstance(elt, ast.Starred) else elt, UNKNOWN, scope)
        elif isinstance(target, ast.Subscript):
            container = self._eval(target.value, scope)
            key = self._eval(target.slice, scope)
            if isinstance(container, (list, dict)) and _is_plain(key):
                try:
                    container[key] = value
                except (IndexError, TypeError):
                    pass
        # Attributes (self.conv = ...) belong to subclassed models, read elsewhere.

    # -- expressions -----------------------------------------------------

    def _eval(self, node: ast.expr | None, scope: _Scope) -> Any:
        if node is None:
            return None
        method = getattr(self, "_eval_" + type(node).__name__, None)
        return method(node, scope) if method is not None else UNKNOWN

    def _eval_Constant(self, node: ast.Constant, scope: _Scope) -> Any:
        return node.value

    def _eval_Name(self, node: ast.Name, scope: _Scope) -> Any:
        found, value = scope.lookup(node.id)
        if found:
            return value
        if node.id in self._bound_names:
            return UNKNOWN
        if node.id in WELL_KNOWN_NAMES:
            return ExternalRef(WELL_KNOWN_NAMES[node.id])
        if node.id in kinds.LAYER_KINDS or node.id in kinds.LEGACY_ALIASES:
            # A snippet that uses Conv2D without importing it means Keras' Conv2D.
            return ExternalRef("keras.layers." + node.id)
        if node.id in _PURE_BUILTINS or node.id in ("True", "False", "None"):
            return _PURE_BUILTINS.get(node.id, UNKNOWN)
        return UNKNOWN

    def _eval_Attribute(self, node: ast.Attribute, scope: _Scope) -> Any:
        value = self._eval(node.value, scope)
        if isinstance(value, ExternalRef):
            return value.attribute(node.attr)
        if isinstance(value, (str, list, dict, tuple)) and node.attr in _PURE_METHODS.get(type(value), ()):
            return _BoundMethod(value, node.attr)
        if isinstance(value, SequentialValue) and node.attr in ("add", "pop"):
            return _BoundMethod(value, node.attr)
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
            if not _is_plain(key):
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
            spec = self._eval(value.format_spec, scope) if value.format_spec else ""
            if not _is_plain(inner) or not isinstance(spec, str):
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
        return self._binary(node.op, self._eval(node.left, scope), self._eval(node.right, scope), node)

    def _binary(self, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        if isinstance(left, TensorValue) or isinstance(right, TensorValue):
            return self.builder.apply_to_tensor(type(op).__name__.lower(), [left, right], self.site(node))
        if not (_is_plain(left) and _is_plain(right)) or type(op) not in _BINARY:
            return UNKNOWN
        if isinstance(op, (ast.Pow, ast.LShift)) and isinstance(right, (int, float)) and abs(right) > 256:
            return UNKNOWN
        if isinstance(op, ast.Mult) and _too_big_product(left, right):
            return UNKNOWN
        try:
            result = _BINARY[type(op)](left, right)
        except (ArithmeticError, TypeError, ValueError):
            return UNKNOWN
        return result if _size(result) <= _MAX_VALUE_SIZE else UNKNOWN

    def _eval_UnaryOp(self, node: ast.UnaryOp, scope: _Scope) -> Any:
        operand = self._eval(node.operand, scope)
        if isinstance(operand, TensorValue):
            return self.builder.apply_to_tensor(type(node.op).__name__.lower(), [operand], self.site(node))
        if isinstance(node.op, ast.Not):
            truth = self._truth(operand)
            return UNKNOWN if truth is UNKNOWN else not truth
        if not _is_plain(operand):
            return UNKNOWN
        try:
            return _UNARY[type(node.op)](operand)
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
                outcome = _COMPARE[type(op)](left, right)
            elif _is_plain(left) and _is_plain(right):
                try:
                    outcome = _COMPARE[type(op)](left, right)
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
        return self._eval(node.body if test is not False else node.orelse, scope)

    def _eval_Subscript(self, node: ast.Subscript, scope: _Scope) -> Any:
        value = self._eval(node.value, scope)
        key = self._eval(node.slice, scope)
        if isinstance(value, TensorValue):
            return self.builder.apply_to_tensor("getitem", [value], self.site(node))
        if isinstance(value, (list, tuple, dict, str)) and (_is_plain(key) or isinstance(key, slice)):
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
        return FunctionValue(node, scope)

    def _eval_Call(self, node: ast.Call, scope: _Scope) -> Any:
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
        return self._call(func, args, kwargs, node)

    def _call(self, func: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        if len(self.builder.workspace) > MAX_LAYERS:
            raise AnalysisLimit(f"{self.path}: stopped after {MAX_LAYERS} layer calls")
        if isinstance(func, ExternalRef):
            return self.builder.call_external(func, args, kwargs, self.site(node))
        if isinstance(func, FunctionValue):
            return self._call_function(func, args, kwargs, node)
        if isinstance(func, (LayerValue, ModelValue, SequentialValue)):
            return self.builder.call_object(func, args, kwargs, self.site(node))
        if isinstance(func, _BoundMethod):
            return func.call(self, args, kwargs, node)
        if func in _PURE_BUILTINS.values() and "**" not in kwargs:
            return _call_pure(func, args, kwargs)
        if func is UNKNOWN and _has_tensor(args, kwargs):
            # An unknown function applied to tensors still passes them on.
            return self.builder.apply_to_tensor(_callee_name(node.func), list(args) + list(kwargs.values()), self.site(node))
        return UNKNOWN

    def _call_function(self, func: FunctionValue, args: list, kwargs: dict, node: ast.Call) -> Any:
        if self._depth >= MAX_CALL_DEPTH:
            raise AnalysisLimit(f"{self.path}:{node.lineno}: call depth exceeds {MAX_CALL_DEPTH}")
        scope = _Scope(func.closure)
        self._bind_arguments(func.node.args, args, kwargs, scope, func.closure)
        self._depth += 1
        try:
            if isinstance(func.node, ast.Lambda):
                return self._eval(func.node.body, scope)
            self._exec_block(func.node.body, scope)
        except _Return as returned:
            return returned.value
        finally:
            self._depth -= 1
        return None

    def _bind_arguments(self, spec: ast.arguments, args: list, kwargs: dict, scope: _Scope, defining: _Scope) -> None:
        positional = spec.posonlyargs + spec.args
        defaults = [None] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
        kwargs = dict(kwargs)
        unknown_extra = kwargs.pop("**", None) is not None
        for index, (param, default) in enumerate(zip(positional, defaults)):
            if index < len(args):
                value = args[index]
            elif param.arg in kwargs:
                value = kwargs.pop(param.arg)
            elif unknown_extra:
                value = UNKNOWN
            elif default is not None:
                value = self._eval(default, defining)
            else:
                value = UNKNOWN
            scope.vars[param.arg] = value
        if spec.vararg is not None:
            scope.vars[spec.vararg.arg] = tuple(args[len(positional):])
        for param, default in zip(spec.kwonlyargs, spec.kw_defaults):
            if param.arg in kwargs:
                scope.vars[param.arg] = kwargs.pop(param.arg)
            elif default is not None and not unknown_extra:
                scope.vars[param.arg] = self._eval(default, defining)
            else:
                scope.vars[param.arg] = UNKNOWN
        if spec.kwarg is not None:
            scope.vars[spec.kwarg.arg] = UNKNOWN if unknown_extra else kwargs

    # -- truth -----------------------------------------------------------

    @staticmethod
    def _truth(value: Any) -> Any:
        """True, False, or UNKNOWN when the value cannot be decided statically."""
        if _is_plain(value):
            return bool(value)
        if isinstance(value, (LayerValue, TensorValue, ModelValue, SequentialValue, FunctionValue, ExternalRef)):
            return True
        return UNKNOWN


@dataclass(eq=False)
class _BoundMethod:
    """A method of a known value: a pure one of a builtin type, or ``Sequential.add``."""

    owner: Any
    name: str

    def call(self, interpreter: Interpreter, args: list, kwargs: dict, node: ast.Call) -> Any:
        if isinstance(self.owner, SequentialValue):
            return interpreter.builder.call_method(self.owner, self.name, args, kwargs, interpreter.site(node))
        if "**" in kwargs:
            return UNKNOWN
        mutating = self.name in ("append", "extend", "insert", "pop", "reverse", "update", "setdefault")
        if not mutating and not all(_is_plain(a) for a in list(args) + list(kwargs.values())):
            return UNKNOWN
        try:
            result = getattr(self.owner, self.name)(*args, **kwargs)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            return UNKNOWN
        if isinstance(result, (type({}.items()), type({}.keys()), type({}.values()))):
            result = list(result)
        return result


def _call_pure(func: Callable, args: list, kwargs: dict) -> Any:
    if func is isinstance or not all(_is_plain(a) for a in list(args) + list(kwargs.values())):
        if func in (len, list, tuple, enumerate, zip, reversed, sorted) and all(
            isinstance(a, (list, tuple, str, dict, range)) for a in args
        ) and not kwargs:
            # len() of a list of layers, enumerate() over blocks: the structure is known.
            try:
                result = func(*args)
            except TypeError:
                return UNKNOWN
            return list(result) if func in (enumerate, zip, reversed) else result
        return UNKNOWN
    if any(isinstance(a, range) and len(a) > _MAX_VALUE_SIZE for a in args):
        return UNKNOWN
    try:
        result = func(*args, **kwargs)
    except (ArithmeticError, TypeError, ValueError, OverflowError):
        return UNKNOWN
    if func in (enumerate, zip, reversed):
        result = list(result)
    return result


def _is_plain(value: Any) -> bool:
    """A fully known plain-data value (numbers, strings, and containers of them)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, range, slice)):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


def _is_iterable_value(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict, str, range, set))


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _too_big_product(left: Any, right: Any) -> bool:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(count, int):
            return len(seq) * count > _MAX_VALUE_SIZE
    return False


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


def _names_bound_in(tree: ast.Module) -> set[str]:
    """Every name the file binds anywhere (so unbound well-known names can mean Keras)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound
