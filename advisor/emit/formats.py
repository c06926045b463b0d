"""The one registry of output formats: what each renders and where its renderer lives.

A format is a name, the kind of answer it renders, and `render(answer) -> str`. The CLI builds every
`--format` choice from this table, so adding a format is one entry here and one function. Renderers are
imported when first used: `advisor recommend --format json` never loads rich or the CI formats.

Kinds: `recommendation` (advisor recommend), `report` (check and lint), `facts`, `rules` (the list),
`rule` (one rule's documentation), `flag` (one flag's documentation), `gpus`, `models`, `verify`, `explanation`
(advisor explain).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any, Protocol

from advisor.core.errors import InputError
from advisor.core.frozen import frozen
from advisor.emit.style import Style


class Format(Protocol):
    """An output format."""

    @property
    def name(self) -> str: ...

    @property
    def renders(self) -> str: ...

    def render(self, answer: Any, style: Style | None = None) -> str: ...


@frozen
class Registered:
    """A format whose renderer is `module:function` inside `advisor.emit`, imported on first use."""

    name: str
    renders: str
    renderer: str
    description: str
    styled: bool = False
    """The renderer lays text out for a terminal and takes a `Style` (width, colour, --explain)."""

    def render(self, answer: Any, style: Style | None = None) -> str:
        module, function = self.renderer.split(":")
        fn: Callable[..., str] = getattr(import_module(f"advisor.emit.{module}"), function)
        return fn(answer, style) if self.styled else fn(answer)


FORMATS: tuple[Registered, ...] = (
    Registered("text", "recommendation", "text:recommendation_text", "the flags, findings and memory plan", True),
    Registered("json", "recommendation", "json_out:recommendation_json", "JSON, schema_version 1"),
    Registered("python", "recommendation", "snippet:recommendation_python", "a ready-to-paste loading snippet"),
    Registered("text", "report", "check_text:report_text", "findings and unknowns for a terminal", True),
    Registered("json", "report", "check_json:report_json", "JSON, schema_version 1"),
    Registered("sarif", "report", "sarif:report_sarif", "SARIF 2.1.0 for code scanning"),
    Registered("github", "report", "github:report_github", "GitHub workflow annotations"),
    Registered("junit", "report", "junit:report_junit", "JUnit XML"),
    Registered("markdown", "report", "markdown:report_markdown", "a markdown table"),
    Registered("json", "facts", "json_out:dumps", "every fact as JSON"),
    Registered("text", "facts", "facts_text:facts_text", "one table per section", True),
    Registered("text", "rules", "text:rules_list_text", "one line per rule"),
    Registered("json", "rules", "catalogs:rules_json", "id, severity, title and file of each rule"),
    Registered("text", "rule", "text:rule_doc_text", "the rule's documentation"),
    Registered("json", "rule", "catalogs:rule_json", "the rule as JSON"),
    Registered("text", "flag", "text:flag_doc_text", "the flag's documentation"),
    Registered("json", "flag", "catalogs:flag_json", "the flag as JSON"),
    Registered("text", "gpus", "catalogs:gpus_text", "one line per GPU"),
    Registered("json", "gpus", "catalogs:gpus_json", "the catalog as JSON"),
    Registered("text", "models", "catalogs:models_text", "one line per model"),
    Registered("json", "models", "catalogs:models_json", "the catalog as JSON"),
    Registered("text", "verify", "verify_out:report_text", "a table of candidates and outcomes"),
    Registered("json", "verify", "verify_out:report_json", "JSON"),
    Registered("text", "explanation", "explain_out:explanation_text", "the rules that explain the error, best first"),
    Registered("json", "explanation", "explain_out:explanation_json", "JSON, schema_version 1"),
)


def names(renders: str) -> tuple[str, ...]:
    """The format names for one kind of answer, in registry order."""
    return tuple(f.name for f in FORMATS if f.renders == renders)


def get(renders: str, name: str) -> Format:
    """The format NAME for a kind of answer; InputError naming the choices when there is none."""
    for f in FORMATS:
        if f.renders == renders and f.name == name:
            return f
    raise InputError(f"--format {name!r}: choose one of {', '.join(names(renders))}")


def render(renders: str, name: str, answer: Any, style: Style | None = None) -> str:
    return get(renders, name).render(answer, style)
