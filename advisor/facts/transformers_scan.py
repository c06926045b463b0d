"""Static reading of a transformers source tree: native model types, auto mappings, attention flags.

Nothing here imports transformers or torch. The auto mappings are literal `OrderedDict([...])` blocks
read with targeted text parsing; model classes are parsed one class at a time with `ast`, and their
base classes are followed within a file and across files (C3 order, as Python resolves attributes).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from advisor.core.frozen import field, frozen, record

FLAG_NAMES = (
    "_supports_sdpa",
    "_supports_flash_attn_2",
    "_supports_flash_attn_3",
    "_supports_flash_attn",
    "_supports_flex_attn",
)
from advisor.facts.attn_flags import COMPATIBLE, AttnFlags, Era  # noqa: E402  (re-exported)

__all__ = ["COMPATIBLE", "AttnFlags", "Era", "TransformersTree"]

# Auto classes in the order used to pick a loader for a model type (then the rest, in file order).
# Encoder-decoder loaders come before causal LM: for bart, whisper and their kin the causal-LM entry
# is only the decoder, while the checkpoint is the whole model.
PREFERRED_AUTO = (
    "AutoModelForSeq2SeqLM",
    "AutoModelForSpeechSeq2Seq",
    "AutoModelForCausalLM",
    "AutoModelForImageTextToText",
    "AutoModelForVision2Seq",
    "AutoModelForMultimodalLM",
    "AutoModelForMaskedLM",
    "AutoModel",
)
LAST_AUTO = ("AutoModelForPreTraining", "AutoModelWithLMHead")

_TOP_STATEMENT = re.compile(r"^[^\s)\]}#]", re.M)
_MAPPING_START = re.compile(r"^(\w+_NAMES)\s*=\s*OrderedDict(?:\[[^\]]*\])?\(\s*(?:#[^\n]*\s*)*\[", re.M)
_PAIR = re.compile(r'\(\s*"([^"]+)"\s*,\s*(?:"([^"]+)"|\(([^()]*)\))\s*,?\s*\)')
_ENTRY = re.compile(
    r'\(\s*"(?P<key>[^"]+)"\s*,\s*(?:"(?P<one>[^"]+)"|\((?P<many>[^()]*)\))\s*,?\s*\)'
    r"|\*list\(\s*(?P<spliced>\w+)\.items\(\)\s*\)"
)
_LAZY = re.compile(r"^(\w+)\s*=\s*_LazyAutoMapping\(\s*CONFIG_MAPPING_NAMES\s*,\s*(\w+)\s*,?\s*\)", re.M)
_AUTO_CLASS = re.compile(
    r"^class (_?Auto\w+)\(\w+\):\s*\n(?:\s*(?:#[^\n]*)?\n)*\s+_model_mapping = (\w+)", re.M
)
_IMPORT = re.compile(r"^(?:from [\w.]+ import \([^)]*\)|from [\w.]+ import [^\n(]+|import [^\n]+)", re.M)
_STRINGS = re.compile(r'"([^"]*)"')


@frozen
class ClassFlags:
    """The flag attributes a class resolves to (absent = False) and the files they were read from."""

    name: str
    values: dict[str, bool]
    compatible_flash: tuple[str, ...]
    files: tuple[str, ...]
    unresolved: tuple[str, ...] = ()
    """Bases or attribute values that could not be read statically (treated as absent)."""

    def effective(self, era: Era) -> AttnFlags:
        def any_of(names: tuple[str, ...]) -> bool:
            return any(self.values.get(n, False) for n in names)

        return AttnFlags(
            sdpa=self.values.get("_supports_sdpa", False),
            flash2=any_of(era.fa2),
            flash3=any_of(era.fa3),
            flex=era.flex and self.values.get("_supports_flex_attn", False),
            compatible_flash=self.compatible_flash if era.compatible else (),
        )


@frozen
class AutoMappings:
    """The auto mappings of one version: `{auto class: {model_type: classes}}` and unnamed ones."""

    by_auto: dict[str, dict[str, tuple[str, ...]]]
    """Mappings that an auto class loads, by auto class name, in file order."""
    other: dict[str, dict[str, tuple[str, ...]]]
    """Mappings with no auto class of their own, by variable name."""

    def all_classes(self) -> set[str]:
        return {c for m in (*self.by_auto.values(), *self.other.values()) for cs in m.values() for c in cs}

    def auto_order(self) -> list[str]:
        head = [a for a in PREFERRED_AUTO if a in self.by_auto]
        tail = [a for a in LAST_AUTO if a in self.by_auto]
        return head + [a for a in self.by_auto if a not in head and a not in tail] + tail

    def class_auto(self) -> dict[str, str]:
        """For every class an auto class loads: the first auto class (in preference order) that names it."""
        out: dict[str, str] = {}
        for auto in self.auto_order():
            for classes in self.by_auto[auto].values():
                for c in classes:
                    out.setdefault(c, auto)
        return out

    def type_default(self) -> dict[str, tuple[str, str]]:
        """For every model type: the (auto class, model class) chosen when `architectures` doesn't decide."""
        out: dict[str, tuple[str, str]] = {}
        for auto in self.auto_order():
            for model_type, classes in self.by_auto[auto].items():
                if classes:
                    out.setdefault(model_type, (auto, classes[0]))
        return out


