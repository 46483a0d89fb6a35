"""bnlint's rules: one module per rule, each a documented, self-testing :class:`~bnlint.rule.Rule`.

Nothing but rule modules lives in this package; the engine collects every
``Rule`` subclass defined in its modules.
"""
