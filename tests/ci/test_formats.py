"""The report formats: SARIF against the 2.1.0 schema, JUnit XML, GitHub commands, markdown, JSON schema."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from advisor.emit.github import escape_data, escape_property
from tests.ci.conftest import DATA, MATRIX_POLICY, ROOT, SW5, Run, write_policy

SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
CHECK_SCHEMA = json.loads((ROOT / "schemas/check.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    return write_policy(tmp_path, MATRIX_POLICY + '\n[[model]]\nid = "nobody-here/not-a-real-model"\n'
                        '\n[[ignore]]\nrule = "FA3-CC"\n')


def test_sarif_validates_and_points_at_the_policy(advisor: Callable[..., Run], policy: Path) -> None:
    r = advisor("check", "--policy", policy, "--format", "sarif")
    log = json.loads(r.out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert {"FA2-CC", "LINT-UNRESOLVED", "CHECK-FACTS", "POLICY-IGNORE-UNUSED"} <= set(rules)
    fa2 = rules["FA2-CC"]
    assert fa2["helpUri"].startswith("https://github.com/") and "Compatibility:" in fa2["help"]["text"]
    listed = fa2["help"]["markdown"].split("**References:**")[1].strip().splitlines()
    assert listed and all(re.match(r"^- \[.+\]\(https://github\.com/\S+\)$", line) for line in listed)
    assert all(r.get("helpUri", "https://").startswith("https://") for r in rules.values())  # absolute only
    assert "helpUri" not in rules["LINT-UNRESOLVED"]  # its one reference is this repository's docs/ci.md
    assert "- [docs/ci.md](docs/ci.md)" in rules["LINT-UNRESOLVED"]["help"]["markdown"]
    assert fa2["defaultConfiguration"]["level"] == "error"
    results = run["results"]
    fails = [x for x in results if x["ruleId"] == "FA2-CC"]
    assert fails and all(x["level"] == "error" and x["kind"] == "fail" for x in fails)
    loc = fails[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == str(policy) and loc["region"]["startLine"] == 6
    for x in results:
        assert run["tool"]["driver"]["rules"][x["ruleIndex"]]["id"] == x["ruleId"]
    opened = [x for x in results if x["kind"] == "open"]
    assert opened and all(x["ruleId"] == "CHECK-FACTS" and x["level"] == "none" for x in opened)
    unused = [x for x in results if x["ruleId"] == "POLICY-IGNORE-UNUSED"]
    assert unused[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 25
    assert len({x["partialFingerprints"]["advisorFinding/v1"] for x in results}) == len(results)


def test_sarif_for_lint_points_at_the_code_line(advisor: Callable[..., Run]) -> None:
    r = advisor("lint", DATA / "lint_tree", "--gpu", "T4", "--software", SW5, "--offline",
                "--format", "sarif")
    log = json.loads(r.out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    physical = [(x["ruleId"], x["locations"][0]["physicalLocation"]) for x in log["runs"][0]["results"]]
    spots = {(rule, p["artifactLocation"]["uri"], p["region"]["startLine"], p["region"].get("startColumn"))
             for rule, p in physical}
    # a finding about a flag points at its keyword: attn_implementation= on line 11, column 5
    assert ("FA2-CC", "tests/ci/data/lint_tree/app/load.py", 11, 5) in spots
    assert ("LINT-UNRESOLVED", "tests/ci/data/lint_tree/app/tricky.py", 14, 12) in spots
    assert not any(uri.startswith("/") for _, uri, _, _ in spots)


def test_junit_one_case_per_model_and_target(advisor: Callable[..., Run], policy: Path) -> None:
    as_json = json.loads(advisor("check", "--policy", policy, "--format", "json").out)
    r = advisor("check", "--policy", policy, "--format", "junit")
    root = ET.fromstring(r.out)
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    policy_cases = [c for c in cases if c.get("classname") == "advisor.check.policy"]
    model_cases = [c for c in cases if c.get("classname") == "advisor.check"]
    assert len(model_cases) == len(as_json["cases"]) == 12 and len(policy_cases) == 1
    assert int(root.get("tests", "-1")) == int(suite.get("tests", "-1")) == len(cases)
    by_name = {c.get("name", ""): c for c in model_cases}
    for case in as_json["cases"]:
        where = f" ({case['file']}:{case['line']})" if case["file"] and case["line"] else ""
        tc = by_name[f"{case['model']} @ {case['target']}{where}"]
        mine = [f for f in as_json["findings"] if f.get("model") == case["model"]
                and f.get("target") == case["target"]]
        errors = [f for f in mine if f["severity"] == "error"]
        failure = tc.find("failure")
        assert (failure is not None) == bool(errors)  # fail-on error: only errors fail a case
        if failure is not None:
            assert all(f["rule"] in (failure.text or "") for f in errors) and "Fix:" in (failure.text or "")
        lower = [f for f in mine if f["severity"] != "error"]
        out = tc.find("system-out")
        assert (out is not None) == bool(lower)
        if out is not None:
            assert all(f["rule"] in (out.text or "") for f in lower)
        props = {p.get("name"): p.get("value") for p in tc.findall("properties/property")}
        assert props["target"] == case["target"] and props["warnings"] == str(
            sum(1 for f in mine if f["severity"] == "warning"))
    skipped = [c for c in model_cases if c.find("skipped") is not None]
    assert len(skipped) == 4 and all(c.find("failure") is None for c in skipped)
    assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
    strict = ET.fromstring(advisor("check", "--policy", policy, "--format", "junit", "--fail-on", "warning").out)
    assert int(strict.get("failures", "0")) > int(root.get("failures", "0"))


def test_junit_drops_characters_xml_cannot_carry() -> None:
    from advisor.emit.junit import xml_text

    assert xml_text("a\x00b\x1bc\ud800d\ttab") == "abc" + "d\ttab"
    ET.fromstring(f"<x a='{xml_text(chr(1) + 'ok')}'/>")


def test_github_annotations_limits_and_step_summary(advisor: Callable[..., Run], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    text = MATRIX_POLICY.replace('gpus = ["T4", "A100-80GB"]',
                                 'gpus = ["T4", "T4x2", "V100", "T4x4", "A10G", "L4"]')
    policy = write_policy(tmp_path, text)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = advisor("check", "--policy", policy, "--format", "github")
    lines = r.out.splitlines()
    errors = [ln for ln in lines if ln.startswith("::error ")]
    assert len(errors) == 10
    assert errors[0].startswith(f"::error file={escape_property(str(policy))},line=6,title=")
    assert any(ln.startswith("advisor: ") and "more error annotation(s)" in ln for ln in lines)
    assert all("\n" not in ln for ln in errors)
    md = summary.read_text(encoding="utf-8")
    assert md.startswith("earlier step\n### ❌ advisor check: fail")
    rows = [ln for ln in md.splitlines() if ln.startswith("| error |")]
    counts = json.loads(advisor("check", "--policy", policy, "--format", "json").out)["counts"]
    assert len(rows) == counts["error"]
    assert len(rows) > 10


def test_github_escaping() -> None:
    assert escape_data("50%\nnext\r") == "50%25%0Anext%0D"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


def test_markdown_table(advisor: Callable[..., Run], policy: Path) -> None:
    r = advisor("check", "--policy", policy, "--format", "markdown")
    assert r.out.startswith("### ❌ advisor check: fail\n")
    header = "| Severity | Rule | Model | Target | Where | Message | Fix |"
    assert header in r.out
    row = next(ln for ln in r.out.splitlines() if "`FA2-CC`" in ln)
    assert row.count(" | ") >= 6 and f"`{policy}:6`" in row
    assert "<details><summary>Unknown" in r.out and "CHECK-FACTS" in r.out


def test_json_matches_its_schema(advisor: Callable[..., Run], policy: Path) -> None:
    for args in (("check", "--policy", policy), ("lint", DATA / "lint_tree", "--gpu", "T4", "--software", SW5,
                                                 "--offline")):
        data = json.loads(advisor(*args, "--format", "json").out)
        jsonschema.Draft202012Validator(CHECK_SCHEMA).validate(data)
        assert data["schema_version"] == 1
        keys = [(f["severity"], f.get("file", ""), f.get("line", 0)) for f in data["findings"]]
        rank = {"error": 0, "warning": 1, "info": 2}
        assert keys == sorted(keys, key=lambda k: (rank[k[0]], k[1], k[2]))


def test_text_view(advisor: Callable[..., Run], policy: Path) -> None:
    r = advisor("check", "--policy", policy)
    assert "check: FAIL (fail-on error, exit 1)" in r.out.splitlines()[-2]
    assert "fix: " in r.out and "unknown CHECK-FACTS" in r.out
    fa2 = [line for line in r.out.splitlines() if line.startswith("error   FA2-CC")]
    assert len(fa2) == len(set(fa2)), "each distinct problem is shown once, with its targets"
    assert any("[T4 · tf5, T4 · tf4-fa]" in line or "[T4 · tf4-fa, T4 · tf5]" in line for line in fa2)
    heads = [line for line in r.out.splitlines() if "A100-80GB · tf5" in line and "T4 · tf5" in line
             and not line.startswith(("error", "warning", "info", "unknown"))]
    assert heads, "a model × target matrix follows the problems"
    assert r.err == ""  # the summary ends the text report; stderr would say it twice

