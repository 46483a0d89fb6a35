"""Run rules on graphs: selection, suppression, grouping by origin.

The engine is the only place that knows about all three: which rules run
(``select`` / ``ignore`` / ``extend-select`` / ``per-file-ignores``), which
findings the user silenced (``# noqa: BN003``, ``# bnlint: ignore[...]``),
and how violations on many layer instances become one finding per
constructor call.
"""

from __future__ import annotations

import importlib
import os
import re
from functools import lru_cache

from bnlint.diagnostics import Diagnostic, Fix, SetArgument, Violation
from bnlint.errors import ConfigError
from bnlint.graph import Layer, ModelGraph, Site
from bnlint.readers.result import ReadResult
from bnlint.records import replace
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterable

__all__ = ["all_rules", "find_rule", "resolve_selection", "lint", "suppressed_codes"]

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*bnlint:\s*ignore(?:\[(?P<items>[^\]]*)\])?")
_ALL = None  # marker: every rule is suppressed


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    """Every rule shipped in ``bnlint.rules``, by code, in code order."""
    import bnlint.rules as package

    found: dict[str, type[Rule]] = {}
    for name in _module_names(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                if value.code in found:
                    raise RuntimeError(f"rule code {value.code} is defined twice")
                found[value.code] = value
    return dict(sorted(found.items()))


def _module_names(path: list[str]) -> list[str]:
    """The modules in the package directories *path*, sorted (``pkgutil.iter_modules`` imports ``inspect``)."""
    names = set()
    for directory in path:
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        names.update(entry[:-3] for entry in entries if entry.endswith(".py") and entry != "__init__.py")
    return sorted(names)


def find_rule(key: str) -> type[Rule] | None:
    """The rule with code or name *key* (case-insensitive code), or None."""
    rules = all_rules()
    if key.upper() in rules:
        return rules[key.upper()]
    return next((rule for rule in rules.values() if rule.name == key), None)


def _expand(selector: str, origin: str) -> set[str]:
    """Codes matched by one selector: ``ALL``, a code, a code prefix, or a rule name."""
    rules = all_rules()
    if selector.upper() == "ALL":
        return set(rules)
    rule = find_rule(selector)
    if rule is not None:
        return {rule.code}
    matched = {code for code in rules if code.startswith(selector.upper())} if selector[:1].isalpha() else set()
    if not matched:
        raise ConfigError(f"{origin}: unknown rule selector '{selector}' (see `bnlint rule` for the list)")
    return matched


def resolve_selection(
    select: Iterable[str] | None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
    origin: str = "command line",
) -> set[str]:
    """The codes of the rules that run.

    With no *select*, the rules that are on by default run.

    Raises
    ------
    ConfigError
        A selector names no rule.
    """
    rules = all_rules()
    if select is None:
        chosen = {code for code, rule in rules.items() if rule.default}
    else:
        chosen = set().union(*(_expand(s, origin) for s in select)) if select else set()
    chosen |= set().union(*(_expand(s, origin) for s in extend_select)) if extend_select else set()
    ignored = set().union(*(_expand(s, origin) for s in ignore)) if ignore else set()
    return chosen - ignored


def suppressed_codes(line: str) -> set[str] | None:
    """Codes silenced by a comment on *line*: a set, ``None`` for all, or an empty set."""
    codes: set[str] = set()
    match = _NOQA.search(line)
    if match:
        if not match.group("codes"):
            return _ALL
        codes |= {code.upper() for code in re.split(r"[\s,]+", match.group("codes")) if code}
    match = _IGNORE.search(line)
    if match:
        items = match.group("items")
        if items is None or not items.strip():
            return _ALL
        for item in re.split(r"[\s,]+", items.strip()):
            rule = find_rule(item)
            codes.add(rule.code if rule is not None else item.upper())
    return codes


def lint(result: ReadResult, codes: set[str], options: dict | None = None) -> list[Diagnostic]:
    """Run the rules with *codes* on every graph of *result*; one diagnostic per rule and origin.

    *options* are rule settings by their ``[tool.bnlint]`` key; rules use
    their defaults for the rest.
    """
    from bnlint.readers.python_source import source_lines

    rules = [rule(options) for code, rule in all_rules().items() if code in codes]
    lines = source_lines(result.text) if result.text is not None else []
    grouped: dict[tuple, Diagnostic] = {}
    seen_layers: dict[tuple, set[int]] = {}  # layer ids per finding
    seen_calls: dict[tuple, set[tuple[int, int]]] = {}  # (id() of the graph, node) per finding
    _note_callers(result.graphs)
    for graph in result.graphs:
        for rule in rules:
            for violation in rule.check(graph):
                _add(grouped, seen_layers, rule, graph, violation, lines, result.path, seen_calls)
    if any(diagnostic.fix is not None for diagnostic in grouped.values()):
        if result.variants:
            _check_fixes_on_variants(grouped, seen_layers, seen_calls, rules, result, lines)
        _withdraw_fixes_reaching_other_layers(grouped, seen_layers, result.graphs, result.variants, seen_calls)
        _withdraw_fixes_the_writer_declines(grouped.values(), result)
    if result.notebook and grouped:
        _place_in_cells(grouped.values(), result.text or "")
    return sorted(grouped.values(), key=Diagnostic.sort_key)


def _note_callers(graphs) -> None:
    """Set each graph's :attr:`~bnlint.graph.ModelGraph.callers`: the nodes of the other graphs that call it
    as a layer (a block ``Sequential`` inside a model), for rules about a model's final outputs."""
    callers: dict[int, list] = {}
    for graph in graphs:
        for node, layer in graph.layers():
            if layer.submodel is not None:
                callers.setdefault(id(layer.submodel), []).append((graph, node))
    for graph in graphs:
        graph.callers = callers.get(id(graph), [])


def _check_fixes_on_variants(grouped: dict, seen_layers: dict, seen_calls: dict, rules: list, result: ReadResult,
                             lines) -> None:
    """Let a fix stand only where the models the file makes with other arguments want it too.

    A subclassed layer is read with the arguments the file first makes it
    with; a fix edits its class, so it changes every instance. The rules run
    on :attr:`~bnlint.readers.result.ReadResult.variants` as well: a finding
    they make with the same fix covers its layers there (which
    :func:`_withdraw_fixes_reaching_other_layers` then counts), one with
    another fix withdraws it, and their own findings are not reported.
    """
    found: dict[tuple, Diagnostic] = {}
    covered: dict[tuple, set[int]] = {}
    calls: dict[tuple, set[tuple[int, int]]] = {}
    _note_callers(result.variants)
    for graph in result.variants:
        for rule in rules:
            for violation in rule.check(graph):
                _add(found, covered, rule, graph, violation, lines, result.path, calls)
    for key, diagnostic in grouped.items():
        other = found.get(key)
        if diagnostic.fix is None or other is None:
            continue
        if other.fix != diagnostic.fix:
            diagnostic.fix, diagnostic.unfixable = None, "its layer instances would need different fixes"
        else:
            seen_layers[key] |= covered[key]
            seen_calls.setdefault(key, set()).update(calls.get(key, ()))


def _withdraw_fixes_reaching_other_layers(grouped: dict, seen_layers: dict, graphs, variants=(),
                                          seen_calls: dict | None = None) -> None:
    """Withdraw the fix of a finding whose constructor call also makes layers the finding does not cover.

    A fix edits the call, so it changes every layer the call makes: a
    helper whose convolution a BN follows in one caller and not in another
    would lose the other's bias too, or get a second BN. A layer the edit
    leaves as it is does not count (an argument it already has, such as
    `use_bias=False` where one caller passes `use_bias=True`), nor the
    input layer a Sequential's first layer makes from `input_shape`. Nor
    does a layer the finding covers, unless it is applied somewhere the
    finding does not hold (with *seen_calls*): one ``shared = Dense(32)``
    followed by a BN in one model and by a ReLU in another.
    """
    made: dict[Site, dict[int, Layer]] = {}
    applied: dict[Site, list[tuple[ModelGraph, int]]] = {}  # every call of the layers each site makes
    variant_of: dict[int, str] = {}  # layer id -> the class a variant reads (see _check_fixes_on_variants)
    variant_ids = {id(graph) for graph in variants}
    for graph in [*graphs, *variants]:
        for node, layer in graph.layers():
            if isinstance(layer.origin, Site) and layer.kind != "input":
                made.setdefault(layer.origin, {})[layer.layer_id] = layer
                applied.setdefault(layer.origin, []).append((graph, node))
                if id(graph) in variant_ids:
                    variant_of[layer.layer_id] = graph.entry
    for key, diagnostic in grouped.items():
        if diagnostic.fix is None:
            continue
        others = [layer for layer_id, layer in made.get(diagnostic.origin, {}).items()
                  if layer_id not in seen_layers[key] and _changed_by(diagnostic.fix, layer)]
        if others and all(layer.layer_id in variant_of for layer in others):
            diagnostic.fix = None
            diagnostic.unfixable = (f"`{variant_of[others[0].layer_id]}` is also made with other arguments, and "
                                    f"there this finding does not hold for {_names([o.name for o in others])}, "
                                    "which an edit of the class would change too")
            continue
        if others:
            diagnostic.fix = None
            diagnostic.unfixable = (f"the call also makes {_names([o.name for o in others])}, which this finding "
                                    "does not cover and an edit of the call would change too")
            continue
        # (within one model the rule saw every call, and decided: BN004 reports a shared layer only when
        # a BN follows each; here, the models where no call of the layer has the finding)
        found_in = {graph_id for graph_id, _ in seen_calls.get(key, ())} if seen_calls is not None else set()
        elsewhere = [graph for graph, node in applied.get(diagnostic.origin, []) if found_in
                     and id(graph) not in found_in and _changed_by(diagnostic.fix, graph.layer(node))]
        if elsewhere:
            diagnostic.fix = None
            diagnostic.unfixable = (f"the layer is also applied in `{elsewhere[0].name}`, where this finding does "
                                    "not hold, and an edit of its call would change it there too")
            continue
        for intent in diagnostic.fix.intents:
            # A layer moved or inserted after a call in a helper follows every layer that call makes:
            # a BN moved into `conv_relu(x, f)` lands in each of its callers, not in the one reported.
            after = getattr(intent, "after", None)
            targets = made.get(after, {}) if after is not None and after != diagnostic.origin else {}
            if len(targets) > len(seen_layers[key]):
                diagnostic.fix = None
                diagnostic.unfixable = (f"the call it would go after makes {len(targets)} layers "
                                        f"({_names([layer.name for layer in targets.values()])}) and this "
                                        f"finding covers {len(seen_layers[key])}: the others would get it too")
                break


def _names(names: list[str]) -> str:
    """```a`, `b`, `c` and 2 more``."""
    shown = ", ".join(f"`{name}`" for name in dict.fromkeys(names[:3]))
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _withdraw_fixes_the_writer_declines(diagnostics, result: ReadResult) -> None:
    """Withdraw the fix of a finding whose argument edit the writer would decline for the call's syntax.

    ``momentum=cfg.bn_momentum`` or ``BatchNormalization(**bn_args)`` is
    reported as not fixable by a check, not only when ``--fix`` runs (see
    :mod:`bnlint.writers.arguments`). An optional edit is left out of the
    fix instead (BN001 still inserts its BN; BN004 then reports the bias).
    """
    from bnlint.readers.python_source import source_lines
    from bnlint.writers.arguments import argument_problem, block_problem, placement_problem

    text = result.text or ""
    lines = source_lines(text, keepends=True)
    for diagnostic in diagnostics:
        if diagnostic.fix is None:
            continue
        if result.tree is not None and all(site.path == result.path for site in _sites(diagnostic.fix)):
            problem = block_problem(result.tree, text, diagnostic.fix, *([_cell_line(text)] if result.notebook else []))
            if problem is not None:
                diagnostic.fix, diagnostic.unfixable = None, problem
                continue
        kept = []
        for intent in diagnostic.fix.intents:
            problem = None
            if intent.site.path != result.path or not 0 < intent.site.line <= intent.site.end_line <= len(lines):
                pass
            elif isinstance(intent, SetArgument):
                problem = argument_problem(intent.site.text_in(lines), intent, text)
            elif result.tree is not None:  # (the tree the reader parsed: a finding's file always has one)
                problem = placement_problem(result.tree, text, intent)
            if problem is None:
                kept.append(intent)
            elif not getattr(intent, "optional", False):
                diagnostic.fix, diagnostic.unfixable = None, problem
                break
        else:
            if len(kept) < len(diagnostic.fix.intents):
                diagnostic.fix = replace(diagnostic.fix, intents=tuple(kept))


def _cell_line(text: str):
    """How a reason names line *n* of a notebook's Python *text*: by its cell and its line there."""
    from bnlint.readers.notebook import cell_of, cell_starts

    starts = cell_starts(text)

    def where(line: int) -> str:
        cell = cell_of(starts, line)
        return f"line {line}" if cell is None else f"cell {cell[0]}, line {line - cell[1] + 1}"

    return where


def _sites(fix: Fix) -> list[Site]:
    """Every site *fix* edits or rests on."""
    sites = [site for intent in fix.intents for site in (intent.site, getattr(intent, "after", intent.site))]
    return sites + list(fix.context)


def _changed_by(fix, layer: Layer) -> bool:
    """True unless every edit of *fix* sets an argument *layer* already has."""
    return not all(isinstance(intent, SetArgument) and intent.site == layer.origin
                   and type(layer.config.get(intent.key)) is type(intent.value)
                   and layer.config.get(intent.key) == intent.value for intent in fix.intents)


def _place_in_cells(diagnostics, text: str) -> None:
    """Set the cell of each finding in a notebook's Python *text*."""
    from bnlint.readers.notebook import cell_of, cell_starts

    starts = cell_starts(text)
    for diagnostic in diagnostics:
        if isinstance(diagnostic.origin, Site):
            diagnostic.cell = cell_of(starts, diagnostic.origin.line)


def _add(
    grouped: dict, seen_layers: dict, rule: Rule, graph: ModelGraph, violation: Violation, lines: list[str], path: str,
    seen_calls: dict | None = None,
) -> None:
    layer = graph.layer(violation.node)
    origin = violation.origin or layer.origin
    if origin is None or origin.path != path:
        return  # a layer built by an imported module is reported when that module is checked
    if isinstance(origin, Site) and 0 < origin.line <= len(lines):
        silenced = suppressed_codes(lines[origin.line - 1])
        if silenced is _ALL or rule.code in silenced:
            return
    fix, unfixable = violation.fix, violation.unfixable
    if fix is not None and layer.tuned:
        tuned = [intent.key for intent in fix.intents
                 if isinstance(intent, SetArgument) and intent.site == layer.origin and intent.key in layer.tuned]
        if tuned:
            # Setting one value would end the search over it (`momentum=hp.Choice("momentum", [0.1, 0.01])`).
            fix, unfixable = None, (f"`{tuned[0]}` is computed in a KerasTuner search space and may be a "
                                    "hyperparameter: change the values it searches")
    key = (rule.code, origin)
    diagnostic = grouped.get(key)
    if diagnostic is None:
        diagnostic = grouped[key] = Diagnostic(
            rule.code, rule.name, violation.message, origin, fix=fix,
            unfixable=unfixable if isinstance(origin, Site) else None,  # (saved models have no fixes)
        )
        seen_layers[key] = set()
    elif diagnostic.fix != fix and diagnostic.unfixable is None:
        # One constructor call makes every instance: it can only be edited one way.
        diagnostic.fix = None
        diagnostic.unfixable = "its layer instances would need different fixes"
    elif diagnostic.fix is not None and not set(fix.context) <= set(diagnostic.fix.context):
        diagnostic.fix = replace(diagnostic.fix, context=tuple(dict.fromkeys(diagnostic.fix.context + fix.context)))
    # An instance is a layer, not a call: a shared layer, or a layer in two
    # models (an encoder inside an autoencoder), counts once.
    if seen_calls is not None and origin == layer.origin:
        seen_calls.setdefault(key, set()).add((id(graph), violation.node))
    if layer.layer_id not in seen_layers[key]:
        seen_layers[key].add(layer.layer_id)
        diagnostic.instances.append(layer.name)
    if graph.name not in diagnostic.models:
        diagnostic.models.append(graph.name)
