from collections import OrderedDict

CONFIG_MAPPING_NAMES = OrderedDict(
    [
        # Add configs here
        ("base", "BaseConfig"),
        ("child", "ChildConfig"),
        ("child-legacy", "ChildConfig"),
    ]
)

CONFIG_MAPPING_NAMES.update({"extra": "ExtraConfig"})
