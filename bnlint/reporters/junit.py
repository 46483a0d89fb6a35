"""JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure, ...).

``<testsuites>`` holds one ``<testsuite>`` per checked file. A clean file
is one passing ``<testcase>``; a file with findings has one failing
``<testcase>`` per finding (``<failure type="CODE">``). Files that could
not be checked are ``<error>`` test cases in a last suite named
``bnlint``, so a broken run never looks green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TextIO

from bnlint.checker import CheckReport
from bnlint.diagnostics import Diagnostic
from bnlint.graph import Site
from bnlint.reporters.text import describe, format_diagnostic

__all__ = ["write", "junit_tree", "xml_text"]

# What XML 1.0 cannot hold, even as a character reference: control characters other than tab and line
# ends, lone surrogates (Python's stand-ins for the bytes of a file name that is not UTF-8), U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name, shown as that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    """*text* with the characters XML 1.0 cannot hold written as backslash escapes.

    >>> xml_text("bn\\x01 in bad\\udcffname.py")
    'bn\\\\x01 in bad\\\\xffname.py'
    """
    return _NOT_XML.sub(_escape, text)


def _case(suite: ET.Element, diagnostic: Diagnostic) -> None:
    origin = diagnostic.position
    where = f"line {origin.line}, column {origin.column}" if isinstance(origin, Site) else f"layer {origin.layer_name}"
    if diagnostic.cell is not None:
        where = f"cell {diagnostic.cell[0]}, {where}"
    case = ET.SubElement(suite, "testcase", name=f"{diagnostic.code} {diagnostic.name} at {where}",
                         classname=diagnostic.path, file=diagnostic.path)
    if isinstance(origin, Site):
        case.set("line", str(origin.line))
    failure = ET.SubElement(case, "failure", message=describe(diagnostic), type=diagnostic.code)
    failure.text = format_diagnostic(diagnostic)


def junit_tree(report: CheckReport) -> ET.Element:
    """The ``<testsuites>`` element for *report*.

    >>> junit_tree(CheckReport()).attrib["tests"]
    '0'
    """
    by_path: dict[str, list[Diagnostic]] = {path: [] for path in report.checked_paths}
    for diagnostic in report.diagnostics:
        by_path.setdefault(diagnostic.path, []).append(diagnostic)
    root = ET.Element("testsuites", name="bnlint")
    total = failures = 0
    for path, diagnostics in by_path.items():
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(max(1, len(diagnostics))),
                              failures=str(len(diagnostics)), errors="0", skipped="0")
        if diagnostics:
            for diagnostic in diagnostics:
                _case(suite, diagnostic)
        else:
            ET.SubElement(suite, "testcase", name="bnlint", classname=path, file=path)
        total += max(1, len(diagnostics))
        failures += len(diagnostics)
    if report.errors:
        suite = ET.SubElement(root, "testsuite", name="bnlint", tests=str(len(report.errors)),
                              failures="0", errors=str(len(report.errors)), skipped="0")
        for error in report.errors:
            case = ET.SubElement(suite, "testcase", name=str(error), classname="bnlint")
            ET.SubElement(case, "error", message=str(error), type="UserError")
        total += len(report.errors)
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(len(report.errors)))
    return root


def _clean(element: ET.Element) -> None:
    """Every attribute and text of *element* and its children made fit for XML (:func:`xml_text`)."""
    for node in element.iter():
        for key, value in node.attrib.items():
            node.set(key, xml_text(value))
        if node.text:
            node.text = xml_text(node.text)


def write(report: CheckReport, out: TextIO) -> None:
    """Write *report* as a JUnit XML document."""
    tree = junit_tree(report)
    _clean(tree)
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(tree, encoding="unicode"))
    out.write("\n")
