"""Quantization: the methods a release knows and what each quantizer's `validate_environment` checks."""

from __future__ import annotations

import ast
import json
import re

from packaging.version import Version

from knowledge.messages import LOG_METHODS, file_messages, scope_of
from knowledge.packages import read_packages_const, simplify_version_expr
from knowledge.source import (
    Json,
    Source,
    call_name,
    const_str,
    dict_items,
    find_class,
    find_def,
    render,
    short,
    str_list,
    top_assign,
    where,
)

# ---------------------------------------------------------------------------------------------------
# Quantization
# ---------------------------------------------------------------------------------------------------


def _import_sources(module: ast.Module | None, package: str) -> dict[str, str]:
    """`from .x import Name` at top level: Name -> file relative to the package (e.g. quantizers/x.py)."""
    out: dict[str, str] = {}
    for stmt in module.body if module else []:
        if isinstance(stmt, ast.ImportFrom) and stmt.level == 1 and stmt.module:
            for alias in stmt.names:
                out[alias.asname or alias.name] = f"{package}/{stmt.module.replace('.', '/')}.py"
    return out


def _outcome(body: list[ast.stmt], scope: dict[str, ast.expr]) -> tuple[str, str] | None:
    """What the direct statements of an `if` body do: (kind, text) for a raise, a dequantize or a warning."""
    dequant = any(
        isinstance(s, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "dequantize" for t in s.targets)
        for s in body
    )
    warn_text = None
    for s in body:
        if isinstance(s, ast.Raise) and isinstance(s.exc, ast.Call):
            return f"raise {call_name(s.exc)}", render(s.exc.args[0] if s.exc.args else None, scope)
        is_log = (
            isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and call_name(s.value) in LOG_METHODS | {"warn"}
        )
        if is_log and s.value.args and warn_text is None:  # type: ignore[attr-defined]
            warn_text = render(s.value.args[0], scope)  # type: ignore[attr-defined]
    if dequant:
        return "dequantize", warn_text or ""
    if warn_text is not None:
        return "warn", warn_text
    return None


def module_constants(module: ast.Module | None) -> dict[str, ast.expr]:
    """Top-level `NAME = "literal"` assignments of a module (a scope for `render`)."""
    out: dict[str, ast.expr] = {}
    for stmt in module.body if module else []:
        single = isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        if single and const_str(stmt.value) is not None:  # type: ignore[attr-defined]
            out[stmt.targets[0].id] = stmt.value  # type: ignore[attr-defined]
    return out


def _pkg_versions(node: ast.AST, constants: dict[str, ast.expr] | None = None) -> list[str]:
    """`pkg>=x` requirements read from `version(pkg) < parse("x")` style comparisons (a raise branch)."""
    constants = constants or {}
    out: list[str] = []
    for cmp in ast.walk(node):
        if not isinstance(cmp, ast.Compare) or len(cmp.ops) != 1:
            continue
        left, right, op = cmp.left, cmp.comparators[0], cmp.ops[0]
        pkg = next(
            (
                const_str(c.args[0])
                for c in ast.walk(left)
                if isinstance(c, ast.Call) and call_name(c) == "version" and c.args and const_str(c.args[0])
            ),
            None,
        )
        ver = next((c.value for c in ast.walk(right) if isinstance(c, ast.Constant) and isinstance(c.value, str)), None)
        if ver is None:
            ver = next(
                (const_str(constants[c.id]) for c in ast.walk(right) if isinstance(c, ast.Name) and c.id in constants),
                None,
            )
        if pkg and ver and re.match(r"\d", ver):
            sym = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}.get(
                type(op), "?"
            )
            entry = f"{pkg}{sym}{ver}"
            if entry not in out:
                out.append(entry)
    return out


