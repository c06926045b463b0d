"""Find `from_pretrained(...)` calls of transformers model classes in Python files, with `ast`.

The files are parsed, never imported; a file whose text cannot hold such a call is not even parsed (a text
scan first: `may_hold_calls`). Only literal arguments are read: a model id, revision or flag held
in a variable, keyword unpacking (`**kwargs`) and `*args` are reported as unresolved, never guessed.
Calls in comments or strings are not calls, so they never match.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from advisor.core.errors import InputError
from advisor.core.frozen import field, frozen, replace
from advisor.core.logic import Unknown
from advisor.core.readfile import MAX_SOURCE_BYTES, read_bytes, show
from advisor.engine.check import canonical_names
from advisor.engine.pack import load_flags

SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "build", "dist"})
"""Directory names never walked (besides hidden ones): environments and build output."""
QUANT_METHODS = {
    "BitsAndBytesConfig": "bitsandbytes", "GPTQConfig": "gptq", "AwqConfig": "awq", "AqlmConfig": "aqlm",
    "QuantoConfig": "quanto", "EetqConfig": "eetq", "HqqConfig": "hqq", "FbgemmFp8Config": "fbgemm_fp8",
    "FineGrainedFP8Config": "fp8", "TorchAoConfig": "torchao",
    "CompressedTensorsConfig": "compressed-tensors", "HiggsConfig": "higgs", "BitNetConfig": "bitnet",
    "Mxfp4Config": "mxfp4", "VptqConfig": "vptq", "SpQRConfig": "spqr", "QuarkConfig": "quark",
    "FPQuantConfig": "fp_quant", "AutoRoundConfig": "auto-round",
}
DTYPE_ATTRS = frozenset({"bfloat16", "float16", "half", "float32", "float", "bf16", "fp16"})
_NOT_MODELS = re.compile(r"(Tokenizer|TokenizerFast|Config|Processor|FeatureExtractor|Pipeline)$")
_MODEL = re.compile(r"^(AutoModel\w*|\w*(Model|For[A-Z]\w*|LMHeadModel))$")
EXTRA_KWARGS = frozenset({"config", "quantization_config"})
"""Keywords read besides the flags advisor knows."""


@frozen
class Call:
    """One `from_pretrained(...)` call found in the code."""

    file: str
    line: int
    loader: str
    """The class it is called on, as transformers names it (`AutoModelForCausalLM`)."""
    model: str | None
    """The model id when it is a literal."""
    revision: str | None
    flags: dict[str, Any] = field(default_factory=dict)
    """Keywords as written → literal values, or `Unknown` (with the reason) when not a literal."""
    unresolved: tuple[str, ...] = ()
    """What in the call could not be read (keyword unpacking, *args, a non-literal model id)."""
    column: int = 1
    """1-based column where the call starts."""
    end_line: int = 0
    """The last line of the call (a suppression comment on any of its lines applies to it)."""
    positions: tuple[tuple[str, int, int], ...] = ()
    """(keyword as written, line, 1-based column) of each keyword the call passes."""


@frozen
class Unreadable:
    """A file that could not be parsed: its calls are unknown."""

    file: str
    line: int
    why: str


@cache
def _relevant() -> frozenset[str]:
    return frozenset(canonical_names(load_flags())) | EXTRA_KWARGS


def is_model_class(name: str) -> bool:
    """A transformers class whose from_pretrained loads a PyTorch model (not a tokenizer or config)."""
    if name.startswith(("TF", "Flax")) or _NOT_MODELS.search(name):
        return False
    return bool(_MODEL.match(name))


class _Bindings:
    """What each name in a module refers to: transformers modules and classes, torch, torch dtypes."""

    def __init__(self, tree: ast.Module) -> None:
        self.tf_modules: set[str] = set()
        self.classes: dict[str, str] = {}
        self.torch: set[str] = set()
        self.dtypes: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    root = a.name.split(".")[0]
                    bound = a.asname or root
                    if root == "transformers":
                        self.tf_modules.add(bound)
                    elif root == "torch" and (a.asname is None or a.name == "torch"):
                        self.torch.add(bound)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                root = node.module.split(".")[0]
                for a in node.names:
                    bound = a.asname or a.name
                    if root == "transformers" and a.name != "*":
                        if a.name[:1].islower():
                            self.tf_modules.add(bound)
                        else:
                            self.classes[bound] = a.name
                    elif node.module == "torch" and a.name in DTYPE_ATTRS:
                        self.dtypes[bound] = a.name
        for _ in range(3):  # `M = AutoModelForCausalLM`, then `N = M`
            for node in ast.walk(tree):
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name)):
                    cls = self.resolve_class(node.value)
                    if cls is not None:
                        self.classes.setdefault(node.targets[0].id, cls)

    def resolve_class(self, node: ast.expr) -> str | None:
        """The transformers class an expression names (`M`, `tf.AutoModel`, `transformers.models.x.Y`)."""
        if isinstance(node, ast.Name):
            return self.classes.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr[:1].isupper():
            base: ast.expr = node.value
            while isinstance(base, ast.Attribute) and base.attr[:1].islower():
                base = base.value
            if isinstance(base, ast.Name) and base.id in self.tf_modules:
                return node.attr
        return None

    def is_torch(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in self.torch


class _NotLiteral(Exception):
    pass


def _literal(node: ast.expr, b: _Bindings) -> Any:
    """The value of a literal argument; _NotLiteral when it is not one."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, int | float | str)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _literal(node.operand, b)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.Dict):
        out: dict[Any, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                raise _NotLiteral
            key = _literal(k, b)
            if not isinstance(key, str | int):
                raise _NotLiteral
            out[key] = _literal(v, b)
        return out
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e, b) for e in node.elts]
    if isinstance(node, ast.Attribute) and b.is_torch(node.value) and node.attr in DTYPE_ATTRS:
        return node.attr
    if isinstance(node, ast.Name) and node.id in b.dtypes:
        return b.dtypes[node.id]
    if isinstance(node, ast.Call) and not node.args:
        cls = b.resolve_class(node.func)
        if cls is not None and cls.endswith("Config") and cls != "AutoConfig":
            method = QUANT_METHODS.get(cls, cls.removesuffix("Config").lower())
            config: dict[str, Any] = {"quant_method": method}
            for kw in node.keywords:
                if kw.arg is None:
                    raise _NotLiteral
                config[kw.arg] = _literal(kw.value, b)
            return config
    raise _NotLiteral


