"""Realise fix intents on Python source with libcst, keeping everything else as written.

:func:`apply_intents` edits the constructor calls named by the intents'
sites and what holds them, and returns the new text; comments, formatting,
quotes and newline style are untouched outside the edited code. An intent
that cannot be realised safely is declined with a reason instead (for
example, the call passes ``**kwargs`` that may already hold the argument).

Argument edits change the constructor call itself. Layer insertions,
removals and moves edit what holds the call, which must be one of the forms
model code uses: an element of a ``Sequential([...])`` list, a
``model.add(...)`` statement, a ``y = Layer(...)(x)`` statement, or a call
nested in another expression (``BN()(Conv2D(8, 3)(x))``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, ScopeProvider

from bnlint import kinds
from bnlint.diagnostics import FixIntent, InsertLayer, MoveLayer, SetArgument
from bnlint.writers.arguments import STORED_LAYER, argument_problem, extra_arguments, sublayer_uses
from bnlint.writers.value_sources import Trail, Untraceable, follow, is_literal, statement_text

__all__ = ["EditResult", "apply_intents"]

_NOT_FOUND = "the constructor call was not found in the file"
# Attribute suffixes for sublayers the fixer adds to a subclassed model.
_SHORT = {"BatchNormalization": "bn", "Activation": "activation"}
_DEFERRED = "another fix changes the same layer in this pass"  # retried in the next round
_UNSUPPORTED = (
    "the layer is not built in a form the fixer edits "
    "(a list element, `model.add(...)`, `y = Layer(...)(x)` or a nested call)"
)


@dataclass
class EditResult:
    """The edited text, the intents realised, those declined with the reason, and those
    deferred because another intent of the pass changes the same layer."""

    text: str
    applied: list[FixIntent] = field(default_factory=list)
    declined: list[tuple[FixIntent, str]] = field(default_factory=list)
    deferred: list[FixIntent] = field(default_factory=list)


def apply_intents(text: str, intents: list[FixIntent]) -> EditResult:
    """Realise *intents* on the source *text* in one pass.

    Intents that touch a layer another intent of the pass already changes
    are deferred (the fixer's next round takes them). Python that libcst
    cannot parse (an indentation mixing tabs and spaces that Python
    accepts, as Keras-SRGAN's ``Network.py`` has) declines every intent.
    """
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        reason = f"libcst, which the fixer edits with, cannot parse the file ({error.message})"
        return EditResult(text, declined=[(intent, reason) for intent in intents])
    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    calls = {_span(positions[node]): node for node in positions if isinstance(node, cst.Call)}
    result = EditResult(text)
    arguments: dict[tuple[int, int, int, int], list[SetArgument]] = {}
    literals = _Literals(wrapper, parents, _quote_of(text))
    plan = _Plan(wrapper.module)
    for intent in intents:
        if isinstance(intent, SetArgument):
            call = calls.get(_key(intent.site))
            if call is None:
                result.declined.append((intent, _NOT_FOUND))
                continue
            problem = argument_problem(wrapper.module.code_for_node(call), intent, text)
            if problem is not None:  # (a setting, `**kwargs`: told from the call, as a check tells it)
                result.declined.append((intent, problem))
                continue
            existing = _existing_argument(call, intent) if intent.follow else None
            if existing is not None and isinstance(existing.value, cst.Name) and not is_literal(existing.value):
                problem = literals.trace(existing.value, intent)
                if problem is not None:
                    result.declined.append((intent, problem))
                continue
            arguments.setdefault(_key(intent.site), []).append(intent)
            continue
        problem = plan.add(intent, calls, parents)
        if problem is _DEFERRED:
            result.deferred.append(intent)
        elif problem is not None:
            result.declined.append((intent, problem))
    applied, declined = literals.settle()
    result.applied += applied
    result.declined += declined
    editor = _Editor(positions, arguments, plan, _quote_of(text), literals.edits)
    result.text = wrapper.module.visit(editor).code
    result.applied += editor.applied + plan.intents
    return result


def _span(code_range) -> tuple[int, int, int, int]:
    return (code_range.start.line, code_range.start.column, code_range.end.line, code_range.end.column)


def _key(site) -> tuple[int, int, int, int]:
    # A call is found by its whole span: `Conv2D(8, 3)(x)` starts where `Conv2D(8, 3)` does.
    return (site.line, site.column - 1, site.end_line, site.end_column - 1)


@dataclass
class _Holder:
    """Where a constructor call sits, in a form the writer can edit."""

    kind: str  # "element", "add", "assign", "nested", "attribute" or "stored"
    node: cst.CSTNode  # the list Element, the statement line, or the outer call
    call: cst.Call  # the constructor call
    target: str | None = None  # the assigned name ("assign") or attribute ("attribute")
    source: cst.CSTNode | None = None  # the layer's input ("assign", "nested"), or the class ("attribute")


class _Plan:
    """The structural edits of one pass, keyed by the nodes that hold the calls."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.intents: list[FixIntent] = []
        self.holders: dict[int, _Holder] = {}  # id() of a holder node -> holder
        self.removed: set[int] = set()
        self.inserted: dict[int, list[cst.Call]] = {}  # calls to insert after a holder node
        self.imports: dict[int, set[str]] = {}  # id() of an ImportFrom -> names to add to it
        # Sublayers of subclassed models, by (id() of the class, attribute name):
        self.wraps: dict[tuple[int, str], list[str]] = {}  # self.x(...) becomes self.y(self.x(...))
        self.unwraps: set[tuple[int, str]] = set()  # self.x(arg) becomes arg
        self._touched: set[tuple[int, int, int, int]] = set()
        # The end-of-line comment of each moved call's old line, by id() of the call: it moves too.
        self.comments: dict[int, cst.TrailingWhitespace] = {}

    def add(self, intent: FixIntent, calls: dict, parents) -> str | None:
        keys = [_key(intent.site)]
        if isinstance(intent, MoveLayer):
            keys.append(_key(intent.after))
        if any(key not in calls for key in keys):
            return _NOT_FOUND
        if any(key in self._touched for key in keys):
            return _DEFERRED
        holders = [_holder(calls[key], parents) for key in keys]
        if any(holder is None for holder in holders):
            return _UNSUPPORTED
        if any(holder.kind == "stored" for holder in holders):
            return STORED_LAYER
        if isinstance(intent, MoveLayer):
            extra = _arguments_besides_the_input(holders[0], self.module)
            if extra is not None:
                return extra_arguments(extra)
        if any(holder.kind == "attribute" for holder in holders):
            problem = self._add_to_class(intent, holders)
            if problem is not None:
                return problem
        elif isinstance(intent, InsertLayer):
            new = self._new_call(holders[0].call, intent.class_name, intent.arguments)
            name = _renamed(holders[0].call, intent.rename) if intent.rename and new is not None else None
            if name is not None:
                new = new.with_changes(args=_extend(list(new.args), _keyword("name", name), None))
            if new is None:
                return f"the fixer cannot spell `{intent.class_name}` the way this file names layers"
            self._insert(holders[0], new)
        elif holders[0].kind == "assign" and holders[0].source is None:
            return "the layer is made and applied by one function call, which the fixer does not take apart"
        elif isinstance(intent, MoveLayer):
            self._remove(holders[0])
            self._insert(holders[1], holders[0].call)
            comment = _line_comment(holders[0])
            if comment is not None:
                self.comments[id(holders[0].call)] = comment
        else:  # RemoveLayer
            self._remove(holders[0])
        self._touched.update(keys)
        self.intents.append(intent)
        return None

    def _add_to_class(self, intent: FixIntent, holders: list[_Holder]) -> str | None:
        """Insertions, removals and moves of sublayers: the ``self.x = ...`` line and every ``self.x(...)``."""
        if not all(h.kind == "attribute" and h.source is holders[0].source for h in holders):
            return "the layers are not sublayers of one subclassed layer or model"
        for holder in holders:  # every `self.x(...)` is rewritten: it must be the one the finding is about
            uses = _attribute_uses(holders[0].source, holder.target) - 1  # less the `self.x = ...` line
            if uses == 0:
                return f"`self.{holder.target}` is not applied anywhere in the class"
            if uses > 1:
                return sublayer_uses(holder.target, uses)
        owner = id(holders[0].source)
        if isinstance(intent, InsertLayer):
            new = self._new_call(holders[0].call, intent.class_name, intent.arguments)
            if new is None:
                return f"the fixer cannot spell `{intent.class_name}` the way this file names layers"
            attribute = f"{holders[0].target}_{_SHORT.get(intent.class_name, kinds.to_snake_case(intent.class_name))}"
            taken = self.module.code_for_node(holders[0].source)
            base, number = attribute, 2
            while f"self.{attribute}" in taken:  # never reuse an attribute the class has
                attribute, number = f"{base}{number}", number + 1
            self._insert(holders[0], cst.Assign(
                targets=[cst.AssignTarget(_self_dot(attribute))], value=new))
            self.wraps.setdefault((owner, holders[0].target), []).append(attribute)
        elif isinstance(intent, MoveLayer):
            self.unwraps.add((owner, holders[0].target))
            self.wraps.setdefault((owner, holders[1].target), []).append(holders[0].target)
        else:  # RemoveLayer: its line and its applications go
            self._remove(holders[0])
            self.unwraps.add((owner, holders[0].target))
        return None

    def _insert(self, holder: _Holder, call: cst.Call) -> None:
        self.holders[id(holder.node)] = holder
        self.inserted.setdefault(id(holder.node), []).append(call)

    def _remove(self, holder: _Holder) -> None:
        self.holders[id(holder.node)] = holder
        self.removed.add(id(holder.node))

    def _new_call(self, beside: cst.Call, class_name: str, arguments) -> cst.Call | None:
        """``class_name(**arguments)``, spelled the way this file spells *beside*'s class."""
        if isinstance(beside.func, cst.Attribute):  # layers.Conv2D -> layers.BatchNormalization
            func: cst.BaseExpression = beside.func.with_changes(attr=cst.Name(class_name))
        elif isinstance(beside.func, cst.Name) and _defined_here(self.module, _imported_name(self.module, class_name)
                                                                 or class_name):
            # The file's own `class BatchNormalization(...)` (a frozen BN) takes the name over: the Keras
            # class is spelled through the layers module the file imports, or not at all.
            module = _layers_module(self.module)
            if module is None:
                return None
            func = cst.parse_expression(f"{module}.{class_name}")
        elif isinstance(beside.func, cst.Name):
            local = _imported_name(self.module, class_name)
            if local is not None:
                func = cst.Name(local)
            else:
                # `from keras.layers import Conv2D` -> `..., BatchNormalization`: in every module-level
                # statement that imports the neighbour's class (both branches of a try/except import).
                statements = _imports_of(self.module, beside.func.value)
                for statement in statements:
                    self.imports.setdefault(id(statement), set()).add(class_name)
                module = None if statements else _layers_module(self.module)
                if module is not None:
                    # not imported at module level (in a function, or not at all): spelled through a
                    # module the file imports at its top (`keras.layers.BatchNormalization`)
                    func = cst.parse_expression(f"{module}.{class_name}")
                elif statements or not _imports_anything(self.module):
                    func = cst.Name(class_name)  # (a snippet without imports names Keras classes bare)
                else:
                    return None  # (a bare name would not exist where the call runs)
        else:
            return None
        quote = _quote_of(self.module.code)
        leading = kinds.positional_params(class_name) or ()
        args = []
        for index, (key, value) in enumerate(arguments):
            positional = index < len(leading) and leading[index] == key and key != "axis"  # axis=1, as people write it
            if positional and all(isinstance(a.keyword, type(None)) for a in args):
                args.append(cst.Arg(_literal(value, quote)))  # Activation("relu"), as people write it
            else:
                args.append(_keyword(key, _literal(value, quote)))
        spaced = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        return cst.Call(func=func, args=[arg.with_changes(comma=spaced) for arg in args[:-1]] + args[-1:])


def _holder(call: cst.Call, parents) -> _Holder | None:
    parent = parents.get(call)
    if isinstance(parent, cst.Element) and isinstance(parents.get(parent), (cst.List, cst.Tuple)):
        return _Holder("element", parent, call)
    if isinstance(parent, cst.Arg):
        outer = parents.get(parent)
        expression = parents.get(outer)
        line = parents.get(expression)
        is_add = (
            isinstance(outer, cst.Call) and isinstance(outer.func, cst.Attribute) and outer.func.attr.value == "add"
            and len(outer.args) == 1 and isinstance(expression, cst.Expr)
            and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
        )
        return _Holder("add", line, call) if is_add else None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        line = parents.get(parent)
        if isinstance(target, cst.Name) and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            if _callee(call)[:1].isupper():
                # `dense = layers.Dense(32)`: a layer kept to be applied elsewhere (`x = dense(x)`); what
                # follows this line is not its output.
                return _Holder("stored", line, call, target.value, None)
            # `x = layers.add([a, b])`: a layer made and applied by one call; layers can follow it.
            return _Holder("assign", line, call, target.value, None)
        if (
            _self_attribute(target) is not None and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
        ):
            # A sublayer of a subclassed layer or model: `self.conv = Conv2D(...)`, applied as `self.conv(x)`.
            owner = parents.get(line)
            while owner is not None and not isinstance(owner, cst.ClassDef):
                owner = parents.get(owner)
            if owner is not None:
                return _Holder("attribute", line, call, target.attr.value, owner)
        return None
    if isinstance(parent, cst.Call) and parent.func is call and parent.args and not parent.args[0].star:
        source = parent.args[0].value
        assign = parents.get(parent)
        line = parents.get(assign)
        if (
            isinstance(assign, cst.Assign) and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
            and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
        ):
            return _Holder("assign", line, call, assign.targets[0].target.value, source)
        return _Holder("nested", parent, call, None, source)
    return None


def _callee(call: cst.Call) -> str:
    """The last name of what *call* calls: ``Dense`` for ``layers.Dense(...)``, ``add`` for ``layers.add(...)``."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _imported_name(module: cst.Module, class_name: str) -> str | None:
    """The local name under which a module-level ``from ... import`` brings *class_name*, if any
    (at the top, or in a module-level ``try``/``except``/``if``, as :func:`_imports_of` looks)."""
    for statement in _module_level_from_imports(module.body):
        for alias in statement.names:
            if isinstance(alias.name, cst.Name) and alias.name.value == class_name:
                return alias.asname.name.value if alias.asname else class_name
    return None


def _defined_here(module: cst.Module, name: str) -> bool:
    """Whether the file's module-level code binds *name* other than by importing it: a class, a
    function or an assignment (at the top, or in a module-level ``if``/``try``)."""
    for statement in _module_level_statements(module.body):
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)) and statement.name.value == name:
            return True
        if isinstance(statement, cst.SimpleStatementLine) and any(
                isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name
                                                      for t in small.targets)
                or isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == name
                for small in statement.body):
            return True
    return False


def _imports_of(module: cst.Module, local: str) -> list[cst.ImportFrom]:
    """The ``from ... import`` statements run at module level (at the top, or in a module-level
    ``try``/``except``/``if``) that bind the name *local*."""
    found = []
    for statement in _module_level_from_imports(module.body):
        for alias in statement.names:
            if (alias.asname.name.value if alias.asname else getattr(alias.name, "value", None)) == local:
                found.append(statement)
    return found


def _module_level_from_imports(body):
    for statement in _module_level_statements(body):
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    yield small


def _module_level_statements(body):
    """The statements that run at module level: those of *body*, and inside its ``if``/``try``
    (every branch), not those of functions or classes."""
    for statement in body:
        if isinstance(statement, (cst.Try, cst.TryStar, cst.If, cst.Else, cst.ExceptHandler,
                                  cst.ExceptStarHandler, cst.Finally)):
            yield from _module_level_statements(statement.body.body)
            for part in (*getattr(statement, "handlers", ()), getattr(statement, "orelse", None),
                         getattr(statement, "finalbody", None)):
                if part is not None:
                    yield from _module_level_statements([part])
        else:
            yield statement


def _imports_anything(module: cst.Module) -> bool:
    """Whether the file has any import statement, at any depth (a snippet has none)."""
    found = False

    class Imports(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            nonlocal found
            found = True

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            nonlocal found
            found = True

    module.visit(Imports())
    return found


def _layers_module(module: cst.Module) -> str | None:
    """How the file's top-level imports reach Keras' layers module: ``layers``, ``keras.layers``, ``tf.keras.layers``."""
    spellings = []
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    full = get_full_name_for_node(alias.name)
                    bound = alias.asname.name.value if alias.asname else full
                    if full in ("keras", "tensorflow.keras", "keras.layers", "tensorflow.keras.layers"):
                        spellings.append(bound if full.endswith("layers") else f"{bound}.layers")
                    elif full == "tensorflow" and alias.asname:
                        spellings.append(f"{bound}.keras.layers")
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                origin = get_full_name_for_node(small.module) if small.module else ""
                for alias in small.names:
                    name = get_full_name_for_node(alias.name)
                    bound = alias.asname.name.value if alias.asname else name
                    if origin in ("keras", "tensorflow.keras") and name == "layers":
                        spellings.append(bound)
                    elif origin == "tensorflow" and name == "keras":
                        spellings.append(f"{bound}.layers")
    return spellings[0] if spellings else None


class _Literals:
    """The literals that argument edits following a plain name set (see :mod:`bnlint.writers.value_sources`)."""

    def __init__(self, wrapper: MetadataWrapper, parents, quote: str) -> None:
        self.wrapper = wrapper
        self.parents = parents
        self.quote = quote
        self.scopes = None  # resolved when first needed: most passes never follow a name
        self.trails: list[tuple[SetArgument, cst.Name, Trail]] = []
        self.edits: dict[int, cst.BaseExpression] = {}  # id() of a literal node -> its replacement

    def trace(self, name: cst.Name, intent: SetArgument) -> str | None:
        """Follow *name* to the literals to set for *intent*; why not, if it cannot be."""
        if self.scopes is None:
            self.scopes = self.wrapper.resolve(ScopeProvider)
        try:
            trail = follow(self.wrapper.module, name, self.scopes, self.parents, intent.value)
        except Untraceable as reason:
            return self._reason(intent, name, str(reason))
        if not trail.literals:  # what the analysis saw came another way
            return self._reason(intent, name, f"`{name.value}` already holds `{intent.value!r}` where it is written")
        self.trails.append((intent, name, trail))
        return None

    def settle(self) -> tuple[list[SetArgument], list[tuple[SetArgument, str]]]:
        """Decide the followed intents together: the applied ones, and the declined ones with the reason.

        A trail's names may only reach the fixed arguments of the pass and
        the arguments the trails came through; a trail whose names reach
        anything else is declined, which may strand another that relied on
        it, so this repeats until nothing changes.
        """
        declined: list[tuple[SetArgument, str]] = []
        trails = list(self.trails)
        causes: dict[int, str] = {}  # id() of a use on a declined trail -> why that trail was declined
        stranded = True
        while stranded:
            stranded = False
            followed = set().union(*(trail.followed for _, _, trail in trails))
            for entry in trails:
                strays = entry[2].strays(followed)
                if strays:
                    intent, name, trail = entry
                    # (a use that another fix's trail took is not the reason, but why that trail went)
                    cause = next((causes[id(stray)] for stray in strays if id(stray) in causes), None)
                    if cause is None:
                        text = statement_text(self.wrapper.module, strays[0], self.parents)
                        used = strays[0].value if isinstance(strays[0], cst.Name) else "a name on the way"
                        cause = f"`{used}` is also used in `{text}`"
                    declined.append((intent, self._reason(intent, name, cause)))
                    causes.update(dict.fromkeys(trail.followed, cause))
                    trails.remove(entry)
                    stranded = True
                    break
        values: dict[int, object] = {}
        applied = []
        for intent, name, trail in trails:
            if any(values.get(id(node), intent.value) != intent.value for node in trail.literals):
                declined.append((intent, f"another fix sets the value of `{name.value}` differently"))
                continue
            for node in trail.literals:
                values[id(node)] = intent.value
                self.edits[id(node)] = _literal(intent.value, self.quote)
            applied.append(intent)
        return applied, declined

    @staticmethod
    def _reason(intent: SetArgument, name: cst.Name, reason: str) -> str:
        return f"`{intent.key}={name.value}` does not lead to a literal the fixer can change: {reason}"


class _Editor(cst.CSTTransformer):
    """Applies argument edits to calls, and the plan's insertions and removals to their holders."""

    def __init__(self, positions, arguments: dict, plan: _Plan, quote: str, literals: dict) -> None:
        super().__init__()
        self.quote = quote
        self.positions = positions
        self.arguments = arguments
        self.plan = plan
        self.literals = literals
        self.applied: list[FixIntent] = []
        self.classes: list[int] = []  # id() of the original ClassDef nodes we are in
        # id() of the `self.x(...)` calls that are a whole `y = self.x(...)` statement: the sublayers
        # that now follow `x` come as statements of their own after it (`y = self.x_bn(y)`).
        self.statement_calls: set[int] = set()
        # The end-of-line comment of a `y = self.x(y)` line removed because `x` moved, by (class, "x").
        self.moved_comments: dict[tuple[int, str], cst.TrailingWhitespace] = {}

    def on_leave(self, original, updated):
        replacement = self.literals.get(id(original)) if self.literals else None
        if replacement is not None:
            return replacement
        return super().on_leave(original, updated)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(id(node))

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.classes.pop()
        return updated

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        applied = _applied_sublayer(node)
        if self.classes and applied is not None and (self.classes[-1], applied[1]) in self.plan.wraps:
            self.statement_calls.add(id(node.body[0].value))

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        """``a = f(x); x = Dropout(0.2)(x)`` whose Dropout moved away is ``a = f(x)``, not ``a = f(x); x = x``.
        (A line of one statement that became ``x = x`` goes as a whole, in :meth:`_statements`.)"""
        if len(original.body) < 2:
            return updated
        body = [small for old, small in zip(original.body, updated.body)
                if not (_self_assigns(small) and not _self_assigns(old))]
        if not body or len(body) == len(updated.body):
            return updated
        body[-1] = body[-1].with_changes(semicolon=updated.body[-1].semicolon)
        return updated.with_changes(body=body)

    def _sublayer_call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        """``self.x(arg)`` unwrapped to ``arg``, or wrapped in the sublayers that now follow ``x``."""
        attribute = _self_attribute(updated.func)
        if not self.classes or attribute is None:
            return updated
        key = (self.classes[-1], attribute)
        result: cst.BaseExpression = updated
        if key in self.plan.unwraps and updated.args and not updated.args[0].star:
            result = updated.args[0].value
        if id(original) not in self.statement_calls:
            for attribute in self.plan.wraps.get(key, ()):
                result = _apply_sublayer(attribute, result)
        return result

    def _sublayer_statements(self, original, statement) -> list[cst.SimpleStatementLine]:
        """``y = self.x_bn(y)`` after ``y = self.x(...)``, for each sublayer that now follows ``x``."""
        if not self.statement_calls:
            return []
        applied = _applied_sublayer(original)
        if applied is None or id(original.body[0].value) not in self.statement_calls:
            return []
        target, attribute = applied
        return [
            statement.with_changes(
                body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(target))],
                                 value=_apply_sublayer(wrap, cst.Name(target)))],
                leading_lines=(),
                trailing_whitespace=self.moved_comments.pop((self.classes[-1], wrap), cst.TrailingWhitespace()))
            for wrap in self.plan.wraps[(self.classes[-1], attribute)]
        ]

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if self.plan.wraps or self.plan.unwraps:
            rewritten = self._sublayer_call(original, updated)
            if rewritten is not updated:
                return rewritten
        for intent in self.arguments.get(_span(self.positions[original]), ()):
            updated = _set_argument(updated, intent, self.quote)
            self.applied.append(intent)
        holder = self.plan.holders.get(id(original))
        if holder is not None and holder.kind == "nested":
            if id(original) in self.plan.removed:
                return updated.args[0].value
            for call in self.plan.inserted.get(id(original), ()):
                updated = cst.Call(func=call, args=[cst.Arg(updated)])
        return updated

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        names = self.plan.imports.get(id(original))
        if not names or isinstance(updated.names, cst.ImportStar):
            return updated
        aliases = list(updated.names)
        for name in sorted(names):
            aliases = _extend(aliases, cst.ImportAlias(name=cst.Name(name)), updated.lpar)
        closing = updated.rpar
        if closing is not None and not isinstance(updated.names[-1].comma, cst.Comma):
            # `ReLU  # activations` then `)`: the comment stays after `ReLU,`, not after the added name.
            last = len(updated.names) - 1
            separator, before = _comment_kept_on_its_line(aliases[last].comma, closing.whitespace_before)
            aliases[last] = aliases[last].with_changes(comma=separator)
            closing = closing.with_changes(whitespace_before=before)
        return updated.with_changes(names=aliases, rpar=closing)

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.List:
        return updated.with_changes(elements=self._elements(original, updated))

    def leave_Tuple(self, original: cst.Tuple, updated: cst.Tuple) -> cst.Tuple:
        return updated.with_changes(elements=self._elements(original, updated))

    def _elements(self, original, updated) -> list:
        opening = getattr(updated, "lbracket", None)
        result: list = []
        for old, element in zip(original.elements, updated.elements):
            if id(old) not in self.plan.removed:
                result.append(element)
            elif result:
                # The comment lines after a removed element are above the next one: they stay there.
                result[-1] = _with_comment_lines_of(result[-1], element)
            for call in self.plan.inserted.get(id(old), ()):
                result = _extend(result, cst.Element(value=call), opening)
                if id(call) in self.plan.comments:
                    result[-1] = _with_line_comment(result[-1], self.plan.comments[id(call)])
        if updated.elements and result and id(original.elements[-1]) in self.plan.removed:
            # The last element went: the new last one keeps the list's trailing-comma style.
            result[-1] = result[-1].with_changes(comma=updated.elements[-1].comma)
        return result

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated.with_changes(body=self._statements(original.body, updated.body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self._statements(original.body, updated.body))

    def _statements(self, originals, updated) -> list:
        result: list = []
        orphaned: list = []  # comment lines above a removed statement, kept for the next one

        def keep(statement):
            nonlocal orphaned
            if orphaned:
                statement = statement.with_changes(leading_lines=[*orphaned, *statement.leading_lines])
                orphaned = []
            result.append(statement)

        for original, statement in zip(originals, updated):
            following = self._sublayer_statements(original, statement)
            if _self_assignment(statement) and not _self_assignment(original):
                orphaned.extend(getattr(statement, "leading_lines", ()))
                moved = _applied_sublayer(original)
                if moved is not None and statement.trailing_whitespace.comment is not None:
                    self.moved_comments[(self.classes[-1], moved[1])] = statement.trailing_whitespace
                for after in following:
                    keep(after)
                continue  # `x = self.drop(x)` whose layer moved away is now `x = x`
            if following:  # `y = self.x(...)` in a method: not a holder of a constructor call
                for after in [statement, *following]:
                    keep(after)
                continue
            holder = self.plan.holders.get(id(original))
            if holder is None or holder.kind not in ("add", "assign", "attribute"):
                keep(statement)
                continue
            if id(original) not in self.plan.removed:
                keep(statement)
            elif holder.kind == "assign" and not (
                isinstance(holder.source, cst.Name) and holder.source.value == holder.target
            ):
                # `y = Layer(...)(x)` without the layer is `y = x`, with the edits made inside `x`
                # (`y = BN()(Activation(...)(Conv2D(...)(x)))`: the BN that moved lands in there).
                assign = statement.body[0]
                applied = assign.value
                source = applied.args[0].value if isinstance(applied, cst.Call) and applied.args else holder.source
                kept = statement.with_changes(body=[assign.with_changes(value=source)])
                if id(holder.call) in self.plan.comments:  # the line's comment went with the moved layer
                    kept = kept.with_changes(trailing_whitespace=cst.TrailingWhitespace())
                keep(kept)
            else:
                orphaned.extend(statement.leading_lines)
            for call in self.plan.inserted.get(id(original), ()):
                keep(_statement_after(holder, statement, call, self.plan.comments.get(id(call))))
        return result  # comments above a removed last statement go with it


def _statement_after(holder: _Holder, statement: cst.SimpleStatementLine, call: cst.Call,
                     comment: cst.TrailingWhitespace | None = None) -> cst.SimpleStatementLine:
    """``model.add(NEW)`` or ``y = NEW(y)``, on a line of its own after *statement* (with a moved call's comment)."""
    plain = dict(leading_lines=(), trailing_whitespace=comment or cst.TrailingWhitespace())
    if holder.kind == "attribute":  # `call` is the whole `self.x_bn = BatchNormalization()`
        return statement.with_changes(body=[call], **plain)
    if holder.kind == "add":
        add = statement.body[0].value
        new_add = add.with_changes(args=[add.args[0].with_changes(value=call)])
        return statement.with_changes(body=[statement.body[0].with_changes(value=new_add)], **plain)
    target = cst.Name(holder.target)
    assign = cst.Assign(targets=[cst.AssignTarget(target)], value=cst.Call(func=call, args=[cst.Arg(target)]))
    return statement.with_changes(body=[assign], **plain)


def _line_comment(holder: _Holder) -> cst.TrailingWhitespace | None:
    """The comment at the end of the line that holds a statement or a one-per-line list element."""
    if holder.kind in ("add", "assign"):
        trailing = holder.node.trailing_whitespace
        return trailing if trailing.comment is not None else None
    if holder.kind == "element" and isinstance(holder.node.comma, cst.Comma):
        after = holder.node.comma.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace) and after.first_line.comment is not None:
            return after.first_line
    return None


