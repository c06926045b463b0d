"""A config class's defaults, read statically (`ast`, never imported) from a transformers source tree.

transformers fills every key a config.json leaves out from its config class: the dataclass fields of 5.x
(`hidden_size: int = 2304`), the `__init__` keyword defaults of 4.x (`hidden_size=2304`), keyword defaults
read from `kwargs` (`kwargs.get("sliding_window_pattern", 6)`), and the sub-configs of a wrapper
(`sub_configs_defaults` / `sub_configs`: `text_config` -> Gemma3TextConfig). Base classes are followed
through the file's imports. `config_defaults(root, model_type)` gives the complete default dict, sub-configs
nested; `complete(config, root)` fills a config.json the way transformers would. `root` is a directory that
holds the `transformers/` package: an installed site-packages or an unpacked wheel.

Values computed in `__post_init__` (a `layer_types` derived from a pattern, `head_dim` from the hidden size)
are not defaults and stay absent; only literal defaults are read.
"""

from __future__ import annotations

import ast
import operator
import re
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from advisor.core.cache import cache_read, cache_write
from advisor.core.data import file_stamp
from advisor.core.frozen import frozen
from advisor.facts.transformers_support import installed_transformers

_MAPPING_LINE = re.compile(r'\(\s*"([^"]+)"\s*,\s*"([^"]+)"\s*\)')
_SKIP_ARGS = {"self", "kwargs", "args"}
CACHE_FOLDER = "config-classes"
_CACHE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")
READER_FORMAT = 2
BASE_CLASSES = {"PreTrainedConfig", "PretrainedConfig"}
"""Part of every cache key: bumped whenever what the reader records changes."""
LOADING_KEYS = frozenset({
    "name_or_path", "torch_dtype", "dtype", "attn_implementation", "experts_implementation", "transformers_version",
    "gradient_checkpointing", "tf_legacy_loss", "use_bfloat16", "output_attentions", "output_hidden_states",
    "return_dict", "torchscript", "chunk_size_feed_forward", "problem_type",
    "ignore_keys_at_rope_validation", "architectures", "id2label", "label2id",
})
"""Keys about loading and bookkeeping, not the model: never filled in (a missing dtype stays unknown)."""
TEXT_SUBS = ("text_config", "llm_config", "language_config")
"""Sub-configs that hold a wrapper's language model."""
FLAT_SIZE_KEYS = ("hidden_size", "num_hidden_layers")
"""Sizes that, at the top level of a composite config without its text sub-config, describe the language model."""
MAX_DEPTH = 12
"""Base classes followed at most."""
MAX_NESTING = 3
"""Sub-config levels completed at most (wrapper -> thinker -> text config)."""