def _calls(tree: ast.Module, b: _Bindings, file: str) -> list[Call]:
    calls: list[Call] = []
    bt_lines: dict[int, int] = {}
    for scope in _scopes(tree):
        assigned: dict[str, int] = {}
        for node in _walk_scope(scope):
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                found = _from_pretrained(node.value, b)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if found is not None:
                    for t in targets:
                        assigned[ast.unparse(t)] = id(node.value)
            if isinstance(node, ast.Call):
                loader = _from_pretrained(node, b)
                if loader is not None:
                    calls.append(_read_call(node, loader, b, file))
                    bt_lines[id(node)] = len(calls) - 1
                elif (isinstance(node.func, ast.Attribute) and node.func.attr == "to_bettertransformer"
                      and not node.args):
                    key = ast.unparse(node.func.value)
                    if key in assigned and assigned[key] in bt_lines:
                        i = bt_lines[assigned[key]]
                        calls[i] = _with_flag(calls[i], "to_bettertransformer", True)
                    else:
                        calls.append(Call(file, node.lineno, "to_bettertransformer", None, None,
                                          {"to_bettertransformer": True},
                                          (f"`{key}` does not come from a from_pretrained call in the same "
                                           "scope: the model it converts is unknown",)))
    return calls


def _with_flag(call: Call, key: str, value: Any) -> Call:
    return replace(call, flags={**call.flags, key: value})


def _scopes(tree: ast.Module) -> Iterator[ast.AST]:
    yield tree
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield node


