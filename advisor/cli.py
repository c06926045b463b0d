"""The command line: parse the options into the API's objects, call the API, render through `emit.formats`.

This is the only module that knows argparse. Exit codes are `advisor.core.errors.ExitCode`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import advisor
from advisor import api
from advisor.core.errors import AdvisorError, ExitCode, InputError
from advisor.core.importable import missing as missing_modules
from advisor.core.plain import clean
from advisor.core.readfile import load_json, open_regular, read_text, show
from advisor.emit import formats
from advisor.emit.style import terminal_style


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("advisor").strip()  # main() prefixes "advisor: " once
        raise InputError(f"{where}: {message}" if where else message)


REQUEST_OPTIONS = ("dtype", "task", "context", "batch")
"""Options that fill `Request`; left unset (None) they take the policy's value or the default."""


def _add_fact_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("facts (default: this machine)")
    g.add_argument("--revision", help="branch, tag, commit or refs/pr/N")
    g.add_argument("--gpu", help="catalog GPU such as T4, A100-80GB, H100x8, or none")
    g.add_argument("--hardware", type=Path, metavar="FILE", help="hardware profile (JSON or TOML)")
    g.add_argument("--software", type=Path, metavar="FILE", help="software profile replacing detection")
    g.add_argument("--with", dest="with_", action="append", default=[], metavar="NAME==VERSION",
                   help="overlay a package version (NAME==none: not installed); repeatable")
    g.add_argument("--dtype", help="auto, bfloat16, float16 or float32; bf16, fp16, fp32 too (default: auto)")
    g.add_argument("--task", help="inference or training (default: inference)")
    g.add_argument("--context", type=int, metavar="N",
                   help="context length in tokens (default: 4096, or the model's maximum when smaller)")
    g.add_argument("--batch", type=int, metavar="N", help="batch size (default: 1)")
    g.add_argument("--offline", action="store_true", help="use only the cache and the bundled catalog")


def _add_format(p: argparse.ArgumentParser, renders: str, default: str) -> None:
    p.add_argument("--format", default=default, choices=formats.names(renders), help=f"(default: {default})")
    p.add_argument("--color", default="auto", choices=["auto", "always", "never"],
                   help="colour in text output (default: auto: a terminal without NO_COLOR)")
    p.add_argument("--output", "-o", type=Path, metavar="FILE",
                   help="write the answer to FILE (whole or not at all) instead of stdout")


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fail-on", default=None, choices=["error", "warning", "info"],
                   help="lowest severity that fails (default: the policy's, else error)")
    p.add_argument("--exit-zero", action="store_true", help="always exit 0 (report only)")
    p.add_argument("--max-cases", type=int, metavar="N",
                   help="run a model × target matrix of up to N cases (default: 10000; a larger one is refused)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress lines on stderr (shown once a run has taken two seconds)")
    _add_format(p, "report", "text")


