"""The rules' side: which candidates to try and what the rules predict for each on the given facts."""

from __future__ import annotations

from typing import Literal

from advisor.core.errors import InputError
from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.core.results import Recommendation
from advisor.engine.advise import check, recommend
from advisor.engine.pack import load_flags
from advisor.facts.bundle import Facts
from advisor.verify.types import Candidate, Prediction

CandidateSet = Literal["recommended", "attn", "dtype", "all"]
CANDIDATE_SETS: tuple[str, ...] = ("recommended", "attn", "dtype", "all")
FLAGS = ("attn_implementation", "dtype")


def flag_values(flag: str) -> tuple[str, ...]:
    """The candidate values the rules consider for FLAG, in order of preference (rules/flags.toml)."""
    for spec in load_flags():
        if spec.name == flag:
            return tuple(str(v) for v in spec.values)
    raise InputError(f"no flag {flag!r} in rules/flags.toml")


def recommended_candidate(rec: Recommendation) -> Candidate:
    """The candidate the recommendation stands for (float32 when it leaves the dtype out)."""
    values = {d.flag: d.value for d in rec.decisions}
    attn = values.get("attn_implementation")
    dtype = values.get("dtype")
    return Candidate(attn if isinstance(attn, str) else None, dtype if isinstance(dtype, str) else "float32")


def candidates_for(rec: Recommendation, which: str) -> tuple[Candidate, ...]:
    """The recommended candidate first, then every attention and/or dtype value the rules consider."""
    if which not in CANDIDATE_SETS:
        raise InputError(f"--candidates {which!r}: choose one of {', '.join(CANDIDATE_SETS)}")
    base = recommended_candidate(rec)
    out = [base]
    if which in ("attn", "all"):
        out += [Candidate(a, base.dtype) for a in flag_values("attn_implementation")]
    if which in ("dtype", "all"):
        out += [Candidate(base.attn, d) for d in flag_values("dtype")]
    return tuple(dict.fromkeys(out))


def with_observed_gpu_count(facts: Facts, count: int, source: str) -> Facts:
    """Facts whose unknown GPU count is filled in with what verify saw on this machine."""
    if facts.hardware.gpu_count.known:
        return facts
    hardware = replace(facts.hardware, gpu_count=Fact.of(count, source))
    return replace(facts, hardware=hardware)


def predict(facts: Facts, candidate: Candidate, rec: Recommendation | None = None) -> Prediction:
    """The rules' verdict on CANDIDATE: an error rule that fails → fails; one unknown → unknown.

    Warnings (bfloat16 on a CPU without bf16 instructions is slow) are not predictions of failure:
    they are kept in the story. Every candidate is checked with `check()`, so that candidates the
    resolver never reached (those after the chosen one) are judged by the same rules.
    """
    rec = rec or recommend(facts)
    result = check(facts, candidate.flags())
    mine = [e for e in result.evaluations if e.flag in FLAGS]
    failed = [e for e in mine if e.severity == "error" and e.status == "fail"]
    unknown = [e for e in mine if e.severity == "error" and e.status == "unknown"]
    warned = [e for e in mine if e.severity == "warning" and e.status == "fail"]
    recommended = candidate == recommended_candidate(rec)
    if failed:
        return Prediction("fails", tuple(dict.fromkeys(e.rule for e in failed)),
                          "; ".join(e.message for e in failed), recommended)
    if unknown:
        return Prediction("unknown", tuple(dict.fromkeys(e.rule for e in unknown)),
                          "; ".join(e.message for e in unknown), recommended)
    story = "; ".join(f"{e.rule}: {e.message}" for e in warned)
    return Prediction("works", tuple(e.rule for e in warned), story, recommended)
