"""Which argument edits the source writer declines, told from the file's syntax alone.

A check runs without libcst, yet the number of findings it calls fixable
should be the number ``--fix`` fixes. Setting a constructor argument is
declined when the call's syntax makes the edit unsafe, whatever values
the analysis found:

- the argument is given, as ``momentum=cfg.bn_momentum`` or
  ``config["momentum"]``, and the intent follows values to where they are
  written: a literal there would cut the layer off from its setting;
- the argument is not given, and the call passes positional arguments to
  a class of the code's own that bnlint cannot name (one may be it), or
  passes ``*args``, or ``**kwargs`` that may hold it. A ``**name`` does
  not hold it when ``name`` is a dict written in the file with other keys
  (``conv = dict(padding="same")`` or ``{"padding": "same"}``), assigned
  once and used only as ``**name``: the argument is then added to the
  call (``Conv2D(8, 3, **conv, use_bias=False)``).

:func:`argument_problem` answers for both the engine (at check time) and
:mod:`bnlint.writers.python_source` (when it edits), so the two agree.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from bnlint import kinds
from bnlint.diagnostics import MoveLayer, SetArgument
from bnlint.readers.python_source import parse_python

__all__ = ["argument_problem", "placement_problem", "block_problem", "STORED_LAYER", "activation_problem", "extra_arguments",
           "sublayer_uses"]

#: Why a layer kept in a variable gets no layer inserted, moved or removed next to it.
STORED_LAYER = ("the layer is kept in a variable and applied in another statement (`dense = Dense(...)`, "
                "then `x = dense(x)`); the fixer edits layers where they are applied")


def extra_arguments(code: str) -> str:
    """Why a layer applied with more than its input (*code*: those arguments) is not moved."""
    return f"the layer is applied with more than its input (`{code}`), which moving the layer would drop"


def activation_problem(code: str) -> str:
    """Why a fused activation given as *code* (a layer or an expression) is not split off."""
    return (f"the activation is given as a layer or an expression (`{code}`), not by its name; "
            "move it after the BN by hand")


def argument_problem(call_text: str, intent: SetArgument, text: str = "") -> str | None:
    r"""Why setting *intent*'s argument in the call written as *call_text* is declined; None if it is not.

    *text* is the whole source, in which a ``**name`` of the call is looked up.

    >>> from bnlint.graph import Site
    >>> momentum = SetArgument(Site("model.py", 2, 5, 2, 29), "BatchNormalization", "momentum", 0.99)
    >>> text = "bn = dict(axis=-1)\nx = BatchNormalization(**bn)(x)\n"
    >>> argument_problem("BatchNormalization(**bn)", momentum, text) is None  # `bn` has no momentum
    True
    >>> argument_problem("BatchNormalization(**cfg)", momentum, text)
    'the call passes *args or **kwargs, which may already set `momentum`'
    """
    source = f"({call_text})"
    try:
        call = ast.parse(source, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call):
        return None
    positional = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
    existing = _existing_argument(call, positional, intent)
    if existing is not None and intent.key == "activation" and intent.value is None and not _named_activation(existing):
        # `activation=layers.PReLU()`, `LeakyReLU(negative_slope=0.01)`: an `Activation("prelu")`
        # after the BN would not be that activation (or would not exist).
        return activation_problem(ast.get_source_segment(source, existing))
    if existing is not None:
        if intent.follow and isinstance(existing, (ast.Attribute, ast.Subscript)):
            code = ast.get_source_segment(source, existing)
            return f"`{intent.key}={code}` is read from a setting; change the value where `{code}` is set"
        return None
    if positional and kinds.positional_params(intent.class_name, [None] * len(positional)) is None:
        return f"`{intent.class_name}` takes positional arguments bnlint cannot name; one may be `{intent.key}`"
    spreads = [(keyword.value, _spread_keys(keyword.value, text, intent.site.line))
               for keyword in call.keywords if keyword.arg is None]
    for value, keys in spreads:
        if keys is not _EVERY_KEY and intent.key in keys:
            code = ast.get_source_segment(source, value)
            return f"`**{code}` sets `{intent.key}`; change the value there"
    if len(positional) < len(call.args) or any(intent.key in keys for _, keys in spreads):
        return f"the call passes *args or **kwargs, which may already set `{intent.key}`"
    return None


def _spread_keys(value: ast.expr, text: str, line: int) -> frozenset[str] | tuple:
    """The keys ``**value`` (in a call on *line*) passes, when the source says exactly; else every key."""
    keys = _dict_keys(value)
    if keys is not None:
        return keys
    if not isinstance(value, ast.Name) or not text:
        return _EVERY_KEY
    module = _module(text)
    return _EVERY_KEY if module is None else module.spread_keys(value.id, line)


class _Module:
    """A parsed source: its functions, and which names are written as ``**name`` in a call."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.functions: list[ast.AST] = []
        self.spread: set[int] = set()  # id() of the names written as `**name` in a call
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                self.functions.append(node)
            elif isinstance(node, ast.Call):
                self.spread.update(id(k.value) for k in node.keywords if k.arg is None and isinstance(k.value, ast.Name))

    def spread_keys(self, name: str, line: int) -> frozenset[str] | tuple:
        """The keys ``**name`` passes on *line*: those of the dict assigned to *name*, if that is all the
        code does with the name in the scope that binds it (the innermost function around the call that
        binds it, else the whole module); else every key."""
        around = [f for f in self.functions if f.lineno <= line <= (f.end_lineno or f.lineno)]
        scope = next((f for f in sorted(around, key=lambda f: -f.lineno) if _binds(f, name)), self.tree)
        uses, assigned = _uses(scope, name)
        stores = [use for use in uses if isinstance(use, ast.Name) and isinstance(use.ctx, ast.Store)]
        if len(stores) != 1 or id(stores[0]) not in assigned:
            return _EVERY_KEY  # a parameter, assigned twice, unpacked, imported, declared global ...
        if not all(use is stores[0] or id(use) in self.spread for use in uses):
            return _EVERY_KEY  # also used otherwise (`bn["momentum"] = 0.1`, `bn.update(...)`, passed on)
        keys = _dict_keys(assigned[id(stores[0])])
        return _EVERY_KEY if keys is None else keys


