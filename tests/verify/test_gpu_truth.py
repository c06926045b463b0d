"""benchmarks/gpu_truth.py without a GPU: the dry run checks the list and writes the report's layout; the
verdict on the recommended flags is computed from outcomes as a GPU run would report them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from advisor.verify.types import Candidate, CandidateResult, Outcome, Prediction

ROOT = Path(__file__).resolve().parents[2]
SOFTWARE = str(ROOT / "fixtures" / "software" / "cuda-tf5.23.json")


@pytest.fixture(scope="module")
def gt() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_truth", ROOT / "benchmarks" / "gpu_truth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_truth"] = module
    spec.loader.exec_module(module)
    return module


def table(text: str, heading: str) -> list[list[str]]:
    """The rows of the markdown table under HEADING, as cells (header and rule rows included)."""
    block = text.split(f"## {heading}\n\n", 1)[1].split("\n\n", 1)[0]
    return [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in block.splitlines()]


def test_dry_run_checks_the_list_and_writes_the_layout(gt: ModuleType, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs" / "gpu-truth.md"
    assert gt.main([str(out), "--dry-run", "--gpu", "H100", "--software", SOFTWARE]) == 0
    text = out.read_text()
    assert text.startswith("# advisor on a real GPU\n") and "**Dry run**" in text and "H100" in text
    summary = table(text, "Summary")
    assert [row[0] for row in summary[2:]] == [c.name for c in gt.CASES] and len(gt.CASES) >= 8
    assert all(row[4] == gt.NOT_RUN for row in summary[2:])
    rows = table(text, "Every candidate")
    header, body = rows[0], rows[2:]
    assert header[:5] == ["config", "attn_implementation", "dtype", "advisor predicted", "loads"]
    assert all(len(row) == len(header) for row in body)
    assert all(row[4] == gt.NOT_RUN and row[3].split()[0] in ("works", "fails", "unknown") for row in body)
    attns, dtypes = gt.flag_values("attn_implementation"), gt.flag_values("dtype")
    for case in gt.CASES:
        mine = [row for row in body if row[0] == case.name]
        assert {(r[1].removesuffix(" ★"), r[2]) for r in mine} >= {(a, d) for a in attns for d in dtypes}
        assert sum(1 for r in mine if r[1].endswith("★")) == 1
    # the profile has no FlashAttention package: the rules say flash_attention_2 fails, and which rule says so
    assert any(r[1] == "flash_attention_2" and r[3].startswith("fails (") for r in body)
    assert "dry run (no GPU)" in capsys.readouterr().err


def test_without_a_gpu_the_dry_run_is_automatic(gt: ModuleType, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gt, "has_gpu", lambda: False)
    monkeypatch.setattr(gt, "run", lambda *a: pytest.fail("nothing may run without a GPU"))
    out = tmp_path / "t.md"
    assert gt.main([str(out), "--only", "llama-3.1-8b", "gemma-2-9b-it", "--software", SOFTWARE]) == 0
    assert "**Dry run**" in out.read_text() and len(table(out.read_text(), "Summary")) == 4


def test_a_gpu_run_predicts_for_this_machine_only(gt: ModuleType, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gt, "has_gpu", lambda: True)
    assert gt.main([str(tmp_path / "t.md"), "--gpu", "T4"]) == 2
    assert "this machine" in capsys.readouterr().err and not (tmp_path / "t.md").exists()


@pytest.mark.parametrize(("case", "problem"), [
    (("missing", "no-such-file.json", "-"), "does not exist"),
    (("qwen-7b", "Qwen__Qwen-7B.json", "remote code"), "verify cannot build it"),
])
def test_a_broken_list_is_one_line_and_writes_nothing(gt: ModuleType, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str],
                                                      case: tuple[str, str, str], problem: str) -> None:
    monkeypatch.setattr(gt, "CASES", (*gt.CASES[:1], gt.Case(*case)))
    out = tmp_path / "t.md"
    assert gt.main([str(out), "--dry-run", "--software", SOFTWARE]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and problem in err and case[0] in err and not out.exists()


def test_candidate_sets_must_be_complete_and_known(gt: ModuleType) -> None:
    rec = Candidate("sdpa", "bfloat16")
    grid = gt.candidate_grid(rec)
    gt.check_candidates("x", rec, grid)
    with pytest.raises(gt.ListError, match="twice"):
        gt.check_candidates("x", rec, (*grid, rec))
    with pytest.raises(gt.ListError, match="leave out"):
        gt.check_candidates("x", rec, grid[:-1])
    with pytest.raises(gt.ListError, match="not an attention implementation"):
        gt.check_candidates("x", rec, (*grid, Candidate("sdpa", "float64")))
    with pytest.raises(gt.ListError, match="recommended"):
        gt.check_candidates("x", Candidate(None, "float32"), grid)
    first, flex = gt.passes(gt.Prepared(gt.CASES[0], None, rec, grid, {}))
    assert all(c.attn != "flex_attention" for c in first[1]) and flex[1][0] == Candidate("flex_attention", "bfloat16")
    assert len(first[1]) + len(flex[1]) == len(grid) and first[1][0] == rec
    flex_rec = Candidate("flex_attention", "float16")  # recommended flags run in the first pass, whatever they are
    first, flex = gt.passes(gt.Prepared(gt.CASES[0], None, flex_rec, gt.candidate_grid(flex_rec), {}))
    assert first[1][0] == flex_rec and flex_rec not in flex[1] and len(flex[1]) == 2


def result(attn: str, token_ms: float | None, *, ok: bool = True, rel: float = 1e-3) -> CandidateResult:
    outcome = Outcome(loaded=True, ran=ok, generated=ok if ok else None, stage=None if ok else "forward",
                      error=None if ok else "RuntimeError: no kernel", rel_error=rel,
                      token_s=None if token_ms is None else token_ms / 1e3, forward_s=0.01, peak_bytes=3 << 20)
    return CandidateResult(Candidate(attn, "bfloat16"), Prediction("works"), outcome)


@pytest.mark.parametrize(("rows", "verdict"), [
    ([("sdpa", 2.0), ("eager", 3.0)], "yes"),
    ([("sdpa", 2.1), ("flash_attention_2", 2.0)], "yes (within 10%)"),
    ([("sdpa", 3.0), ("flash_attention_2", 2.0)], "**no**: flash_attention_2 · bfloat16 is 50% faster"),
    ([("sdpa", None), ("eager", 3.0)], "**no**: the recommended flags did not work"),
])
def test_the_recommended_flags_against_the_fastest_that_worked(gt: ModuleType, rows: list[tuple[str, float | None]],
                                                               verdict: str) -> None:
    rec = Candidate("sdpa", "bfloat16")
    p = gt.Prepared(gt.CASES[0], None, rec, (rec,), {})
    for attn, ms in rows:
        r = result(attn, ms, ok=ms is not None)
        p.results[r.candidate] = r
    wrong = result("flex_attention", 0.5, rel=1.0)  # fastest, but its logits are off: it did not work
    p.results[wrong.candidate] = wrong
    assert gt.fastest_verdict(p)[1] == verdict
    cells = gt.row_cells(p, rec, dry=False)
    assert cells[1] == "sdpa ★" and cells[4] == "yes"
