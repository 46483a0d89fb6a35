"""`bnlint check fixtures/` reports exactly the seeded mistakes."""

from __future__ import annotations

import json
from collections import defaultdict

from conftest import FIXTURES, ROOT, expected_findings, run_bnlint


def test_check_reports_exactly_the_marked_lines():
    # Every rule, the ones off by default included: markers state all findings.
    result = run_bnlint("check", "fixtures/models", "--select", "ALL", "--output-format", "json", cwd=ROOT)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    found = defaultdict(set)
    for finding in json.loads(result.stdout):
        found[finding["path"]].add((finding.get("cell"), finding["location"]["line"], finding["code"]))
    for fixture in sorted(FIXTURES.glob("*.py")):
        display = f"fixtures/models/{fixture.name}"
        assert found.get(display, set()) == {(None, *marked) for marked in expected_findings(fixture.read_text())}, display
    notebooks = sorted(FIXTURES.glob("*.ipynb"))
    assert notebooks
    for fixture in notebooks:  # markers by cell, lines counted in their cell
        cells = json.loads(fixture.read_text())["cells"]
        expected = {(number, *marked) for number, cell in enumerate(cells, start=1) if cell["cell_type"] == "code"
                    for marked in expected_findings("".join(cell["source"]))}
        assert expected and found.get(f"fixtures/models/{fixture.name}", set()) == expected, fixture.name


def test_good_fixtures_pass_with_exit_code_zero():
    good = sorted(str(p.relative_to(ROOT)) for p in FIXTURES.glob("good_*.py"))
    assert len(good) >= 5
    result = run_bnlint("check", *good, cwd=ROOT)
    assert (result.returncode, result.stdout) == (0, f"All checks passed ({len(good)} files checked).\n")
