"""`verify_candidates()`: try candidate flag sets on this machine and set the outcome beside the rules."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from advisor.core.errors import AdvisorError, ExitCode, InputError
from advisor.core.frozen import fields as frozen_fields
from advisor.core.importable import missing
from advisor.engine.advise import recommend
from advisor.facts.bundle import Facts
from advisor.verify.predict import candidates_for, predict, with_observed_gpu_count
from advisor.verify.runner import JobResult, WorkerPool
from advisor.verify.types import Candidate, CandidateResult, Outcome, VerifyOptions, VerifyReport

INSTALL_HINT = "pip install 'hf-advisor[verify]' (torch, transformers and accelerate)"


class MissingRuntime(AdvisorError):
    """torch or transformers is not importable here (exit 2)."""

    exit_code = ExitCode.INPUT


def require_runtime() -> None:
    """Raise MissingRuntime with the install command when torch or transformers cannot be found."""
    absent = missing("torch", "transformers")
    if absent:
        raise MissingRuntime(f"verify needs {' and '.join(absent)}, which cannot be imported here: "
                             f"{INSTALL_HINT}")


def default_budget() -> int:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        pages = 8 << 30
    return int(min(600_000_000, pages // 24))


def verify_candidates(facts: Facts, candidates: str | Sequence[Candidate] = "recommended",
                      options: VerifyOptions | None = None, pool: WorkerPool | None = None,
                      progress: Callable[[str], None] | None = None) -> VerifyReport:
    """Try each candidate on this machine; the report sets each outcome beside the rules' prediction.

    CANDIDATES is a set name (recommended, attn, dtype, all) or explicit candidates. POOL lets a caller
    run many models through one worker process (the ground-truth suite does). PROGRESS, when given, is
    called with a line for each step the worker starts and each candidate's outcome.
    """
    options = options or VerifyOptions()
    require_runtime()
    rec = recommend(facts)
    chosen = candidates_for(rec, candidates) if isinstance(candidates, str) else tuple(candidates)
    job, notes, why_not = plan_job(facts, chosen, options)
    if why_not is not None:
        return _skipped_report(facts, chosen, why_not, notes, rec)
    runnable = [c for c in chosen if skip_reason(facts, c) is None]
    job["candidates"] = [{"attn": c.attn, "dtype": c.dtype} for c in runnable]
    own = pool is None
    pool = pool or WorkerPool(compile_flex=options.compile_flex, timeout_s=options.timeout_s, on_step=progress)
    try:
        result = pool.run(job) if runnable else JobResult()
    finally:
        if own:
            pool.close()
    if result.device.get("cuda_devices") == 0 and not facts.hardware.gpu_count.known:
        notes.append(f"the GPU count was unknown ({facts.hardware.gpu_count.reason or 'no probe'}); "
                     "predicted with the 0 CUDA devices torch sees here")
        facts = with_observed_gpu_count(facts, 0, "verify: torch.cuda.device_count() on this machine")
        rec = recommend(facts)
    return _report(facts, rec, chosen, runnable, result, notes)


def plan_job(facts: Facts, chosen: Sequence[Candidate], options: VerifyOptions,
             ) -> tuple[dict[str, Any], list[str], str | None]:
    """The worker job for FACTS' model, notes, and the reason it cannot be verified (None if it can)."""
    mf = facts.model
    notes: list[str] = []
    model_type = mf.model_type.value
    arch = facts.arch.value
    config = dict(mf.config)
    architecture = mf.architecture.value
    if mf.config is not mf.top:
        text_type = config.get("model_type")
        model_type = text_type if isinstance(text_type, str) else model_type
        notes.append(f"only the language model ({model_type}) of {architecture} is built")
        architecture = None
    native = getattr(arch, "native", None)
    if model_type is None:
        return {}, notes, "config.json names no model_type"
    if native is False:
        equivalent = facts.extra.get("model.native_equivalent")
        eq = equivalent.value if equivalent is not None else None
        if not isinstance(eq, str):
            return {}, notes, (f"{model_type} is remote code only (not in transformers "
                               f"{facts.transformers.value}); verify never runs remote code")
        notes.append(f"{model_type} is remote code: verified through the native {eq} class instead")
        model_type, architecture = eq, None
    job: dict[str, Any] = {
        "model_type": model_type, "architecture": architecture, "config": config,
        "expect_shape": {"head_dim": mf.head_dim.value}, "seq_len": options.seq_len,
        "new_tokens": options.new_tokens, "layers": options.layers, "repeats": options.repeats,
        "max_params": options.max_params or default_budget(), "device": options.device, "seed": options.seed,
    }
    if options.real:
        job["real_path"] = str(real_weights(facts))
    return job, notes, None


def skip_reason(facts: Facts, candidate: Candidate) -> str | None:
    """Why a candidate is not tried here (None: it is)."""
    if candidate.attn is not None and "/" in candidate.attn:
        return "a Hub kernel is downloaded when the model loads; verify downloads nothing"
    if candidate.attn is not None and facts.model.has_attention.value is False:
        return "the model has no attention layers"
    return None


def real_weights(facts: Facts) -> Path:
    """The folder holding the model's real weights: a local folder, or the local Hub cache (no download)."""
    src = facts.model.source
    path = Path(src.id).expanduser()
    folder = path if path.is_dir() else path.parent if path.suffix == ".json" else None
    if folder is None and src.source != "local":
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(src.id, revision=src.commit or src.revision,
                                            local_files_only=True))
        except Exception:
            folder = None
    if folder is not None and (any(folder.glob("*.safetensors")) or any(folder.glob("*.bin"))):
        return folder
    raise InputError(f"--real: no weights of {src.id} in the local cache (verify never downloads); "
                     "drop --real to verify on a small model with random weights")


def _report(facts: Facts, rec: Any, chosen: Sequence[Candidate], runnable: Sequence[Candidate],
            result: JobResult, notes: list[str]) -> VerifyReport:
    index = {c: i for i, c in enumerate(runnable)}
    rows = []
    for cand in chosen:
        prediction = predict(facts, cand, rec)
        why = skip_reason(facts, cand) or result.skipped or result.cut
        raw = result.outcomes.get(index[cand]) if cand in index else None
        if raw is None:
            rows.append(CandidateResult(cand, prediction, None, why or "not run"))
        else:
            rows.append(CandidateResult(cand, prediction, _outcome(raw)))
    return VerifyReport(model=facts.model.summary(), device=result.device, built=result.model,
                        results=tuple(rows), skipped=result.skipped, notes=tuple(notes + result.notes),
                        recommended=dict(rec.flags))


def _outcome(raw: dict[str, Any]) -> Outcome:
    fields = set(frozen_fields(Outcome))
    return Outcome(**{k: v for k, v in raw.items() if k in fields})


def _skipped_report(facts: Facts, chosen: Sequence[Candidate], why: str, notes: list[str],
                    rec: Any) -> VerifyReport:
    rows = tuple(CandidateResult(c, predict(facts, c, rec), None, why) for c in chosen)
    return VerifyReport(model=facts.model.summary(), device={}, built={}, results=rows, skipped=why,
                        notes=tuple(notes), recommended=dict(rec.flags))


