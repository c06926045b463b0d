"""Rule references: one grammar, and the link each reference is.

A rule's `docs.references` are links a person can follow to where its fact lives upstream, at a fixed
version: an issue thread, or a file at a release's tag. Each reference is one of these forms, optionally
followed by ` (note)` saying what to look at there (a symbol, the message, what changed); a note quotes code
in backticks, and each quoted piece is text found in the lines cited (tests/rules/test_references.py checks
that against the installed transformers):

- `owner/repo#N`: a GitHub issue or pull request.
  `huggingface/transformers#28005` → https://github.com/huggingface/transformers/issues/28005
- `<package> <version> <path>[:L1[-L2]]`: a file of a released package, `path` relative to the package's
  import folder, as in its wheel. `PACKAGES` maps the package to its repository, tag scheme and source
  folder. ``transformers 5.23.0 modeling_utils.py:1579-1652 (`_flash_attn_can_dispatch`)`` →
  https://github.com/huggingface/transformers/blob/v5.23.0/src/transformers/modeling_utils.py#L1579-L1652
- `owner/repo@<tag> <path>[:L1[-L2]]`: a repository file that is in no wheel (csrc/, a README).
  `Dao-AILab/flash-attention@v2.8.3 hopper/setup.py` →
  https://github.com/Dao-AILab/flash-attention/blob/v2.8.3/hopper/setup.py
- a `https://` URL at a tag, a commit or a versioned documentation page (a path part such as `v0.26.0`,
  `2.5` or a commit hash); GitHub issues take the `owner/repo#N` form.
- `docs/…`, `rules/…`, `scripts/…`, `tests/…`, `benchmarks/…`: a file (or, ending in `/`, a folder) of this
  project, a link relative to the repository (`docs/ci.md`).

A tag or commit is a ref with a digit in it (`v2.8.3`, `0.45.0`, a hash); branch names such as `main` move
and are refused, and so are pointers to files outside the repository (notes, absolute paths, `..`).
"""

from __future__ import annotations

import re

from advisor.core.frozen import frozen


@frozen
class Package:
    """Where a released package's source lives: repository, tag of a version, folder of its import path."""

    repo: str
    tag: str
    """The tag of a release, `{version}` marking the version (`v{version}`)."""
    folder: str
    """The folder in the repository that the wheel's import folder comes from (`src/transformers`)."""


PACKAGES: dict[str, Package] = {
    "transformers": Package("huggingface/transformers", "v{version}", "src/transformers"),
    "accelerate": Package("huggingface/accelerate", "v{version}", "src/accelerate"),
    "huggingface_hub": Package("huggingface/huggingface_hub", "v{version}", "src/huggingface_hub"),
    "optimum": Package("huggingface/optimum", "v{version}", "optimum"),
    "torch": Package("pytorch/pytorch", "v{version}", "torch"),
    "flash-attn": Package("Dao-AILab/flash-attention", "v{version}", "flash_attn"),
    "bitsandbytes": Package("bitsandbytes-foundation/bitsandbytes", "{version}", "bitsandbytes"),
    "vllm": Package("vllm-project/vllm", "v{version}", "vllm"),
    "xformers": Package("facebookresearch/xformers", "v{version}", "xformers"),
    "deepspeed": Package("deepspeedai/DeepSpeed", "v{version}", "deepspeed"),
}
"""Each package a `<package> <version> <path>` reference may name (the distribution's name on PyPI)."""

PROJECT_FOLDERS = ("docs", "rules", "scripts", "tests", "benchmarks")
"""The folders of this repository a reference may point into."""
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_PATH = r"[A-Za-z0-9_.][\w.+-]*(?:/[\w.+-]+)*"
_NOTE = r"(?: \((?P<note>[^()]*(?:\([^()]*\)[^()]*)*)\))?"
_LINES = r"(?::(?P<l1>[1-9]\d*)(?:-(?P<l2>[1-9]\d*))?)?"
ISSUE = re.compile(rf"^(?P<repo>{_NAME}/{_NAME})#(?P<n>[1-9]\d*){_NOTE}$")
RELEASE_FILE = re.compile(rf"^(?P<package>{_NAME}) (?P<version>\d+(?:\.\d+)+(?:\.?post\d+)?) "
                          rf"(?P<path>{_PATH}){_LINES}{_NOTE}$")
