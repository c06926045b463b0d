"""`advisor check --format junit`: one test case per model (or call) and target.

A case fails only for a finding at or above `--fail-on` (every such finding is in its `<failure>`); lower
findings are listed in `<system-out>` and counted in properties, so they show in the report without
failing it. A case whose error rules could not be evaluated is `<skipped>` (unknown is not pass). No
timestamps, so the same inputs give the same bytes; characters XML cannot carry are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from advisor.core.report import Case, Report
from advisor.core.results import SEVERITY_RANK, Finding

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """TEXT without the characters XML 1.0 forbids (the rest ElementTree escapes)."""
    return _NOT_XML.sub("", text)


def _name(case: Case) -> str:
    where = f" ({case.file}:{case.line})" if case.file and case.line else ""
    return xml_text(f"{case.model} @ {case.target}{where}")


def _line(f: Finding) -> str:
    return xml_text(f"{f.severity} {f.rule}: {f.message}" + (f" Fix: {f.fix}" if f.fix else ""))


def report_junit(report: Report) -> str:
    """The report as JUnit XML (the schema Jenkins, GitLab and Buildkite read)."""
    rank = SEVERITY_RANK[report.fail_on]
    root = ET.Element("testsuites", name=f"advisor {report.command}")
    suite = ET.SubElement(root, "testsuite", name=f"advisor {report.command}")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for case in sorted(report.cases, key=Case.sort_key):
        tc = ET.SubElement(suite, "testcase", name=_name(case), classname=f"advisor.{report.command}")
        totals["tests"] += 1
        failing = [f for f in case.findings if SEVERITY_RANK[f.severity] >= rank]
        below = [f for f in case.findings if SEVERITY_RANK[f.severity] < rank]
        props = ET.SubElement(tc, "properties")
        for key, value in (("target", case.target), ("model", case.model), ("fail-on", report.fail_on),
                           *((f"{sev}s", str(sum(1 for f in case.findings if f.severity == sev)))
                             for sev in ("error", "warning", "info"))):
            ET.SubElement(props, "property", name=key, value=xml_text(value))
        if failing:
            totals["failures"] += 1
            rules = ", ".join(dict.fromkeys(f.rule for f in failing))
            node = ET.SubElement(tc, "failure", message=xml_text(f"{len(failing)} finding(s) at or above "
                                                                 f"{report.fail_on}: {rules}"),
                                 type=failing[0].rule)
            node.text = "\n".join(_line(f) for f in failing)
        elif case.unknowns:
            totals["skipped"] += 1
            why = "; ".join(e.message for e in case.unknowns)
            ET.SubElement(tc, "skipped", message=xml_text(f"unknown: {why}"))
        if below:
            ET.SubElement(tc, "system-out").text = "\n".join(_line(f) for f in below)
    for f in sorted(report.notes, key=lambda f: f.sort_key()):
        tc = ET.SubElement(suite, "testcase", name=xml_text(f"{f.rule} ({f.file}:{f.line})"),
                           classname=f"advisor.{report.command}.policy")
        totals["tests"] += 1
        if SEVERITY_RANK[f.severity] >= rank:
            totals["failures"] += 1
            ET.SubElement(tc, "failure", message=xml_text(f.message), type=f.rule).text = xml_text(f.fix)
        else:
            ET.SubElement(tc, "system-out").text = _line(f)
    for element in (root, suite):
        for k, v in totals.items():
            element.set(k, str(v))
        element.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