def _with_line_comment(element: cst.Element, comment: cst.TrailingWhitespace) -> cst.Element:
    """*element* with *comment* at the end of its line (when it has a line of its own)."""
    comma = element.comma
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        return element.with_changes(comma=comma.with_changes(
            whitespace_after=comma.whitespace_after.with_changes(first_line=comment)))
    return element  # a list on one line has no room for it


def _existing_argument(call: cst.Call, intent: SetArgument) -> cst.Arg | None:
    """The argument of *call* that gives the intent's key, by keyword or position; None if none does."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == intent.key:
            return arg
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    params = kinds.positional_params(intent.class_name, [None] * len(positional)) or ()
    if intent.key in params and params.index(intent.key) < len(positional):
        return positional[params.index(intent.key)]
    return None


def _set_argument(call: cst.Call, intent: SetArgument, quote: str) -> cst.Call:
    value = _literal(intent.value, quote)
    args = list(call.args)
    existing = _existing_argument(call, intent)
    if existing is not None:
        args[args.index(existing)] = existing.with_changes(value=value)
        return call.with_changes(args=args)
    return call.with_changes(args=_extend(args, _keyword(intent.key, value), call.whitespace_before_args))


def _keyword(key: str, value: cst.BaseExpression) -> cst.Arg:
    no_space = cst.SimpleWhitespace("")
    return cst.Arg(value=value, keyword=cst.Name(key), equal=cst.AssignEqual(no_space, no_space))


def _with_comment_lines_of(kept: cst.Element, removed: cst.Element) -> cst.Element:
    """*kept* with the comment lines that followed *removed*'s comma added after its own comma."""
    gone, comma = removed.comma, kept.comma
    if not (isinstance(gone, cst.Comma) and isinstance(gone.whitespace_after, cst.ParenthesizedWhitespace)
            and isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace)):
        return kept
    lines = [line for line in gone.whitespace_after.empty_lines if line.comment is not None]
    if not lines:
        return kept
    after = comma.whitespace_after
    return kept.with_changes(comma=comma.with_changes(
        whitespace_after=after.with_changes(empty_lines=[*after.empty_lines, *lines])))