def _binds(function: ast.AST, name: str) -> bool:
    """Whether *name* is a parameter of *function* or assigned in it (in a nested scope too: that only
    makes the answer more cautious)."""
    arguments = function.args
    if any(arg.arg == name for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                       *filter(None, [arguments.vararg, arguments.kwarg])]):
        return True
    return any(isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load)
               for node in ast.walk(function))


def _uses(scope: ast.AST, name: str) -> tuple[list[ast.AST], dict[int, ast.expr]]:
    """Every binding or use of *name* in *scope*, nested scopes included; and, by id(), the value
    assigned to each such name that is alone on the left of ``=``."""
    uses: list[ast.AST] = []
    assigned: dict[int, ast.expr] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id == name:
            uses.append(node)
        elif isinstance(node, ast.Assign):
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name:
                assigned[id(node.targets[0])] = node.value
        elif isinstance(node, ast.arg) and node.arg == name:
            uses.append(node)
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            uses.append(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                (alias.asname or alias.name).partition(".")[0] == name for alias in node.names):
            uses.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            uses.append(node)
    return uses, assigned


class _EveryKey(tuple):
    """Holds every key: what an unknown ``**kwargs`` may pass."""

    def __contains__(self, key: object) -> bool:
        return True


_EVERY_KEY = _EveryKey()


def _dict_keys(value: ast.expr) -> frozenset[str] | None:
    """The keys of a dict written out (``{"a": 1}``, ``dict(a=1)``), when they are all plain strings."""
    if isinstance(value, ast.Dict):  # (a `**other` inside is a key of None: not known)
        if all(isinstance(key, ast.Constant) and isinstance(key.value, str) for key in value.keys):
            return frozenset(key.value for key in value.keys)
        return None
    if (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"
            and not value.args and all(keyword.arg is not None for keyword in value.keywords)):
        return frozenset(keyword.arg for keyword in value.keywords)
    return None


