"""Placeable units of weights and the helpers that count them from layer shapes.

Each unit is what accelerate places as one piece: the embeddings, one decoder layer, the head. The
counts follow the module layout of the transformers classes (checked against meta-device models in
tests/memory); `linear` is the part held in `nn.Linear` weights inside the layers, which is what
GPTQ, AWQ, bitsandbytes and FP8 quantize (embeddings, norms, biases and the LM head stay as they are).
"""

from __future__ import annotations

from collections.abc import Callable

from advisor.core.frozen import field, frozen, record
from advisor.memory.config import Cfg


@frozen
class Unit:
    """Weights that are placed together: `kind` is embed, layer, head, encoder or tower."""

    name: str
    kind: str
    params: int
    linear: int = 0
    """Parameters in quantizable `nn.Linear` weights."""
    experts: int = 0
    """Parameters in MoE expert weights (all experts are resident)."""


@frozen
class Count:
    """A model's parameters by unit, with what could not be counted."""

    units: tuple[Unit, ...]
    method: str
    """Where the figure comes from (`parameters_source` in the JSON)."""
    exact: bool
    """Exact (safetensors, a meta-device build, or a formula the tests verify against transformers); False: an
    estimate, which errs high."""
    missing: tuple[str, ...] = ()
    """Parts of the model that are not in the count, each with the reason."""
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(u.params for u in self.units)

    @property
    def linear(self) -> int:
        return sum(u.linear for u in self.units)

    @property
    def experts(self) -> int:
        return sum(u.experts for u in self.units)


@record
class Acc:
    """Accumulates one unit's parameters."""

    params: int = 0
    linear: int = 0
    experts: int = 0
    notes: list[str] = field(default_factory=list)

    def lin(self, i: int, o: int, bias: bool = False, n: int = 1) -> None:
        self.params += n * (i * o + (o if bias else 0))
        self.linear += n * i * o

    def expert(self, i: int, o: int, n: int, bias: bool = False) -> None:
        self.lin(i, o, bias, n)
        self.experts += n * i * o

    def add(self, n: int) -> None:
        self.params += n

    def unit(self, name: str, kind: str) -> Unit:
        return Unit(name, kind, self.params, self.linear, self.experts)


def norm(acc: Acc, size: int, bias: bool, n: int = 1) -> None:
    acc.add(n * size * (2 if bias else 1))


def head(vocab: int, hidden: int, tied: bool, bias: bool = False, extra: int = 0) -> Unit:
    """The LM head: none of its own when tied to the input embeddings."""
    return Unit("lm_head" + (" (tied to the embeddings)" if tied else ""), "head",
                extra + (0 if tied else vocab * hidden) + (vocab if bias else 0))


def cfg_bool(cfg: Cfg, value: bool | str) -> bool:
    return cfg.flag(value, False) if isinstance(value, str) else value


def attn_gqa(acc: Acc, cfg: Cfg, hidden: int, qkv_bias: bool, o_bias: bool) -> None:
    heads = cfg.need("num_attention_heads", "n_head", "num_heads")
    kv = cfg.opt("num_key_value_heads", "num_kv_heads", default=heads) or heads
    hd = cfg.opt("head_dim") or hidden // heads
    acc.lin(hidden, heads * hd, qkv_bias)
    acc.lin(hidden, kv * hd, qkv_bias, n=2)
    acc.lin(heads * hd, hidden, o_bias)


def mlp(acc: Acc, hidden: int, inter: int, gated: bool, bias: bool) -> None:
    acc.lin(hidden, inter, bias, n=2 if gated else 1)
    acc.lin(inter, hidden, bias)


def stack(vocab: int, hidden: int, layer: Callable[[int], Acc], layers: int, tied: bool,
          norm_bias: bool = False, lm_head_bias: bool = False, embed_extra: int = 0,
          final_norm: bool = True) -> list[Unit]:
    """Embeddings, the decoder layers, then the final norm with the LM head."""
    units = [Unit("embeddings", "embed", vocab * hidden + embed_extra)]
    for i in range(layers):
        units.append(layer(i).unit(f"layer {i}", "layer"))
    tail = Acc()
    if final_norm:
        norm(tail, hidden, norm_bias)
    units.append(head(vocab, hidden, tied, lm_head_bias, tail.params))
    return units