SUBCOMMANDS = {
    "recommend": "recommend flags for a model",
    "check": "check proposed flags (exit 1 on findings)",
    "lint": "check the flags of from_pretrained calls found in Python files",
    "facts": "print the facts advisor reads",
    "rules": "list the rules, or show one rule's documentation",
    "gpus": "list the GPU catalog",
    "models": "list the bundled model catalog (what is answered offline)",
    "tui": "open the interactive app",
    "verify": "try the flags on a small model of the same architecture on this machine",
    "explain": "explain an error message or a log: the rules behind it, the fix, the safe flags",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, the other subcommands get no options (argparse is slow to build)."""
    parser = _Parser(prog="advisor", description="Safe from_pretrained flags for a model on given hardware.")
    parser.add_argument("--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    if only is not None:
        builder = _BUILDERS.get(only)
        if builder is not None:
            builder(_subparser(sub, only, SUBCOMMANDS[only]))
            return parser
    for name, text in SUBCOMMANDS.items():
        _BUILDERS[name](_subparser(sub, name, text))
    return parser


def _subparser(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    examples = EXAMPLES.get(name)
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    p: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text[:1].upper() + text[1:] + ".",
                                                epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    return p


EXAMPLES = {
    "recommend": ["advisor recommend meta-llama/Llama-3.1-8B --gpu T4 --dtype bf16",
                  "advisor recommend ./my-model --gpu H100x8 --context 32768 --format json",
                  "advisor recommend Qwen/Qwen2.5-7B --with transformers==4.57.1 --explain"],
    "check": ["advisor check meta-llama/Llama-3.1-8B --gpu T4 "
              "--flags '{\"attn_implementation\": \"flash_attention_2\"}'",
              "advisor check --policy advisor.toml --format sarif --output advisor.sarif"],
    "lint": ["advisor lint src/", "advisor lint src/ --gpu A10G --format github"],
    "facts": ["advisor facts --format text", "advisor facts Qwen/Qwen3-8B --gpu L4"],
    "rules": ["advisor rules", "advisor rules FA2-CC", "advisor rules dtype --format json"],
    "gpus": ["advisor gpus", "advisor gpus --format json"],
    "models": ["advisor models", "advisor models qwen"],
    "tui": ["advisor tui meta-llama/Llama-3.1-8B --gpu T4"],
    "verify": ["advisor verify fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json --candidates attn"],
}


def _recommend_options(rec: argparse.ArgumentParser) -> None:
    rec.add_argument("model", help="Hub repo id, model folder, or config.json path")
    _add_fact_options(rec)
    _add_format(rec, "recommendation", "text")
    rec.add_argument("--explain", "-v", action="store_true",
                     help="text: every rejected candidate with every reason, every finding with its fix")


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
    _add_format(facts, "facts", "json")


def _rules_options(rules: argparse.ArgumentParser) -> None:
    rules.add_argument("id", nargs="?")
    _add_format(rules, "rules", "text")


def _gpus_options(gpus: argparse.ArgumentParser) -> None:
    _add_format(gpus, "gpus", "text")


def _models_options(models: argparse.ArgumentParser) -> None:
    models.add_argument("query", nargs="*", help="only the models whose id holds these words (any order)")
    _add_format(models, "models", "text")


def _tui_options(tui: argparse.ArgumentParser) -> None:
    tui.add_argument("model", nargs="?")
    _add_fact_options(tui)


def _verify_options(ver: argparse.ArgumentParser) -> None:
    ver.add_argument("model", help="Hub repo id, model folder, or config.json path")
    _add_fact_options(ver)
    ver.add_argument("--candidates", default="recommended", choices=["recommended", "attn", "dtype", "all"],
                     help="the recommended flags only (default), or every attention and/or dtype candidate")
    ver.add_argument("--real", action="store_true", help="use the real weights in the local cache (never downloads)")
    _add_format(ver, "verify", "text")
    ver.add_argument("--timeout", type=float, default=300.0, metavar="S", help="seconds allowed per candidate")
    ver.add_argument("--max-params", type=int, metavar="N", help="parameter budget of the small model")
    ver.add_argument("--seq-len", type=int, default=32, metavar="N", help="tokens in the test sequence")
    ver.add_argument("--no-compile", action="store_true", help="run flex_attention without torch.compile")
    ver.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")


def _explain_options(exp: argparse.ArgumentParser) -> None:
    exp.add_argument("message", nargs="*", help="the error message (quote it), or - to read a log from stdin")
    exp.add_argument("--file", type=Path, metavar="LOG", help="read the log or traceback from LOG")
    exp.add_argument("--model", help="recommend flags for MODEL (default: the model the log names, if any)")
    _add_fact_options(exp)
    _add_format(exp, "explanation", "text")


_BUILDERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "recommend": _recommend_options, "check": _check_options, "lint": _lint_options, "facts": _facts_options,
    "rules": _rules_options, "gpus": _gpus_options, "models": _models_options, "tui": _tui_options,
    "verify": _verify_options, "explain": _explain_options,
}


# -- options → the API's objects -------------------------------------------------------------------


def _targets(args: argparse.Namespace) -> list[Any]:
    """The target the fact options name, as a one-element list; empty when none was named."""
    if not (args.gpu or args.hardware or args.software or args.with_):
        return []
    return [api.Target(gpu=args.gpu, hardware_file=args.hardware, software_file=args.software,
                   with_packages=tuple(args.with_))]


def _target(args: argparse.Namespace) -> Any:
    return api.Target(gpu=args.gpu, hardware_file=args.hardware, software_file=args.software,
                  with_packages=tuple(args.with_))


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The request fields given on the command line (an explicit default counts as given)."""
    given = {k: getattr(args, k) for k in REQUEST_OPTIONS if getattr(args, k) is not None}
    if args.offline:
        given["offline"] = True
    return given


def _request(args: argparse.Namespace) -> Any:
    return api.Request(**_given(args))


def _emit(renders: str, name: str, answer: Any, args: argparse.Namespace) -> None:
    output: Path | None = getattr(args, "output", None)
    stream = sys.stdout if output is None else None
    style = terminal_style(getattr(args, "color", "auto") if output is None else "never",
                           bool(getattr(args, "explain", False)), stream)
    text = formats.render(renders, name, answer, style)
    if output is None:
        sys.stdout.write(text)
    else:
        write_whole(output, text)


def write_whole(path: Path, text: str) -> None:
    """TEXT into PATH by a rename: a reader never sees half a file, and a failure leaves none behind."""
    import os  # only when writing a file
    import tempfile

    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise InputError(f"--output {path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"--output {path}: cannot write it ({exc.strerror})") from None
        raise


def read_flags(raw: str | None) -> dict[str, Any] | None:
    """--flags as a JSON object, inline or @FILE (None when not given)."""
    if raw is None:
        return None
    text = raw
    if raw.startswith("@"):
        text = read_text(raw[1:], "it", label=f"--flags {show(raw)}")
    data = load_json(text, "--flags")
    if not isinstance(data, dict):
        raise InputError("--flags must be a JSON object of from_pretrained keyword arguments")
    return data


# -- the subcommands --------------------------------------------------------------------------------


def cmd_recommend(args: argparse.Namespace) -> int:
    facts = api.gather(args.model, revision=args.revision, target=_target(args), request=_request(args))
    rec = api.recommend(facts)
    _emit("recommendation", args.format, rec, args)
    return ExitCode.OK


def cmd_check(args: argparse.Namespace) -> int:
    flags_file = args.flags[1:] if args.flags and args.flags.startswith("@") else None
    # flags without a model are refused before they are read
    flags = read_flags(args.flags) if args.model is not None else None if args.flags is None else {}
    with contextlib.nullcontext() if args.quiet else Progress("check", after_s=PROGRESS_AFTER_S) as progress:
        report = api.check_report(model=args.model, flags=flags, flags_file=flags_file, revision=args.revision,
                                  policy_file=args.policy, targets=_targets(args), request=_given(args),
                                  fail_on=args.fail_on, progress=progress, max_cases=args.max_cases)
    return _finish(report, args)


def cmd_lint(args: argparse.Namespace) -> int:
    with contextlib.nullcontext() if args.quiet else Progress("lint", after_s=PROGRESS_AFTER_S) as progress:
        report = api.lint_report(list(args.paths), policy_file=args.policy, targets=_targets(args),
                                 request=_given(args), fail_on=args.fail_on, progress=progress,
                                 max_cases=args.max_cases)
    return _finish(report, args)


def _finish(report: Any, args: argparse.Namespace) -> int:
    _emit("report", args.format, report, args)
    if args.format != "text":  # the text report ends with the same summary
        sys.stderr.write(report.summary() + "\n")
    return int(report.exit_code(bool(args.exit_zero)))


def cmd_facts(args: argparse.Namespace) -> int:
    target = _target(args)
    if args.model:
        data = api.gather(args.model, revision=args.revision, target=target, request=_request(args)).to_json()
    else:
        data = {"hardware": api.hardware_facts(target).to_json(), "software": api.software_facts(target).to_json()}
    _emit("facts", args.format, data, args)
    return ExitCode.OK


def cmd_rules(args: argparse.Namespace) -> int:
    if args.id is None:
        _emit("rules", args.format, api.rules(), args)
        return ExitCode.OK
    rule = api.rule(args.id)
    if rule is not None:
        _emit("rule", args.format, rule, args)
        return ExitCode.OK
    spec = api.flag(args.id)
    if spec is not None:
        _emit("flag", args.format, spec, args)
        return ExitCode.OK
    import difflib  # only to suggest a rule id

    wanted = args.id.strip().upper()
    ids = [r.id for r in api.rules()]
    hint = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.5) or [i for i in ids if i.startswith(wanted)][:5]
    raise InputError(f"no rule {args.id!r}" + (f"; did you mean {', '.join(hint)}?" if hint else
                                               " (`advisor rules` lists them)"))


def cmd_gpus(args: argparse.Namespace) -> int:
    _emit("gpus", args.format, api.gpus(), args)
    return ExitCode.OK


def cmd_models(args: argparse.Namespace) -> int:
    _emit("models", args.format, api.models(" ".join(args.query)), args)
    return ExitCode.OK


TUI_INSTALL = "pip install 'hf-advisor[tui]'"


def tui_missing() -> list[str]:
    """The packages of the TUI extra that cannot be imported here."""
    return missing_modules("textual", "rich")


def cmd_tui(args: argparse.Namespace) -> int:
    if missing := tui_missing():
        raise InputError(f"the TUI needs {' and '.join(missing)}, which cannot be imported here: {TUI_INSTALL} "
                         "(recommend, check, lint and the JSON need neither)")
    from advisor.tui.app import run_app  # textual only for the app

    return run_app(args.model, args.revision, _target(args), _request(args))


PROGRESS_AFTER_S = 2.0
"""check and lint write progress lines once a run has taken this long (a cold policy over the Hub)."""


class Progress:
    """Progress lines on stderr, `advisor COMMAND [12.3 s] LINE` (stdout stays the report); a context manager.

    With AFTER_S, nothing is written until the run has taken that long; then the first line (what the run
    is about) and the latest one are written, and every line after them.
    """

    def __init__(self, command: str, after_s: float = 0.0) -> None:
        self.command = command
        self.start = time.monotonic()
        self.first: str | None = None
        self.latest: str | None = None
        self.shown = after_s <= 0
        self.lock = threading.Lock()
        self.timer = threading.Timer(after_s, self._catch_up) if not self.shown else None
        if self.timer is not None:
            self.timer.daemon = True
            self.timer.start()

    def _write(self, text: str) -> None:
        sys.stderr.write(f"advisor {self.command} [{time.monotonic() - self.start:5.1f} s] {clean(text)}\n")
        sys.stderr.flush()

    def _catch_up(self) -> None:
        with self.lock:
            if self.shown:
                return
            self.shown = True
            for text in dict.fromkeys(t for t in (self.first, self.latest) if t is not None):
                self._write(text)

    def __call__(self, text: str) -> None:
        with self.lock:
            if self.shown:
                self._write(text)
                return
            if self.first is None:
                self.first = text
            self.latest = text

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.shown = True  # a run that ended before AFTER_S stays silent
        if self.timer is not None:
            self.timer.cancel()


def cmd_verify(args: argparse.Namespace) -> int:
    api.verify_ready()
    if args.timeout <= 0 or not 4 <= args.seq_len <= 8192:
        raise InputError("--timeout must be positive and --seq-len between 4 and 8192")
    if args.max_params is not None and args.max_params < 1000:
        raise InputError("--max-params must be at least 1000")
    options = api.VerifyOptions(seq_len=args.seq_len, max_params=args.max_params, timeout_s=args.timeout,
                                compile_flex=not args.no_compile, real=args.real)
    facts = api.gather(args.model, revision=args.revision, target=_target(args), request=_request(args))
    report = api.verify(facts, args.candidates, options, progress=None if args.quiet else Progress("verify"))
    _emit("verify", args.format, report, args)
    if report.skipped:
        sys.stderr.write(f"advisor: not verified: {report.skipped}\n")
        return ExitCode.INPUT
    return ExitCode.FINDINGS if report.contradictions else ExitCode.OK


def _report_failure(args: argparse.Namespace | None, message: str) -> None:
    """A check or lint asked for SARIF in a file gets a valid SARIF log that carries the error (code scanning
    then shows why there are no results) rather than no file or an empty one."""
    if args is None or getattr(args, "format", None) != "sarif" or getattr(args, "output", None) is None:
        return
    from advisor.emit.sarif import failure_sarif  # only on this error path

    try:
        write_whole(args.output, failure_sarif(args.command, message))
    except InputError as exc:
        sys.stderr.write(f"advisor: {exc}\n")


def cmd_explain(args: argparse.Namespace) -> int:
    if args.message and args.file is not None:
        raise InputError("give the message or --file LOG, not both")
    options = {"model": args.model, "revision": args.revision, "target": _target(args), "request": _request(args)}
    if args.file is not None:
        with open_regular(args.file, "it", label=f"--file {show(args.file)}") as fh:
            try:
                result = api.explain(fh, **options)
            except OSError as exc:
                raise InputError(f"--file {show(args.file)}: cannot read it ({exc.strerror or exc})") from None
    elif args.message == ["-"]:
        if sys.stdin.isatty():
            sys.stderr.write("advisor: reading the log from stdin; end it with Ctrl-D\n")
        result = api.explain(sys.stdin.buffer, **options)
    elif args.message:
        result = api.explain(" ".join(args.message), **options)
    else:
        raise InputError("explain needs the error message, - to read a log from stdin, or --file LOG")
    _emit("explanation", args.format, result, args)
    if not result.explained:
        sys.stderr.write("advisor: no rule explains this error\n")
    return int(result.exit_code)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "recommend": cmd_recommend, "check": cmd_check, "lint": cmd_lint, "facts": cmd_facts, "rules": cmd_rules,
    "gpus": cmd_gpus, "models": cmd_models, "tui": cmd_tui, "verify": cmd_verify, "explain": cmd_explain,
}


