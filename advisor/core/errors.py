"""The exit codes advisor ends with, and the errors that end in a one-line message instead of a traceback."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit code of `advisor` (README, "Exit codes")."""

    OK = 0
    """Compatible, or an answer was printed."""
    FINDINGS = 1
    """`check`, `lint`, `verify`: a finding at or above `--fail-on` (or an outcome that contradicts the rules)."""
    INPUT = 2
    """Usage or input error: a bad flag, file, config, GPU name or version."""
    FACTS = 3
    """The facts needed could not be obtained (offline, unreachable Hub, gated repo, a rule evaluated unknown);
    `explain`: no rule explains the error."""
    INTERNAL = 70
    """A bug in advisor: one line asking for a report (ADVISOR_DEBUG=1 shows the traceback)."""
    INTERRUPTED = 130
    """Stopped with Ctrl-C."""


class AdvisorError(Exception):
    """Base of every error that ends in a one-line message instead of a traceback."""

    exit_code: ExitCode = ExitCode.INPUT


class InputError(AdvisorError):
    """Bad input from the user: a flag, a file, a config, a name (exit 2)."""

    exit_code = ExitCode.INPUT


class FactsUnavailable(AdvisorError):
    """The facts needed could not be obtained: offline, unreachable, missing (exit 3)."""

    exit_code = ExitCode.FACTS