@record
class _ClassNode:
    key: tuple[str, str]
    bases: list[_ClassNode | str] = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)


class TransformersTree:
    """A transformers source tree: `root` is the directory that contains the `transformers/` package."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pkg = root / "transformers"
        self._texts: dict[str, str] = {}
        self._imports: dict[str, dict[str, tuple[str, str]]] = {}
        self._nodes: dict[tuple[str, str], _ClassNode] = {}
        self._index: dict[str, str] | None = None

    # -- files --------------------------------------------------------------------------------------

    def text(self, rel: str) -> str:
        """The text of a file given relative to the package directory ('' if missing)."""
        found = self._texts.get(rel)
        if found is None:
            try:
                found = (self.pkg / rel).read_text(encoding="utf-8")
            except OSError:
                found = ""
            self._texts[rel] = found
        return found

    def era(self) -> Era:
        return Era.detect(self.text("modeling_utils.py"))

    # -- auto mappings ------------------------------------------------------------------------------

    def native_model_types(self) -> frozenset[str]:
        """Keys of `CONFIG_MAPPING_NAMES` as transformers builds it at import time."""
        return frozenset(self._config_mapping("models/auto/configuration_auto.py"))

    def _config_mapping(self, rel: str) -> dict[str, str]:
        text = self.text(rel)
        names: dict[str, str] = {}
        for chunk in _top_statements(text):
            if "CONFIG_MAPPING_NAMES" not in chunk.split("\n", 1)[0]:
                continue
            if chunk.startswith("from .auto_mappings import"):
                names.update(self._config_mapping("models/auto/auto_mappings.py"))
            elif _MAPPING_START.match(chunk):
                names = {k: v for k, v, _ in _PAIR.findall(chunk)}
            elif chunk.startswith(("CONFIG_MAPPING_NAMES.update(", "CONFIG_MAPPING_NAMES = OrderedDict(**")):
                names.update(_literal_str_dicts(chunk))
        return names

    def auto_mappings(self) -> AutoMappings:
        """Every `*_NAMES = OrderedDict([...])` of `modeling_auto.py`, keyed by the auto class loading it."""
        text = self.text("models/auto/modeling_auto.py")
        literal: dict[str, dict[str, tuple[str, ...]]] = {}
        for chunk in _top_statements(text):
            start = _MAPPING_START.match(chunk)
            if start is None:
                continue
            body = "\n".join(ln.split("#", 1)[0] for ln in chunk.splitlines())
            entries: dict[str, tuple[str, ...]] = {}
            for m in _ENTRY.finditer(body):
                if m.group("spliced"):  # `*list(OTHER_MAPPING_NAMES.items())`
                    entries.update(literal.get(m.group("spliced"), {}))
                else:
                    v, many = m.group("one"), m.group("many")
                    entries[m.group("key")] = (v,) if v else tuple(_STRINGS.findall(many))
            literal[start.group(1)] = entries
        lazy = {m.group(1): m.group(2) for m in _LAZY.finditer(text)}
        by_auto: dict[str, dict[str, tuple[str, ...]]] = {}
        used: set[str] = set()
        for m in _AUTO_CLASS.finditer(text):
            names = lazy.get(m.group(2))
            if names in literal:
                by_auto[m.group(1).lstrip("_")] = literal[names]
                used.add(names)
        other = {k: v for k, v in literal.items() if k not in used}
        return AutoMappings(by_auto, other)

    # -- classes ------------------------------------------------------------------------------------

    def find_class(self, name: str, model_type: str | None = None) -> str | None:
        """The modeling file (relative to the package) that defines class `name`."""
        pattern = re.compile(rf"^class {re.escape(name)}\b", re.M)
        if model_type:
            module = model_type.replace("-", "_")
            for folder in (f"models/{module}", f"models/deprecated/{module}"):
                for path in sorted((self.pkg / folder).glob("modeling_*.py")):
                    rel = path.relative_to(self.pkg).as_posix()
                    if _is_torch_modeling(rel) and pattern.search(self.text(rel)):
                        return rel
        return self._class_index().get(name)

    def _class_index(self) -> dict[str, str]:
        if self._index is None:
            index: dict[str, str] = {}
            for path in sorted(self.pkg.glob("models/**/modeling_*.py")):
                rel = path.relative_to(self.pkg).as_posix()
                if _is_torch_modeling(rel):
                    for m in re.finditer(r"^class (\w+)\b", self.text(rel), re.M):
                        index.setdefault(m.group(1), rel)
            self._index = index
        return self._index

    def class_flags(self, name: str, model_type: str | None = None) -> ClassFlags | None:
        """The attention flags of class `name` after base-class resolution; None if it isn't found."""
        rel = self.find_class(name, model_type)
        if rel is None:
            return None
        node = self._node(rel, name)
        return None if node is None else self._flags_of(node)

    def _flags_of(self, node: _ClassNode) -> ClassFlags:
        seen: dict[str, object] = {}
        files: list[str] = []
        unresolved: list[str] = []
        for n in _c3(node):
            if isinstance(n, str):
                if n.startswith("?"):
                    unresolved.append(n[1:])
                continue
            if n.key[0] not in files:
                files.append(n.key[0])
            unresolved.extend(n.unresolved)
            for attr, val in n.values.items():
                seen.setdefault(attr, val)
        listed = seen.get(COMPATIBLE)
        compatible = tuple(str(v) for v in listed) if isinstance(listed, tuple) else ()
        values = {k: bool(seen[k]) for k in FLAG_NAMES if k in seen}
        return ClassFlags(node.key[1], values, compatible, tuple(files), tuple(unresolved))

    def _node(self, rel: str, name: str, depth: int = 0) -> _ClassNode | None:
        key = (rel, name)
        if key in self._nodes:
            return self._nodes[key]
        text = self.text(rel)
        segment = _class_segment(text, name)
        if segment is None:
            alias = re.search(rf"^{re.escape(name)}\s*=\s*(\w+)\s*$", text, re.M)
            if alias and depth < 20:
                return self._resolve(rel, alias.group(1), depth + 1)
            return None
        cdef = _parse_class(segment, text, name)
        if cdef is None:
            return None
        node = _ClassNode(key)
        self._nodes[key] = node
        for base in cdef.bases:
            if isinstance(base, ast.Name):
                if base.id in ("object", "Generic"):
                    continue
                found = self._resolve(rel, base.id, depth + 1) if depth < 40 else None
                node.bases.append(found if found is not None else self._external(rel, base.id))
            elif isinstance(base, ast.Attribute):
                node.bases.append(ast.unparse(base))
        _read_body(cdef, node, self)
        return node

    def _external(self, rel: str, name: str) -> str:
        """Name an unresolved base: `?name` when it should have been found inside transformers."""
        source = self._import_map(rel).get(name)
        inside = source is not None and source[0].startswith("transformers")
        return f"?{name}" if inside else name

    def _resolve(self, rel: str, name: str, depth: int) -> _ClassNode | None:
        """Find base class `name` as seen from file `rel`: same file, or followed through its imports."""
        text = self.text(rel)
        if _defines(text, name):
            return self._node(rel, name, depth)
        source = self._import_map(rel).get(name)
        if source is None or not source[0].startswith("transformers"):
            return None
        module, original = source
        parts = module.split(".")[1:]
        candidates = ["/".join(parts) + ".py", "/".join([*parts, "__init__.py"])]
        for cand in candidates:
            cand_text = self.text(cand)
            if not cand_text:
                continue
            if not cand.startswith("models/") and not any(f in cand_text for f in FLAG_NAMES):
                return _ClassNode((cand, original))  # a helper module without attention flags
            if _defines(cand_text, original):
                return self._node(cand, original, depth)
            if cand.endswith("__init__.py"):
                folder = cand.rsplit("/", 1)[0]
                pattern = re.compile(rf"^class {re.escape(original)}\b", re.M)
                for path in sorted((self.pkg / folder).glob("*.py")):
                    sub = path.relative_to(self.pkg).as_posix()
                    if pattern.search(self.text(sub)):
                        return self._node(sub, original, depth)
        return None

    def _import_map(self, rel: str) -> dict[str, tuple[str, str]]:
        """Top-level `from X import a as b` of a file: local name → (absolute module, original name)."""
        found = self._imports.get(rel)
        if found is not None:
            return found
        package = ["transformers", *rel.split("/")[:-1]]
        out: dict[str, tuple[str, str]] = {}
        for m in _IMPORT.finditer(self.text(rel)):
            try:
                tree = ast.parse(m.group(0))
            except SyntaxError:
                continue
            for stmt in tree.body:
                if not isinstance(stmt, ast.ImportFrom):
                    continue
                base = package[: len(package) - stmt.level + 1] if stmt.level else []
                module = ".".join([*base, *(stmt.module.split(".") if stmt.module else [])])
                for alias in stmt.names:
                    out[alias.asname or alias.name] = (module, alias.name)
        self._imports[rel] = out
        return out


