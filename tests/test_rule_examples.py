"""Every rule's VALID and INVALID examples, run through the real reader and engine."""

from __future__ import annotations

import pytest

from bnlint.engine import all_rules, lint
from bnlint.readers.python_source import read_source
from conftest import expected_findings

RULES = all_rules()
CASES = [
    pytest.param(rule, kind, index, source, id=f"{code}-{kind}-{index}")
    for code, rule in RULES.items()
    for kind, examples in (("valid", rule.VALID), ("invalid", rule.INVALID))
    for index, source in enumerate(examples)
]


def test_options_are_documented_and_have_valid_defaults():
    for code, rule in RULES.items():
        doc = rule.documentation()
        for key, option in rule.options.items():
            assert f"`{key}`" in doc, f"{code} does not document its option {key}"
            assert option.problem(option.default) is None, f"{code}: the default of {key} is not valid"


def test_every_rule_has_examples_of_both_kinds():
    for code, rule in RULES.items():
        assert len(rule.VALID) >= 3, f"{code} needs at least three VALID examples"
        assert len(rule.INVALID) >= 3, f"{code} needs at least three INVALID examples"


@pytest.mark.parametrize("rule, kind, index, source", CASES)
def test_example(rule, kind, index, source):
    # An example is a source string, or (source, {option: value}) to show an option at work.
    source, options = source if isinstance(source, tuple) else (source, {})
    assert set(options) <= set(rule.options), "an example may only set the rule's own options"
    found = {(d.origin.line, d.code) for d in lint(read_source(source, "example.py"), {rule.code}, options)}
    if kind == "valid":
        assert found == set(), f"{rule.code} reported a VALID example"
    else:
        expected = expected_findings(source)
        assert expected, "an INVALID example must mark the lines it expects with '# expect: CODE'"
        assert found == expected


def test_rule_documentation_has_every_section():
    sections = ["What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "Options", "References"]
    for code, rule in RULES.items():
        doc = rule.documentation()
        positions = [doc.find(f"## {section}") for section in sections]
        assert all(p >= 0 for p in positions), f"{code} is missing a documentation section"
        assert positions == sorted(positions), f"{code} documents its sections out of order"


def test_codes_and_names_are_well_formed_and_unique():
    names = [rule.name for rule in RULES.values()]
    assert len(set(names)) == len(names)
    for code, rule in RULES.items():
        assert rule.code == code and code[:2] == "BN" and code[2:].isdigit() and len(code) == 5
        assert rule.name == rule.name.lower() and " " not in rule.name and "_" not in rule.name


def test_rules_that_declare_a_fix_propose_it_and_only_they_do():
    for code, rule in RULES.items():
        proposed = set()
        for source in rule.INVALID:
            source, options = source if isinstance(source, tuple) else (source, {})
            for diagnostic in lint(read_source(source, "example.py"), {code}, options):
                if diagnostic.fix is not None:
                    proposed.add(diagnostic.fix.applicability.value)
        assert proposed == ({rule.fix} if rule.fix else set()), code
