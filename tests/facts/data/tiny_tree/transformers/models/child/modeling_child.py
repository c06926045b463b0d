from ...mixins import FlexMixin, PlainMixin
from ...modeling_utils import PreTrainedModel
from ..base.modeling_base import BasePreTrainedModel as Parent


class ChildPreTrainedModel(Parent):
    _supports_sdpa = False


class ChildModel(FlexMixin, ChildPreTrainedModel):
    pass


class ChildOtherModel(PlainMixin, ChildPreTrainedModel):
    _supports_flex_attn = Parent._supports_sdpa


class ChildForCausalLM(ChildModel):
    @property
    def _supports_sdpa(self):
        return True


class ChildLegacyForCausalLM(PreTrainedModel):
    _supports_flash_attn_2 = True
