"""Attention flags of a model class and the era rules that read them (what the support lookups need at
run time; the source scanner that produces them lives in transformers_scan)."""

from __future__ import annotations

import re

from advisor.core.frozen import frozen

COMPATIBLE = "_compatible_flash_implementations"


@frozen
class Era:
    """Which class flags a transformers version reads for each attention backend."""

    fa2: tuple[str, ...]
    fa3: tuple[str, ...]
    flex: bool
    compatible: bool

    @classmethod
    def detect(cls, modeling_utils_text: str) -> Era:
        """Read the era from `modeling_utils.py`: the flags `PreTrainedModel` declares and checks."""

        def declares(name: str) -> bool:
            return re.search(rf"^\s+{name}\s*[:=]", modeling_utils_text, re.M) is not None

        if declares("_supports_flash_attn"):
            legacy = re.search(
                r"if not \(\s*self\._supports_flash_attn or getattr\(self, \"_supports_flash_attn_2\"",
                modeling_utils_text,
            )
            fa2: tuple[str, ...] = (
                ("_supports_flash_attn", "_supports_flash_attn_2") if legacy else ("_supports_flash_attn",)
            )
            fa3: tuple[str, ...] = ("_supports_flash_attn",)
        else:
            fa2 = ("_supports_flash_attn_2",)
            fa3 = ("_supports_flash_attn_3",) if declares("_supports_flash_attn_3") else ()
        return cls(fa2, fa3, declares("_supports_flex_attn"), declares(COMPATIBLE))


@frozen
class AttnFlags:
    """Which attention backends a class allows in one transformers version (the class flags only)."""

    sdpa: bool = False
    flash2: bool = False
    flash3: bool = False
    flex: bool = False
    compatible_flash: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        """`S` sdpa, `2` FA2, `3` FA3, `X` flex, `-` none (the notation of the knowledge table)."""
        out = "".join(
            c for c, on in zip("S23X", (self.sdpa, self.flash2, self.flash3, self.flex), strict=True) if on
        )
        return out or "-"

    @classmethod
    def from_code(cls, code: str, compatible_flash: tuple[str, ...] = ()) -> AttnFlags:
        return cls("S" in code, "2" in code, "3" in code, "X" in code, compatible_flash)
