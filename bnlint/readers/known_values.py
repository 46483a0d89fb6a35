"""Operations on values known statically: what the interpreter may compute.

The static interpreter evaluates user code only where the result cannot
have side effects: arithmetic and comparisons on plain data, the pure
builtins, a few pure standard-library functions, and the non-mutating (or
container-mutating) methods of strings, lists, dicts and tuples. Sizes are
capped so that hostile code (``"x" * 10**9``, ``"%999999999d" % 1``) yields
an unknown value instead of exhausting memory.
"""

from __future__ import annotations

import ast
import builtins
import collections
import copy
import math
import operator
import re
import string

from bnlint.graph import UNKNOWN

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = [
    "MAX_VALUE_SIZE", "BINARY_OPERATORS", "UNARY_OPERATORS", "COMPARISONS", "PURE_BUILTINS", "PURE_FUNCTIONS",
    "PURE_METHODS", "call_pure", "is_plain", "is_iterable", "size_of", "modest_template", "too_big_product",
]

# Containers and strings larger than this are not worth knowing exactly.
MAX_VALUE_SIZE = 100_000

BINARY_OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.BitAnd: operator.and_,
}
UNARY_OPERATORS = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_, ast.Invert: operator.invert}
COMPARISONS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
# Builtins that are pure on known arguments; nothing else is ever called.
PURE_BUILTINS: dict[str, Callable] = {
    name: getattr(builtins, name)
    for name in (
        "abs", "bool", "dict", "divmod", "enumerate", "float", "int", "len", "list", "max",
        "min", "range", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
        "any", "all", "isinstance", "callable", "type", "hasattr", "chr", "ord", "pow",
    )
}


def _linspace(start: float, stop: float, num: int = 50, endpoint: bool = True) -> list[float]:
    """numpy.linspace on plain numbers (model code uses it for per-block rates)."""
    if not isinstance(num, int) or num < 0 or num > MAX_VALUE_SIZE:
        raise ValueError("num")
    if num == 1:
        return [float(start)]
    step = (stop - start) / ((num - 1) if endpoint else num)
    return [start + i * step for i in range(num - 1)] + [stop if endpoint else start + (num - 1) * step]


def _namedtuple(typename: str, field_names: Any, *, rename: bool = False, defaults: Any = None) -> type:
    """``collections.namedtuple`` on known names: a real class, made for this read only.

    Model code keeps block settings in them (EfficientNet's ``BlockArgs``,
    read with ``block_args.num_repeat`` and ``block_args._replace(...)``).
    """
    if not isinstance(typename, str) or not (
            isinstance(field_names, str) or all(isinstance(f, str) for f in field_names)):
        raise TypeError("names")
    if len(field_names.replace(",", " ").split() if isinstance(field_names, str) else field_names) > 1_000:
        raise ValueError("too many fields to be settings")
    return collections.namedtuple(typename, field_names, rename=rename, defaults=defaults, module=__name__)


def is_namedtuple_class(value: Any) -> bool:
    """A class made by :func:`_namedtuple` (the only classes the interpreter calls as values)."""
    return isinstance(value, type) and issubclass(value, tuple) and value.__module__ == __name__


def _chain(*iterables: Any) -> list:
    """``itertools.chain`` of known containers, as a list (blocks of layers joined into one)."""
    if not all(is_iterable(items) for items in iterables) or sum(map(len, iterables)) > MAX_VALUE_SIZE:
        raise TypeError("chain")
    return [item for items in iterables for item in items]


def _chain_from_iterable(iterables: Any) -> list:
    return _chain(*iterables)


# Functions that are pure on known arguments (numpy's only where reimplemented here).
PURE_FUNCTIONS: dict[str, Callable] = {
    **{f"math.{name}": getattr(math, name) for name in (
        "ceil", "floor", "sqrt", "log", "log2", "log10", "exp", "pow", "prod", "gcd", "isclose", "trunc", "fabs",
    )},
    "copy.deepcopy": copy.deepcopy,
    "numpy.linspace": _linspace,
    "copy.copy": copy.copy,
    "collections.namedtuple": _namedtuple,
    "six.moves.range": range,  # Python 2 and 3 code: `from six.moves import xrange`
    "six.moves.xrange": range,
    "itertools.chain": _chain,
    "itertools.chain.from_iterable": _chain_from_iterable,
}
# Module constants model code reads (`string.ascii_lowercase[i]` letters EfficientNet's blocks).
PURE_CONSTANTS: dict[str, Any] = {
    **{f"string.{name}": getattr(string, name) for name in (
        "ascii_lowercase", "ascii_uppercase", "ascii_letters", "digits")},
    **{f"math.{name}": getattr(math, name) for name in ("pi", "e", "tau", "inf")},
}
PURE_METHODS = {
    str: {"format", "join", "upper", "lower", "replace", "strip", "lstrip", "rstrip", "split",
          "startswith", "endswith", "title", "capitalize"},
    list: {"append", "extend", "insert", "pop", "copy", "index", "count", "reverse"},
    dict: {"get", "items", "keys", "values", "update", "copy", "pop", "setdefault"},
    tuple: {"index", "count"},
}


def call_pure(func: Callable, args: list, kwargs: dict) -> Any:
    if not all(is_plain(a) for a in list(args) + list(kwargs.values())):
        if func in (len, list, tuple, enumerate, zip, reversed, sorted, _chain, _chain_from_iterable) and all(
            isinstance(a, (list, tuple, str, dict, range)) for a in args
        ) and not kwargs:
            # len() of a list of layers, enumerate() over blocks: the structure is known.
            try:
                result = func(*args)
            except TypeError:
                return UNKNOWN
            return list(result) if func in (enumerate, zip, reversed) else result
        return UNKNOWN
    if any(isinstance(a, range) and len(a) > MAX_VALUE_SIZE for a in args):
        return UNKNOWN
    try:
        result = func(*args, **kwargs)
    except (ArithmeticError, TypeError, ValueError, OverflowError):
        return UNKNOWN
    if func in (enumerate, zip, reversed):
        result = list(result)
    return result


def is_plain(value: Any) -> bool:
    """A fully known plain-data value (numbers, strings, and containers of them)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, range, slice)):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(is_plain(k) and is_plain(v) for k, v in value.items())
    return False


def is_iterable(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict, str, range, set))


def size_of(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


_BIG_NUMBER = re.compile(r"\d{6,}")


def modest_template(template: str) -> bool:
    """False for a format string asking for a huge width or precision (``"%999999999d"``)."""
    return not _BIG_NUMBER.search(template)


def too_big_product(left: Any, right: Any) -> bool:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(count, int):
            return len(seq) * count > MAX_VALUE_SIZE
    return False
