class FlexMixin:
    _supports_flex_attn: bool = True


class PlainMixin:
    pass
