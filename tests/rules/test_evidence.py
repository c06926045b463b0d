"""Every version boundary in the rules is read from upstream: transformers' from its tables, the rest cited.

A rule may not compare `transformers.version` with a version it writes itself: what a transformers release does
is a `transformers.*` fact of its knowledge table. A boundary of another package (flash-attn, bitsandbytes,
optimum, torch) written in a rule carries `evidence` naming that package, the release and the file where it was
read; evidence that names transformers is checked against the tables and the installed source.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from advisor.core.data import data_dir
from advisor.core.references import PACKAGES, parse_reference
from advisor.engine.pack import build, rule_files
from advisor.engine.rules import EVIDENCE_ITEM, Rule
from advisor.facts.release_table import index, messages
from advisor.facts.transformers_support import installed_transformers

ROOT = Path(__file__).resolve().parents[2]
RULES: tuple[Rule, ...] = build(data_dir(), rule_files(data_dir()))[0]
PACKAGE_OF = {"gpu.cc": None, "os.macos": None, "torch.cuda": "torch", "torch.hip": "torch", "driver.cuda": "cuda"}
"""The package whose boundary a comparison of these facts is (None: the rule's evidence names it)."""


def boundaries(rule: Rule) -> list[tuple[str, str]]:
    return [b for e in (rule.when, rule.require) if e is not None for b in e.boundaries]


def test_no_rule_writes_a_transformers_boundary_by_hand() -> None:
    written = {r.id: b for r in RULES for b in boundaries(r) if b[0] in ("transformers.version", "pkg.transformers")}
    assert not written, f"transformers boundaries written by hand (read them from the tables): {written}"


@pytest.mark.parametrize("rule", [r for r in RULES if boundaries(r)], ids=lambda r: r.id)
def test_every_hand_written_boundary_cites_its_package(rule: Rule) -> None:
    assert rule.evidence, f"{rule.id} writes {boundaries(rule)} without evidence"
    cited = {m.group("package") for m in map(EVIDENCE_ITEM.match, rule.evidence) if m}
    for fact, literal in boundaries(rule):
        Version(literal)  # a real version
        package = PACKAGE_OF.get(fact, fact.removeprefix("pkg.").replace("_", "-"))
        if package is not None:
            assert package in cited, f"{rule.id}: {fact} {literal} is {package}'s boundary; evidence cites {cited}"


def test_the_rules_cite_releases_that_exist() -> None:
    """Every evidence item names a release (a version); those naming transformers name a release the tables read
    and a file of it that the tables or the installed source hold."""
    read = set(index()["releases_read"])
    rows = [row for found in messages().values() for row in found]
    installed = installed_transformers()
    for rule in RULES:
        for item in rule.evidence:
            m = EVIDENCE_ITEM.match(item)
            assert m, (rule.id, item)
            Version(m.group("release").removeprefix("v"))
            if m.group("package") != "transformers":
                continue
            release, file = m.group("release"), m.group("file")
            assert release in read, f"{rule.id}: transformers {release} is not a release the tables read"
            if installed is not None and str(installed.version) == release:
                source = installed.root / "transformers" / file
                assert source.is_file(), (rule.id, item)
                if m.group("line"):
                    first = int(m.group("line").split("-")[0])
                    assert first <= len(source.read_text(encoding="utf-8").splitlines()), (rule.id, item)
            else:  # a file the tables read a message from in that release
                assert any(row[1] == file and Version(row[3]) <= Version(release) <= Version(row[4])
                           for row in rows), f"{rule.id}: {item} is not a file the tables read in {release}"


def test_the_evidence_key_is_checked(tmp_path: Path) -> None:
    from advisor.core.errors import InputError
    from advisor.engine.rules import parse_rule_file

    base = {"id": "X-ONE", "title": "t", "severity": "error", "message": "m", "fix": "f",
            "docs": {"explanation": "e", "analogy": "a", "use_case": "u", "compatibility": "c",
                     "references": ["huggingface/transformers#1"]}}
    with pytest.raises(InputError, match=r"compares transformers.version with '5.0.0'.*evidence"):
        parse_rule_file("x.toml", {"rule": [{**base, "require": 'transformers.version >= "5.0.0"'}]})
    with pytest.raises(InputError, match=r"compares pkg.flash_attn with '2.6.0'"):
        parse_rule_file("x.toml", {"rule": [{**base, "require": 'pkg.flash_attn >= "2.6.0"'}]})
    with pytest.raises(InputError, match="is not `<package> <release> <file>"):
        parse_rule_file("x.toml", {"rule": [{**base, "require": 'pkg.flash_attn >= "2.6.0"',
                                             "evidence": "flash-attn README"}]})
    cited = ("flash-attn 2.6.0 flash_attn/flash_attn_interface.py:47; "
             "flash-attn 2.5.9.post1 flash_attn/flash_attn_interface.py")
    ok = parse_rule_file("x.toml", {"rule": [{**base, "require": 'pkg.flash_attn >= "2.6.0"', "evidence": cited}]})
    assert ok[0].evidence == ("flash-attn 2.6.0 flash_attn/flash_attn_interface.py:47",
                              "flash-attn 2.5.9.post1 flash_attn/flash_attn_interface.py")
    table_read = parse_rule_file("x.toml", {"rule": [{**base, "require": "pkg.flash_attn >= transformers.fa2_min"}]})
    assert table_read[0].evidence == ()  # a boundary read from the target's table needs no citation


def test_evidence_survives_the_rule_pack() -> None:
    from advisor.engine.pack import load_rules

    packed = {r.id: r.evidence for r in load_rules()}
    assert packed == {r.id: r.evidence for r in RULES}
    assert any(packed.values())


ABOUT_ADVISOR = {"KNOWLEDGE-TABLE", "MEM-ESTIMATE"}
"""Rules about advisor itself (besides those a part of the run emits): they may cite advisor's own files."""


def _installed_file(package: str, release: str, path: str) -> Path | None:
    """The file of an installed distribution when its version is the one cited (None otherwise)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None
    if dist.version.split("+")[0] != release:
        return None
    folder = PACKAGES[package].folder.rsplit("/", 1)[-1]  # the import folder (`src/transformers` -> `transformers`)
    return Path(str(dist.locate_file(f"{folder}/{path}")))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_reference_is_an_upstream_citation(rule: Rule) -> None:
    """In the grammar of core/references.py (tests/rules/test_references.py checks the forms); a transformers
    release the tables read; a file of an installed release that exists, with the lines cited; this repository's
    own files only for rules about advisor."""
    read = set(index()["releases_read"])
    for text in rule.docs.references:
        ref = parse_reference(text)
        if ref.kind == "project":
            assert rule.emitted_by is not None or rule.id in ABOUT_ADVISOR, f"{rule.id}: {text!r} is not upstream"
            continue
        if ref.kind != "release":
            continue
        assert ref.package is not None and ref.version is not None and ref.path is not None
        if ref.package == "transformers":
            assert ref.version in read, f"{rule.id}: transformers {ref.version} is not a release the tables read"
        found = _installed_file(ref.package, ref.version, ref.path)
        if found is not None:
            assert found.is_file(), (rule.id, text)
            if ref.lines:
                assert ref.lines[1] <= len(found.read_text(encoding="utf-8").splitlines()), (rule.id, text)