REPO_FILE = re.compile(rf"^(?P<repo>{_NAME}/{_NAME})@(?P<ref>[\w.+-]+) (?P<path>{_PATH}){_LINES}{_NOTE}$")
URL = re.compile(rf"^(?P<url>https://[^\s()]+){_NOTE}$")
PROJECT_FILE = re.compile(rf"^(?P<path>(?:{'|'.join(PROJECT_FOLDERS)})/(?:{_PATH}/?)?){_NOTE}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
_VERSION_PART = re.compile(r"^v?\d+(?:\.\d+)+")
_GITHUB_BLOB = re.compile(r"^https://github\.com/[^/]+/[^/]+/(?:blob|tree|raw)/(?P<ref>[^/]+)/")


class InvalidReference(ValueError):
    """A reference that is not in the grammar, or that points at something that moves or is not upstream."""


@frozen
class Reference:
    """One parsed reference: its text, the link, and for a release file the package, version and path."""

    text: str
    kind: str
    """`issue`, `release`, `repo`, `url` or `project`."""
    url: str
    """An absolute https URL, or for `project` a path relative to this repository."""
    note: str | None = None
    package: str | None = None
    version: str | None = None
    path: str | None = None
    lines: tuple[int, int] | None = None


def _anchor(l1: str | None, l2: str | None) -> tuple[tuple[int, int] | None, str]:
    if l1 is None:
        return None, ""
    first, last = int(l1), int(l2 or l1)
    if last < first:
        raise InvalidReference(f"line range {first}-{last} runs backwards")
    return (first, last), (f"#L{first}" if first == last else f"#L{first}-L{last}")


def _pinned(ref: str) -> bool:
    """A tag or a commit: has a digit (`v2.8.3`, `0.45.0`, a hash); `main`, `master`, `stable` have none."""
    return bool(_COMMIT.match(ref)) or any(c.isdigit() for c in ref)


def parse_reference(text: str) -> Reference:
    """The reference `text` in the grammar above; InvalidReference says why it is not one."""
    if text != text.strip() or not text:
        raise InvalidReference(f"reference {text!r} has leading or trailing space, or is empty")
    if m := ISSUE.match(text):
        return Reference(text, "issue", f"https://github.com/{m['repo']}/issues/{m['n']}", m["note"])
    if m := RELEASE_FILE.match(text):
        package = PACKAGES.get(m["package"])
        if package is None:
            raise InvalidReference(f"reference {text!r} names package {m['package']!r}, which has no known "
                                 f"repository (known: {', '.join(sorted(PACKAGES))})")
        _inside(text, m["path"])
        lines, anchor = _anchor(m["l1"], m["l2"])
        tag = package.tag.format(version=m["version"])
        url = f"https://github.com/{package.repo}/blob/{tag}/{package.folder}/{m['path']}{anchor}"
        return Reference(text, "release", url, m["note"], m["package"], m["version"], m["path"], lines)
    if m := REPO_FILE.match(text):
        if not _pinned(m["ref"]):
            raise InvalidReference(f"reference {text!r} is at {m['ref']!r}, a branch that moves: use a tag or a "
                                 "commit")
        _inside(text, m["path"])
        lines, anchor = _anchor(m["l1"], m["l2"])
        url = f"https://github.com/{m['repo']}/blob/{m['ref']}/{m['path']}{anchor}"
        return Reference(text, "repo", url, m["note"], path=m["path"], lines=lines)
    if m := URL.match(text):
        return Reference(text, "url", _checked_url(text, m["url"]), m["note"])
    if m := re.match(r"^([\w-]+):\s", text):
        raise InvalidReference(f"reference {text!r} points at {m[1]!r} notes, outside this repository: cite the "
                               "upstream file (package, version, path) or an issue (owner/repo#N)")
    if m := PROJECT_FILE.match(text):
        _inside(text, m["path"])
        return Reference(text, "project", m["path"], m["note"], path=m["path"])
    raise InvalidReference(
        f"reference {text!r} is none of: owner/repo#N, '<package> <version> <path>[:L1[-L2]]', "
        "'owner/repo@<tag> <path>', an https URL at a tag or version, a path under "
        f"{'/, '.join(PROJECT_FOLDERS)}/ (each may end in ' (note)')")


def _inside(text: str, path: str) -> None:
    """A path stays inside its repository or package: no `.` or `..` part."""
    if any(part in (".", "..") for part in path.split("/")):
        raise InvalidReference(f"reference {text!r}: the path {path!r} leaves its folder (a '.' or '..' part)")


def _checked_url(text: str, url: str) -> str:
    if m := _GITHUB_BLOB.match(url):
        if not _pinned(m["ref"]):
            raise InvalidReference(f"reference {text!r} is at {m['ref']!r}, a branch that moves: use a tag or a "
                                 "commit")
        return url
    if re.match(r"^https://github\.com/[^/]+/[^/]+/(?:issues|pull)/\d+", url):
        raise InvalidReference(f"reference {text!r}: write a GitHub issue or pull request as owner/repo#N")
    parts = url.split("://", 1)[1].split("?")[0].split("#")[0].split("/")[1:]
    if not any(_VERSION_PART.match(p) or _COMMIT.match(p) for p in parts):
        raise InvalidReference(f"reference {text!r} is a page with no version or commit in its path: it moves")
    return url


def reference_url(ref: str) -> str | None:
    """The link of a reference (absolute, or relative to this repository for `docs/…`); None if it is not
    in the grammar."""
    try:
        return parse_reference(ref).url
    except InvalidReference:
        return None
