"""Remote code read as text: what `auto_map` points at, and what the code imports and reads, via `ast` only.

Nothing here imports or executes the code. `analyze_remote_code` turns source text into `RemoteCode`;
`required_distributions` turns that into facts the rules use (which transformers.utils names a release still
exports is read from its knowledge table: `advisor.facts.release_facts.helper_status`).
"""

from __future__ import annotations

import ast
from typing import Any

from advisor.core.frozen import frozen


@frozen
class CodeRef:
    """One `auto_map` entry: the class, the file it lives in, and the repo when it is another one."""

    auto_class: str
    """The Auto class key, e.g. `AutoModelForCausalLM`."""
    file: str
    """The module file, e.g. `modeling_phi.py`."""
    class_name: str
    repo: str | None = None
    """Set for `org/repo--module.Class`: the code lives in that repo, not the model's."""

    @property
    def key(self) -> str:
        """The name this file has in `ModelSource.files`: `modeling_phi.py` or `org/repo/modeling_phi.py`."""
        return self.file if self.repo is None else f"{self.repo}/{self.file}"


def remote_code_refs(config: dict[str, Any]) -> tuple[CodeRef, ...]:
    """The code files `auto_map` references, in config order, without duplicates of the same class."""
    auto_map = config.get("auto_map")
    out: list[CodeRef] = []
    if not isinstance(auto_map, dict):
        return ()
    for auto_class, value in auto_map.items():
        values = value if isinstance(value, list) else [value]
        for ref in values:
            if not isinstance(ref, str) or "." not in ref:
                continue
            repo: str | None = None
            if "--" in ref:
                repo, ref = ref.split("--", 1)
            module, _, class_name = ref.rpartition(".")
            if not module or not _safe_module(module) or (repo is not None and not _safe_repo(repo)):
                continue
            cr = CodeRef(str(auto_class), module.replace(".", "/") + ".py", class_name, repo)
            if cr not in out:
                out.append(cr)
    return tuple(out)


def _safe_module(module: str) -> bool:
    return all(part.isidentifier() for part in module.split("."))


def _safe_repo(repo: str) -> bool:
    parts = repo.split("/")
    return 1 <= len(parts) <= 2 and all(
        p and p not in (".", "..") and all(c.isalnum() or c in "-_." for c in p) for p in parts)


@frozen
class RemoteCode:
    """What remote code uses, read from its syntax tree. Locations are `file:line`."""

    files: tuple[str, ...]
    hard_imports: dict[str, str]
    """Top-level modules transformers' `check_imports` requires before it runs the code: every import
    outside a `try` and outside an `if is_..._available():` block, functions included (a missing one
    fails the load with "This modeling file requires the following packages ...")."""
    optional_imports: dict[str, str]
    """Top-level modules imported only inside a `try` or an `if is_..._available():` block."""
    imported_names: dict[str, str]
    """Dotted names imported, e.g. `flash_attn.ops.fused_dense.FusedDense`."""
    config_keys: frozenset[str]
    """Config attributes read: `flash_attn`, `use_flash_attn`, `attn_config.attn_impl`, ..."""
    transformers_names: dict[str, str]
    """Names imported from `transformers` or a submodule of it."""
    flash_attn_2_only_classes: tuple[str, ...]
    """Classes setting `_supports_flash_attn_2` but not `_supports_flash_attn` (ignored by 5.10+)."""
    wraps_all_flash_imports_in_one_try: bool
    """One try/except imports several flash-attn parts and sets them all to None when any one fails."""
    parse_errors: tuple[str, ...]


FLASH_MODULES = frozenset({"flash_attn", "flash_attn_2_cuda", "fused_dense_lib", "rotary_emb",
                           "dropout_layer_norm", "xentropy_cuda_lib", "ft_attention", "fused_softmax_lib"})
"""flash-attn and its separately built extension modules (knowledge kernels.md §3)."""


