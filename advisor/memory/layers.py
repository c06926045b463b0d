"""What each decoder layer is, read from config.json: its mixer (attention, latent attention, linear
attention, a state-space or convolution block, cross-attention, nothing), its window, its feed-forward
(dense or mixture of experts), and whether it reuses another layer's cache.

The per-layer pattern comes from what the config says per layer (`layer_types`, `layers_block_type`,
`hybrid_override_pattern`, `block_types`, `mlp_layer_types`), from layer indices and periods
(`attn_layer_period`/`attn_layer_offset`, `attn_layer_indices`, `full_attention_interval`,
`linear_attn_config`, `cross_attention_layers`, `first_k_dense_replace`, `moe_layer_freq`,
`decoder_sparse_step`, `mlp_only_layers`, `interleave_moe_layer_step`, `moe_layers`), and, for configs
written before `layer_types` existed, from the pattern a family's config class derives (`FAMILY_PATTERNS`,
each read from transformers' `configuration_<type>.py`). A pattern that can only be guessed is marked so
(`Pattern.exact` False): the cache model then takes every such layer as full attention, which errs high.
"""

from __future__ import annotations

from typing import Any

from advisor.core.frozen import frozen
from advisor.facts.config_defaults import installed_reader
from advisor.memory.config import Cfg, MissingSize

FULL_TYPES = {"full_attention", "attention", "global_attention", "global", "full"}
WINDOW_TYPES = {"sliding_attention", "reference_sliding_attention", "local_attention", "local", "sliding"}
CHUNK_TYPES = {"chunked_attention"}
LINEAR_TYPES = {"linear_attention", "mamba", "ssm", "mamba2", "recurrent"}
CONV_TYPES = {"conv", "short_conv"}
NONE_TYPES = {"moe", "mlp", "dummy", "ffn", "none"}
INDEXED_TYPES = {"indexed_attention"}
"""Layer type names of transformers 5.x configs (cache_utils DYNAMIC_LAYER_TYPE_MAPPING) and of older configs."""
PATTERN_CHARS = {"M": "linear", "*": "attention", "-": "none", "E": "none"}
"""`hybrid_override_pattern` (Nemotron-H): Mamba, attention, MLP, MoE."""
BLOCK_FFN = {"mamba": "none", "attention": "none", "mlp": "dense", "moe": "moe", "linear_attention": "none",
             "full_attention": "none", "M": "none", "*": "none", "-": "dense", "E": "moe"}
"""Block-typed stacks (Nemotron-H): a layer is either a mixer or a feed-forward, never both."""
BLOCK_NAMES = {"mamba": "linear", "attention": "attention", "mlp": "none", "moe": "none", "hybrid": "hybrid",
               "linear_attention": "linear", "full_attention": "attention", "recurrent": "linear",
               "sliding_attention": "window", "conv": "conv"}
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers", "decoder_layers", "num_blocks", "layers")
PER_LAYER_LISTS = ("layer_types", "layers_block_type", "block_types", "layer_block_types")
SSM_TYPES = {"mamba", "falcon_mamba", "mamba2"}
BLOCK_TYPED = {"nemotron_h", "nemotron_h_omni", "nemo_speechlm"}
"""Stacks whose `layers_block_type` / `hybrid_override_pattern` names one block per layer (mixer or MLP)."""
"""Model types whose every layer is a state-space block."""


@frozen
class Layer:
    """One decoder layer."""

    mixer: str
    """attention, mla, mla-indexed (latent attention with a sparse-attention indexer), linear (linear
    attention or a state-space block), conv, cross, none, hybrid (attention beside a state in one layer) or
    an unknown type name."""
    index: int
    window: int | None = None
    """A sliding or chunked attention layer's window as the config gives it (transformers keeps
    `window - 1` tokens); None: every token is kept."""
    chunked: bool = False
    ffn: str = "dense"
    """dense, moe or none."""
    shared_kv: bool = False
    """Reuses an earlier layer's keys and values (Gemma-3n / Gemma-4 KV sharing): caches nothing."""


