"""flex_attention as users run it (torch.compile on): one tiny llama, forward only, on this CPU.

Compiling flex_attention on a 2-core CPU takes about 40 s for the first shape (measured on torch 2.13),
so the ground-truth suite uses its eager fallback and this test covers the compiled path once.
"""

from __future__ import annotations

from pathlib import Path

from advisor.api import gather
from advisor.facts.bundle import Request
from advisor.verify.core import VerifyOptions, verify_candidates
from advisor.verify.types import Candidate

ROOT = Path(__file__).resolve().parents[2]


def test_flex_compiled_matches_eager_and_the_rules() -> None:
    facts = gather(str(ROOT / "fixtures/configs/EleutherAI__pythia-14m.json"), request=Request(offline=True))
    options = VerifyOptions(seq_len=16, new_tokens=0, repeats=1, layers=1, max_params=2_000_000,
                            timeout_s=400, compile_flex=True)
    report = verify_candidates(facts, [Candidate("flex_attention", "float32"), Candidate("sdpa", "float32")],
                               options)
    flex, sdpa = report.results
    assert flex.outcome is not None and flex.outcome.compiled is True
    # gpt_neox supports flex in transformers 5.23; the rules agree and the numbers match eager
    assert flex.prediction.verdict == "works" and flex.outcome.verdict == "works"
    assert flex.consistent is True and sdpa.consistent is True
    assert flex.outcome.first_forward_s is not None and flex.outcome.forward_s is not None
    print(f"\nflex_attention compiled: first forward {flex.outcome.first_forward_s:.1f} s "
          f"(compilation), then {flex.outcome.forward_s * 1000:.1f} ms; sdpa {sdpa.outcome.forward_s * 1000:.1f} ms"
          if sdpa.outcome and sdpa.outcome.forward_s else "")
