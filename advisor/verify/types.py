"""The verify domain: candidates, what the rules predicted, what was observed, the whole report."""

from __future__ import annotations

from typing import Any, Literal

from advisor.core.frozen import field, frozen

Verdict = Literal["works", "fails", "unknown"]

TOLERANCE: dict[str, float] = {"float32": 1e-3, "bfloat16": 1e-1, "float16": 2e-2}
"""Largest relative error against eager attention in float32 still counted as consistent, by dtype.

bfloat16 keeps 8 bits of mantissa: dense models land near 1e-2, MoE models up to about 5e-2 (a rounded
router score can pick another expert)."""


@frozen
class Candidate:
    """One flag set to try: an attention implementation (None: leave it out) and a dtype."""

    attn: str | None
    dtype: str

    @property
    def label(self) -> str:
        return f"{self.attn or '(default)'} · {self.dtype}"

    def flags(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dtype": self.dtype}
        if self.attn is not None:
            out["attn_implementation"] = self.attn
        return out

    def to_json(self) -> dict[str, Any]:
        return {"attn_implementation": self.attn, "dtype": self.dtype}


@frozen
class Prediction:
    """What the rules say of a candidate on these facts: works, fails (with rules) or unknown."""

    verdict: Verdict
    rules: tuple[str, ...] = ()
    story: str = ""
    recommended: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "rules": list(self.rules), "story": self.story,
                "recommended": self.recommended}


@frozen
class Outcome:
    """What happened when the candidate was loaded and run on this machine."""

    loaded: bool
    ran: bool
    generated: bool | None = None
    """None when the model does not generate (an encoder) or generate was not tried."""
    effective_attn: str | None = None
    """The implementation transformers actually set (`config._attn_implementation`)."""
    error: str | None = None
    stage: str | None = None
    """Where it failed: build, load, forward, generate, timeout, crash."""
    rel_error: float | None = None
    """Relative error of the logits against eager attention in float32."""
    load_s: float | None = None
    first_forward_s: float | None = None
    """The first forward pass, compilation included."""
    forward_s: float | None = None
    token_s: float | None = None
    peak_bytes: int | None = None
    peak_source: str | None = None
    compiled: bool | None = None
    """For flex_attention: whether torch.compile was on."""

    @property
    def verdict(self) -> Verdict:
        return "works" if self.loaded and self.ran and self.generated is not False else "fails"

    def summary(self) -> str:
        """One line for a progress report: `works (forward 12.1 ms)`, `fails at load: ValueError: ...`."""
        if self.verdict == "works":
            timing = f" (forward {self.forward_s * 1000:.1f} ms)" if self.forward_s is not None else ""
            return "works" + timing
        error = self.error if self.error is None or len(self.error) <= 140 else self.error[:139] + "…"
        return f"fails at {self.stage or 'an unknown stage'}" + (f": {error}" if error else "")

    def consistent(self, dtype: str) -> bool | None:
        if self.rel_error is None:
            return None
        return self.rel_error <= TOLERANCE.get(dtype, 5e-2)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "loaded", "ran", "generated", "effective_attn", "stage", "error", "rel_error", "load_s",
            "first_forward_s", "forward_s", "token_s", "peak_bytes", "peak_source", "compiled")}


@frozen
class CandidateResult:
    """One row of the report: the candidate, the rules' prediction, the observation (or why skipped)."""

    candidate: Candidate
    prediction: Prediction
    outcome: Outcome | None
    skipped: str | None = None

    @property
    def agrees(self) -> bool | None:
        """True/False when both sides are definite; None when skipped or the rules said unknown."""
        if self.outcome is None or self.prediction.verdict == "unknown":
            return None
        return self.prediction.verdict == self.outcome.verdict

    @property
    def consistent(self) -> bool | None:
        return None if self.outcome is None else self.outcome.consistent(self.candidate.dtype)

    def to_json(self) -> dict[str, Any]:
        return {"candidate": self.candidate.to_json(), "prediction": self.prediction.to_json(),
                "outcome": self.outcome.to_json() if self.outcome else None, "skipped": self.skipped,
                "agrees": self.agrees, "consistent": self.consistent,
                "tolerance": TOLERANCE.get(self.candidate.dtype)}


@frozen
class Contradiction:
    """A verified outcome that the rules did not predict, with both stories."""

    candidate: Candidate
    predicted: str
    observed: str

    def message(self) -> str:
        return (f"{self.candidate.label}: the rules said {self.predicted}; on this machine it "
                f"{self.observed}")

    def to_json(self) -> dict[str, Any]:
        return {"candidate": self.candidate.to_json(), "predicted": self.predicted, "observed": self.observed}


@frozen
class VerifyReport:
    """Everything `advisor verify` found for one model."""

    model: dict[str, Any]
    device: dict[str, Any]
    built: dict[str, Any]
    """The small model that was built: its shape, parameter count and what was scaled."""
    results: tuple[CandidateResult, ...]
    skipped: str | None = None
    """Set when nothing could be verified (the reason)."""
    notes: tuple[str, ...] = ()
    recommended: dict[str, Any] = field(default_factory=dict)

    @property
    def contradictions(self) -> tuple[Contradiction, ...]:
        out = []
        for r in self.results:
            if r.agrees is False and r.outcome is not None:
                out.append(Contradiction(r.candidate, _predicted_story(r.prediction),
                                         _observed_story(r.outcome)))
        return tuple(out)

    def agreement(self) -> tuple[int, int]:
        """(cases agreed, cases run with a definite prediction)."""
        definite = [r for r in self.results if r.agrees is not None]
        return sum(1 for r in definite if r.agrees), len(definite)

    def to_json(self) -> dict[str, Any]:
        agreed, run = self.agreement()
        return {"schema_version": 1, "model": self.model, "device": self.device, "built": self.built,
                "recommended": self.recommended, "skipped": self.skipped, "notes": list(self.notes),
                "results": [r.to_json() for r in self.results],
                "agreement": {"agreed": agreed, "run": run},
                "findings": [c.to_json() | {"message": c.message()} for c in self.contradictions]}


def _predicted_story(p: Prediction) -> str:
    if p.verdict == "works":
        return "it works" + (f" ({p.story})" if p.story else "")
    return f"it fails ({', '.join(p.rules)}: {p.story})"


def _observed_story(o: Outcome) -> str:
    if o.verdict == "works":
        return "loaded and ran" + (f" as {o.effective_attn}" if o.effective_attn else "")
    return f"failed at {o.stage}: {o.error}"


@frozen
class VerifyOptions:
    """How verify builds and measures; the defaults suit `advisor verify` on a workstation."""

    seq_len: int = 32
    new_tokens: int = 8
    layers: int = 2
    repeats: int = 3
    max_params: int | None = None
    """Parameter budget of the small model; None: from this machine's memory (at most 600M)."""
    timeout_s: float = 300.0
    compile_flex: bool = True
    """Whether flex_attention runs compiled (as users run it) or through its eager fallback."""
    real: bool = False
    device: str = "auto"
    seed: int = 0
