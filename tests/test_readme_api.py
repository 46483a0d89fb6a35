"""The README's "Python API" examples run as written (each ```python block, in a fresh directory)."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

_SECTION = re.compile(r"^## Python API\n(?P<body>.*?)(?=^## )", re.DOTALL | re.MULTILINE)
_BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE)


def api_examples() -> list[str]:
    section = _SECTION.search((ROOT / "README.md").read_text())
    assert section, "README.md has no '## Python API' section"
    return [match.group("code") for match in _BLOCK.finditer(section.group("body"))]


def test_the_section_has_examples():
    assert len(api_examples()) >= 4


@pytest.mark.parametrize("index", range(len(api_examples())))
def test_readme_api_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = api_examples()[index]
    exec(compile(code, f"README.md (Python API example {index + 1})", "exec"), {"__name__": "__readme__"})
