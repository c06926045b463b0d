"""Every number in a config.json checked before anything reads it: sizes, counts and periods within bounds.

The readers of facts and memory take a size under any of its many names, at any level (`text_config`,
`vision_config`, an encoder's own table). A config written by a stranger can put `10**9` layers behind a
name only one architecture reads, a period of 0 that a modulo divides by, or an integer of hundreds of digits
that overflows a float. Checking each key by what its name says it holds, wherever it sits, closes all of
those at the boundary: a count that drives a loop is at most `MAX_LAYERS`, a divisor is at least 1, any
integer is within 64 bits. Bounds are far beyond any real model (every config in fixtures/ and the bundled
catalog passes), so a value beyond them is a broken or hostile config: exit 2 at once, naming the key.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from advisor.core.errors import InputError
from advisor.core.readfile import check_shape, show

MAX_LAYERS = 10_000
"""Layers, blocks and per-layer lists (loops run over them)."""
MAX_HEADS = 1 << 16
MAX_EXPERTS = 1 << 14
MAX_SIZE = 1 << 31
"""Widths, vocabularies, positions, windows, ranks: anything measured in elements or tokens."""
MAX_INT = 1 << 63
"""Any other integer (token ids, seeds)."""

_KINDS: tuple[tuple[str, re.Pattern[str], int, int], ...] = (
    # (what, key pattern, minimum, maximum); the first pattern that matches decides
    ("a period", re.compile(r"(^|_)(period|step|interval|freq|sparse_step|pattern)$"), 1, MAX_LAYERS),
    ("a layer count", re.compile(r"(^|_)(layers|n_layer|depth|first_k_dense_replace)$|^(num|n)_.*layers?$"),
     0, MAX_LAYERS),
    ("a layer index", re.compile(r"(^|_)layer$"), -MAX_LAYERS, MAX_LAYERS),
    ("an expert count", re.compile(r"experts|(^|_)(moe_topk|n_group|topk_group)$"), 0, MAX_EXPERTS),
    ("a head count", re.compile(r"(^|_)(n_)?heads?(_kv)?$|^(num|n)_.*heads?$|^num_kv_heads$|kv_n_heads"
                                r"|multi_query_group_num|^n_head"), 0, MAX_HEADS),
    ("a size", re.compile(r"(size|dim|^d_model|^d_ff|^d_kv|^n_embd?|^n_embed|^n_inner|channels|rank|positions"
                          r"|window|buckets|bins|state|kernel|^expand|chunk|^dim$|vocab)"), 0, MAX_SIZE),
)
_LIST_OF_LAYERS = frozenset({"moe_layers", "mlp_only_layers", "layer_types", "no_rope_layers",
                             "full_attn_idxs", "sliding_window_layers"})
"""Keys that hold one entry per layer or a list of layer indices."""
_LISTS_OF = {"moe_layers": int, "mlp_only_layers": int, "full_attn_idxs": int, "no_rope_layers": int,
             "layer_types": str, "architectures": str}
"""Keys the readers iterate, and the type each entry must have (null is absent)."""


_CHECKED: dict[int, dict[str, Any]] = {}
"""Configs already checked, by identity (each kept alive here, so an id is not reused): a policy matrix asks
for the same config once per target. A config is not changed after it is loaded."""
MEMO = 256


def check_config(config: dict[str, Any], where: str) -> None:
    """InputError naming WHERE and the key for a number out of bounds or a per-layer list too long (about 0.1 to
    0.3 ms for a real config; once per config object)."""
    if _CHECKED.get(id(config)) is config:
        return
    _check(config, where)
    if len(_CHECKED) >= MEMO:
        _CHECKED.clear()
    _CHECKED[id(config)] = config


def _check(config: dict[str, Any], where: str) -> None:
    check_shape(config, f"{where}: config.json")
    stack: list[tuple[str, str, Any]] = [("", "", config)]
    while stack:
        key, name, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((str(k), f"{name}.{k}" if name else str(k), v) for k, v in value.items())
        elif key in _LISTS_OF and value is not None and not (isinstance(value, list) and all(
                isinstance(v, _LISTS_OF[key]) and not isinstance(v, bool) for v in value)):
            what = "layer numbers" if _LISTS_OF[key] is int else "strings"
            raise InputError(f"{where}: `{show(name)}` must be a list of {what}, not {show(value, 40)}")
        elif isinstance(value, list):
            if key in _LIST_OF_LAYERS and len(value) > MAX_LAYERS:
                raise InputError(f"{where}: `{show(name)}` lists {len(value)} layers, more than {MAX_LAYERS}")
            item_key = "layer[]" if key in _LIST_OF_LAYERS else f"{key}[]"  # an entry: bounded as its list's key
            stack.extend((item_key, f"{name}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, str):
            if _SURROGATE.search(value) or _SURROGATE.search(key):
                raise InputError(f"{where}: `{show(name)}` holds a lone surrogate, which is not Unicode text")
        else:
            _check_number(key, name, value, where)


def _check_number(key: str, name: str, value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and math.isinf(value) and name.endswith("]"):
        return  # an infinite bound in a list, as Mamba-2's `time_step_limit` = [0.0, Infinity]
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{where}: `{show(name)}` = {value} is not a finite number")
    if abs(value) > MAX_INT:
        raise InputError(f"{where}: `{show(name)}` = {show(value, 40)} is too large to be plausible")
    bound = _bound(key.removesuffix("[]").lower())
    if bound is None:
        return
    what, low, high = bound
    if what == "a period" and key.endswith("[]"):  # a list per layer (MiMo's `moe_layer_freq` = [0, 1, ...])
        what, low = "a per-layer entry", 0
    if not low <= value <= high and not (low == 0 and value == -1 and _sentinel_ok(key)):
        raise InputError(f"{where}: `{show(name)}` = {show(value, 40)} is not plausible for {what} "
                         f"(expected {low} to {high})")


def _sentinel_ok(key: str) -> bool:
    """-1 stands for "none" or "all" in some sizes (a window of -1, a chunk of -1)."""
    return bool(re.search(r"window|chunk|rank|positions|size", key.lower()))


_SURROGATE = re.compile("[\ud800-\udfff]")


@cache
def _bound(key: str) -> tuple[str, int, int] | None:
    for what, pattern, low, high in _KINDS:
        if pattern.search(key):
            return what, low, high
    return None