@frozen
class ConfigClass:
    """What a config class declares: its literal defaults, aliases and sub-configs."""

    model_type: str
    name: str
    file: str
    """The file that defines it, relative to the `transformers/` package."""
    fields: tuple[str, ...]
    """Every field the class (and its bases) declares, with or without a literal default."""
    defaults: dict[str, Any]
    kwarg_defaults: dict[str, Any]
    """Keys read from `**kwargs` with a literal default in `__init__` / `__post_init__`."""
    attribute_map: dict[str, str]
    """Alias -> the attribute it stands for (`n_embd` style spellings)."""
    sub_configs: dict[str, str]
    """Key -> the model type of its default config class."""
    legacy_keys: dict[str, str]
    """Old key -> the field `__init__`/`__post_init__` moves it to (bloom's `n_embed` -> `hidden_size`)."""
    optional_subs: tuple[str, ...] = ()
    """Sub-configs left out when absent (`SubConfigSpec(optional=True)`): no default tower is built."""
    sub_kwargs: dict[str, dict[str, Any]] | None = None
    """A sub-config's `init_kwargs`: what its default instance is built with, over its class's defaults."""
    common: tuple[str, ...] = ()
    """Fields of the base config class every model shares (`is_encoder_decoder`, ...): filled without a note."""

    def to_json(self) -> dict[str, Any]:
        return {"model_type": self.model_type, "name": self.name, "file": self.file, "fields": list(self.fields),
                "defaults": self.defaults, "kwarg_defaults": self.kwarg_defaults,
                "attribute_map": self.attribute_map, "sub_configs": self.sub_configs,
                "legacy_keys": self.legacy_keys, "optional_subs": list(self.optional_subs),
                "sub_kwargs": self.sub_kwargs or {}, "common": list(self.common)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> ConfigClass:
        return ConfigClass(data["model_type"], data["name"], data["file"], tuple(data["fields"]), data["defaults"],
                           data["kwarg_defaults"], data["attribute_map"], data["sub_configs"],
                           data["legacy_keys"], tuple(data.get("optional_subs") or ()), data.get("sub_kwargs") or {},
                           tuple(data.get("common") or ()))


def package_dir(root: Path) -> Path:
    """The `transformers/` package under ROOT (or ROOT itself when it is the package)."""
    return root if (root / "models" / "auto").is_dir() else root / "transformers"


class ConfigReader:
    """Reads config classes of one source tree; files and classes are parsed once.

    With `cache_key` (what identifies the tree's content), classes read are also kept in advisor's disk cache.
    """

    def __init__(self, root: Path, cache_key: str | None = None) -> None:
        self.pkg = package_dir(root)
        self.cache_key = cache_key
        self._trees: dict[str, ast.Module | None] = {}
        self._mapping: dict[str, str] | None = None
        self._modules: dict[str, str] | None = None
        self._classes: dict[str, ConfigClass | None] = {}

    # -- files ------------------------------------------------------------------------------------

    def _tree(self, rel: str) -> ast.Module | None:
        if rel not in self._trees:
            try:
                self._trees[rel] = ast.parse((self.pkg / rel).read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
                self._trees[rel] = None
        return self._trees[rel]

    def _text(self, rel: str) -> str:
        try:
            return (self.pkg / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return ""

    def config_names(self) -> dict[str, str]:
        """model_type -> config class name, from `CONFIG_MAPPING_NAMES` (5.x: auto_mappings.py)."""
        if self._mapping is None:
            self._mapping, self._modules = {}, {}
            for rel in ("models/auto/auto_mappings.py", "models/auto/configuration_auto.py"):
                text = self._text(rel)
                for block, target in (("CONFIG_MAPPING_NAMES", self._mapping),
                                      ("SPECIAL_MODEL_TYPE_TO_MODULE_NAME", self._modules)):
                    for m in re.finditer(rf"^{block}\s*=\s*OrderedDict[^(]*\(\s*\[(.*?)^\s*\]", text, re.M | re.S):
                        target.update(dict(_MAPPING_LINE.findall(m.group(1))))
                    for m in re.finditer(rf"^{block}\.update\(\s*\{{(.*?)\}}", text, re.M | re.S):
                        target.update(dict(re.findall(r'"([^"]+)"\s*:\s*"([^"]+)"', m.group(1))))
                extra = re.search(r'CONFIG_MAPPING_NAMES\s*=\s*OrderedDict\(\*\*\{(.*?)\}', text, re.S)
                if extra:
                    self._mapping.update(dict(re.findall(r'"([^"]+)"\s*:\s*"([^"]+)"', extra.group(1))))
        return self._mapping

    def _module(self, model_type: str) -> str:
        self.config_names()
        return (self._modules or {}).get(model_type, model_type.replace("-", "_"))

    # -- defaults ---------------------------------------------------------------------------------

    def defaults(self, model_type: str, depth: int = 0) -> dict[str, Any]:
        """The literal defaults of MODEL_TYPE's class, sub-configs' defaults nested (optional ones left out);
        {} when not found."""
        cls = self.config_class(model_type)
        if cls is None:
            return {}
        out: dict[str, Any] = {**cls.defaults, "model_type": model_type}
        if depth < MAX_NESTING:
            for key, sub in cls.sub_configs.items():
                if key not in cls.optional_subs:
                    out[key] = {**self.defaults(sub, depth + 1), **(cls.sub_kwargs or {}).get(key, {})}
        return out

    def complete(self, config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """CONFIG with every absent key filled from its class's defaults (sub-configs too), and the keys filled."""
        filled: list[str] = []
        return self._complete(config, None, 0, filled, ""), filled

    def _complete(self, config: dict[str, Any], model_type: str | None, depth: int, filled: list[str],
                  where: str) -> dict[str, Any]:
        mt = config.get("model_type") if isinstance(config.get("model_type"), str) else model_type
        cls = self.config_class(mt) if mt else None
        if cls is None:
            return config
        out = dict(config)
        for old, new in cls.legacy_keys.items():
            if old in out and new not in out:
                out[new] = out[old]
                filled.append(f"{where}{new} (from `{old}`)")
        aliases = cls.attribute_map
        present = set(out) | {aliases[k] for k in out if k in aliases} | {k for k, v in aliases.items() if v in out}
        for key, value in [*cls.defaults.items(), *cls.kwarg_defaults.items()]:
            if key not in present and value is not None and not key.startswith("_") and key not in LOADING_KEYS:
                out[key] = value
                present.add(key)
                if key not in cls.common:
                    filled.append(f"{where}{key}")
        if depth < MAX_NESTING:
            for key, sub_type in cls.sub_configs.items():
                given = out.get(key)
                if isinstance(given, dict):
                    out[key] = self._complete(given, sub_type, depth + 1, filled, f"{where}{key}.")
                elif given is None and key in TEXT_SUBS and any(k in out for k in FLAT_SIZE_KEYS):
                    # a flat file for a composite class: its own sizes describe the checkpoint (transformers
                    # would build the default text model; the meta-device count refuses such a build)
                    filled.append(f"{where}{key} (not filled: config.json gives the sizes at its top level)")
                elif given is None and key not in cls.optional_subs:
                    # transformers builds the default sub-config from its class and the spec's init_kwargs
                    out[key] = {**self.defaults(sub_type, depth + 1), **(cls.sub_kwargs or {}).get(key, {})}
                    filled.append(f"{where}{key}")
        return out

    # -- classes ----------------------------------------------------------------------------------

    def config_class(self, model_type: str) -> ConfigClass | None:
        """The config class of MODEL_TYPE with its bases' declarations merged, or None when not found."""
        if model_type in self._classes:
            return self._classes[model_type]
        disk = self._disk_name(model_type)
        if disk is not None:
            hit = cache_read(disk).get("class")
            if isinstance(hit, dict):
                try:
                    self._classes[model_type] = None if hit.get("missing") else ConfigClass.from_json(hit)
                    return self._classes[model_type]
                except (KeyError, TypeError):
                    pass
        self._classes[model_type] = None  # a cycle through sub-configs ends here
        name = self.config_names().get(model_type)
        found = None
        if name:
            module = self._module(model_type)
            rel = f"models/{module}/configuration_{module}.py"
            if self._find(rel, name) is None:
                rel = next((r for r in self._candidates(name)), rel)
            found = self._read(rel, name, model_type)
        self._classes[model_type] = found
        if disk is not None:
            cache_write(disk, {"class": found.to_json() if found else {"missing": True}})
        return found

    def _disk_name(self, model_type: str) -> str | None:
        """The cache file of one class of this tree: a file per class and tree, so that a lookup reads only
        its own entry (one shared file of every class ever read cost more to parse than the plan it feeds)."""
        if self.cache_key is None or not _CACHE_NAME.fullmatch(model_type):
            return None
        return f"{CACHE_FOLDER}/{zlib.crc32(self.cache_key.encode()):08x}-{model_type}.json"

    def _candidates(self, name: str) -> list[str]:
        pattern = re.compile(rf"^class {re.escape(name)}\b", re.M)
        out = []
        for path in sorted((self.pkg / "models").glob("*/configuration_*.py")):
            rel = path.relative_to(self.pkg).as_posix()
            if pattern.search(self._text(rel)):
                out.append(rel)
        return out

    def _find(self, rel: str, name: str) -> ast.ClassDef | None:
        tree = self._tree(rel)
        if tree is None:
            return None
        return next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)

    def _resolve(self, rel: str, name: str) -> tuple[str, str] | None:
        """Where class NAME, as seen from file REL, is defined: the same file or an import."""
        if self._find(rel, name) is not None:
            return rel, name
        tree = self._tree(rel)
        if tree is None:
            return None
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.level:
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        base = Path(rel).parent
                        for _ in range(node.level - 1):
                            base = base.parent
                        target = (base / (node.module or "").replace(".", "/")).as_posix() + ".py"
                        return target.removeprefix("./"), alias.name
        return None

    def _read(self, rel: str, name: str, model_type: str) -> ConfigClass | None:
        chain = self._chain(rel, name, 0)
        if not chain:
            return None
        fields: dict[str, None] = {}
        defaults: dict[str, Any] = {}
        kwarg_defaults: dict[str, Any] = {}
        attribute_map: dict[str, str] = {}
        legacy: dict[str, str] = {}
        sub_specs: dict[str, Any] = {}
        optional: set[str] = set()
        sub_kwargs: dict[str, dict[str, Any]] = {}
        common: set[str] = set()
        for file, cdef in chain:  # bases first, the class itself last
            body = _ClassBody(cdef)
            if cdef.name in BASE_CLASSES:
                common |= set(body.fields) | set(body.kwarg_defaults)
            optional |= body.optional_subs
            sub_kwargs.update(body.sub_kwargs)
            for key in body.fields:
                fields[key] = None
            defaults.update(body.defaults)
            kwarg_defaults.update(body.kwarg_defaults)
            attribute_map.update(body.attribute_map)
            legacy.update(body.legacy_keys)
            for key, spec in body.sub_configs.items():
                sub_specs[key] = (file, spec)
        subs: dict[str, str] = {}
        for key, (file, spec) in sub_specs.items():
            sub_type = spec if isinstance(spec, str) and spec.startswith("model_type:") else None
            if sub_type:
                subs[key] = sub_type.removeprefix("model_type:")
            elif isinstance(spec, str):
                where = self._resolve(file, spec)
                if where is not None:
                    cls = self._find(*where)
                    mt = _ClassBody(cls).model_type if cls is not None else None
                    if mt:
                        subs[key] = mt
        for key in subs:
            defaults.pop(key, None)
        return ConfigClass(model_type, name, rel, tuple(fields), defaults, kwarg_defaults, attribute_map, subs,
                           {k: v for k, v in legacy.items() if k not in fields}, tuple(sorted(optional)), sub_kwargs,
                           tuple(sorted(common)))

    def _chain(self, rel: str, name: str, depth: int) -> list[tuple[str, ast.ClassDef]]:
        """The class and its config bases, base first (single inheritance as config classes use it)."""
        cdef = self._find(rel, name)
        if cdef is None or depth > MAX_DEPTH:
            return []
        out: list[tuple[str, ast.ClassDef]] = []
        for base in cdef.bases:
            base_name = base.id if isinstance(base, ast.Name) else None
            if base_name is None or not base_name.endswith("Config"):
                continue
            where = self._resolve(rel, base_name)
            if where is not None:
                out.extend(self._chain(where[0], where[1], depth + 1))
        out.append((rel, cdef))
        return out


class _ClassBody:
    """The literal declarations of one class body."""

    def __init__(self, cdef: ast.ClassDef) -> None:
        self.fields: list[str] = []
        self.defaults: dict[str, Any] = {}
        self.kwarg_defaults: dict[str, Any] = {}
        self.attribute_map: dict[str, str] = {}
        self.sub_configs: dict[str, str] = {}
        self.legacy_keys: dict[str, str] = {}
        self.optional_subs: set[str] = set()
        self.sub_kwargs: dict[str, dict[str, Any]] = {}
        self.model_type: str | None = None
        for node in cdef.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if "ClassVar" in ast.unparse(node.annotation):
                    self._class_attr(node.target.id, node.value)
                    continue
                self.fields.append(node.target.id)
                if node.value is not None:
                    self._default(node.target.id, node.value)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self._class_attr(node.targets[0].id, node.value)
            elif isinstance(node, ast.FunctionDef) and node.name in ("__init__", "__post_init__"):
                if node.name == "__init__":
                    self._init_args(node.args)
                self._kwarg_reads(node)

    def _default(self, key: str, value: ast.expr) -> None:
        ok, literal = _literal(value)
        if ok:
            self.defaults[key] = literal

    def _class_attr(self, key: str, value: ast.expr | None) -> None:
        if value is None:
            return
        if key == "model_type":
            ok, literal = _literal(value)
            if ok and isinstance(literal, str):
                self.model_type = literal
        elif key == "attribute_map" and isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values, strict=False):
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(k.value, str) \
                        and isinstance(v.value, str):
                    self.attribute_map[k.value] = v.value
        elif key in ("sub_configs_defaults", "sub_configs") and isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values, strict=False):
                if not isinstance(k, ast.Constant) or not isinstance(k.value, str):
                    continue
                if isinstance(v, ast.Name) and v.id != "AutoConfig":
                    self.sub_configs[k.value] = v.id
                elif isinstance(v, ast.Call):
                    mt = next((kw.value.value for kw in v.keywords if kw.arg == "model_type"
                               and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)), None)
                    cls = v.args[0] if v.args else next((kw.value for kw in v.keywords if kw.arg == "config_class"),
                                                        None)
                    if mt:
                        self.sub_configs[k.value] = f"model_type:{mt}"
                    elif isinstance(cls, ast.Name) and cls.id != "AutoConfig":
                        self.sub_configs[k.value] = cls.id
                    for kw in v.keywords:
                        if kw.arg == "optional" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
                            self.optional_subs.add(k.value)
                        elif kw.arg == "init_kwargs":
                            ok, literal = _literal(kw.value)
                            if ok and isinstance(literal, dict):
                                self.sub_kwargs[k.value] = literal

    def _init_args(self, args: ast.arguments) -> None:
        positional = args.posonlyargs + args.args
        pad: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        for arg, default in zip(positional, [*pad, *args.defaults], strict=True):
            self._arg(arg.arg, default)
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            self._arg(arg.arg, kw_default)

    def _arg(self, name: str, default: ast.expr | None) -> None:
        if name in _SKIP_ARGS:
            return
        self.fields.append(name)
        if default is not None:
            self._default(name, default)

    def _kwarg_reads(self, fn: ast.FunctionDef) -> None:
        popped: dict[str, str] = {}  # local variable -> the kwarg it holds
        for node in ast.walk(fn):
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            target, key = node.targets[0], _kwarg_key(node.value)
            if key is None:
                continue
            if isinstance(target, ast.Name):
                popped[target.id] = key
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                    and target.value.id == "self" and target.attr != key and not target.attr.startswith("_"):
                self.legacy_keys[key] = target.attr  # self.hidden_size = kwargs.pop("embed_dim", self.hidden_size)
        for node in ast.walk(fn):  # self.hidden_size = self.hidden_size if n_embed is None else n_embed
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.IfExp) \
                    and isinstance(node.targets[0], ast.Attribute) and isinstance(node.targets[0].value, ast.Name) \
                    and node.targets[0].value.id == "self":
                names = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)} & set(popped)
                if len(names) == 1 and ast.unparse(node.value.orelse) in names \
                        and not node.targets[0].attr.startswith("_"):
                    self.legacy_keys[popped[names.pop()]] = node.targets[0].attr
        for node in ast.walk(fn):
            key = _kwarg_key(node) if isinstance(node, ast.expr) else None
            if key is not None and isinstance(node, ast.Call) and len(node.args) == 2:
                ok, literal = _literal(node.args[1])
                if ok:
                    self.kwarg_defaults.setdefault(key, literal)


