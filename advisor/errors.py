"""The two kinds of failure a user can meet, each with its exit code."""

from __future__ import annotations


class AdvisorError(Exception):
    """Base of every error that ends in a one-line message instead of a traceback."""

    exit_code = 2


class InputError(AdvisorError):
    """Bad input from the user: a flag, a file, a config, a name (exit 2)."""

    exit_code = 2


class FactsUnavailable(AdvisorError):
    """The facts needed could not be obtained: offline, unreachable, missing (exit 3)."""

    exit_code = 3