@lru_cache(maxsize=8)
def _module(text: str) -> _Module | None:
    try:
        _, tree = parse_python(None, text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _Module(tree)


def _existing_argument(call: ast.Call, positional: list[ast.expr], intent: SetArgument) -> ast.expr | None:
    """The expression that gives the intent's key, by keyword or position; None if none does."""
    for keyword in call.keywords:
        if keyword.arg == intent.key:
            return keyword.value
    params = kinds.positional_params(intent.class_name, [None] * len(positional)) or ()
    if intent.key in params and params.index(intent.key) < len(positional):
        return positional[params.index(intent.key)]
    return None


def _named_activation(value: ast.expr) -> bool:
    """An ``activation=`` argument that names its function: a string (``"relu"``), a variable (a
    parameter the reader followed to the strings passed: ``activation=act``) or a function reference
    whose last name is an activation's (``tf.nn.relu``, ``activations.swish``); not a layer made in
    the call (``layers.PReLU()``) or any other expression."""
    if isinstance(value, ast.Name) or (isinstance(value, ast.Constant) and isinstance(value.value, str)) or (
            isinstance(value, ast.JoinedStr)):
        return True
    return isinstance(value, ast.Attribute) and kinds.activation_name(value.attr) not in (None, "linear")


def placement_problem(tree: ast.Module, text: str, intent) -> str | None:
    """Why the writer declines inserting, removing or moving a layer at *intent*'s sites, told from the
    syntax of *tree* (the file *text*): a layer kept in a variable (``dense = Dense(32)``, then
    ``x = dense(x)``), a sublayer applied in several places, or, for a move, a layer applied with more
    than its input (``bn(x, training=False)``). None when the syntax does not decide it (the writer
    may still decline, for reasons it finds then).
    """
    lines = text.splitlines()
    sites = [intent.site] + ([intent.after] if hasattr(intent, "after") and intent.after is not intent.site else [])
    paths = []
    for site in sites:
        path = _path_to_call(tree, lines, site)
        if path is None:
            return None
        paths.append(path)
        call, parent = path[-1], path[-2]
        if (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)
                and _callee(call)[:1].isupper()):
            return STORED_LAYER
        attribute = _self_attribute_assigned(parent)
        if attribute is not None:  # a sublayer: every `self.x(...)` is rewritten, so there must be one
            uses = len(_self_uses(path, attribute, ast.Attribute)) - 1  # (less the `self.x = ...` line)
            if uses > 1:
                return sublayer_uses(attribute, uses)
    if not isinstance(intent, MoveLayer):
        return None
    call, parent = paths[0][-1], paths[0][-2]
    applied = None
    if isinstance(parent, ast.Call) and parent.func is call:
        applied = parent
    elif _self_attribute_assigned(parent) is not None:
        applied = next((call for call in _self_uses(paths[0], _self_attribute_assigned(parent), ast.Call)
                        if len(call.args) + len(call.keywords) > 1), None)
    if applied is None or len(applied.args) + len(applied.keywords) <= 1:
        return None
    extra = [*applied.args[1:], *applied.keywords] if applied.args else applied.keywords[1:]
    code = ", ".join(_segment(lines, node) for node in extra)
    return extra_arguments(code)