def read_quantization(src: Source) -> Json:
    """Known `quant_method`s and, per quantizer, what `validate_environment` checks.

    `methods[key] = {class, config, file, needs, versions, checks, dequantize}`: `needs` are the
    `is_*_available(...)` calls (and a 4.x `required_packages` list), `versions` comparisons such as
    `gptqmodel<1.4.3` taken from version checks, `checks` `[condition, outcome, text, line]` for every
    `if` of validate_environment that raises, warns or switches to dequantizing.
    """
    rel = "quantizers/auto.py"
    module = src.ast(rel)
    enum = find_class(src.ast("utils/quantization_config.py"), "QuantizationMethod")
    enum_values = [v for s in (enum.body if enum else []) if isinstance(s, ast.Assign) and (v := const_str(s.value))]
    if module is None:
        # Before the quantizers package (4.36) the checks were inline in modeling_utils.py.
        text = src.text("modeling_utils.py")
        inline: Json = {"methods_enum": enum_values, "inline": "modeling_utils.py"}
        inline["summary"] = _inline_summary(src, text)
        return inline
    mapping = top_assign(module, "AUTO_QUANTIZER_MAPPING")
    config_mapping = top_assign(module, "AUTO_QUANTIZATION_CONFIG_MAPPING")
    quantizers = {k: ast.unparse(v) for k, v in dict_items(mapping).items()}
    configs = {k: ast.unparse(v) for k, v in dict_items(config_mapping).items()}
    sources = _import_sources(module, "quantizers")
    methods: Json = {}
    for key, cls_name in quantizers.items():
        file = sources.get(cls_name, "")
        qmod = src.ast(file)
        cdef = find_class(qmod, cls_name)
        entry: Json = {"class": cls_name, "config": configs.get(key, ""), "file": file}
        if cdef is None:
            methods[key] = entry
            continue
        required = next(
            (
                str_list(s.value)
                for s in cdef.body
                if isinstance(s, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "required_packages" for t in s.targets)
            ),
            None,
        )
        ve = find_def(cdef.body, "validate_environment")
        init = find_def(cdef.body, "__init__")
        needs: list[str] = []
        for fn in (init, ve):
            for node in ast.walk(fn) if fn else []:
                if isinstance(node, ast.Call) and re.fullmatch(r"is_\w+_available|validate_\w+", call_name(node)):
                    text = ast.unparse(node)
                    if text not in needs and not re.match(
                        r"is_torch_(available|cuda_available)|is_torch_\w+_available\(\)$", text
                    ):
                        needs.append(text)
        if required:
            entry["required_packages"] = required
        entry["needs"] = needs
        checks: list[list[str]] = []
        if ve is not None:
            constants = module_constants(qmod)
            scope = {**constants, **scope_of(ve)}
            for node in ast.walk(ve):
                if isinstance(node, ast.If):
                    got = _outcome(node.body, scope)
                    if got:
                        text = short(got[1], 300)
                        checks.append([simplify_version_expr(ast.unparse(node.test)), got[0], text, str(node.lineno)])
            entry["versions"] = _pkg_versions(ve, constants)
            entry["dequantize"] = any(
                isinstance(n, ast.Attribute) and n.attr == "dequantize" and isinstance(n.ctx, ast.Store)
                for n in ast.walk(ve)
            )
        entry["checks"] = checks
        methods[key] = entry
    out: Json = {"methods": methods, "methods_enum": enum_values}
    unknown = [m for m in file_messages(src, rel) if "Unknown quantization type" in m.text]
    if unknown:
        out["unknown_method"] = [unknown[0].kind, unknown[0].where]
    out["summary"] = _quant_summary(src, methods)
    return out


def _outcome_word(kind: str) -> str:
    """`raise ValueError` -> raise; dequantize -> dequantize; anything else as it is."""
    return "raise" if kind.startswith("raise") else kind


def _cc_check(method: Json) -> tuple[str, str, str] | None:
    """(compute capability, outcome, file:line) of the quantizer's compute-capability check, preferring the
    outcome for a pre-quantized checkpoint (a dequantize branch) over the on-the-fly one (a raise)."""
    found = [c for c in method.get("checks", []) if re.search(r"compute capability >= ([\d.]+)", c[2])]
    if not found:
        return None
    pick = next((c for c in found if c[1] == "dequantize"), found[0])
    cc = re.search(r"compute capability >= ([\d.]+)", pick[2])
    return (cc.group(1) if cc else "", _outcome_word(pick[1]), f"{method['file']}:{pick[3]}")


def _no_gpu_check(method: Json) -> tuple[str, str] | None:
    """(outcome, file:line) of the quantizer's check for a missing GPU (pre-quantized branch first)."""
    pattern = r"requires a GPU|No GPU|GPU is needed|GPU or XPU is needed|requires model on|GPU is required"
    found = [c for c in method.get("checks", []) if re.search(pattern, c[2])]
    if not found:
        return None
    pick = next((c for c in found if c[1] == "dequantize"), found[0])
    return _outcome_word(pick[1]), f"{method['file']}:{pick[3]}"


def _mins(versions: list[str]) -> dict[str, str]:
    """`{dist: minimum}` from a quantizer's version comparisons (`auto_gptq<0.4.2` -> auto-gptq 0.4.2)."""
    out: dict[str, str] = {}
    for item in versions:
        m = re.fullmatch(r"([\w.-]+)<([\d.]+)", item)
        if m:
            out.setdefault(m.group(1).replace("_", "-"), m.group(2))
    return out


