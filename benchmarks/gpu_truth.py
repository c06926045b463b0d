"""advisor's rules against a real NVIDIA GPU: `advisor verify` over every attention candidate and dtype for a
fixed list of configs, written as one markdown report.

    python benchmarks/gpu_truth.py [OUT] [--dry-run] [--deadline S] [--per-candidate S] [--only NAME ...]
    python benchmarks/gpu_truth.py --dry-run [OUT] [--gpu SPEC] [--software FILE]

OUT defaults to docs/gpu-truth.md. On a machine whose NVML sees an NVIDIA GPU, each config of `CASES` is
verified on this machine, with its installed packages (the Python API: `gather` with this machine's
target, `verify_candidates` with one worker process for all): a small model of the config's architecture
and attention shape with random weights, built for every attention implementation in rules/flags.toml
crossed with every dtype, plus the recommended flags. For each: what the rules predicted, whether it
loaded, ran a forward pass and generated, the error text, the time per generated token, the peak GPU
memory, and per config whether the recommended flags were the fastest that worked.

Time: it is meant to finish in under eight minutes on one H100-class GPU. Each wait for the worker is
bounded by --per-candidate (default 60 s) and all of them by --deadline (default 420 s after the start):
what is left at the deadline is reported as not run. The candidates without flex_attention run first
(and the recommended flags, whatever they are) for every config; flex_attention (compiled, as
transformers runs it: each dtype and shape compiles) runs after, bfloat16 first, so that the deadline
cuts the slow part. Progress goes to stderr, one line per
candidate.

Without a GPU (or with --dry-run) it checks the list instead: every config loads, gets a recommendation
and can be built by verify (a native architecture), and every candidate is a value the rules consider,
once; then it writes the report's layout with "not run (no GPU)" rows. The predictions there are for
--gpu (default H100) with --software (default: the packages installed here). A list that fails the
check is one line on stderr and exit 2, with nothing written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor import __version__, api  # noqa: E402
from advisor.core.errors import AdvisorError  # noqa: E402
from advisor.core.frozen import replace  # noqa: E402
from advisor.verify.predict import flag_values, predict, recommended_candidate  # noqa: E402
from advisor.verify.types import Candidate, CandidateResult, Prediction, VerifyOptions  # noqa: E402

OUT = ROOT / "docs" / "gpu-truth.md"
CONFIGS = ROOT / "fixtures" / "configs"
DEADLINE_S = 420.0
PER_CANDIDATE_S = 60.0
FASTEST_MARGIN = 0.10
"""The recommended flags count as the fastest when within this fraction of the fastest time per token."""
NOT_RUN = "not run (no GPU)"
PACKAGES = ("torch", "transformers", "accelerate", "flash-attn", "flash-attn-3", "flash-attn-4", "kernels",
            "triton")


@dataclass(frozen=True)
class Case:
    """One config of the list: a short name, its fixture file, and what it exercises."""

    name: str
    file: str
    exercises: str


CASES = (
    Case("gpt2-large", "openai-community__gpt2-large.json", "dense, multi-head attention, learned positions"),
    Case("bloomz-560m", "bigscience__bloomz-560m.json", "dense, ALiBi positions"),
    Case("llama-3.1-8b", "meta-llama__Meta-Llama-3.1-8B.json", "GQA 32/8, llama3 rope"),
    Case("gemma-2-9b-it", "google__gemma-2-9b-it.json",
         "GQA, sliding window on every other layer, attention logit softcap"),
    Case("mixtral-8x7b", "mistralai__Mixtral-8x7B-v0.1.json", "MoE, 8 experts, top 2, GQA"),
    Case("qwen3-30b-a3b", "Qwen__Qwen3-30B-A3B.json", "MoE, 128 experts, q/k norm"),
    Case("deepseek-v3", "deepseek-ai__DeepSeek-V3.json", "MLA (q/k head 192, v head 128), MoE, FP8 checkpoint"),
    Case("qwen3-32b-fp8", "Qwen__Qwen3-32B-FP8.json",
         "FP8-quantized checkpoint (verify runs its unquantized layout)"),
)
OPTIONS = VerifyOptions(seq_len=512, new_tokens=16, layers=2, repeats=3, max_params=60_000_000,
                        timeout_s=PER_CANDIDATE_S, compile_flex=True)


class ListError(Exception):
    """The list of configs or candidates is not what the report needs (one line, exit 2)."""


class NotOnGpu(Exception):
    """The verify worker does not run on CUDA here (one line, exit 3)."""


@dataclass
class Prepared:
    """A case with its facts, its recommendation and the candidates to try."""

    case: Case
    facts: Any
    recommended: Candidate
    candidates: tuple[Candidate, ...]
    predictions: dict[Candidate, Prediction]
    results: dict[Candidate, CandidateResult] = field(default_factory=dict)


# --- the list ----------------------------------------------------------------------------------------------

def candidate_grid(recommended: Candidate) -> tuple[Candidate, ...]:
    """The recommended flags, then every attention implementation the rules consider with every dtype."""
    grid = [Candidate(attn, dtype) for dtype in flag_values("dtype") for attn in flag_values("attn_implementation")]
    return tuple(dict.fromkeys([recommended, *grid]))


def check_candidates(name: str, recommended: Candidate, candidates: Sequence[Candidate]) -> None:
    """Raise ListError unless CANDIDATES hold the recommended flags and every value pair, each once and known."""
    attns, dtypes = set(flag_values("attn_implementation")), flag_values("dtype")
    if len(set(candidates)) != len(candidates):
        raise ListError(f"{name}: a candidate is listed twice")
    if recommended not in candidates:
        raise ListError(f"{name}: the recommended flags {recommended.label} are not among the candidates")
    for c in candidates:
        if not isinstance(c, Candidate) or (c.attn is not None and c.attn not in attns) or c.dtype not in dtypes:
            raise ListError(f"{name}: {c!r} is not an attention implementation and dtype the rules consider")
    missing = [f"{a} · {d}" for d in dtypes for a in sorted(attns) if Candidate(a, d) not in candidates]
    if missing:
        raise ListError(f"{name}: the candidates leave out {', '.join(missing[:3])}")


def prepare(cases: Iterable[Case], target: Any) -> list[Prepared]:
    """Facts, recommendation and candidates for each case; ListError for the first that is not usable."""
    from advisor.verify.core import plan_job

    out = []
    for case in cases:
        path = CONFIGS / case.file
        if not path.is_file():
            raise ListError(f"{case.name}: {path.relative_to(ROOT)} does not exist")
        try:
            facts = api.gather(str(path), target=target, request=api.Request(offline=True))
            rec = api.recommend(facts)
        except AdvisorError as exc:
            raise ListError(f"{case.name}: {exc}") from None
        recommended = recommended_candidate(rec)
        candidates = candidate_grid(recommended)
        check_candidates(case.name, recommended, candidates)
        _, _, why_not = plan_job(facts, candidates, OPTIONS)
        if why_not is not None:
            raise ListError(f"{case.name}: verify cannot build it: {why_not}")
        predictions = {c: predict(facts, c, rec) for c in candidates}
        out.append(Prepared(case, facts, recommended, candidates, predictions))
    names = [p.case.name for p in out]
    if len(set(names)) != len(names):
        raise ListError("two cases share a name")
    return out


def has_gpu() -> bool:
    """Whether NVML sees an NVIDIA GPU on this machine."""
    gpus = api.hardware_facts(api.Target()).gpu_count
    return bool(gpus.known and gpus.value)


# --- the run ----------------------------------------------------------------------------------------------

def passes(p: Prepared) -> list[tuple[str, list[Candidate]]]:
    """P's candidates in two runs: the recommended flags and those without flex_attention, then the other
    flex_attention candidates, bfloat16 first."""
    flex = sorted((c for c in p.candidates if c.attn == "flex_attention" and c != p.recommended),
                  key=lambda c: c.dtype != "bfloat16")
    return [("first pass", [c for c in p.candidates if c not in flex]), ("flex_attention", flex)]


def run(prepared: list[Prepared], deadline_s: float, per_candidate_s: float, start: float,
        cpu: bool = False) -> dict[str, Any]:
    """Verify every candidate of every case in one worker pool; the device the worker reported.

    NotOnGpu when the worker does not run on CUDA, unless CPU (checking the script itself)."""
    from advisor.verify.core import verify_candidates
    from advisor.verify.runner import WorkerPool

    options = replace(OPTIONS, timeout_s=per_candidate_s)
    device: dict[str, Any] = {}
    order = [(p, label, cands) for i in range(2) for p in prepared for label, cands in [passes(p)[i]] if cands]
    current = [""]

    def ran(cand: dict[str, Any], outcome: dict[str, Any]) -> None:
        ok = outcome.get("ran") and outcome.get("generated") is not False
        what = "works" if ok else f"fails at {outcome.get('stage')}: {str(outcome.get('error'))[:100]}"
        per = outcome.get("token_s")
        print(f"[{time.monotonic() - start:6.1f} s] {current[0]} {cand['attn'] or '(default)'} · {cand['dtype']}: "
              f"{what}" + (f", {per * 1e3:.2f} ms/token" if isinstance(per, float) else ""),
              file=sys.stderr, flush=True)

    with WorkerPool(compile_flex=True, timeout_s=per_candidate_s, deadline=start + deadline_s,
                    on_result=ran) as pool:
        for p, label, cands in order:
            t = time.monotonic()
            current[0] = p.case.name
            print(f"[{t - start:6.1f} s] {p.case.name} {label}: {len(cands)} candidates", file=sys.stderr,
                  flush=True)
            report = verify_candidates(p.facts, cands, options, pool=pool)
            if report.device and not device:
                device = dict(report.device)
                if device.get("device") != "cuda" and not cpu:
                    raise NotOnGpu(f"the verify worker runs on {device.get('device')!r}, not CUDA (torch "
                                   f"{device.get('torch')}): install a CUDA build of torch; nothing written")
            for row in report.results:
                p.results[row.candidate] = row
            agreed, definite = report.agreement()
            not_run = sum(1 for r in report.results if r.outcome is None)
            print(f"[{time.monotonic() - start:6.1f} s] {p.case.name} {label}: done in {time.monotonic() - t:.1f} s; "
                  f"rules agreed {agreed}/{definite}, {not_run} not run"
                  + (f" ({report.skipped})" if report.skipped else ""), file=sys.stderr, flush=True)
    return device


# --- the report -------------------------------------------------------------------------------------------

def cell(text: object) -> str:
    """TEXT as one markdown table cell (pipes escaped, one line)."""
    return " ".join(str(text).split()).replace("|", "\\|") or "-"


def yes(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "**no**"


def predicted(p: Prediction) -> str:
    return p.verdict + (f" ({', '.join(p.rules)})" if p.rules and p.verdict != "works" else "")


def worked(row: CandidateResult) -> bool:
    """It loaded, ran and generated, with logits within the dtype's tolerance of eager float32."""
    o = row.outcome
    return o is not None and o.verdict == "works" and row.consistent is not False


