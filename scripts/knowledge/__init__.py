"""Knowledge tables read from the released wheels of transformers, release by release.

Every fact is read from a wheel's source files (`zipfile` + `ast`); no file of a wheel is ever imported.
`read_release(wheel)` reads one release into a table (one section per module of this package: model types
and attention, rope, quantization, packages, `transformers.utils` helpers, `from_pretrained` keywords,
messages, and the `answers` derived from them); `tables.write_tables` writes what advisor ships in
`rules/transformers/`; `wheels.read_all` chooses and reads the releases. The consumer side (decoding a
shipped table) is `advisor.facts.release_table`. `scripts/gen_transformers_table.py` is the command.
"""

from __future__ import annotations

from knowledge.read import SECTIONS, read_release, read_tree
from knowledge.source import FORMAT, Json, Source

__all__ = ["FORMAT", "SECTIONS", "Json", "Source", "read_release", "read_tree"]