def _fp8_summary(src: Source, fp8: Json | None) -> Json:
    if not fp8:
        return {"present": False}
    entry: Json = {"present": True, "where": {}}
    cc = _cc_check(fp8)
    if cc:
        entry["cc_min"], entry["below_cc"], entry["where"]["below_cc"] = cc
    gpu = _no_gpu_check(fp8)
    if gpu:
        entry["no_gpu"], entry["where"]["no_gpu"] = gpu
    qc = src.ast("utils/quantization_config.py")
    cls = find_class(qc, "FineGrainedFP8Config")
    for node in ast.walk(cls) if cls else []:
        if isinstance(node, ast.Compare) and "activation_scheme" in ast.unparse(node.left):
            items = str_list(node.comparators[0])
            if items is None and isinstance(node.ops[0], ast.NotEq) and (one := const_str(node.comparators[0])):
                items = [one]
            if items:
                entry["activation_schemes"] = items
                entry["where"]["activation_scheme"] = where("utils/quantization_config.py", node)
    return entry


def _mxfp4_summary(mx: Json | None) -> Json:
    if not mx:
        return {"present": False}
    text = json.dumps(mx)
    entry: Json = {"present": True, "where": {}}
    cc = _cc_check(mx)
    if cc:
        entry["cc_min"], entry["below_cc"], entry["where"]["below_cc"] = cc
    gpu = _no_gpu_check(mx)
    if gpu:
        entry["no_gpu"], entry["where"]["no_gpu"] = gpu
    tritons = sorted(set(re.findall(r"is_triton_available\(['\\\"]*([\d.]+)", text)), key=Version)
    entry["triton_min"] = tritons[0] if tritons else None
    entry["kernels"] = "is_kernels_available" in text
    missing = [c for c in mx.get("checks", []) if re.search(r"triton|kernels", c[2]) and "compute" not in c[2]]
    pick = next((c for c in missing if c[1] == "dequantize"), missing[0] if missing else None)
    entry["missing_kernels"] = _outcome_word(pick[1]) if pick else None
    if pick:
        entry["where"]["missing_kernels"] = f"{mx['file']}:{pick[3]}"
    entry["dequantize_fallback"] = bool(mx.get("dequantize"))
    return entry


def _backend_summary(m: Json) -> Json:
    """The packages a GPTQ or AWQ quantizer accepts, whether it needs optimum, and their minimums."""
    needs = " ".join(m.get("needs", [])) + " " + " ".join(m.get("required_packages", []))
    backends = [pkg for pkg, probe in (("auto-gptq", r"auto_gptq|auto-gptq"), ("gptqmodel", r"gptqmodel"),
                                       ("autoawq", r"auto_awq|autoawq")) if re.search(probe, needs)]
    checks = m.get("checks", [])
    where_ = next((f"{m['file']}:{c[3]}" for c in checks if c[1].startswith("raise ImportError")), m.get("file", ""))
    return {"backends": backends, "optimum": "optimum" in needs, "mins": _mins(m.get("versions", [])),
            "where": where_}


def _bnb_summary(src: Source, methods: Json) -> Json:
    bnb: dict[str, Json] = {k: methods[k] for k in ("bitsandbytes_4bit", "bitsandbytes_8bit") if k in methods}
    if not bnb:
        return {}
    bnb_text = src.text("integrations/bitsandbytes.py") + "\n".join(src.text(b["file"]) for b in bnb.values())
    mins = sorted(set(re.findall(r"bitsandbytes[^\n]{0,80}?parse\([\"'](\d[\d.]*)", bnb_text)))
    out: Json = {
        "min_version": read_packages_const(src, "BITSANDBYTES_MIN_VERSION"),
        "version_literals": mins,
        "multi_backend": "multi_backend" in bnb_text,
        "supported_torch_devices": "supported_torch_devices" in bnb_text,
        "where": {},
    }
    for key, bits in (("bitsandbytes_4bit", "4bit"), ("bitsandbytes_8bit", "8bit")):
        for c in bnb.get(key, {}).get("checks", []):
            m = re.fullmatch(r"version\('bitsandbytes'\) < '([\d.]+)'", c[0])
            if m and c[1].startswith("raise") and "not compatible" in c[2]:
                out[f"min_{bits}"] = m.group(1)
                out["where"][f"min_{bits}"] = f"{bnb[key]['file']}:{c[3]}"
            if c[0] == "not torch.cuda.is_available()" and "No GPU found" in c[2]:
                out["no_gpu"] = "raise"
                out["where"]["no_gpu"] = f"{bnb[key]['file']}:{c[3]}"
    if "no_gpu" not in out and "validate_bnb_backend_availability" in json.dumps(list(bnb.values())):
        out["no_gpu"] = "supported_torch_devices" if not out["multi_backend"] else "multi_backend"
    return out


