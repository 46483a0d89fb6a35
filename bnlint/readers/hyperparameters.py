"""KerasTuner's ``HyperParameters``, as the static interpreter knows them: every value at its default.

A search space written for KerasTuner builds its model in a function or a
``HyperModel.build`` that takes ``hp`` and asks it for values
(``hp.Int("units", 32, 512)``, ``hp.Choice("activation", ["relu", "tanh"])``).
When a tuner is made, it builds the model once with a fresh
``HyperParameters``, where each hyperparameter takes its default, to record
the search space; bnlint reads that model, the one
``build(keras_tuner.HyperParameters())`` returns. The defaults are
KerasTuner's (1.4): ``Int`` and ``Float`` default to ``min_value``,
``Choice`` to its first value, ``Boolean`` to ``False``, ``Fixed`` to its
value; ``default=`` overrides. A name asked for again gets the value it
already has. Under ``hp.conditional_scope(parent, values)`` (or with
``parent_name=``/``parent_values=``), a hyperparameter whose parent's value
is not among *values* is ``None``, and ``hp.name_scope(name)`` prefixes
names with ``name/``, as in KerasTuner.
"""

from __future__ import annotations

from bnlint.graph import UNKNOWN

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["HyperParameters", "HyperParameterScope", "is_tuner_path"]

# The top-level names KerasTuner is imported by (``kerastuner`` before 1.1).
_TUNER_PACKAGES = ("keras_tuner", "kerastuner")


def is_tuner_path(path: str) -> bool:
    """Whether an imported name's path is in KerasTuner: ``keras_tuner.RandomSearch``, ``kerastuner.HyperModel``."""
    return path.partition(".")[0] in _TUNER_PACKAGES


class HyperParameters:
    """A ``keras_tuner.HyperParameters`` being filled by a first build: the values asked for so far."""

    #: The methods model code calls; any other attribute is unknown.
    METHODS = frozenset({"Int", "Float", "Choice", "Boolean", "Fixed", "get", "conditional_scope", "name_scope"})

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        #: Active hyperparameters' values, by full name (``"block_1/units"``), as ``hp.values``.
        self.values: dict[str, Any] = dict(values or {})
        self._conditions: list[tuple[str, list]] = []  # open conditional scopes: (parent name, its values)
        self._name_scopes: list[str] = []

    def call(self, method: str, args: list, kwargs: dict) -> Any:
        """``hp.<method>(*args, **kwargs)`` on known arguments; unknown where KerasTuner would raise."""
        try:
            return getattr(self, "_" + method)(*args, **kwargs)
        except (TypeError, ValueError, KeyError, IndexError):
            return UNKNOWN

    # -- the hyperparameters (KerasTuner's signatures) ---------------------

    def _Int(self, name, min_value, max_value, step=None, sampling="linear", default=None,
             parent_name=None, parent_values=None):
        return self._retrieve(name, _whole(min_value) if default is None else default, parent_name, parent_values)

    def _Float(self, name, min_value, max_value, step=None, sampling="linear", default=None,
               parent_name=None, parent_values=None):
        return self._retrieve(name, float(min_value) if default is None else default, parent_name, parent_values)

    def _Choice(self, name, values, ordered=None, default=None, parent_name=None, parent_values=None):
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError("values")
        return self._retrieve(name, values[0] if default is None else default, parent_name, parent_values)

    def _Boolean(self, name, default=False, parent_name=None, parent_values=None):
        if default not in (True, False):
            raise ValueError("default")
        return self._retrieve(name, default, parent_name, parent_values)

    def _Fixed(self, name, value, parent_name=None, parent_values=None):
        return self._retrieve(name, value, parent_name, parent_values)

    def _get(self, name):
        return self.values[self._full_name(name)]

    def _conditional_scope(self, parent_name, parent_values):
        parent = self._full_name(parent_name)
        if parent not in self.values:
            raise ValueError(parent)  # KerasTuner: the parent must be defined first
        return HyperParameterScope(self, condition=(parent, _as_list(parent_values)))

    def _name_scope(self, name):
        return HyperParameterScope(self, name=str(name))

    # -- as KerasTuner registers and retrieves them ------------------------

    def _retrieve(self, name: Any, default: Any, parent_name: Any, parent_values: Any) -> Any:
        if not isinstance(name, str):
            raise TypeError("name")
        conditions = list(self._conditions)
        if parent_name is not None:
            conditions.append((self._full_name(parent_name), _as_list(parent_values)))
        if not all(parent in self.values and self.values[parent] in values for parent, values in conditions):
            return None  # inactive: KerasTuner registers it and returns None
        return self.values.setdefault(self._full_name(name), default)

    def _full_name(self, name: Any) -> str:
        if not isinstance(name, str):
            raise TypeError("name")
        return "/".join([*self._name_scopes, name])


class HyperParameterScope:
    """What ``hp.conditional_scope(...)`` or ``hp.name_scope(...)`` returns: a ``with`` block's context."""

    def __init__(self, hp: HyperParameters, condition: tuple[str, list] | None = None, name: str | None = None):
        self._hp, self._condition, self._name = hp, condition, name

    def enter(self) -> None:
        if self._condition is not None:
            self._hp._conditions.append(self._condition)
        if self._name is not None:
            self._hp._name_scopes.append(self._name)

    def exit(self) -> None:
        if self._condition is not None:
            self._hp._conditions.pop()
        if self._name is not None:
            self._hp._name_scopes.pop()


def _whole(value: Any) -> int:
    """``int(value)``, for a whole number only (KerasTuner rejects ``hp.Int("n", 1.5, 4)``)."""
    whole = int(value)
    if whole != value:
        raise ValueError(value)
    return whole


def _as_list(values: Any) -> list:
    return list(values) if isinstance(values, (list, tuple)) else [values]
