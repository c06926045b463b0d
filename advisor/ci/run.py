"""`advisor check` and `advisor lint`: gather the jobs and targets, run the matrix, emit, exit.

Exit codes: 0 compatible · 1 a finding at or above --fail-on (default error) · 2 usage or input error ·
3 the facts needed could not be obtained (an error-severity rule evaluated unknown) · --exit-zero: 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from advisor.ci.matrix import Job, run_matrix
from advisor.ci.policy import Policy, TargetSpec, find_policy, load_policy
from advisor.ci.report import Case, Report
from advisor.errors import InputError
from advisor.facts.bundle import Request
from advisor.recommendation import Evaluation, Severity

FORMATS = ("text", "json", "sarif", "github", "junit", "markdown")


def _cli_targets(args: argparse.Namespace) -> list[TargetSpec] | None:
    """The target named by --gpu/--hardware/--software/--with, or None when none was given."""
    if not (args.gpu or args.hardware or args.software or args.with_):
        return None
    from advisor.api import Target, hardware_facts, software_facts

    target = Target(gpu=args.gpu, hardware_file=args.hardware, software_file=args.software,
                    with_packages=tuple(args.with_))
    return [TargetSpec(target.label, hardware_facts(target), software_facts(target))]


def _this_machine() -> list[TargetSpec]:
    from advisor.api import Target, hardware_facts, software_facts

    return [TargetSpec("this machine", hardware_facts(Target()), software_facts(Target()))]


def _request(args: argparse.Namespace, policy: Policy | None) -> Request:
    from advisor.api import validate_request

    base = policy.request if policy is not None else Request()
    given = Request(dtype=args.dtype, task=args.task, context=args.context, batch=args.batch)
    defaults = Request()
    merged = replace(
        base,
        dtype=given.dtype if given.dtype != defaults.dtype else base.dtype,
        task=given.task if given.task != defaults.task else base.task,
        context=given.context if given.context is not None else base.context,
        batch=given.batch if given.batch != defaults.batch else base.batch,
        offline=base.offline or bool(args.offline),
    )
    return validate_request(merged)


def _fail_on(args: argparse.Namespace, policy: Policy | None) -> Severity:
    value = args.fail_on or (policy.fail_on if policy is not None else None) or "error"
    if value not in ("error", "warning", "info"):
        raise InputError(f"--fail-on {value!r}: choose error, warning or info")
    return "error" if value == "error" else ("warning" if value == "warning" else "info")


def _policy_jobs(policy: Policy) -> list[Job]:
    jobs = []
    for m in policy.models:
        flags = dict(m.flags or {})
        if m.revision is not None:
            flags.setdefault("revision", m.revision)
        jobs.append(Job(m.id, m.revision, flags, policy.path, m.line, name=m.name or None))
    return jobs


def run_check(args: argparse.Namespace) -> int:
    """`advisor check MODEL --flags …` or `advisor check --policy FILE`: emit, return the exit code."""
    policy = load_policy(args.policy) if args.policy is not None else None
    jobs: list[Job] = []
    if args.model is not None:
        from advisor.cli import read_flags

        flags = read_flags(args.flags)
        if args.revision is not None:
            flags.setdefault("revision", args.revision)
        from advisor.ci.lint import display_path

        where = display_path(Path(args.flags[1:])) if args.flags and args.flags.startswith("@") else None
        jobs.append(Job(args.model, args.revision, flags, where, 1 if where else None))
    elif args.flags is not None:
        raise InputError("--flags needs a MODEL")
    elif policy is not None:
        jobs = _policy_jobs(policy)
        if not jobs:
            raise InputError(f"{policy.path}:{policy.line}: the policy names no models ([[model]] tables)")
    else:
        raise InputError("check needs a MODEL with --flags, or --policy FILE")
    targets = _cli_targets(args) or (list(policy.targets) if policy is not None else []) or _this_machine()
    request = _request(args, policy)
    cases = run_matrix(jobs, targets, request, strict=True)
    return _finish("check", cases, policy, _fail_on(args, policy), args)


def run_lint(args: argparse.Namespace) -> int:
    """`advisor lint PATHS`: check the flags of every from_pretrained call against the targets."""
    from advisor.ci.lint import lint_paths

    cli_targets = _cli_targets(args)
    path = args.policy if args.policy is not None else (None if cli_targets else find_policy(Path.cwd()))
    policy = load_policy(path) if path is not None else None
    paths = list(args.paths) or [Path(".")]
    calls, unreadable = lint_paths(paths)
    pins = {m.id.lower(): m.revision for m in policy.models} if policy is not None else {}
    jobs = [Job(c.model, c.revision, c.flags, c.file, c.line, c.unresolved, label=c.loader,
                fetch_revision=None if c.revision or c.model is None else pins.get(c.model.lower()))
            for c in calls]
    targets = cli_targets or (list(policy.targets) if policy is not None else []) or _this_machine()
    cases = run_matrix(jobs, targets, _request(args, policy), strict=False)
    from advisor.ci.meta_rules import LINT_UNRESOLVED

    for bad in unreadable:
        for t in targets:
            cases.append(Case(bad.file, None, t.label, {}, bad.file, bad.line, (),
                              (Evaluation(LINT_UNRESOLVED, "error", "unknown",
                                          f"{bad.file}:{bad.line}: {bad.why}"),)))
    return _finish("lint", cases, policy, _fail_on(args, policy), args)


def _finish(command: str, cases: list[Case], policy: Policy | None, fail_on: Severity,
            args: argparse.Namespace) -> int:
    notes: list[Any] = []
    if policy is not None and policy.ignores:
        from advisor.ci.ignores import apply_ignores

        cases, notes = apply_ignores(cases, policy.ignores, policy.path)
    report = Report("lint" if command == "lint" else "check", tuple(sorted(cases, key=Case.sort_key)),
                    tuple(notes), fail_on, policy.path if policy is not None else None)
    fmt = args.format if args.format in FORMATS else "text"
    sys.stdout.write(emitter(fmt)(report))
    sys.stderr.write(report.summary() + "\n")
    return report.exit_code(bool(args.exit_zero))


def emitter(fmt: str) -> Callable[[Report], str]:
    """The renderer for a --format name."""
    if fmt == "json":
        from advisor.emit.check_json import report_json

        return report_json
    if fmt == "sarif":
        from advisor.emit.sarif import report_sarif

        return report_sarif
    if fmt == "github":
        from advisor.emit.github import report_github

        return report_github
    if fmt == "junit":
        from advisor.emit.junit import report_junit

        return report_junit
    if fmt == "markdown":
        from advisor.emit.markdown import report_markdown

        return report_markdown
    from advisor.emit.check_text import report_text

    return report_text

