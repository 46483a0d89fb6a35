"""Where the value of an argument written as a plain name is written as a literal.

A fix that sets ``momentum=0.9`` on ``BatchNormalization(momentum=m)`` should
not replace ``m`` by ``0.9``: ``m`` may be a parameter of the helper that
builds the layer, and a hard-coded value would silently ignore what its
callers pass. :func:`follow` follows the name instead, through the
file's scopes (libcst's scope analysis), to the literals its value comes
from, so the fix edits those:

- a name assigned once, ``m = 0.1`` (also ``m: float = 0.1``), at module or
  function level;
- a parameter of a function (or of a class's ``__init__``) defined in the
  file: the argument every call of it in the file passes there, and its
  default where a call leaves it out or nothing in the file calls it.

Each step may lead to another name (``f(x, mom)`` with ``mom = 0.01``), up to
a few steps. The trail is given up, with a reason, when a name is assigned
more than once, imported or a loop variable; when the function is used other
than by calling it by name (reading its ``__doc__`` is fine), or a call may
pass the parameter in ``*args``/``**kwargs``; and when the literals found
differ. A name on the trail must reach nothing but the trail: every use of it
is the argument being fixed or an argument the trail followed back from,
possibly another fix's of the same pass (``m * 2``, or another layer's
``use_bias=use_bias``, would change too). :class:`Trail` records what that
check needs; the writer makes it once all the pass's trails are known.
"""

from __future__ import annotations

import ast

import libcst as cst
from libcst.metadata import Assignment

__all__ = ["Trail", "Untraceable", "follow", "is_literal", "statement_text"]

_MAX_STEPS = 5
# Attributes of a function that reading does not call it with other arguments (`setattr(ResNet50,
# "__doc__", ResNet.__doc__)` in keras-applications).
_READ_ONLY = frozenset({"__doc__", "__name__", "__qualname__", "__module__"})


class Untraceable(Exception):
    """The value cannot be followed to literals; the message says why (one clause, for a finding)."""


def is_literal(node: cst.BaseExpression) -> bool:
    """A number, ``True``/``False``/``None`` or a negated number."""
    if isinstance(node, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    return (isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus)
            and isinstance(node.expression, (cst.Integer, cst.Float)))


class Trail:
    """Where a name's value is written: the literals to change, and what may use the names on the way."""

    def __init__(self) -> None:
        self.literals: list[cst.BaseExpression] = []
        self.uses: dict[int, cst.CSTNode] = {}  # every use of a name on the trail, by id()
        self.followed: set[int] = set()  # id() of the uses the trail came through (and the fixed argument)

    def strays(self, followed: set[int]) -> list[cst.CSTNode]:
        """The uses of the trail's names that are not among *followed* (the pass's trails together)."""
        return [node for key, node in self.uses.items() if key not in followed]


def follow(module: cst.Module, name: cst.Name, scopes, parents, wanted: object) -> Trail:
    """The trail from *name* (a plain name in *module*) to the literals to set to *wanted*.

    *scopes* and *parents* are the module's resolved ``ScopeProvider`` and
    ``ParentNodeProvider`` metadata. Literals that already hold *wanted* are
    left out (a default of ``False`` that one call overrides with
    ``use_bias=True``: only that call changes); the others must agree.

    Raises
    ------
    Untraceable
        the value cannot be followed to literals, or they differ (the message says why).
    """
    trail = Trail()
    trail.followed.add(id(name))
    found = _Tracer(module, scopes, parents, trail).sources(name, 0)
    texts = [module.code_for_node(node) for node in found]
    values = [ast.literal_eval(text) for text in texts]
    changed = [i for i, value in enumerate(values) if type(value) is not type(wanted) or value != wanted]
    if len({values[i] for i in changed}) > 1:
        shown = dict.fromkeys(texts[i] for i in changed)
        raise Untraceable(f"`{name.value}` takes different values in this file ({', '.join(shown)})")
    trail.literals = [found[i] for i in changed]
    return trail


def statement_text(module: cst.Module, node: cst.CSTNode, parents) -> str:
    """The first line of the statement holding *node*, shortened, for a finding's reason."""
    while not isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
        parent = parents.get(node)
        if parent is None:
            break
        node = parent
    text = module.code_for_node(node).strip().splitlines()[0]
    return text if len(text) <= 60 else text[:57] + "..."