def speed(row: CandidateResult) -> float | None:
    o = row.outcome
    return None if o is None else o.token_s if o.token_s is not None else o.forward_s


def fastest_verdict(p: Prepared) -> tuple[str, str]:
    """(the fastest candidate that worked, whether the recommended flags were it)."""
    timed = [(s, r) for r in p.results.values() if worked(r) and (s := speed(r)) is not None]
    if not timed:
        return "-", "-"
    best_s, best = min(timed, key=lambda t: t[0])
    label = f"{best.candidate.label} ({best_s * 1e3:.2f} ms)"
    rec = p.results.get(p.recommended)
    if rec is None or rec.outcome is None:
        return label, "not run"
    rec_s = speed(rec)
    if not worked(rec) or rec_s is None:
        return label, "**no**: the recommended flags did not work"
    if rec_s <= best_s * (1 + FASTEST_MARGIN):
        return label, "yes" if rec.candidate == best.candidate else f"yes (within {FASTEST_MARGIN:.0%})"
    return label, f"**no**: {best.candidate.label} is {rec_s / best_s - 1:.0%} faster"


def row_cells(p: Prepared, c: Candidate, dry: bool) -> list[str]:
    r = p.results.get(c)
    mark = " ★" if c == p.recommended else ""
    head = [cell(p.case.name), cell((c.attn or "(default)") + mark), c.dtype]
    if dry or r is None:
        return [*head, cell(predicted(p.predictions[c])), NOT_RUN if dry else "not run", "-", "-", "-", "-", "-",
                "-", "-"]
    o = r.outcome
    if o is None:
        return [*head, cell(predicted(r.prediction)), cell(r.skipped or "not run"), "-", "-", "-", "-", "-", "-",
                "-"]
    error = f"{o.stage}: {o.error}" if o.error else ""
    return [*head, cell(predicted(r.prediction)), yes(o.loaded), yes(o.ran if o.loaded else None), yes(o.generated),
            cell(error[:160]), "-" if o.token_s is None else f"{o.token_s * 1e3:.2f}",
            "-" if o.peak_bytes is None else f"{o.peak_bytes / (1 << 20):.0f}",
            "-" if o.rel_error is None else f"{o.rel_error:.1e}" + ("" if r.consistent is not False else " (!)"),
            yes(r.agrees)]