def _line_of(text: str, pattern: str) -> int:
    m = re.search(pattern, text)
    return text.count("\n", 0, m.start()) + 1 if m else 0


def _inline_summary(src: Source, text: str) -> Json:
    """The same summary for releases that check quantization inline in `modeling_utils.py` (4.36, 4.37)."""
    rel = "modeling_utils.py"
    gptq = [p for p, r in (("auto-gptq", "auto_gptq|auto-gptq"),) if re.search(r, text)]
    four = re.search(r"supports_4bit = version\.parse\(importlib\.metadata\.version\(\"bitsandbytes\"\)\) >= "
                     r"version\.parse\(\"([\d.]+)\"\)", text)
    bnb: Json = {"min_version": None, "multi_backend": False, "supported_torch_devices": False, "where": {}}
    if four:
        bnb["min_4bit"] = four.group(1)
        bnb["where"]["min_4bit"] = f"{rel}:{text.count(chr(10), 0, four.start()) + 1}"
    if (line := _line_of(text, r"No GPU found\. A GPU is needed for quantization")):
        bnb["no_gpu"] = "raise"
        bnb["where"]["no_gpu"] = f"{rel}:{line}"
    gptq_line = _line_of(text, r"elif not \(is_optimum_available\(\) and is_auto_gptq")
    awq_line = _line_of(text, r"if not is_auto_awq_available")
    gptq_min = re.search(r"version\(\"auto_gptq\"\)\) < version\.parse\(\"([\d.]+)\"\)", text)
    gates: Json = {}
    for key, pattern in (("bitsandbytes", r"No GPU found\. A GPU is needed for quantization"),
                         ("gptq", r"GPU is required to quantize or run quantize model"),
                         ("awq", r"GPU is required to run AWQ quantized model")):
        if (line := _line_of(text, pattern)) and key != "gptq":  # GPTQ's check depends on the package
            gates[key] = {"no_gpu": "raise", "where": {"no_gpu": f"{rel}:{line}"}}
    return {
        "fp8": {"present": False},
        "mxfp4": {"present": False},
        "gates": gates,
        "gptq": {"backends": gptq, "optimum": "is_optimum_available() and is_auto_gptq_available()" in text,
                 "mins": {"auto-gptq": gptq_min.group(1)} if gptq_min else {},
                 "where": f"{rel}:{gptq_line}"},
        "awq": {"backends": ["autoawq"] if re.search("is_auto_awq_available", text) else [], "optimum": False,
                "mins": {}, "where": f"{rel}:{awq_line}"},
        "bnb": bnb,
    }


_NO_GPU_TEST = re.compile(
    r"not torch\.cuda\.is_available\(\)( and \(?not torch\.xpu\.is_available\(\)\)?)?"
    r"|not \(torch\.cuda\.is_available\(\) or is_torch_xpu_available\(\)\)|self\.pre_quantized"
)


def _gates(methods: Json) -> Json:
    """`{method: {cc_min, below_cc, no_gpu, where}}`: what each quantizer does below its compute capability
    and without a GPU (`raise` or `dequantize`), for a pre-quantized checkpoint where the two differ. A check
    whose condition also depends on the package (GPTQ's `gptq_supports_cpu`) is left out: the package decides."""
    out: Json = {}
    for key, m in methods.items():
        entry: Json = {"where": {}}
        cc = _cc_check(m)
        if cc:
            entry["cc_min"], entry["below_cc"], entry["where"]["below_cc"] = cc
        gpu = [c for c in m.get("checks", []) if _NO_GPU_TEST.fullmatch(c[0])
               and re.search(r"GPU|device|cuda|CUDA", c[2]) and "compute capability" not in c[2]
               and "installed version" not in c[2]]
        if gpu:
            pick = next((c for c in gpu if c[1] == "dequantize"), gpu[0])
            entry["no_gpu"] = _outcome_word(pick[1])
            entry["where"]["no_gpu"] = f"{m['file']}:{pick[3]}"
        if len(entry) > 1:
            out[key] = entry
    return out


def _quant_summary(src: Source, methods: Json) -> Json:
    """Derived answers for FP8, MXFP4, GPTQ, AWQ and bitsandbytes, and every quantizer's GPU gates."""
    summary: Json = {"fp8": _fp8_summary(src, methods.get("fp8")), "mxfp4": _mxfp4_summary(methods.get("mxfp4")),
                     "gates": _gates(methods)}
    for key in ("gptq", "awq"):
        if key in methods:
            summary[key] = _backend_summary(methods[key])
    summary["bnb"] = _bnb_summary(src, methods)
    return summary


