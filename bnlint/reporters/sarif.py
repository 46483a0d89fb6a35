"""SARIF 2.1.0: the format GitHub code scanning and other CI dashboards read.

One run. ``tool.driver.rules`` holds every bnlint rule (id, name, short and
full description, help as text and Markdown, from the rule's own
documentation), so ``ruleIndex`` is the same in every report. Each finding
is a result with its region (1-based lines and columns counted in Unicode
code points, end column just past the call), and a ``fixes`` entry when it
has a fix: the replacement of the lines the fix changes, computed by
applying that finding's fix alone to the file as it is on disk (standard
input's source as it was checked). Paths are
relative to ``%SRCROOT%``, the directory bnlint ran in.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from bnlint import __version__
from bnlint.checker import CheckReport
from bnlint.diagnostics import Diagnostic
from bnlint.files import SourceTexts
from bnlint.graph import SavedLayer, Site
from bnlint.reporters.paths import artifact_path, file_position
from bnlint.reporters.replacement import Replacement, line_replacement
from bnlint.reporters.text import describe

__all__ = ["write", "sarif_log", "rule_descriptor", "fix_replacement", "fingerprints", "FINGERPRINT_KEY",
           "INFORMATION_URI", "SCHEMA_URI"]

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#: Where the tool is documented (the repository's address, as in the README's pre-commit recipe).
INFORMATION_URI = "https://example.invalid/bnlint"
_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)


def _sections(rule) -> dict[str, str]:
    """The rule docstring's ``## Heading`` sections, by heading."""
    text = inspect.cleandoc(rule.__doc__ or "")
    parts = _SECTION.split(text)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


def rule_descriptor(rule) -> dict:
    """The ``reportingDescriptor`` of a rule class: what SARIF viewers show about it."""
    sections = _sections(rule)
    what = _first_paragraph(sections.get("What it does", rule.summary))
    why = _first_paragraph(sections.get("Why is this bad?", ""))
    documentation = rule.documentation()
    body = documentation.split("\n\n", 1)[1]  # below the "name (CODE)" header line
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{what} {why}".strip()},
        "help": {"text": documentation, "markdown": f"# {rule.code} {rule.name}\n\n{body}"},
        "defaultConfiguration": {"enabled": bool(rule.default), "level": "error"},
        "properties": {"fix": rule.fix or "none", "tags": ["batchnorm", "keras"]},
    }


def _uri(path: str) -> dict:
    relative = artifact_path(path)
    if relative.startswith("/"):
        return {"uri": Path(relative).as_uri()}
    return {"uri": quote(os.fsencode(relative)), "uriBaseId": "%SRCROOT%"}  # (the bytes of a name that is not UTF-8)


def _region(site: Site) -> dict:
    return {"startLine": site.line, "startColumn": site.column, "endLine": site.end_line, "endColumn": site.end_column}


def fix_replacement(diagnostic: Diagnostic, text: str) -> Replacement | None:
    """The replacement that realises *diagnostic*'s fix on *text*, or None when it cannot be applied alone."""
    from bnlint.writers.python_source import apply_intents  # libcst: only for fixes

    intents = list(diagnostic.fix.intents)
    if any(intent.site.path != diagnostic.path for intent in intents):
        return None
    edit = apply_intents(text, intents)
    if edit.declined or edit.deferred:
        return None
    return line_replacement(text, edit.text)


def _fixes(diagnostic: Diagnostic, sources: SourceTexts) -> list[dict]:
    if diagnostic.fix is None or not isinstance(diagnostic.origin, Site) or diagnostic.cell is not None:
        return []  # (a notebook's fix edits its cells, not the lines of its JSON file)
    text = sources.get(diagnostic.path)
    replacement = fix_replacement(diagnostic, text) if text is not None else None
    if replacement is None:
        return []
    deleted = {"startLine": replacement.start_line, "startColumn": replacement.start_column,
               "endLine": replacement.end_line, "endColumn": replacement.end_column}
    return [{
        "description": {"text": diagnostic.fix.description},
        "artifactChanges": [{
            "artifactLocation": _uri(diagnostic.path),
            "replacements": [{"deletedRegion": deleted, "insertedContent": {"text": replacement.inserted}}],
        }],
        "properties": {"applicability": diagnostic.fix.applicability.value},
    }]


#: The ``partialFingerprints`` key of a result: the identity a baseline gives the finding.
FINGERPRINT_KEY = "bnlintFindingKey/v1"


def fingerprints(diagnostics: list[Diagnostic], sources: SourceTexts) -> list[str]:
    """Each finding's fingerprint: a hash of its baseline key (path, rule, normalised call text) and how
    many findings before it in the report share that key, so that it stays when code moves in its file.
    """
    from hashlib import sha256

    from bnlint.baseline import finding_key

    root = Path.cwd()
    seen: dict = {}
    found = []
    for diagnostic in diagnostics:
        key = finding_key(diagnostic, root, sources)
        occurrence = seen[key] = seen.get(key, -1) + 1
        found.append(sha256(json.dumps([*key, occurrence]).encode()).hexdigest())
    return found


def _result(diagnostic: Diagnostic, index: int, sources: SourceTexts, fingerprint: str) -> dict:
    physical: dict = {"artifactLocation": _uri(diagnostic.path)}
    location: dict = {"physicalLocation": physical}
    position, before = file_position(diagnostic)
    if isinstance(diagnostic.origin, Site):
        physical["region"] = _region(position)
        if diagnostic.cell is not None:
            shown = diagnostic.position
            physical["region"]["properties"] = {"cell": diagnostic.cell[0], "cellLine": shown.line,
                                                "cellColumn": shown.column}
    elif isinstance(diagnostic.origin, SavedLayer):
        # GitHub code scanning rejects results without a start line; a saved model has no lines, so
        # the finding points at the file's start and names its layer as a logical location.
        physical["region"] = {"startLine": 1}
        location["logicalLocations"] = [{"name": diagnostic.origin.layer_name, "kind": "member"}]
    result = {
        "ruleId": diagnostic.code,
        "ruleIndex": index,
        "level": "error",
        "message": {"text": before + describe(diagnostic)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {"instances": len(diagnostic.instances), "layers": list(diagnostic.instances),
                       "models": list(diagnostic.models)},
    }
    fixes = _fixes(diagnostic, sources)
    if fixes:
        result["fixes"] = fixes
    return result


def sarif_log(report: CheckReport) -> dict:
    """The SARIF log of *report* as JSON-ready data.

    >>> log = sarif_log(CheckReport())
    >>> log["version"], log["runs"][0]["tool"]["driver"]["name"]
    ('2.1.0', 'bnlint')
    """
    from bnlint.engine import all_rules

    rules = all_rules()
    index = {code: i for i, code in enumerate(rules)}
    sources = report.source_texts()
    run = {
        "tool": {"driver": {
            "name": "bnlint", "version": __version__, "semanticVersion": __version__,
            "informationUri": INFORMATION_URI, "rules": [rule_descriptor(rule) for rule in rules.values()],
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(d, index[d.code], sources, fingerprint)
                    for d, fingerprint in zip(report.diagnostics, fingerprints(report.diagnostics, sources))],
        "invocations": [{
            "executionSuccessful": not report.errors,
            "toolExecutionNotifications": [
                {"level": "error", "message": {"text": str(error)}} for error in report.errors
            ] + [{"level": "warning", "message": {"text": note}} for note in report.notes],
        }],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def write(report: CheckReport, out: TextIO) -> None:
    """Write *report* as a SARIF 2.1.0 log."""
    json.dump(sarif_log(report), out, indent=2, ensure_ascii=False)
    out.write("\n")