def _extend(items: list, new, opening) -> list:
    """*items* (arguments, list elements or import names) plus *new*, laid out like the others.

    *opening* is the whitespace after the opening bracket (or the bracket
    itself), used for the indentation of a one-item-per-line layout.
    """
    if not items:
        return [new]
    last = items[-1]
    trailing = last.comma if isinstance(last.comma, cst.Comma) else None
    if trailing is not None and isinstance(trailing.whitespace_after, cst.ParenthesizedWhitespace):
        # One item per line with a trailing comma: the new one gets a line of its own.
        last = last.with_changes(comma=trailing.with_changes(
            whitespace_after=trailing.whitespace_after.with_changes(last_line=_indent(items, opening))))
        closing = cst.Comma(whitespace_after=trailing.whitespace_after.with_changes(
            first_line=cst.TrailingWhitespace(), empty_lines=[]))
        return items[:-1] + [last, new.with_changes(comma=closing)]
    # Whatever followed the last item (a newline before a hanging `)`) now follows the new one,
    # but for the comment at the end of the last item's line, which stays there.
    separator = _separator(items)
    moved = {}
    if hasattr(last, "whitespace_after_arg"):
        separator, closing = _comment_kept_on_its_line(separator, last.whitespace_after_arg)
        moved = {"whitespace_after_arg": closing}
        last = last.with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
    return items[:-1] + [last.with_changes(comma=separator), new.with_changes(comma=trailing or last.comma, **moved)]