class _Tracer:
    def __init__(self, module: cst.Module, scopes, parents, trail: Trail) -> None:
        self.module = module
        self.scopes = scopes
        self.parents = parents
        self.trail = trail

    def sources(self, expression: cst.BaseExpression, steps: int) -> list[cst.BaseExpression]:
        if is_literal(expression):
            return [expression]
        if not isinstance(expression, cst.Name):
            raise Untraceable(f"a value on the way is computed (`{self.module.code_for_node(expression)}`)")
        name = expression.value
        if steps >= _MAX_STEPS:
            raise Untraceable(f"`{name}` is passed on through too many names")
        scope = self.scopes.get(expression)
        referents = set()
        if scope is not None:
            for access in scope.accesses[expression]:
                if access.node is expression:
                    referents |= set(access.referents)
        if len(referents) != 1:
            raise Untraceable(f"`{name}` is assigned in more than one place" if referents
                              else f"`{name}` is not assigned in this file")
        assignment = next(iter(referents))
        target = assignment.node if isinstance(assignment, Assignment) else None
        if not isinstance(target, (cst.Name, cst.Param)):
            raise Untraceable(f"`{name}` is not assigned in this file")
        self.trail.uses.update((id(reference.node), reference.node) for reference in assignment.references)
        if isinstance(target, cst.Param):
            return self._parameter(target, steps)
        parent = self.parents.get(target)
        holder = self.parents.get(parent) if isinstance(parent, cst.AssignTarget) else parent
        if isinstance(holder, cst.Assign) and len(holder.targets) == 1 and holder.targets[0].target is target:
            return self.sources(holder.value, steps + 1)
        if isinstance(holder, cst.AnnAssign) and holder.target is target and holder.value is not None:
            return self.sources(holder.value, steps + 1)
        raise Untraceable(f"`{name}` is not assigned a value by a plain `{name} = ...`")

    def _parameter(self, param: cst.Param, steps: int) -> list[cst.BaseExpression]:
        name = param.name.value
        parameters = self.parents.get(param)
        function = self.parents.get(parameters)
        if not isinstance(function, cst.FunctionDef):
            raise Untraceable(f"`{name}` is a parameter of a lambda")
        callee, skip = function, 0
        owner = self._class_of(function)
        if owner is not None:
            if function.name.value != "__init__":
                raise Untraceable(f"`{name}` is a parameter of the method `{function.name.value}`")
            callee, skip = owner, 1  # `Block(64, momentum=0.1)` binds `__init__`'s parameters after `self`
        positional = [*parameters.posonly_params, *parameters.params]
        index = next((i for i, p in enumerate(positional) if p is param), None)
        if index is not None:
            index -= skip
        if param is parameters.star_kwarg or param is parameters.star_arg:
            raise Untraceable(f"`{name}` collects extra arguments")
        keyword = param not in parameters.posonly_params
        sources: list[cst.BaseExpression] = []
        defaulted = False
        for call in self._calls_of(callee):
            passed = next((arg for arg in call.args if keyword and arg.keyword is not None
                           and arg.keyword.value == name), None)
            given = []  # the positional arguments up to a `*args`, after which positions are unknown
            for arg in call.args:
                if arg.star == "*":
                    break
                if arg.keyword is None and not arg.star:
                    given.append(arg)
            if passed is None and index is not None and 0 <= index < len(given):
                passed = given[index]
            if passed is not None:  # (a `**options` beside it cannot pass it again)
                self.trail.followed.add(id(passed.value))
                sources.extend(self.sources(passed.value, steps + 1))
            elif any(arg.star for arg in call.args):
                raise Untraceable(f"a call of `{callee.name.value}` passes *args or **kwargs, which may hold `{name}`")
            else:
                defaulted = True
        if defaulted or not sources:
            if param.default is None:
                raise Untraceable(f"`{name}` is a parameter of `{callee.name.value}` that no call in this file "
                                  "passes and that has no default")
            self.trail.followed.add(id(param.default))  # (`momentum=BN_MOMENTUM`: the trail comes through it)
            sources.extend(self.sources(param.default, steps + 1))
        return sources

    def _class_of(self, function: cst.FunctionDef) -> cst.ClassDef | None:
        block = self.parents.get(function)
        owner = self.parents.get(block)
        return owner if isinstance(owner, cst.ClassDef) else None

    def _calls_of(self, definition: cst.FunctionDef | cst.ClassDef) -> list[cst.Call]:
        """Every call of *definition* by its name; untraceable when it is used any other way."""
        scope = self.scopes.get(definition)
        assignments = [a for a in scope.assignments[definition.name.value]] if scope is not None else []
        if len(assignments) != 1 or assignments[0].node is not definition:
            raise Untraceable(f"`{definition.name.value}` is defined more than once")
        calls = []
        for reference in assignments[0].references:
            parent = self.parents.get(reference.node)
            if isinstance(parent, cst.Call) and parent.func is reference.node:
                calls.append(parent)
            elif not (isinstance(parent, cst.Attribute) and parent.value is reference.node
                      and parent.attr.value in _READ_ONLY and not self._assigned(parent)):
                raise Untraceable(f"`{definition.name.value}` is used other than by calling it "
                                  f"(`{statement_text(self.module, reference.node, self.parents)}`)")
        return calls

    def _assigned(self, node: cst.CSTNode) -> bool:
        return isinstance(self.parents.get(node), (cst.AssignTarget, cst.AugAssign, cst.AnnAssign))