@frozen
class Pattern:
    """The layers of a decoder, how they were read, and whether the reading is certain."""

    layers: tuple[Layer, ...]
    exact: bool
    source: str
    notes: tuple[str, ...] = ()


def layer_count(cfg: Cfg) -> int:
    """Decoder layers: the count, or the length of a per-layer list when the config gives only that (5.x
    Nemotron-H derives `num_hidden_layers` from `layers_block_type`)."""
    found = cfg.opt(*LAYER_KEYS)
    if found is not None:
        return found
    for key in (*PER_LAYER_LISTS, "hybrid_override_pattern"):
        value = cfg.get(key)
        if isinstance(value, list | str) and value:
            return len(value)
    return cfg.need(*LAYER_KEYS)


def layer_cfg(cfg: Cfg, i: int) -> Cfg:
    """The config of layer I: the shared values overridden by `per_layer_config` (5.x heterogeneous configs)."""
    per = cfg.get("per_layer_config")
    if isinstance(per, dict):
        for key, value in per.items():
            if isinstance(value, dict) and str(key).lstrip("0") == (str(i) if i else ""):
                return Cfg({**cfg.data, **value}, f"{cfg.where} layer {i}")
            if isinstance(value, dict) and str(key).isdigit() and int(key) == i:
                return Cfg({**cfg.data, **value}, f"{cfg.where} layer {i}")
    return cfg


def _int_list(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in value):
        return list(value)
    return None


COMPRESSED_KEYS = ("compress_rates", "compress_ratios", "compress_rate_csa", "compress_rate_hca")
"""DeepSeek-V4's compressed attention: what it caches depends on compression blocks and a window."""


def pattern(cfg: Cfg, model_type: str, weights_only: bool = False) -> Pattern:
    """Every layer of the decoder CFG describes (MissingSize when not even the layer count is given).

    WEIGHTS_ONLY: for a parameter count, where a window does not matter: a stack whose layer types transformers
    derives in code advisor does not know is taken as attention on every layer when nothing in the config names
    another kind of layer."""
    n = layer_count(cfg)
    own = cfg.get("model_type")
    model_type = own if isinstance(own, str) and (own in FAMILY_PATTERNS or model_type not in FAMILY_PATTERNS) \
        else model_type
    if cfg.has(*COMPRESSED_KEYS):
        raise MissingSize("compressed sparse attention (`compress_rates`) keeps a cache and weights advisor has no "
                          "formula for")
    try:
        mixers, slides, exact, source, notes = _mixers(cfg, model_type, n)
    except MissingSize:
        if not weights_only or any(k.startswith(("linear_", "mamba", "conv", "ssm")) for k in cfg.data):
            raise
        mixers, slides, exact, source, notes = ["attention"] * n, [None] * n, False, "attention on every layer", []
    ffns, ffn_note = _ffns(cfg, n)
    blocks = _blocks(cfg, n)
    if blocks is not None:
        ffns = blocks
    if ffn_note:
        notes.append(ffn_note)
    shared = cfg.opt("num_kv_shared_layers") or 0
    modes = cfg.get("kv_sharing_modes")
    sources = _int_list(cfg.get("kv_source_layers"))
    if not isinstance(modes, list) and sources is not None and len(sources) == n:
        modes = [None if sources[i] == i else "reuse" for i in range(n)]
    layers = []
    for i in range(n):
        reuse = (isinstance(modes, list) and i < len(modes) and modes[i] == "reuse") or (
            not isinstance(modes, list) and shared > 0 and i >= n - shared)
        window = None
        if slides[i] is not None:
            window = _window(layer_cfg(cfg, i), slides[i] or "")
            if window is None:
                raise MissingSize(f"layer {i} is a {'chunked' if slides[i] == 'chunk' else 'sliding-window'} "
                                  f"layer but {cfg.where} gives no window size")
        layers.append(Layer(mixers[i], i, window, slides[i] == "chunk", ffns[i], bool(reuse)))
    return Pattern(tuple(layers), exact, source, tuple(notes))