def _walk_scope(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of one scope in source order, not descending into nested functions."""
    todo = list(ast.iter_child_nodes(scope))
    todo.reverse()
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        children = list(ast.iter_child_nodes(node))
        children.reverse()
        todo.extend(children)


def _from_pretrained(node: ast.Call, b: _Bindings) -> str | None:
    if isinstance(node.func, ast.Attribute) and node.func.attr == "from_pretrained":
        cls = b.resolve_class(node.func.value)
        if cls is not None and is_model_class(cls):
            return cls
    return None


def _read_call(node: ast.Call, loader: str, b: _Bindings, file: str) -> Call:
    where = f"{file}:{node.lineno}"
    unresolved: list[str] = []
    model_node: ast.expr | None = None
    for i, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            unresolved.append(f"*{ast.unparse(arg.value)} may pass any argument")
        elif i == 0:
            model_node = arg
    keywords: list[tuple[str, ast.expr]] = []
    positions: list[tuple[str, int, int]] = []
    for kw in node.keywords:
        if kw.arg is not None:
            keywords.append((kw.arg, kw.value))
            positions.append((kw.arg, kw.lineno, kw.col_offset + 1))
        elif isinstance(kw.value, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                                                    for k in kw.value.keys):
            for k, v in zip(kw.value.keys, kw.value.values, strict=True):
                if isinstance(k, ast.Constant):
                    keywords.append((str(k.value), v))
                    positions.append((str(k.value), k.lineno, k.col_offset + 1))
        else:
            unresolved.append(f"**{ast.unparse(kw.value)} may set any flag")
    flags: dict[str, Any] = {}
    for name, value in keywords:
        if name == "pretrained_model_name_or_path":
            model_node = value
            continue
        if name not in _relevant():
            continue
        try:
            flags[name] = _literal(value, b)
        except _NotLiteral:
            flags[name] = Unknown(f"flag.{name}", f"{name}={ast.unparse(value)} at {where} is not a literal")
    model: str | None = None
    if model_node is None:
        unresolved.append("the call names no model")
    else:
        try:
            literal = _literal(model_node, b)
        except _NotLiteral:
            literal = None
        if isinstance(literal, str) and literal.strip():
            model = literal
        else:
            unresolved.append(f"the model id `{ast.unparse(model_node)}` is not a literal")
    revision = flags.get("revision")
    return Call(file, node.lineno, loader, model, revision if isinstance(revision, str) else None, flags,
                tuple(unresolved), node.col_offset + 1, node.end_lineno or node.lineno, tuple(positions))


CALL_WORDS = ("from_pretrained", "to_bettertransformer")
"""A file can hold a call `lint` reports only if its text holds one of these attribute names."""


def may_hold_calls(text: str) -> bool:
    """Whether TEXT can hold a call `lint` reports: a text scan, about a hundred times cheaper than parsing.

    Python spells an attribute only with its letters, so a call needs one of CALL_WORDS in the text. Identifiers
    are NFKC-normalised (`ｆrom_pretrained` is `from_pretrained`), so non-ASCII text is scanned normalised.
    """
    if any(word in text for word in CALL_WORDS):
        return True
    if text.isascii():
        return False
    import unicodedata  # only for non-ASCII text that does not spell the words plainly

    normal = unicodedata.normalize("NFKC", text)
    return any(word in normal for word in CALL_WORDS)


def lint_source(text: str, file: str) -> list[Call]:
    """The from_pretrained calls in one file's source; SyntaxError when it does not parse.

    Text that cannot hold a call (`may_hold_calls`) is not parsed: it has none, and its syntax is for the
    interpreter and the linters to judge, not a fact about any model.
    """
    if not may_hold_calls(text):
        return []
    tree = ast.parse(text, filename=file)
    return _calls(tree, _Bindings(tree), file)


_SUPPRESS = re.compile(r"#\s*advisor:\s*ignore\[([^\]]*)\]")


@frozen
class Suppression:
    """A `# advisor: ignore[RULE-ID, ...]` comment: the findings of those rules on the call it sits on are
    not reported."""

    file: str
    line: int
    rules: tuple[str, ...]


def suppressions(text: str, file: str) -> list[Suppression]:
    """The suppression comments of one file (read from comments only: a string holding the text is not one)."""
    if "advisor:" not in text:
        return []
    import io
    import tokenize  # only for files that mention advisor: in a comment or string

    out: list[Suppression] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                m = _SUPPRESS.search(tok.string)
                if m:
                    rules = tuple(r.strip().upper() for r in m.group(1).split(",") if r.strip())
                    out.append(Suppression(file, tok.start[0], rules))
    except (tokenize.TokenError, SyntaxError):
        return out
    return out


def python_files(paths: Sequence[Path]) -> list[Path]:
    """The .py files under PATHS, sorted; hidden and environment directories are skipped."""
    out: set[Path] = set()
    for path in paths:
        try:
            is_dir = path.is_dir()
            exists = is_dir or os.path.lexists(path)
        except (OSError, ValueError):  # too long, a NUL, characters the file system cannot encode
            raise InputError(f"{show(path, 200)}: not a path that can be read") from None
        if is_dir:
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
                out.update(Path(root) / f for f in files if f.endswith(".py"))
        elif exists:  # a file, or something that is not one (a FIFO, a dangling link): a finding for it
            out.add(path)
        else:
            raise InputError(f"{show(path, 200)}: no such file or directory")
    return sorted(out, key=lambda p: p.as_posix())


def display_path(path: Path, cwd: str | None = None) -> str:
    """A path relative to the working directory (CWD: its absolute path, when the caller has it) when it is under
    it, with forward slashes (a symlink is named as it was found, not as what it points to, which may be a loop)."""
    base = cwd if cwd is not None else os.path.abspath(os.getcwd())
    here = os.path.abspath(path)
    if here == base:
        return "."
    prefix = base if base.endswith(os.sep) else base + os.sep
    if here.startswith(prefix):
        return Path(here[len(prefix):]).as_posix()
    return path.as_posix()


def lint_paths(paths: Iterable[Path]) -> tuple[list[Call], list[Unreadable], list[Suppression]]:
    """Every call in every Python file under PATHS, the files that could not be read, and the suppression
    comments."""
    calls: list[Call] = []
    bad: list[Unreadable] = []
    quiet: list[Suppression] = []
    cwd = os.path.abspath(os.getcwd())  # once, not per file
    for path in python_files(list(paths)):
        name = display_path(path, cwd)
        try:
            raw = read_bytes(path, "it", MAX_SOURCE_BYTES, label=name)
        except InputError as exc:
            bad.append(Unreadable(name, 1, str(exc).removeprefix(f"{name}: ")))
            continue
        try:
            text = raw.decode("utf-8")
            calls.extend(lint_source(text, name))
            quiet.extend(suppressions(text, name))
        except UnicodeDecodeError:
            bad.append(Unreadable(name, 1, "not UTF-8 text"))
        except SyntaxError as exc:
            bad.append(Unreadable(name, exc.lineno or 1, f"does not parse: {exc.msg}"))
        except (RecursionError, MemoryError):
            bad.append(Unreadable(name, 1, "does not parse: nested too deeply"))
        except ValueError as exc:
            bad.append(Unreadable(name, 1, f"does not parse: {exc}"))
    return calls, bad, quiet