def _comment_kept_on_its_line(separator: cst.Comma, closing):
    """*separator* (the comma put after the item that was last) and *closing* (the whitespace before the
    closing bracket, which now follows a new item), with the end-of-line comment that *closing* held
    moved to *separator*: ``3  # kernel`` followed by ``)`` becomes ``3,  # kernel``, the new item and ``)``.
    """
    after = separator.whitespace_after
    if not (isinstance(closing, cst.ParenthesizedWhitespace) and closing.first_line.comment is not None
            and isinstance(after, cst.ParenthesizedWhitespace)):
        return separator, closing
    return (separator.with_changes(whitespace_after=after.with_changes(first_line=closing.first_line)),
            closing.with_changes(first_line=cst.TrailingWhitespace()))


def _separator(items: list) -> cst.Comma:
    """The comma and whitespace that separate the existing items (without their comments)."""
    for item in reversed(items[:-1]):
        if isinstance(item.comma, cst.Comma):
            after = item.comma.whitespace_after
            if isinstance(after, cst.ParenthesizedWhitespace):
                after = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
            return item.comma.with_changes(whitespace_after=after)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _indent(items: list, opening) -> cst.SimpleWhitespace:
    for item in items[:-1]:
        if isinstance(item.comma, cst.Comma) and isinstance(item.comma.whitespace_after, cst.ParenthesizedWhitespace):
            return item.comma.whitespace_after.last_line
    whitespace = getattr(opening, "whitespace_after", opening)
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.last_line
    return cst.SimpleWhitespace("    ")


