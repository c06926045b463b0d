# A miniature transformers tree for scanner tests (new era: one flash flag, legacy FA2 accepted).
class PreTrainedModel:
    _supports_sdpa = False
    _supports_flash_attn = False
    _supports_flex_attn = False

    def check(self):
        if not (self._supports_flash_attn or getattr(self, "_supports_flash_attn_2", False)):
            raise ValueError("no flash")