def _blocks(cfg: Cfg, n: int) -> list[str] | None:
    """Per layer, the feed-forward of a block-typed stack (none beside a mixer), else None."""
    value = cfg.get("layers_block_type")
    hop = cfg.get("hybrid_override_pattern")
    seq: list[str] | None = None
    if isinstance(hop, str) and len(hop) == n:
        seq = list(hop)
    elif isinstance(value, list) and len(value) == n and (
            cfg.get("model_type") in BLOCK_TYPED or any(t in ("mlp", "moe") for t in value)):
        seq = [str(t) for t in value]
    if seq is None:
        return None
    return [BLOCK_FFN.get(t, "dense") for t in seq]


def _window(cfg: Cfg, kind: str) -> int | None:
    if kind == "chunk":
        return cfg.opt("attention_chunk_size")
    if cfg.get("model_type") == "mimo_v2_flash" and cfg.opt("sliding_window_size"):
        # "attends to `sliding_window_size` previous tokens plus the query": sliding_window = size + 1
        # (models/mimo_v2_flash/configuration_mimo_v2_flash.py __post_init__)
        return cfg.need("sliding_window_size") + 1
    return cfg.opt("sliding_window")


def _mixers(cfg: Cfg, mt: str, n: int) -> tuple[list[str], list[str | None], bool, str, list[str]]:
    """Per layer: the mixer, and "window" / "chunk" for attention that keeps only a window of tokens."""
    notes: list[str] = []
    typed: list[tuple[str, str | None]] | None = None
    source = ""
    exact = True
    for key in PER_LAYER_LISTS:
        value = cfg.get(key)
        if isinstance(value, list) and value and all(isinstance(t, str) for t in value) and (
                len(value) == n or key == "block_types"):  # RecurrentGemma repeats its `block_types`
            names = [str(value[i % len(value)]) for i in range(n)]
            typed = [_type_kind(t if key == "layer_types" else BLOCK_NAMES.get(t, t)) for t in names]
            source = f"`{key}`"
            break
    hop = cfg.get("hybrid_override_pattern")
    if typed is None and isinstance(hop, str) and len(hop) == n:
        typed = [(PATTERN_CHARS.get(c, f"pattern `{c}`"), None) for c in hop]
        source = "`hybrid_override_pattern`"
    if typed is None:
        kinds, source, exact = _from_indices(cfg, mt, n)
        typed = [_type_kind(k) for k in kinds]
    mixers = [m for m, _ in typed]
    slides = [w for _, w in typed]
    if isinstance(cfg.get("kv_lora_rank"), int) and cfg.get("kv_lora_rank"):
        indexed_all = cfg.opt("index_head_dim") is not None and source != "`layer_types`"
        mixers = ["mla-indexed" if m == "indexed" or (m == "attention" and indexed_all) else
                  "mla" if m == "attention" else m for m in mixers]
    else:
        mixers = ["attention" if m == "indexed" else m for m in mixers]
    cross = _int_list(cfg.get("cross_attention_layers"))
    if cross:
        mixers = ["cross" if i in cross else m for i, m in enumerate(mixers)]
    return mixers, slides, exact, source, notes


def _type_kind(t: str) -> tuple[str, str | None]:
    """(mixer, window kind) of a layer type name."""
    if t in FULL_TYPES or t == "hybrid_full":
        return "attention", None
    if t in WINDOW_TYPES or t == "window":
        return "attention", "window"
    if t in CHUNK_TYPES or t == "chunk":
        return "attention", "chunk"
    if t in LINEAR_TYPES:
        return "linear", None
    if t in CONV_TYPES:
        return "conv", None
    if t in NONE_TYPES:
        return "none", None
    if t in INDEXED_TYPES:
        return "indexed", None
    return t, None