def _quote_of(text: str) -> str:
    """The quote character the file mostly uses for strings."""
    return "'" if text.count("'") > text.count('"') else '"'


def _literal(value, quote: str) -> cst.BaseExpression:
    """*value* as source, strings in the file's quote style."""
    if isinstance(value, str) and quote == '"' and '"' not in value and "\\" not in value:
        return cst.SimpleString(f'"{value}"')
    return cst.parse_expression(repr(value))


def _renamed(call: cst.Call, rename: tuple[str, str]) -> cst.BaseExpression | None:
    """*call*'s ``name=`` expression with its trailing *old* text replaced by *new*, if it has one."""
    old, new = rename
    name = next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == "name"), None)
    if name is None:
        return None
    if isinstance(name, cst.BinaryOperation) and isinstance(name.operator, cst.Add):
        right = _renamed_literal(name.right, old, new)
        return name.with_changes(right=right) if right is not None else None
    if isinstance(name, cst.FormattedString) and name.parts and isinstance(name.parts[-1], cst.FormattedStringText):
        text = name.parts[-1].value
        if text.endswith(old):
            last = name.parts[-1].with_changes(value=text[: -len(old)] + new)
            return name.with_changes(parts=[*name.parts[:-1], last])
        return None
    return _renamed_literal(name, old, new)


