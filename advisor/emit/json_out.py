"""JSON output (schema_version 1): sorted keys where order carries no meaning, stable bytes."""

from __future__ import annotations

import json
from typing import Any

from advisor.core.results import Recommendation


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def recommendation_json(rec: Recommendation) -> str:
    return dumps(rec.to_json())