def _from_indices(cfg: Cfg, mt: str, n: int) -> tuple[list[str], str, bool]:
    """Layer kinds from indices and periods, or from the family's own derivation, or a guess."""
    if mt in SSM_TYPES or (cfg.has("state_size", "ssm_state_size") and not cfg.has("num_attention_heads", "n_head")):
        return ["linear"] * n, "every layer is a state-space block", True
    period = cfg.opt("attn_layer_period")
    if period:
        offset = cfg.opt("attn_layer_offset") or 0
        return (["attention" if i % period == offset else "linear" for i in range(n)],
                "`attn_layer_period` / `attn_layer_offset`", True)
    idx = _int_list(cfg.get("attn_layer_indices"))
    if idx is not None:
        return ["attention" if i in idx else "linear" for i in range(n)], "`attn_layer_indices`", True
    interval = cfg.opt("full_attention_interval")
    if interval:
        return (["attention" if (i + 1) % interval == 0 else "linear" for i in range(n)],
                "`full_attention_interval`", True)
    lin = cfg.sub("linear_attn_config")
    if lin is not None:
        full = _int_list(lin.get("full_attn_layers"))
        if full is not None:  # 1-based layer numbers (Kimi-Linear)
            return ["attention" if i + 1 in full else "linear" for i in range(n)], "`linear_attn_config`", True
    family = FAMILY_PATTERNS.get(mt)
    if family is not None:
        return family(cfg, n), f"the `{mt}` config class's layer pattern", True
    if mt in PARALLEL_HYBRIDS:
        return ["hybrid"] * n, "attention and a Mamba block side by side in every layer", True
    if cfg.has("mamba_d_state", "mamba_n_heads", "ssm_state_size", "mamba_num_heads"):
        # Mamba hybrids (Bamba, Granite-4 hybrid) without attention indices: every layer is a Mamba block
        return ["linear"] * n, "no attention layers named: every layer is a Mamba block", True
    if mt in ("llama4", "llama4_text") and cfg.opt("attention_chunk_size"):
        step = cfg.opt("no_rope_layer_interval") or 4
        return (["chunk" if (i + 1) % step else "attention" for i in range(n)],
                "`attention_chunk_size` with `no_rope_layer_interval`", True)
    if derives_layer_types(mt):
        if _window(cfg, "window") and not cfg.has("kv_lora_rank") and not any(
                k.startswith(("linear_", "mamba", "conv", "ssm")) for k in cfg.data):
            return (["attention"] * n, "`sliding_window` without `layer_types`: transformers derives which layers "
                    "slide in code advisor does not know, so every layer is taken to keep every token", False)
        raise MissingSize(f"config.json lists no `layer_types`, and transformers derives the `{mt}` layer types "
                          "in code advisor does not know")
    if _window(cfg, "window") and cfg.get("use_sliding_window") is not False:
        if mt in ALL_SLIDING or derives_layer_types(mt) is False:
            return ["window"] * n, "`sliding_window` on every layer", True
        return (["attention"] * n, "`sliding_window` without `layer_types`: which layers slide is not known, so "
                "every layer is taken to keep every token", False)
    return ["attention"] * n, "every layer is attention", True


def derives_layer_types(model_type: str) -> bool | None:
    """Whether the installed transformers' config class for MODEL_TYPE has a `layer_types` field (filled in
    code when a config leaves it out); None when the class cannot be read."""
    found = installed_reader()
    cls = found[0].config_class(model_type) if found is not None and model_type else None
    return None if cls is None else "layer_types" in cls.fields


def _alternate(start_sliding: bool) -> Any:
    def derive(cfg: Cfg, n: int) -> list[str]:
        if not _window(cfg, "window"):
            return ["attention"] * n
        return ["window" if (i % 2 == 0) == start_sliding else "attention" for i in range(n)]

    return derive


def _every(default: int) -> Any:
    """Every `sliding_window_pattern`-th layer is full attention, the others slide."""

    def derive(cfg: Cfg, n: int) -> list[str]:
        if not _window(cfg, "window"):
            return ["attention"] * n
        step = cfg.opt("sliding_window_pattern", "_sliding_window_pattern") or default
        return ["window" if (i + 1) % step else "attention" for i in range(n)]

    return derive


def _qwen2(cfg: Cfg, n: int) -> list[str]:
    """Qwen2 family: sliding only with `use_sliding_window`, from layer `max_window_layers` on."""
    if not cfg.flag("use_sliding_window", False) or not _window(cfg, "window"):
        return ["attention"] * n
    first = cfg.opt("max_window_layers") or 0
    return ["window" if i >= first else "attention" for i in range(n)]