# Statements and expressions that run a part of themselves conditionally or repeatedly, by name.
_BRANCHING = {ast.If: "an `if`", ast.IfExp: "a conditional expression", ast.For: "a `for` loop",
              ast.AsyncFor: "a `for` loop", ast.While: "a `while` loop", ast.Try: "a `try`",
              ast.Match: "a `match`", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
              ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension"}
if hasattr(ast, "TryStar"):  # (Python 3.11)
    _BRANCHING[ast.TryStar] = "a `try`"


def block_problem(tree: ast.Module, text: str, fix, where=lambda line: f"line {line}") -> str | None:
    """Why *fix* is declined because its layers are not all in the same block, told from *tree* (the
    file *text*); None when they are, or when a site is not found (the writer decides then).

    A fix relates layers: it moves a dropout after a BN, removes a BN that another makes redundant,
    or drops the bias a BN cancels (:attr:`~bnlint.diagnostics.Fix.context`). The analysis follows
    one way through the code, so when an ``if`` (a conditional expression, a loop, a ``try``, a
    ``match``) holds some of those layers and not the others, the model built the other way would
    change too: ``if use_bn:`` around the BN, and the conv before it would lose its bias without one.
    A sublayer counts where it is made and where it is applied (``self.bn(x)`` in ``call``).
    *where* names a line of *text* in the reason (a notebook's says which cell). An
    argument the fix edits where its value is written (``use_bias=use_bias``, set in each caller's
    own literal) does not count: each caller's literal is followed through that caller's own way.

    >>> text = "x = Conv2D(8, 3)(x)\\nif use_bn:\\n    x = BatchNormalization()(x)\\n"
    >>> from bnlint.diagnostics import Applicability, Fix, SetArgument
    >>> from bnlint.graph import Site
    >>> conv, bn = Site("m.py", 1, 5, 1, 17), Site("m.py", 3, 9, 3, 29)
    >>> fix = Fix("", Applicability.SAFE, (SetArgument(conv, "Conv2D", "use_bias", False),), context=(bn,))
    >>> block_problem(ast.parse(text), text, fix)
    'an `if` (line 2) holds some of the layers this fix edits or rests on and not the others, so the model it builds the other way would change too'
    """
    lines = text.splitlines()
    paths = {}
    for site in [site for intent in fix.intents for site in (intent.site, getattr(intent, "after", intent.site))]:
        paths[site] = _path_to_call(tree, lines, site)
    for intent in fix.intents:
        path = paths[intent.site]
        if isinstance(intent, SetArgument) and intent.follow and path is not None and isinstance(
                _existing_argument(path[-1], [a for a in path[-1].args if not isinstance(a, ast.Starred)], intent),
                ast.Name):
            del paths[intent.site]
    if not paths:
        return None
    for site in fix.context:
        paths[site] = _path_to_call(tree, lines, site)
    if len(paths) < 2:
        return None
    if any(path is None for path in paths.values()):
        return None
    by_function: dict[int, tuple[ast.AST, list]] = {}  # the function (or module) each site is in
    for path in paths.values():
        function = _function_of(path)
        by_function.setdefault(id(function), (function, []))[1].append(_site_branches(path, function))
    if len(by_function) == 1:
        (blocks,) = [blocks for _, blocks in by_function.values()]
        differing = set.union(*blocks) - set.intersection(*blocks)
    elif len(by_function) == 2:
        # A helper makes one layer and its caller the other (`x = conv(x, f)` then a BN, in a loop): the
        # helper's layers stand where the caller calls it. Each way the caller applies the helper must
        # have the caller's layer, and the caller's layer must follow some call, in the same branches.
        (first, first_blocks), (second, second_blocks) = by_function.values()
        if _calls(second, first):
            helper_blocks, caller, caller_blocks, helper = first_blocks, second, second_blocks, first
        elif _calls(first, second):
            helper_blocks, caller, caller_blocks, helper = second_blocks, first, first_blocks, second
        else:
            return None  # (not called from the other's function: the fix's helper checks decide)
        differing = set.union(*helper_blocks) - set.intersection(*helper_blocks)
        if not differing:
            calls = {frozenset(_branches(_path_between(caller, call) or [])) for call in _calls(caller, helper)}
            differing = set().union(*({frozenset(b) for b in caller_blocks} ^ calls))
    else:
        return None
    if not differing:
        return None
    node = min((branch for branch, *_ in differing), key=lambda branch: (_first_line(branch), branch.col_offset))
    return (f"{_BRANCHING[type(node)]} ({where(_first_line(node))}) holds some of the layers this fix edits or rests "
            "on and not the others, so the model it builds the other way would change too")


def _site_branches(path: list[ast.AST], function: ast.AST) -> set[tuple]:
    """The branches of *path* within *function*; for a sublayer, also those where the class applies it."""
    keys = _branches(path[path.index(function):])
    attribute = _self_attribute_assigned(path[-2])
    if attribute is not None:  # where the sublayer is applied, too
        owner = next((node for node in reversed(path) if isinstance(node, ast.ClassDef)), None)
        for use in _self_uses(path, attribute, ast.Call):
            keys |= _branches(_path_between(owner, use) or [])
    return keys


def _function_of(path: list[ast.AST]) -> ast.AST:
    """The innermost function (or lambda) on *path*; the module when none."""
    return next((node for node in reversed(path) if isinstance(node, _FUNCTIONS)), path[0])


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _calls(caller: ast.AST, helper: ast.AST) -> list[ast.Call]:
    """The calls of the function *helper* by its name (``conv(x)``, ``self.conv(x)``) in *caller*'s own
    code (not in functions defined inside it)."""
    name = getattr(helper, "name", None)
    found, pending = [], list(ast.iter_child_nodes(caller))
    while name is not None and pending:
        node = pending.pop()
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id == name) or _is_self_dot(node.func, name)):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _first_line(node: ast.AST) -> int:
    """A node's first line (a ``case`` has none of its own: its pattern's)."""
    return getattr(node, "lineno", None) or _first_line(next(ast.iter_child_nodes(node)))