def render(prepared: list[Prepared], *, dry: bool, device: dict[str, Any], elapsed_s: float | None,
           deadline_s: float, target_note: str, cpu: bool = False) -> str:
    first = prepared[0].facts
    hw, sw = first.hardware, first.software
    gpus = [f"{g.name.value} (compute capability {'.'.join(map(str, g.compute_capability.value or ()))})"
            for g in hw.gpus]
    packages = ", ".join(f"{name} {v if (v := sw.version(name)) is not None else 'none'}" for name in PACKAGES)
    lines = ["# advisor on a real GPU", ""]
    if dry:
        lines += [f"**Dry run**: nothing was run on a GPU. Predictions for {target_note}; advisor {__version__}, "
                  f"{dt.date.today().isoformat()}.", ""]
    else:
        lines += [f"Run {dt.date.today().isoformat()} on {', '.join(gpus) or device.get('name')} "
                  f"(the worker saw {device.get('name')}, torch {device.get('torch')}, transformers "
                  f"{device.get('transformers')}); advisor {__version__}; {elapsed_s or 0:.0f} s of the "
                  f"{deadline_s:.0f} s deadline." + (" **--cpu**: a check of the script itself on a CPU; its times "
                                                     "and peaks (RSS) say nothing of a GPU." if cpu else ""), ""]
    lines += [f"Packages: {packages}.", "",
              f"Each config is built small with random weights by `advisor verify`: {OPTIONS.layers} layers, at most "
              f"{OPTIONS.max_params:,} parameters, the attention shape kept (heads, KV heads, head_dim, windows, "
              f"softcap); a {OPTIONS.seq_len}-token prompt, {OPTIONS.new_tokens} generated tokens. ms/token is the "
              "median time per generated token (greedy), peak the GPU memory allocated above the baseline while "
              "the candidate ran. ★ marks the flags advisor recommends. Worked = loaded, ran, generated, and its "
              "logits within the dtype's tolerance of eager attention in float32 (rel.err). The recommended "
              f"flags count as the fastest when within {FASTEST_MARGIN:.0%} of the fastest that worked.", "",
              "## Summary", "",
              "| config | exercises | advisor recommends | fastest that worked | recommended was fastest | "
              "rules agreed |", "|---|---|---|---|---|---|"]
    for p in prepared:
        fastest, verdict = ("-", NOT_RUN) if dry else fastest_verdict(p)
        definite = [r for r in p.results.values() if r.agrees is not None]
        agreed = "-" if dry or not definite else f"{sum(1 for r in definite if r.agrees)}/{len(definite)}"
        lines.append(f"| {cell(p.case.name)} | {cell(p.case.exercises)} | {cell(p.recommended.label)} | "
                     f"{cell(fastest)} | {cell(verdict)} | {agreed} |")
    lines += ["", "## Every candidate", "",
              "| config | attn_implementation | dtype | advisor predicted | loads | forward | generate | error | "
              "ms/token | peak MiB | rel.err | agrees |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in prepared:
        for c in p.candidates:
            lines.append("| " + " | ".join(row_cells(p, c, dry)) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, default=OUT, help=f"where to write the report (default {OUT})")
    ap.add_argument("--dry-run", action="store_true", help="check the list and write the layout; run nothing")
    ap.add_argument("--deadline", type=float, default=DEADLINE_S, metavar="S",
                    help="seconds after the start past which no candidate runs")
    ap.add_argument("--per-candidate", type=float, default=PER_CANDIDATE_S, metavar="S",
                    help="seconds allowed for each wait on the worker (a candidate, or building a model)")
    ap.add_argument("--only", nargs="+", metavar="NAME", choices=[c.name for c in CASES],
                    help="only these configs")
    ap.add_argument("--cpu", action="store_true",
                    help="run on this machine's CPU anyway, to check the script itself (times mean nothing)")
    ap.add_argument("--gpu", help="dry run: the GPU to predict for (default H100)")
    ap.add_argument("--software", help="dry run: a software profile to predict with (default: this machine's)")
    args = ap.parse_args(argv)
    start = time.monotonic()
    if args.deadline <= 0 or args.per_candidate <= 0:
        print("gpu_truth: --deadline and --per-candidate must be positive", file=sys.stderr)
        return 2
    dry = args.dry_run or not (args.cpu or has_gpu())
    if not dry and (args.gpu or args.software):
        print("gpu_truth: --gpu and --software describe the dry run's target; a GPU run predicts for this machine",
              file=sys.stderr)
        return 2
    cases = [c for c in CASES if not args.only or c.name in args.only]
    gpu = args.gpu or "H100"
    target = api.Target(gpu=gpu, software_file=args.software) if dry else api.Target()
    note = f"{gpu} with {'the software profile ' + args.software if args.software else 'the packages installed here'}"
    try:
        prepared = prepare(cases, target)
    except ListError as exc:
        print(f"gpu_truth: {exc}", file=sys.stderr)
        return 2
    where = "dry run (no GPU)" if dry else "on this machine's CPU (--cpu)" if args.cpu else "on this GPU"
    print(f"gpu_truth: {len(prepared)} configs, {sum(len(p.candidates) for p in prepared)} candidates, {where}, "
          f"deadline {args.deadline:.0f} s", file=sys.stderr, flush=True)
    device: dict[str, Any] = {}
    if not dry:
        try:
            device = run(prepared, args.deadline, args.per_candidate, start, cpu=args.cpu)
        except NotOnGpu as exc:
            print(f"gpu_truth: {exc}", file=sys.stderr)
            return 3
    text = render(prepared, dry=dry, device=device, elapsed_s=time.monotonic() - start, deadline_s=args.deadline,
                  target_note=note, cpu=args.cpu)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"gpu_truth: wrote {args.out} in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