def _read_body(cdef: ast.ClassDef, node: _ClassNode, tree: TransformersTree) -> None:
    """Record the literal flag attributes a class body sets (`a = b = True`, `a: bool = True`, properties)."""
    wanted = (*FLAG_NAMES, COMPATIBLE)
    for stmt in cdef.body:
        targets: list[str] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            value = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            targets, value = [stmt.target.id], stmt.value
        elif isinstance(stmt, ast.FunctionDef) and stmt.name in wanted:
            # A property on the class is a truthy object when the class attribute is read.
            node.values[stmt.name] = True
            continue
        targets = [t for t in targets if t in wanted]
        if not targets or value is None:
            continue
        result = _evaluate(value, node, tree)
        if result is _UNREADABLE:
            node.unresolved.extend(f"{node.key[1]}.{t} = {ast.unparse(value)}" for t in targets)
            continue
        for t in targets:
            node.values[t] = result


_UNREADABLE = object()


def _evaluate(value: ast.expr, node: _ClassNode, tree: TransformersTree) -> object:
    if isinstance(value, ast.Constant):
        return value.value
    if isinstance(value, ast.List | ast.Tuple):
        items = [v.value for v in value.elts if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        return tuple(items) if len(items) == len(value.elts) else _UNREADABLE
    if isinstance(value, ast.Name) and value.id in node.values:
        return node.values[value.id]
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
        other = tree._resolve(node.key[0], value.value.id, 1)
        if other is not None:
            found = tree._flags_of(other)
            if value.attr == COMPATIBLE:
                return found.compatible_flash
            return found.values.get(value.attr, False)
    return _UNREADABLE


def _c3(node: _ClassNode) -> list[_ClassNode | str]:
    """Method resolution order of `node` (C3); unresolved bases are strings and have no attributes."""
    memo: dict[int, list[_ClassNode | str]] = {}

    def ident(n: _ClassNode | str) -> object:
        return n if isinstance(n, str) else n.key

    def mro(n: _ClassNode | str, seen: frozenset[object]) -> list[_ClassNode | str]:
        if isinstance(n, str) or ident(n) in seen:
            return [n]
        if id(n) in memo:
            return memo[id(n)]
        inner = seen | {ident(n)}
        seqs = [mro(b, inner) for b in n.bases] + [list(n.bases)]
        out: list[_ClassNode | str] = [n]
        seqs = [list(s) for s in seqs if s]
        while seqs:
            for seq in seqs:
                head = seq[0]
                if not any(ident(head) in map(ident, s[1:]) for s in seqs):
                    break
            else:  # inconsistent hierarchy: fall back to depth-first order
                head = seqs[0][0]
            out.append(head)
            seqs = [s[1:] if ident(s[0]) == ident(head) else s for s in seqs]
            seqs = [s for s in seqs if s]
        memo[id(n)] = out
        return out

    return mro(node, frozenset())


def _find_class(text: str, name: str) -> int:
    """Offset of the top-level `class name` statement in `text`, or -1 (a find, then a boundary check)."""
    needle = f"class {name}"
    at = text.find(needle)
    while at >= 0:
        after = text[at + len(needle) : at + len(needle) + 1]
        if (at == 0 or text[at - 1] == "\n") and not (after.isalnum() or after == "_"):
            return at
        at = text.find(needle, at + 1)
    return -1


def _defines(text: str, name: str) -> bool:
    """Whether `text` defines `name` at top level, as a class or by assignment."""
    if _find_class(text, name) >= 0:
        return True
    return (f"\n{name} =" in text or f"\n{name}=" in text) and re.search(
        rf"^{re.escape(name)}\s*=", text, re.M
    ) is not None


def _parse_class(segment: str, text: str, name: str) -> ast.ClassDef | None:
    """Parse one class; when its segment doesn't parse alone, parse the whole file."""
    try:
        body = ast.parse(segment).body
    except SyntaxError:
        body = ast.parse(text).body
    return next((c for c in body if isinstance(c, ast.ClassDef) and c.name == name), None)


def _top_statements(text: str) -> list[str]:
    """Split a module into top-level statements (each starts at column 0)."""
    starts = [m.start() for m in _TOP_STATEMENT.finditer(text)]
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def _class_segment(text: str, name: str) -> str | None:
    """The source of top-level class `name` (header, body), or None."""
    at = _find_class(text, name)
    if at < 0:
        return None
    end = _TOP_STATEMENT.search(text, at + len(name) + 6)
    segment = text[at : end.start() if end else len(text)]
    return _shrink(segment) if len(segment) > _LARGE_CLASS else segment


_LARGE_CLASS = 20_000
_WANTED = re.compile(r"\b(?:" + "|".join((*FLAG_NAMES, COMPATIBLE)) + r")\b")
_WANTED_DEF = re.compile(r"^    def (?:" + "|".join((*FLAG_NAMES, COMPATIBLE)) + r")\(")
_BODY_ATTR = re.compile(r"^    (?:\w+\s*(?::[^=\n]*)?=\s*)+")


def _shrink(segment: str) -> str:
    """Keep only the header and the flag statements of a large class, so `ast` has little to parse."""
    lines = segment.splitlines()
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(lines):  # the header, up to the colon that closes it
        out.append(lines[i])
        depth += _bracket_balance(lines[i])
        i += 1
        if depth <= 0 and out[-1].split("#", 1)[0].rstrip().endswith(":"):
            break
    kept = 0
    previous = ""
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("    _") and not line.startswith("    def _"):
            if line.strip():
                previous = line
            continue
        head = _BODY_ATTR.match(line)
        if head and _WANTED.search(head.group(0)):
            out.append(line)
            depth = _bracket_balance(line)
            while depth > 0 and i < len(lines):
                out.append(lines[i])
                depth += _bracket_balance(lines[i])
                i += 1
            kept += 1
        elif previous.strip() == "@property" and _WANTED_DEF.match(line):
            out.append(f"    {line.split('def ', 1)[1].split('(', 1)[0]} = True")
            kept += 1
        if line.strip():
            previous = line
    if not kept:
        out.append("    pass")
    return "\n".join(out) + "\n"


def _bracket_balance(line: str) -> int:
    code = line.split("#", 1)[0]
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")


def _literal_str_dicts(chunk: str) -> dict[str, str]:
    """The `"key": "value"` pairs of the dict literals in one statement."""
    out: dict[str, str] = {}
    for node in ast.walk(ast.parse(chunk)):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant):
                    out[str(k.value)] = str(v.value)
    return out


def _is_torch_modeling(rel: str) -> bool:
    file = rel.rsplit("/", 1)[-1]
    return not file.startswith(("modeling_tf_", "modeling_flax_"))
