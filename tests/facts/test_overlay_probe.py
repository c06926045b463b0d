"""`--with` overlays keep the import probe for what they do not change (issue 20).

A fake flash-attn is installed on a temporary folder put on the module path; the import probe imports it in a
real subprocess. It either imports, or fails as one built against another torch does (`undefined symbol`).
Each is asked about under no overlay, a transformers overlay and a torch overlay, for a catalog GPU with this
machine's packages, through the API, the CLI's text and the TUI's session.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from advisor import api
from advisor.cli import main
from advisor.core.results import Recommendation
from advisor.facts.built_against import BUILT_AGAINST, not_probed
from advisor.facts.installed import PROBED_DISTS, detect_software
from advisor.facts.probe import PROBE_MODULES
from advisor.facts.software import EXTENSION_MODULES, RELEVANT_DISTS
from advisor.tui.session import Inputs, Session
from tests.facts.fake_dists import UNDEFINED, flash_attn, package

ROOT = Path(__file__).resolve().parents[2]
QWEN = str(ROOT / "fixtures" / "configs" / "Qwen__Qwen2.5-7B.json")
TORCH = "torch==2.9.0"
TRANSFORMERS = "transformers==5.23.0"
NOT_PROBED = f"not probed: --with {TORCH} changes the torch that flash-attn was built against"


@pytest.fixture(params=[True, False], ids=["imports", "undefined-symbol"])
def installed(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    """A flash-attn 2.8.3 on the module path that imports (True) or fails with `undefined symbol` (False)."""
    monkeypatch.syspath_prepend(str(flash_attn(tmp_path / "site", works=request.param)))
    works: bool = request.param
    return works


def advise(*overlays: str) -> Recommendation:
    target = api.Target(gpu="H100", with_packages=overlays)
    return api.recommend(api.gather(QWEN, target=target))


def attention(rec: Recommendation) -> Any:
    return rec.flags["attn_implementation"]


def fa2_reasons(rec: Recommendation) -> list[tuple[str, str, str]]:
    """(rule, status, message) of everything that held flash_attention_2 back."""
    decision = next(d for d in rec.decisions if d.flag == "attn_implementation")
    return [(r.rule, r.status, r.message) for rej in decision.rejected if rej.value == "flash_attention_2"
            for r in rej.reasons]


def fa2_import_finding(rec: Recommendation) -> str | None:
    return next((f.message for f in rec.findings if f.rule == "FA2-IMPORT"), None)


@pytest.mark.parametrize("overlays", [(), (TRANSFORMERS,)], ids=["no-overlay", "transformers-overlay"])
def test_the_probe_answers_unless_the_overlay_changes_it(installed: bool, overlays: tuple[str, ...]) -> None:
    rec = advise(*overlays)
    fa = rec.target["software"]["packages"]["flash-attn"]
    assert fa["imports"]["value"] is installed and fa["imports"]["source"].startswith("import probe")
    assert "unprobed" not in rec.target["software"] and "note" not in rec.target["software"]
    if installed:
        assert attention(rec) == "flash_attention_2"
        assert fa2_import_finding(rec) is None and "import_error" not in fa
    else:
        assert attention(rec) == "sdpa"
        assert f"ImportError: {UNDEFINED}" == fa["import_error"]
        assert ("FA2-IMPORT", "fail") in [(rule, status) for rule, status, _ in fa2_reasons(rec)]
        finding = fa2_import_finding(rec)
        assert finding is not None and "undefined symbol: _ZN3c104cuda9SetDeviceEi" in finding
        assert "built for another torch" in finding


def test_a_torch_overlay_makes_the_import_unknown_with_its_reason(installed: bool) -> None:
    rec = advise(TORCH)
    software = rec.target["software"]
    fa = software["packages"]["flash-attn"]
    assert fa["imports"] == {"value": None, "source": f"--with {TORCH}", "unknown": NOT_PROBED}
    assert "import_error" not in fa  # this machine's error says nothing of the other torch
    assert attention(rec) == "sdpa"
    assert [(rule, status) for rule, status, message in fa2_reasons(rec)
            if message.endswith(f"imports.flash_attn is unknown ({NOT_PROBED})")] == [("FA2-IMPORT", "unknown")]
    assert "undefined symbol" not in str(fa2_reasons(rec))
    assert fa2_import_finding(rec) is None
    assert software["unprobed"]["flash-attn"] == f"--with {TORCH} changes the torch that flash-attn was built against"
    assert software["note"].startswith("answers rest on imports not probed here")
    assert f"flash-attn (--with {TORCH} changes the torch that flash-attn was built against)" in software["note"]
    if installed:  # its wheel's module is said with it in the note, and is unknown as well
        assert software["modules"]["flash_attn_2_cuda"]["unknown"].startswith(f"not probed: --with {TORCH}")
        assert "flash_attn_2_cuda (" not in software["note"]


def run_cli(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == 0, err.getvalue()
    return out.getvalue()


def test_the_text_says_once_at_the_top_that_the_answer_rests_on_unprobed_imports(installed: bool) -> None:
    text = run_cli("recommend", QWEN, "--gpu", "H100", "--with", TORCH)
    lines = text.splitlines()
    notes = [i for i, line in enumerate(lines) if "answers rest on imports not probed here" in line]
    assert len(notes) == 1 and notes[0] < lines.index("Flags")  # once, in the header
    assert lines[notes[0]].startswith("! answers rest on imports not probed here") and "flash-attn (--with" in text
    assert text.count("answers rest on imports not probed here") == 1
    plain = run_cli("recommend", QWEN, "--gpu", "H100", "--with", TRANSFORMERS, "--explain")
    assert "not probed" not in plain
    assert ("undefined symbol" in plain) is not installed


def test_the_tui_package_what_ifs_keep_the_probe(installed: bool) -> None:
    session = Session()
    base = Inputs.of(model=QWEN, gpu="H100")
    upgraded = session.advise(base.with_package(TRANSFORMERS))
    assert upgraded.software.package("flash-attn").imports.value is installed
    assert upgraded.recommendation is not None
    assert attention(upgraded.recommendation) == ("flash_attention_2" if installed else "sdpa")
    other_torch = session.advise(base.with_package(TORCH))
    imports = other_torch.software.package("flash-attn").imports
    assert imports.known is False and imports.reason == NOT_PROBED
    assert other_torch.recommendation is not None and attention(other_torch.recommendation) == "sdpa"


def refuse_subprocesses(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a subprocess was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)


def test_what_an_overlay_changes_is_not_imported_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(flash_attn(tmp_path / "site", works=False)))
    refuse_subprocesses(monkeypatch)
    changed = detect_software(overlays=(TORCH,))
    assert changed.package("flash-attn").imports.reason == NOT_PROBED
    replaced = api.software_facts(api.Target(with_packages=("flash-attn==2.7.4",)))
    fa = replaced.package("flash-attn")
    assert fa.imports.value is True and fa.imports.source == "--with flash-attn==2.7.4 (assumed to import)"
    assert replaced.unprobed == {} and "note" not in replaced.to_json()


def test_a_cached_probe_starts_nothing_under_an_overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(flash_attn(tmp_path / "site", works=False)))
    first = api.software_facts(api.Target(with_packages=(TRANSFORMERS,)))
    assert first.package("flash-attn").imports.source == "import probe: flash_attn"
    refuse_subprocesses(monkeypatch)
    again = api.software_facts(api.Target(with_packages=(TRANSFORMERS,)))
    assert again.package("flash-attn").import_error == f"ImportError: {UNDEFINED}"
    assert api.software_facts(api.Target()).package("flash-attn").imports.value is False  # same cache entry


def test_nothing_probed_installed_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_subprocesses(monkeypatch)
    for overlays in [(), (TRANSFORMERS,), (TORCH,)]:
        software = detect_software(overlays=overlays)
        assert all(not software.package(d).installed for d in PROBED_DISTS)
        assert software.unprobed == {}


def test_an_overlay_leaves_the_other_probed_packages_probed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = flash_attn(tmp_path / "site", works=True)
    package(site, "bitsandbytes", "bitsandbytes", "0.48.1", "VALUE = 1\n")
    monkeypatch.syspath_prepend(str(site))
    own = api.software_facts(api.Target(with_packages=("flash-attn==none",)))
    assert own.package("flash-attn").installed is False
    assert own.package("bitsandbytes").imports.value is True and own.unprobed == {}
    torch = api.software_facts(api.Target(with_packages=(TORCH,)))
    assert torch.package("bitsandbytes").imports.reason == (
        f"not probed: --with {TORCH} changes the torch whose CUDA version picks the native library bitsandbytes loads")
    assert set(torch.unprobed) == {"flash-attn", "flash_attn_2_cuda", "bitsandbytes"}


def test_switching_the_probe_off_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(flash_attn(tmp_path / "site", works=True)))
    refuse_subprocesses(monkeypatch)
    software = detect_software(probe=False)
    assert software.package("flash-attn").imports.reason == (
        "not probed: the import probe was switched off (probe=False)")
    assert software.package("transformers").imports.reason == (
        "not probed: advisor probes the imports of flash-attn, flash-attn-3, bitsandbytes, xformers only")


def test_which_overlays_change_which_probed_imports() -> None:
    installed = {"torch": Version("2.13.0"), "flash-attn": Version("2.8.3"), "transformers": Version("5.23.0")}
    for harmless in ("transformers==4.57.1", "accelerate==1.10.0", "kernels==0.10.0", "torch==2.13.0"):
        assert not_probed([harmless], installed) == {}, harmless
    torch = not_probed([TORCH], installed)
    assert set(torch) == {dep.probed for dep in BUILT_AGAINST}
    assert all(why.source == f"--with {TORCH}" and why.why.startswith(f"--with {TORCH} changes the torch")
               for why in torch.values())
    assert set(not_probed(["flash-attn==2.7.4"], installed)) == {"flash-attn", "flash_attn_2_cuda"}
    assert set(not_probed(["fused_dense_lib==none"], installed)) == {"fused_dense_lib"}


def test_every_probed_import_says_what_it_was_built_against() -> None:
    probed = {dep.probed for dep in BUILT_AGAINST}
    assert set(PROBED_DISTS) | set(EXTENSION_MODULES) == probed
    assert set(PROBE_MODULES) == set(PROBED_DISTS)
    assert all(dep.on in RELEVANT_DISTS and dep.evidence and "{option}" in dep.why for dep in BUILT_AGAINST)
