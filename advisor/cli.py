"""Command line: parse arguments, call the API, emit. Exit codes: 0 ok, 1 findings, 2 bad input, 3 facts missing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from advisor.errors import AdvisorError, InputError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_FACTS, EXIT_INTERNAL = 0, 1, 2, 3, 70


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{self.prog}: {message}")


def _add_fact_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("facts (default: this machine)")
    g.add_argument("--revision", help="branch, tag, commit or refs/pr/N")
    g.add_argument("--gpu", help="catalog GPU such as T4, A100-80GB, H100x8, or none")
    g.add_argument("--hardware", type=Path, metavar="FILE", help="hardware profile (JSON or TOML)")
    g.add_argument("--software", type=Path, metavar="FILE", help="software profile replacing detection")
    g.add_argument("--with", dest="with_", action="append", default=[], metavar="NAME==VERSION",
                   help="overlay a package version (NAME==none: not installed); repeatable")
    g.add_argument("--dtype", default="auto", help="auto, bfloat16, float16 or float32")
    g.add_argument("--task", default="inference", help="inference or training")
    g.add_argument("--context", type=int, help="context length in tokens")
    g.add_argument("--batch", type=int, default=1, help="batch size")
    g.add_argument("--offline", action="store_true", help="use only the cache and the bundled catalog")


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fail-on", default=None, choices=["error", "warning", "info"],
                   help="lowest severity that fails (default: the policy's, else error)")
    p.add_argument("--exit-zero", action="store_true", help="always exit 0 (report only)")
    p.add_argument("--format", default="text",
                   choices=["text", "json", "sarif", "github", "junit", "markdown"])


SUBCOMMANDS = {
    "recommend": "recommend flags for a model",
    "check": "check proposed flags (exit 1 on findings)",
    "lint": "check the flags of from_pretrained calls found in Python files",
    "facts": "print the facts advisor reads",
    "rules": "list the rules, or show one rule's documentation",
    "gpus": "list the GPU catalog",
    "tui": "open the interactive app",
    "verify": "try the flags on a small model of the same architecture on this machine",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, the other subcommands get no options (argparse is slow to build)."""
    parser = _Parser(prog="advisor", description="Safe from_pretrained flags for a model on given hardware.")
    parser.add_argument("--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    if only is not None:
        builder = _BUILDERS.get(only)
        if builder is not None:
            builder(sub.add_parser(only, help=SUBCOMMANDS[only]))
            return parser
    for name, text in SUBCOMMANDS.items():
        builder = _BUILDERS.get(name)
        p = sub.add_parser(name, help=text)
        if builder is not None:
            builder(p)
    return parser


def _recommend_options(rec: argparse.ArgumentParser) -> None:
    rec.add_argument("model", help="Hub repo id, model folder, or config.json path")
    _add_fact_options(rec)
    rec.add_argument("--format", default="text", choices=["text", "json", "python"])


def _check_options(chk: argparse.ArgumentParser) -> None:
    chk.add_argument("model", nargs="?", help="Hub repo id, model folder, or config.json path")
    _add_fact_options(chk)
    chk.add_argument("--flags", help="JSON object, or @FILE")
    chk.add_argument("--policy", type=Path, help="policy file (advisor.toml or pyproject.toml)")
    _add_report_options(chk)


def _lint_options(lint: argparse.ArgumentParser) -> None:
    lint.add_argument("paths", nargs="*", type=Path, help="files or folders (default: .)")
    _add_fact_options(lint)
    lint.add_argument("--policy", type=Path, help="policy file (default: ./advisor.toml or [tool.advisor])")
    _add_report_options(lint)


def _facts_options(facts: argparse.ArgumentParser) -> None:
    facts.add_argument("model", nargs="?", help="optionally, a model to include")
    _add_fact_options(facts)
    facts.add_argument("--format", default="json", choices=["json", "text"])


def _rules_options(rules: argparse.ArgumentParser) -> None:
    rules.add_argument("id", nargs="?")
    rules.add_argument("--format", default="text", choices=["text", "json"])


def _tui_options(tui: argparse.ArgumentParser) -> None:
    tui.add_argument("model", nargs="?")
    _add_fact_options(tui)



def _verify_options(ver: argparse.ArgumentParser) -> None:
    from advisor.verify.command import add_arguments

    ver.add_argument("model", help="Hub repo id, model folder, or config.json path")
    _add_fact_options(ver)
    add_arguments(ver)

_BUILDERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "recommend": _recommend_options, "check": _check_options, "lint": _lint_options, "facts": _facts_options,
    "rules": _rules_options, "gpus": lambda p: None, "tui": _tui_options, "verify": _verify_options,
}


def _target(args: argparse.Namespace) -> Any:
    from advisor.api import Target

    return Target(gpu=args.gpu, hardware_file=args.hardware, software_file=args.software,
                  with_packages=tuple(args.with_))