MAX_MESSAGE = 1000
"""An error message is cut to this many characters (an input echoed in it can be megabytes)."""


def one_line(message: str) -> str:
    """MESSAGE as one line a terminal shows as it is: control characters escaped, cut when long."""
    text = clean(message)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


def _tolerant_streams() -> None:
    """stdout and stderr write what they cannot encode as escapes instead of failing (a file name that is
    not UTF-8 arrives as lone surrogates)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: raised in the main thread, so that every `finally` and cleanup runs (the
    temporary files of the cache and of --output are removed) before advisor exits 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signum)


def _stop_cleanly_on_signals() -> None:
    import signal  # only for the command line, which owns the process

    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) in (signal.SIG_DFL, None):
            with contextlib.suppress(OSError, ValueError):
                signal.signal(number, _raise_stopped)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _tolerant_streams()
    _stop_cleanly_on_signals()
    args: argparse.Namespace | None = None
    try:
        if argv and not argv[0].startswith("-") and argv[0] not in SUBCOMMANDS:
            import difflib  # only for a command that does not exist

            near = difflib.get_close_matches(argv[0], list(SUBCOMMANDS), n=1, cutoff=0.6)
            hint = f"; did you mean `advisor {near[0]}`?" if near else f" (choose from {', '.join(SUBCOMMANDS)})"
            raise InputError(f"no command {clean(argv[0])[:60]!r}{hint}")
        parser = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None)
        args = parser.parse_args(argv)
        if args.version:
            sys.stdout.write(f"advisor {advisor.__version__}\n")
            return ExitCode.OK
        if args.command is None:
            if sys.stdin.isatty() and sys.stdout.isatty() and not tui_missing():
                args = build_parser("tui").parse_args(["tui"])
            else:
                parser.print_help(sys.stderr)
                return ExitCode.INPUT
        return int(COMMANDS[args.command](args))
    except AdvisorError as exc:
        message = one_line(str(exc))
        sys.stderr.write(f"advisor: {message}\n")
        _report_failure(args, message)
        return int(exc.exit_code)
    except Stopped as exc:
        sys.stderr.write(f"advisor: stopped by signal {exc.signum}\n")
        return 128 + exc.signum
    except KeyboardInterrupt:
        sys.stderr.write("advisor: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # a bug: one line, not a traceback (ADVISOR_DEBUG=1 shows it)
        import os  # only on this last-resort path

        if os.environ.get("ADVISOR_DEBUG"):
            raise
        message = one_line(f"internal error, please report it: {type(exc).__name__}: {exc}")
        sys.stderr.write(f"advisor: {message}\n")
        _report_failure(args, message)
        return ExitCode.INTERNAL