def _full_at(pred: Any, other: str = "window") -> Any:
    """Full attention where PRED(i, n, cfg) holds, OTHER (a sliding window, linear attention ...) elsewhere."""

    def derive(cfg: Cfg, n: int) -> list[str]:
        return ["attention" if pred(i, n, cfg) else other for i in range(n)]

    return derive


def _gemma4(cfg: Cfg, n: int) -> list[str]:
    """Gemma-4: every sixth layer full, the others sliding, and the last layer always full."""
    kinds = _every(6)(cfg, n)
    return [*kinds[:-1], "attention"] if kinds else kinds


def _lfm3(cfg: Cfg, n: int) -> list[str]:
    return ["attention" if i % 4 == 2 else "window" if i % 4 == 0 and i > 0 else "conv" for i in range(n)]


def _lfm2(cfg: Cfg, n: int) -> list[str]:
    full = _int_list(cfg.get("full_attn_idxs"))
    return ["attention" if full is None or i in full else "conv" for i in range(n)]


def _max_window(cfg: Cfg, n: int) -> list[str]:
    """Sliding from layer `max_window_layers` on when a window is set (Qwen2-VL, dots1)."""
    first = cfg.opt("max_window_layers") or 0
    return ["window" if cfg.opt("sliding_window") and i >= first else "attention" for i in range(n)]


def _glm5_next(cfg: Cfg, n: int) -> list[str]:
    return ["linear" if i % 4 != 3 else "indexed" for i in range(n)]


def _all(kind: str) -> Any:
    def derive(cfg: Cfg, n: int) -> list[str]:
        return [kind] * n

    return derive


def _smollm3(cfg: Cfg, n: int) -> list[str]:
    """SmolLM3: sliding on the layers without rope, when `use_sliding_window` and a window are set."""
    rope = cfg.get("no_rope_layers")
    has = [bool(rope[i]) if isinstance(rope, list) and i < len(rope) else True for i in range(n)]
    slide = cfg.flag("use_sliding_window", False) and cfg.opt("sliding_window") is not None
    return ["window" if slide and not has[i] else "attention" for i in range(n)]