def analyze_remote_code(files: dict[str, str]) -> RemoteCode:
    """Parse each file with `ast` (never importing it) and collect imports, config reads and class flags."""
    v = _Visitor()
    parse_errors: list[str] = []
    for name in sorted(files):
        try:
            tree = ast.parse(files[name], filename=name)
        except SyntaxError as exc:
            parse_errors.append(f"{name}:{exc.lineno or 0}: {exc.msg}")
            continue
        except ValueError as exc:  # source with NUL bytes
            parse_errors.append(f"{name}: {exc}")
            continue
        except (RecursionError, MemoryError):
            parse_errors.append(f"{name}: nested too deeply to be parsed")
            continue
        v.file = name
        try:
            v.visit(tree)
            v.one_try |= _one_try_sets_flash_to_none(tree)
        except (RecursionError, MemoryError):
            parse_errors.append(f"{name}: nested too deeply to be analysed")
    optional = {m: w for m, w in v.optional.items() if m not in v.hard}
    return RemoteCode(files=tuple(sorted(files)), hard_imports=v.hard, optional_imports=optional,
                      imported_names=v.names, config_keys=frozenset(v.config_keys),
                      transformers_names=v.transformers, flash_attn_2_only_classes=tuple(v.fa2_only),
                      wraps_all_flash_imports_in_one_try=v.one_try, parse_errors=tuple(parse_errors))


