"""Realise fix intents on Python source with libcst, keeping everything else as written.

:func:`apply_intents` edits the constructor calls named by the intents'
sites and returns the new text; comments, formatting, quotes and newline
style are untouched outside the edited arguments. An intent that cannot be
realised safely is declined with a reason instead (for example, the call
passes ``**kwargs`` that may already hold the argument).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from bnlint import kinds
from bnlint.diagnostics import FixIntent, SetArgument

__all__ = ["EditResult", "apply_intents"]


@dataclass
class EditResult:
    """The edited text, the intents realised, and those declined with the reason."""

    text: str
    applied: list[FixIntent] = field(default_factory=list)
    declined: list[tuple[FixIntent, str]] = field(default_factory=list)


def apply_intents(text: str, intents: list[FixIntent]) -> EditResult:
    """Realise *intents* on the source *text* in one pass.

    Raises
    ------
    libcst.ParserSyntaxError
        *text* is not valid Python (the caller read it as Python, so this is a bug).
    """
    wrapper = MetadataWrapper(cst.parse_module(text))
    # A call is found by its whole span: `Conv2D(8, 3)(x)` starts where `Conv2D(8, 3)` does.
    by_position: dict[tuple[int, int, int, int], list[FixIntent]] = {}
    for intent in intents:
        site = intent.site
        by_position.setdefault((site.line, site.column - 1, site.end_line, site.end_column - 1), []).append(intent)
    editor = _CallEditor(wrapper.resolve(PositionProvider), by_position)
    module = wrapper.module.visit(editor)
    result = EditResult(module.code, editor.applied, editor.declined)
    for position, pending in by_position.items():
        if position not in editor.seen:
            result.declined.extend((intent, "the constructor call was not found in the file") for intent in pending)
    return result


class _CallEditor(cst.CSTTransformer):
    def __init__(self, positions, by_position: dict[tuple[int, int, int, int], list[FixIntent]]) -> None:
        super().__init__()
        self.positions = positions
        self.by_position = by_position
        self.seen: set[tuple[int, int, int, int]] = set()
        self.applied: list[FixIntent] = []
        self.declined: list[tuple[FixIntent, str]] = []

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        span = self.positions[original]
        position = (span.start.line, span.start.column, span.end.line, span.end.column)
        intents = self.by_position.get(position)
        if not intents:
            return updated
        self.seen.add(position)
        for intent in intents:
            edited, problem = _set_argument(updated, intent)
            if problem is None:
                updated = edited
                self.applied.append(intent)
            else:
                self.declined.append((intent, problem))
        return updated


def _set_argument(call: cst.Call, intent: SetArgument) -> tuple[cst.Call, str | None]:
    value = cst.parse_expression(repr(intent.value))
    args = list(call.args)
    for index, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == intent.key:
            args[index] = arg.with_changes(value=value)
            return call.with_changes(args=args), None
    positional = [arg for arg in args if arg.keyword is None and not arg.star]
    params = kinds.positional_params(intent.class_name, [None] * len(positional)) or ()
    if intent.key in params and params.index(intent.key) < len(positional):
        target = positional[params.index(intent.key)]
        args[args.index(target)] = target.with_changes(value=value)
        return call.with_changes(args=args), None
    if any(arg.star for arg in args):
        return call, f"the call passes *args or **kwargs, which may already set `{intent.key}`"
    return call.with_changes(args=_append(call, args, _keyword(intent.key, value))), None


def _keyword(key: str, value: cst.BaseExpression) -> cst.Arg:
    no_space = cst.SimpleWhitespace("")
    return cst.Arg(value=value, keyword=cst.Name(key), equal=cst.AssignEqual(no_space, no_space))


def _append(call: cst.Call, args: list[cst.Arg], new: cst.Arg) -> list[cst.Arg]:
    """*args* plus *new* at the end, laid out like the arguments already there."""
    if not args:
        return [new]
    last = args[-1]
    trailing = last.comma if isinstance(last.comma, cst.Comma) else None
    if trailing is not None and isinstance(trailing.whitespace_after, cst.ParenthesizedWhitespace):
        # One argument per line with a trailing comma: the new one gets a line of its own.
        indent = _argument_indent(call, args)
        last = last.with_changes(comma=trailing.with_changes(
            whitespace_after=trailing.whitespace_after.with_changes(last_line=indent)))
        closing = cst.Comma(whitespace_after=trailing.whitespace_after.with_changes(
            first_line=cst.TrailingWhitespace(), empty_lines=[]))
        return args[:-1] + [last, new.with_changes(comma=closing)]
    # Whatever followed the last argument (a newline before a hanging `)`) now follows the new one.
    separator = _separator(args)
    last, new = (
        last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace("")),
        new.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg),
    )
    return args[:-1] + [last, new]


def _separator(args: list[cst.Arg]) -> cst.Comma:
    """The comma and whitespace that separate the existing arguments (without their comments)."""
    if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
        comma = args[-2].comma
        after = comma.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace):
            after = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        return comma.with_changes(whitespace_after=after)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _argument_indent(call: cst.Call, args: list[cst.Arg]) -> cst.SimpleWhitespace:
    for arg in args[:-1]:
        if isinstance(arg.comma, cst.Comma) and isinstance(arg.comma.whitespace_after, cst.ParenthesizedWhitespace):
            return arg.comma.whitespace_after.last_line
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call.whitespace_before_args.last_line
    return cst.SimpleWhitespace("    ")