def _renamed_literal(node: cst.BaseExpression, old: str, new: str) -> cst.BaseExpression | None:
    if isinstance(node, cst.SimpleString):
        quote = node.quote
        body = node.value[len(node.prefix) + len(quote): -len(quote)]
        if body.endswith(old):
            return node.with_changes(value=f"{node.prefix}{quote}{body[: -len(old)] + new}{quote}")
    return None


def _applied_sublayer(statement) -> tuple[str, str] | None:
    """``("y", "x")`` for a statement line ``y = self.x(...)``; None for any other statement."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name) and isinstance(assign.value, cst.Call)):
        return None
    attribute = _self_attribute(assign.value.func)
    return (assign.targets[0].target.value, attribute) if attribute is not None else None


def _arguments_besides_the_input(holder: _Holder, module: cst.Module) -> str | None:
    """The code of the arguments the layer at *holder* is applied with besides its input (``training=False``
    of ``(x, training=False)``), or None when it is applied to its input alone."""
    applied: list[cst.Call] = []
    if holder.kind == "nested":
        applied = [holder.node]
    elif holder.kind == "assign" and holder.source is not None:
        applied = [holder.node.body[0].value]
    elif holder.kind == "attribute":
        class Applications(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                if _self_attribute(node.func) == holder.target:
                    applied.append(node)

        holder.source.visit(Applications())
    for call in applied:  # (a list element or `model.add(...)`: Sequential applies it, to its input alone)
        if len(call.args) > 1:
            return ", ".join(module.code_for_node(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT))
                             for arg in call.args[1:])
    return None


def _attribute_uses(classdef: cst.ClassDef, attribute: str) -> int:
    """How many times ``self.<attribute>`` appears in the class (its assignments included)."""
    uses = 0

    class Count(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            nonlocal uses
            if _self_attribute(node) == attribute:
                uses += 1

    classdef.visit(Count())
    return uses


def _apply_sublayer(attribute: str, argument: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=_self_dot(attribute), args=[cst.Arg(argument)])


def _self_attribute(node: cst.CSTNode) -> str | None:
    """``"x"`` for the expression ``self.x``; None for any other."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _self_dot(attribute: str) -> cst.Attribute:
    return cst.Attribute(cst.Name("self"), cst.Name(attribute))


def _self_assignment(statement) -> bool:
    """A statement line ``x = x``."""
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and (
        _self_assigns(statement.body[0]))


def _self_assigns(small: cst.BaseSmallStatement) -> bool:
    """The statement ``x = x``."""
    return (
        isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.value, cst.Name)
        and isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value == small.value.value
    )
