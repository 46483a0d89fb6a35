"""Which argument edits the source writer declines, told from the constructor call's text alone.

A check runs without libcst, yet the number of findings it calls fixable
should be the number ``--fix`` fixes. Setting a constructor argument is
declined when the call's syntax makes the edit unsafe, whatever the rest
of the file says:

- the argument is given, as ``momentum=cfg.bn_momentum`` or
  ``config["momentum"]``, and the intent follows values to where they are
  written: a literal there would cut the layer off from its setting;
- the argument is not given, and the call passes positional arguments to
  a class of the code's own that bnlint cannot name (one may be it), or
  passes ``*args`` / ``**kwargs`` (which may hold it).

:func:`argument_problem` answers for both the engine (at check time) and
:mod:`bnlint.writers.python_source` (when it edits), so the two agree.
"""

from __future__ import annotations

import ast

from bnlint import kinds
from bnlint.diagnostics import SetArgument

__all__ = ["argument_problem"]


def argument_problem(call_text: str, intent: SetArgument) -> str | None:
    """Why setting *intent*'s argument in the call written as *call_text* is declined; None if it is not.

    >>> from bnlint.graph import Site
    >>> site = Site("model.py", 1, 1, 1, 1)
    >>> argument_problem("BatchNormalization(**bn_args)", SetArgument(site, "BatchNormalization", "momentum", 0.99))
    'the call passes *args or **kwargs, which may already set `momentum`'
    >>> argument_problem("BatchNormalization(momentum=0.9, **bn_args)",
    ...                  SetArgument(site, "BatchNormalization", "momentum", 0.99)) is None
    True
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
    if existing is not None:
        if intent.follow and isinstance(existing, (ast.Attribute, ast.Subscript)):
            code = ast.get_source_segment(source, existing)
            return f"`{intent.key}={code}` is read from a setting; change the value where `{code}` is set"
        return None
    if positional and kinds.positional_params(intent.class_name, [None] * len(positional)) is None:
        return f"`{intent.class_name}` takes positional arguments bnlint cannot name; one may be `{intent.key}`"
    if len(positional) < len(call.args) or any(keyword.arg is None for keyword in call.keywords):
        return f"the call passes *args or **kwargs, which may already set `{intent.key}`"
    return None


def _existing_argument(call: ast.Call, positional: list[ast.expr], intent: SetArgument) -> ast.expr | None:
    """The expression that gives the intent's key, by keyword or position; None if none does."""
    for keyword in call.keywords:
        if keyword.arg == intent.key:
            return keyword.value
    params = kinds.positional_params(intent.class_name, [None] * len(positional)) or ()
    if intent.key in params and params.index(intent.key) < len(positional):
        return positional[params.index(intent.key)]
    return None
