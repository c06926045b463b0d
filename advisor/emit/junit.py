"""`advisor check --format junit`: one test case per rule evaluated per target.

One `<testsuite>` per model (or call) and target; a failed rule is a `<failure>`, a rule whose facts are
unknown is `<skipped>`. No timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from advisor.core.report import Case, Report, iter_evaluations


def _suite_name(case: Case) -> str:
    where = f" ({case.file}:{case.line})" if case.file and case.line else ""
    return f"{case.model} @ {case.target}{where}"


def report_junit(report: Report) -> str:
    """The report as JUnit XML (the schema Jenkins, GitLab and Buildkite read)."""
    root = ET.Element("testsuites", name=f"advisor {report.command}")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    fixes = {(c.model, c.target, c.file, c.line, f.rule, f.flag): f.fix
             for c in report.cases for f in c.findings}
    for case, pairs in groupby(iter_evaluations(report), key=lambda p: p[0]):
        evals = [e for _, e in pairs]
        suite = ET.SubElement(root, "testsuite", name=_suite_name(case))
        counts = {"tests": len(evals), "failures": 0, "skipped": 0}
        for e in evals:
            tc = ET.SubElement(suite, "testcase", name=e.rule + (f" [{e.flag}]" if e.flag else ""),
                               classname=f"advisor.{e.rule.split('-', 1)[0].lower()}")
            if e.status == "fail":
                counts["failures"] += 1
                node = ET.SubElement(tc, "failure", message=e.message, type=f"{e.rule} ({e.severity})")
                fix = fixes.get((case.model, case.target, case.file, case.line, e.rule, e.flag))
                node.text = e.message + (f"\nFix: {fix}" if fix else "")
            elif e.status == "unknown":
                counts["skipped"] += 1
                ET.SubElement(tc, "skipped", message=f"unknown: {e.message}")
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("errors", "0")
    if report.notes:
        suite = ET.SubElement(root, "testsuite", name=f"policy {report.policy or ''}".strip())
        for f in sorted(report.notes, key=lambda f: f.sort_key()):
            tc = ET.SubElement(suite, "testcase", name=f"{f.rule} (line {f.line})",
                               classname="advisor.policy")
            ET.SubElement(tc, "failure", message=f.message, type=f"{f.rule} ({f.severity})").text = f.fix
        n = len(report.notes)
        suite.set("tests", str(n))
        suite.set("failures", str(n))
        suite.set("skipped", "0")
        suite.set("errors", "0")
        totals["tests"] += n
        totals["failures"] += n
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
