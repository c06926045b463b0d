"""advisor verify: try candidate flags on a small model of the same architecture, on this machine.

Importing this package imports neither torch nor transformers: the worker subprocess does.
"""

from advisor.verify.core import MissingRuntime, VerifyOptions, require_runtime, verify_candidates
from advisor.verify.predict import candidates_for, predict
from advisor.verify.render import report_json, report_text
from advisor.verify.runner import WorkerPool
from advisor.verify.types import Candidate, CandidateResult, Outcome, Prediction, VerifyReport

__all__ = ["Candidate", "CandidateResult", "MissingRuntime", "Outcome", "Prediction", "VerifyOptions",
           "VerifyReport", "WorkerPool", "candidates_for", "predict", "report_json", "report_text",
           "require_runtime", "verify_candidates"]