_CONFIG_NAMES = frozenset({"config", "model_config", "text_config"})


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.file = ""
        self.guarded = 0
        self.hard: dict[str, str] = {}
        self.optional: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.transformers: dict[str, str] = {}
        self.config_keys: set[str] = set()
        self.fa2_only: list[str] = []
        self.one_try = False

    def _where(self, node: ast.AST) -> str:
        return f"{self.file}:{getattr(node, 'lineno', 0)}"

    def _guarded(self, node: ast.AST, fields: tuple[str, ...]) -> None:
        """Visit the given fields of a node with imports counted as optional."""
        self.guarded += 1
        for f in fields:
            value = getattr(node, f, None)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    self.visit(child)
        self.guarded -= 1

    def visit_Try(self, node: ast.Try) -> None:
        self._guarded(node, ("body", "handlers", "orelse", "finalbody"))

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        if _availability_guard(node.test):
            self._guarded(node, ("test", "body", "orelse"))
        else:
            self.generic_visit(node)

    def _module(self, module: str, node: ast.AST) -> None:
        top = module.split(".", 1)[0]
        target = self.optional if self.guarded else self.hard
        target.setdefault(top, self._where(node))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(alias.name, node)
            self.names.setdefault(alias.name, self._where(node))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return  # relative import: another file of the same repo
        self._module(node.module, node)
        for alias in node.names:
            self.names.setdefault(f"{node.module}.{alias.name}", self._where(node))
            if node.module == "transformers" or node.module.startswith("transformers."):
                self.transformers.setdefault(alias.name, self._where(node))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        flags: dict[str, bool] = {}
        for stmt in node.body:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else \
                [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
            value = getattr(stmt, "value", None)
            for t in targets:
                if isinstance(t, ast.Name) and t.id in ("_supports_flash_attn_2", "_supports_flash_attn"):
                    flags[t.id] = isinstance(value, ast.Constant) and value.value is True
        if flags.get("_supports_flash_attn_2") and "_supports_flash_attn" not in flags:
            self.fa2_only.append(node.name)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load) and _is_config(node.value) and not node.attr.startswith("__"):
            self.config_keys.add(node.attr)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        key = _config_path(node.value)
        if key is not None and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            self.config_keys.add(f"{key}.{node.slice.value}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        first = node.args[1] if len(node.args) > 1 else None
        if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr") and node.args \
                and _is_config(node.args[0]) and isinstance(first, ast.Constant) \
                and isinstance(first.value, str):
            self.config_keys.add(first.value)
        if isinstance(func, ast.Attribute) and func.attr in ("get", "pop") and node.args:
            key = _config_path(func.value)
            arg = node.args[0]
            if key is not None and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self.config_keys.add(f"{key}.{arg.value}")
        # a config method call (config.to_dict()) is not a key read: visit only its arguments
        if isinstance(func, ast.Attribute) and _is_config(func.value):
            for child in [*node.args, *node.keywords]:
                self.visit(child)
            return
        self.generic_visit(node)


def _availability_guard(test: ast.expr) -> bool:
    """`if is_flash_attn_2_available():` and the like: transformers skips imports under such an `if`."""
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name.startswith("is_") and name.endswith("available"):
                return True
    return False


def _is_config(node: ast.AST) -> bool:
    """`config`, `self.config`, `model.config` (any `<x>.config`)."""
    if isinstance(node, ast.Name):
        return node.id in _CONFIG_NAMES
    return isinstance(node, ast.Attribute) and node.attr == "config"


def _config_path(node: ast.AST) -> str | None:
    """`config.attn_config` → `attn_config`; a local `attn_config` name → `attn_config`."""
    if isinstance(node, ast.Attribute) and _is_config(node.value):
        return node.attr
    if isinstance(node, ast.Name) and node.id.endswith("_config") and node.id not in _CONFIG_NAMES:
        return node.id
    return None


def _one_try_sets_flash_to_none(tree: ast.Module) -> bool:
    """A module-level try that imports two or more flash-attn parts and, on failure, sets them to None."""
    for stmt in tree.body:
        if not isinstance(stmt, ast.Try):
            continue
        imported: set[str] = set()
        for node in stmt.body:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level \
                    and node.module.split(".")[0] in FLASH_MODULES:
                imported.update(a.asname or a.name for a in node.names)
            elif isinstance(node, ast.Import):
                imported.update((a.asname or a.name).split(".")[0] for a in node.names
                                if a.name.split(".")[0] in FLASH_MODULES)
        if len(imported) < 2:
            continue
        for handler in stmt.handlers:
            nulled: set[str] = set()
            for sub in ast.walk(handler):
                if isinstance(sub, ast.Assign) and _all_none(sub.value):
                    for t in sub.targets:
                        elts = t.elts if isinstance(t, ast.Tuple | ast.List) else [t]
                        nulled.update(e.id for e in elts if isinstance(e, ast.Name))
            if imported <= nulled:
                return True
    return False


def _all_none(value: ast.expr) -> bool:
    """`None`, or a tuple of `None`s."""
    if isinstance(value, ast.Tuple | ast.List):
        return all(_all_none(e) for e in value.elts)
    return isinstance(value, ast.Constant) and value.value is None


DISTRIBUTIONS: dict[str, str] = {
    "flash_attn": "flash-attn", "flash_attn_2_cuda": "flash-attn", "flash_attn_interface": "flash-attn-3",
    "fused_dense_lib": "fused-dense-lib", "rotary_emb": "rotary-emb",
    "dropout_layer_norm": "dropout-layer-norm",
    "xentropy_cuda_lib": "xentropy-cuda-lib", "einops": "einops", "transformers_stream_generator":
    "transformers-stream-generator", "tiktoken": "tiktoken", "sentencepiece": "sentencepiece",
    "xformers": "xformers", "triton": "triton", "triton_pre_mlir": "triton-pre-mlir",
    "mamba_ssm": "mamba-ssm",
    "causal_conv1d": "causal-conv1d", "timm": "timm", "torchvision": "torchvision", "PIL": "pillow",
    "cv2": "opencv-python", "sklearn": "scikit-learn", "yaml": "pyyaml", "accelerate": "accelerate",
    "deepspeed": "deepspeed", "bitsandbytes": "bitsandbytes", "peft": "peft", "safetensors": "safetensors",
    "numpy": "numpy", "scipy": "scipy", "torch": "torch", "transformers": "transformers", "tokenizers":
    "tokenizers", "huggingface_hub": "huggingface-hub", "packaging": "packaging", "regex": "regex",
    "cpm_kernels": "cpm-kernels", "apex": "apex", "megablocks": "megablocks", "liger_kernel": "liger-kernel",
    "kernels": "kernels", "optimum": "optimum", "auto_gptq": "auto-gptq", "awq": "autoawq",
}
"""Import name → pip distribution, where they differ or are common in remote code. The extension modules
of flash-attn are separate builds of its `csrc/` folders, not in the flash-attn wheel (kernels.md §3)."""


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names) | {"__future__"}


def required_distributions(rc: RemoteCode) -> dict[str, str]:
    """Distributions the code hard-imports at module level: distribution → `file:line`.

    Standard-library modules are left out; an unknown import name maps to itself with `_` → `-`.
    Optional imports are not requirements (the code runs without them).
    """
    stdlib = _stdlib()
    out: dict[str, str] = {}
    for module, where in sorted(rc.hard_imports.items()):
        if module in stdlib:
            continue
        out.setdefault(DISTRIBUTIONS.get(module, module.replace("_", "-")), where)
    return out