FAMILY_PATTERNS: dict[str, Any] = {
    # how transformers 5.23 derives `layer_types` when a config leaves it out
    # (models/<type>/configuration_<type>.py `__post_init__`; 4.x: `__init__`)
    "gemma2": _alternate(True),  # "sliding_attention" if bool((i + 1) % 2)
    "vaultgemma": _alternate(True), "t5gemma": _alternate(True), "gpt_oss": _alternate(True),
    "gemma3": _every(6), "gemma3_text": _every(6),  # kwargs.get("sliding_window_pattern", 6)
    "cohere2": _every(4),  # kwargs.pop("sliding_window_pattern", 4)
    "qwen2": _qwen2, "qwen2_moe": _qwen2, "qwen3": _qwen2, "qwen3_moe": _qwen2,
    "qwen2_vl": _max_window, "dots1": _max_window,
    "mimo_v2_flash": _full_at(lambda i, n, c: i == 0 or not (i + 1) % 6),  # first and every sixth layer full
    "gemma4": _gemma4, "gemma4_text": _gemma4,  # sliding_window_pattern = 6; the last layer forced full
    "diffusion_gemma": _every(6), "gemma4_unified": _every(6), "gemma4_unified_text": _every(6),
    "gemma3n": _full_at(lambda i, n, c: (i + 1) % 5 == 0), "gemma3n_text": _full_at(lambda i, n, c: (i + 1) % 5 == 0),
    "afmoe": _full_at(lambda i, n, c: (i + 1) % c.need("global_attn_every_n_layers") == 0),
    "beam": _full_at(lambda i, n, c: (i + 1) % 6 == 0 or i == n - 1),
    "cwm": _full_at(lambda i, n, c: i % 4 == 0),
    "exaone4": _full_at(lambda i, n, c: (i + 1) % c.need("sliding_window_pattern") == 0),
    "exaone_moe": _full_at(lambda i, n, c: (i + 1) % c.need("sliding_window_pattern") == 0),
    "flint": _full_at(lambda i, n, c: i < 2 or i % 4 == 1 or i == n - 1),
    "granite_swa": _full_at(lambda i, n, c: i % 4 == 0), "granitemoe_swa": _full_at(lambda i, n, c: i % 4 == 0),
    "kolibri1": _full_at(lambda i, n, c: (i + 1) % 5 == 0),
    "olmo3": _full_at(lambda i, n, c: (i + 1) % 4 == 0),
    "modernbert-decoder": _full_at(lambda i, n, c: i % (c.opt("global_attn_every_n_layers") or 3) == 0),
    "minimax": _full_at(lambda i, n, c: bool((i + 1) % 2), "linear"),
    "bailing_hybrid": _full_at(lambda i, n, c: (i + 1) % c.need("layer_group_size") == 0, "linear"),
    "olmo_hybrid": _full_at(lambda i, n, c: i % 4 == 3, "linear"),
    "lfm2": _lfm2, "lfm2_vl": _lfm2, "lfm3": _lfm3, "lfm3_vl": _lfm3,
    "glm5_next": _glm5_next,
    "deepseek_v32": _all("indexed"), "glm_moe_dsa": _all("indexed"), "axk2": _all("indexed"),
    "hy_v4": _all("indexed"), "mistral_large4": _all("indexed"), "mistral_large4_text": _all("indexed"),
    "qwen2_5_vl": _max_window, "qwen2_5_vl_text": _max_window, "qwen2_5_omni": _max_window,
    "qwen2_5_omni_text": _max_window, "qwen2_5_omni_thinker": _max_window,
    "smollm3": _smollm3,
    "step3p7": _all("attention"), "zaya": _all("hybrid"),
}
ALL_SLIDING = {"mistral", "mixtral", "starcoder2", "phi3", "idefics2", "moshi", "mimi"}
"""Families whose config class has no `layer_types`: transformers' DynamicCache slides every layer when the
config gives `sliding_window` (cache_utils.get_layer_types_and_kwargs), as their attention does."""


PARALLEL_HYBRIDS = {"falcon_h1"}
"""Every layer holds attention and a Mamba-2 mixer in parallel (models/falcon_h1/modeling_falcon_h1.py)."""


def _ffns(cfg: Cfg, n: int) -> tuple[list[str], str | None]:
    """Per layer: dense, moe, or none (a block without a feed-forward)."""
    experts = cfg.opt("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts", "n_experts",
                      "num_routed_experts")
    if cfg.get("is_moe") is False or cfg.get("enable_moe_block") is False:
        experts = None  # Doge's `is_moe`, Gemma-4's `enable_moe_block`: the experts are not built
    mlt = cfg.get("mlp_layer_types")
    if isinstance(mlt, list) and len(mlt) == n:
        return ["moe" if str(t) in ("sparse", "moe") else "dense" for t in mlt], None
    if not experts or experts <= 1:
        return ["dense"] * n, None
    out = ["moe"] * n
    period = cfg.opt("expert_layer_period")
    if period:
        offset = cfg.opt("expert_layer_offset") or 0
        return ["moe" if i % period == offset else "dense" for i in range(n)], None
    first = cfg.opt("first_k_dense_replace", "first_k_dense", "num_dense_layers") or 0
    freq = cfg.opt("moe_layer_freq") or 1
    step = cfg.opt("decoder_sparse_step") or 1
    inter = cfg.opt("interleave_moe_layer_step") or 1
    dense_only = set(_int_list(cfg.get("mlp_only_layers")) or [])
    moe_layers = _int_list(cfg.get("moe_layers"))
    for i in range(n):
        sparse = i >= first and i % freq == 0 and (i + 1) % step == 0 and (i + 1) % inter == 0 and i not in dense_only
        if moe_layers is not None:
            sparse = i in moe_layers
        out[i] = "moe" if sparse else "dense"
    return out, None