def _kwarg_key(node: ast.expr) -> str | None:
    """The key of a `kwargs.pop("key", ...)` / `kwargs.get("key", ...)` call, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "pop") \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "kwargs" and node.args \
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


_OPS: dict[type[ast.operator], Any] = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                                      ast.FloorDiv: operator.floordiv, ast.Div: operator.truediv,
                                      ast.Pow: operator.pow}


def _literal(node: ast.expr) -> tuple[bool, Any]:
    """(True, value) for a literal (numbers joined by + - * / // **, containers of literals), else (False, None)."""
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    op = _OPS.get(type(node.op)) if isinstance(node, ast.BinOp) else None
    if isinstance(node, ast.BinOp) and op is not None:
        ok_l, left = _literal(node.left)
        ok_r, right = _literal(node.right)
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (left, right))
        if ok_l and ok_r and numbers and not (isinstance(node.op, ast.Pow) and abs(right) > 64):
            try:
                return True, op(left, right)
            except ArithmeticError:
                return False, None
    return False, None


def config_defaults(root: Path, model_type: str) -> dict[str, Any]:
    """Every literal default of MODEL_TYPE's config class in the source tree under ROOT, with each sub-config's
    defaults nested under its key (`text_config`, `vision_config`, ...); {} when the class is not found."""
    return ConfigReader(root).defaults(model_type)


