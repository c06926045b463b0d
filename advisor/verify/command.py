"""`advisor verify MODEL`: the CLI face of verify_candidates()."""

from __future__ import annotations

import argparse
import sys

from advisor.errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--candidates", default="recommended", choices=["recommended", "attn", "dtype", "all"],
                   help="the recommended flags only (default), or every attention and/or dtype candidate")
    p.add_argument("--real", action="store_true",
                   help="use the real weights in the local cache (never downloads)")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--timeout", type=float, default=300.0, metavar="S", help="seconds allowed per candidate")
    p.add_argument("--max-params", type=int, metavar="N", help="parameter budget of the small model")
    p.add_argument("--seq-len", type=int, default=32, metavar="N", help="tokens in the test sequence")
    p.add_argument("--no-compile", action="store_true", help="run flex_attention without torch.compile")


def cmd_verify(args: argparse.Namespace, target: object, request: object) -> int:
    """Run verify and print the table or JSON; exit 1 when an outcome contradicts the rules."""
    from advisor.verify.core import VerifyOptions, require_runtime, verify_candidates

    require_runtime()
    if args.timeout <= 0 or not 4 <= args.seq_len <= 8192:
        raise InputError("--timeout must be positive and --seq-len between 4 and 8192")
    if args.max_params is not None and args.max_params < 1000:
        raise InputError("--max-params must be at least 1000")
    from advisor.api import gather

    facts = gather(args.model, revision=args.revision, target=target, request=request)  # type: ignore[arg-type]
    options = VerifyOptions(seq_len=args.seq_len, max_params=args.max_params, timeout_s=args.timeout,
                            compile_flex=not args.no_compile, real=args.real)
    report = verify_candidates(facts, args.candidates, options)
    from advisor.verify.render import report_json, report_text

    sys.stdout.write(report_json(report) if args.format == "json" else report_text(report))
    if report.skipped:
        sys.stderr.write(f"advisor: not verified: {report.skipped}\n")
        return EXIT_INPUT
    return EXIT_FINDINGS if report.contradictions else EXIT_OK