def _branches(path: list[ast.AST]) -> set[tuple]:
    """The branches *path* goes through: (the node, its field, the index in that field) of each
    conditional or repeating node on it, with the part of it the path takes."""
    keys = set()
    for parent, child in zip(path, path[1:]):
        if type(parent) not in _BRANCHING:
            continue
        for name, value in ast.iter_fields(parent):
            if value is child:
                keys.add((parent, name, 0))
            elif isinstance(value, list) and any(item is child for item in value):
                # (the statements of one body are one branch; each `except` and `case` is its own)
                index = next(i for i, item in enumerate(value) if item is child)
                keys.add((parent, name, index if name in ("handlers", "cases", "generators") else 0))
    return keys


def _path_between(root: ast.AST | None, target: ast.AST) -> list[ast.AST] | None:
    """The nodes from *root* down to *target*, or None."""
    if root is None:
        return None
    pending = [[root]]
    while pending:
        path = pending.pop()
        if path[-1] is target:
            return path
        pending.extend([*path, child] for child in ast.iter_child_nodes(path[-1]))
    return None


def _self_uses(path: list[ast.AST], attribute: str, kind: type) -> list[ast.AST]:
    """In the class holding the end of *path*: every ``self.<attribute>`` (*kind* ``ast.Attribute``)
    or every call of it (``ast.Call``)."""
    owner = next((node for node in reversed(path) if isinstance(node, ast.ClassDef)), None)
    if owner is None:
        return []
    return [node for node in ast.walk(owner) if isinstance(node, kind) and _is_self_dot(
        node.func if kind is ast.Call else node, attribute)]


def _is_self_dot(node: ast.AST, attribute: str) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == attribute and isinstance(node.value, ast.Name)
            and node.value.id == "self")


def _self_attribute_assigned(node: ast.AST | None) -> str | None:
    """``"x"`` for the statement ``self.x = ...``; None for any other."""
    if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
            and isinstance(node.targets[0].value, ast.Name) and node.targets[0].value.id == "self"):
        return node.targets[0].attr
    return None


def sublayer_uses(attribute: str, uses: int) -> str:
    """Why a sublayer applied in several places gets no layer inserted, moved or removed next to it."""
    return f"`self.{attribute}` is used in {uses} places in the class, and the fix rewrites each one"


def _segment(lines: list[str], node: ast.AST) -> str:
    if node.lineno != node.end_lineno:
        return "..."
    line = lines[node.lineno - 1].encode("utf-8")
    return line[node.col_offset:node.end_col_offset].decode("utf-8", "replace")


def _path_to_call(tree: ast.Module, lines: list[str], site) -> list[ast.AST] | None:
    """The nodes from *tree* down to the call written at *site* (1-based, columns in characters, as a
    Site has them), or None. Only the nodes whose lines hold the site's are visited."""
    def column(line: int, offset: int) -> int:
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        return (offset if source.isascii() else len(source.encode("utf-8")[:offset].decode("utf-8", "replace"))) + 1

    path: list[ast.AST] = [tree]
    while True:
        node = path[-1]
        if isinstance(node, ast.Call) and (node.lineno, column(node.lineno, node.col_offset), node.end_lineno,
                                           column(node.end_lineno, node.end_col_offset)) == (
                site.line, site.column, site.end_line, site.end_column):
            return path
        for child in ast.iter_child_nodes(node):
            span = _span(child)
            if span is None:
                continue
            (start, start_offset), (end, end_offset) = span
            if not start <= site.line <= site.end_line <= end:
                continue
            if start == site.line and column(start, start_offset) > site.column:
                continue
            if end == site.end_line and column(end, end_offset) < site.end_column:
                continue
            path.append(child)
            break
        else:
            return None


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """``((line, offset), (end line, end offset))`` of *node*; for a node without a position of its own
    (a ``case`` of a ``match``, a comprehension's ``for``), from its first and last children's."""
    if getattr(node, "lineno", None) is not None and getattr(node, "end_lineno", None) is not None:
        return (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)
    spans = [span for span in map(_span, ast.iter_child_nodes(node)) if span is not None]
    return (min(span[0] for span in spans), max(span[1] for span in spans)) if spans else None


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