def complete(config: dict[str, Any], root: Path) -> tuple[dict[str, Any], list[str]]:
    """CONFIG with every key its config class (and each sub-config's class) fills by default, and the keys
    filled; unchanged when the model type is not in the source tree under ROOT."""
    return ConfigReader(root).complete(config)


_READERS: dict[str, ConfigReader] = {}


@cache
def _stamp(root: str) -> str | None:
    """The stamp of the installed transformers tree at ROOT (once per process: a matrix asks per model)."""
    try:
        return file_stamp(package_dir(Path(root)) / "models" / "auto" / "configuration_auto.py")
    except OSError:
        return None


def installed_reader() -> tuple[ConfigReader, str] | None:
    """The reader of the installed transformers (disk-cached by version and tree), with its version."""
    installed = installed_transformers()
    if installed is None:
        return None
    stamp = _stamp(str(installed.root))
    if stamp is None:
        return None
    key = f"{READER_FORMAT}|{installed.version}|{stamp}"
    reader = _READERS.get(key)
    if reader is None:
        reader = _READERS[key] = ConfigReader(installed.root, cache_key=key)
    return reader, str(installed.version)


def completed_config(config: dict[str, Any], target: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    """CONFIG completed the way transformers fills it, with notes saying from which release's classes.

    The installed transformers' source is read; when the target release is another one, its defaults are
    taken as the installed release's (a note says so: no table of other releases' defaults ships yet).
    """
    found = installed_reader()
    mt = config.get("model_type")
    if not isinstance(mt, str):
        return config, ()
    if found is None:
        return config, (f"keys config.json leaves out are not filled: transformers is not installed here to read "
                        f"the `{mt}` config class's defaults",)
    reader, version = found
    if reader.config_class(mt) is None:
        return config, ()
    out, filled = reader.complete(config)
    if not filled:
        return config, ()
    filled = sorted(filled)  # the order of a class's fields differs between a fresh read and the disk cache
    shown = ", ".join(f"`{k}`" for k in filled[:6]) + (f" and {len(filled) - 6} more" if len(filled) > 6 else "")
    note = f"config.json completed from the defaults of transformers {version}'s config classes: {shown}"
    if target is not None and str(target) != version:
        note += f" (the target is transformers {target}, whose defaults are taken to be the installed release's)"
    return out, (note,)