def _request(args: argparse.Namespace) -> Any:
    from advisor.facts.bundle import Request

    return Request(dtype=args.dtype, task=args.task, context=args.context, batch=args.batch, offline=args.offline)


def cmd_recommend(args: argparse.Namespace) -> int:
    from advisor.api import gather, recommend

    rec = recommend(gather(args.model, revision=args.revision, target=_target(args), request=_request(args)))
    if args.format == "json":
        from advisor.emit.json_out import recommendation_json

        sys.stdout.write(recommendation_json(rec))
    elif args.format == "python":
        sys.stdout.write(rec.python)
    else:
        from advisor.emit.text import recommendation_text

        sys.stdout.write(recommendation_text(rec))
    return EXIT_OK


def read_flags(raw: str | None) -> dict[str, Any]:
    """--flags as a JSON object, inline or @FILE."""
    if raw is None:
        raise InputError("check needs --flags JSON (or --policy FILE)")
    text = raw
    if raw.startswith("@"):
        try:
            text = Path(raw[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--flags {raw}: cannot read it ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--flags: not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InputError("--flags must be a JSON object of from_pretrained keyword arguments")
    return data


def cmd_check(args: argparse.Namespace) -> int:
    from advisor.ci.run import run_check

    return int(run_check(args))


def cmd_lint(args: argparse.Namespace) -> int:
    from advisor.ci.run import run_lint

    return run_lint(args)


def cmd_facts(args: argparse.Namespace) -> int:
    from advisor.api import gather, hardware_facts, software_facts
    from advisor.emit.json_out import dumps

    target = _target(args)
    if args.model:
        data = gather(args.model, revision=args.revision, target=target, request=_request(args)).to_json()
    else:
        data = {"hardware": hardware_facts(target).to_json(), "software": software_facts(target).to_json()}
    if args.format == "text":
        from advisor.emit.facts_text import facts_text

        sys.stdout.write(facts_text(data))
    else:
        sys.stdout.write(dumps(data))
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from advisor.emit.text import flag_doc_text, rule_doc_text, rules_list_text
    from advisor.engine.flags import load_flags
    from advisor.engine.rules import load_rules

    rules = load_rules()
    if args.id is None:
        if args.format == "json":
            from advisor.emit.json_out import dumps

            sys.stdout.write(dumps([{"id": r.id, "severity": r.severity, "title": r.title, "file": r.file}
                                    for r in rules]))
        else:
            sys.stdout.write(rules_list_text(rules))
        return EXIT_OK
    wanted = args.id.strip().upper()
    for rule in rules:
        if rule.id == wanted:
            sys.stdout.write(rule_doc_text(rule))
            return EXIT_OK
    for spec in load_flags():
        if spec.name == args.id.strip():
            sys.stdout.write(flag_doc_text(spec))
            return EXIT_OK
    import difflib

    near = difflib.get_close_matches(wanted, [r.id for r in rules], n=3, cutoff=0.5)
    prefix = [r.id for r in rules if r.id.startswith(wanted)][:5]
    hint = near or prefix
    raise InputError(f"no rule {args.id!r}" + (f"; did you mean {', '.join(hint)}?" if hint else
                                               " (`advisor rules` lists them)"))


def cmd_gpus(args: argparse.Namespace) -> int:
    from advisor.facts.gpu_catalog import load_catalog

    for g in load_catalog():
        sys.stdout.write(f"{g.name:<16} cc {g.cc[0]}.{g.cc[1]:<3} {g.memory_gib:>7.1f} GiB  {g.arch:<10} "
                         f"bf16 {'yes' if g.bf16 else 'no ':<3}  fp8 {'yes' if g.fp8 else 'no'}\n")
    return EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from advisor.tui.app import run_app
    except ImportError as exc:
        raise InputError(f"the TUI is not available: {exc}") from None
    return int(run_app(args))



def cmd_verify(args: argparse.Namespace) -> int:
    from advisor.verify.command import cmd_verify as run

    return run(args, _target(args), _request(args))


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "recommend": cmd_recommend, "check": cmd_check, "lint": cmd_lint, "facts": cmd_facts, "rules": cmd_rules,
    "gpus": cmd_gpus, "tui": cmd_tui, "verify": cmd_verify,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None)
        args = parser.parse_args(argv)
        if args.version:
            from advisor import __version__

            sys.stdout.write(f"advisor {__version__}\n")
            return EXIT_OK
        if args.command is None:
            if sys.stdin.isatty() and sys.stdout.isatty():
                args = build_parser("tui").parse_args(["tui"])
            else:
                parser.print_help(sys.stderr)
                return EXIT_INPUT
        return COMMANDS[args.command](args)
    except AdvisorError as exc:
        sys.stderr.write(f"advisor: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("advisor: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line, not a traceback (ADVISOR_DEBUG=1 shows it)
        import os

        if os.environ.get("ADVISOR_DEBUG"):
            raise
        sys.stderr.write(f"advisor: internal error, please report it: {type(exc).__name__}: {exc}\n")
        return EXIT_INTERNAL
