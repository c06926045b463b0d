"""Reading one release: a wheel (unpacked to a temporary folder, never imported) or a source tree."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from knowledge.answers import derive_answers
from knowledge.attention import read_attention, read_model_types
from knowledge.helpers import read_helpers
from knowledge.keywords import read_from_pretrained
from knowledge.messages import read_messages
from knowledge.packages import read_packages
from knowledge.quantization import read_quantization
from knowledge.requires import read_requires
from knowledge.rope import read_rope
from knowledge.source import FORMAT, Json, Source

SECTIONS = (
    "requires",
    "model_types",
    "attention",
    "rope",
    "quantization",
    "packages",
    "helpers",
    "from_pretrained",
    "messages",
)
"""The sections of a release table, in order."""


def _wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def read_release(wheel: Path, sections: Iterable[str] = SECTIONS) -> Json:
    """Read one transformers wheel into its knowledge table (the wheel's code is never imported).

    The `.py` files of the `transformers/` package are unpacked with `zipfile` into a temporary
    directory (the scanner reads files by path) and parsed there; nothing is executed.
    """
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory(prefix="tf-src-") as tmp:
        names = [n for n in zf.namelist() if n.startswith("transformers/") and n.endswith(".py")]
        zf.extractall(tmp, names)
        meta_name = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        metadata = zf.read(meta_name).decode("utf-8", "replace") if meta_name else ""
        return read_tree(Path(tmp), _wheel_version(wheel), metadata, sections)


def read_tree(root: Path, version: str, metadata: str = "", sections: Iterable[str] = SECTIONS) -> Json:
    """Read a source tree (the directory that contains `transformers/`) into a knowledge table.

    `sections` limits the reading to some sections (`model_types` also gives `autos`; `attention`
    needs the model types and reads them too).
    """
    src = Source(root, version, metadata)
    wanted = set(sections)
    table: Json = {"format": FORMAT, "version": version}
    if "requires" in wanted:
        table["requires"] = read_requires(src)
    if wanted & {"model_types", "attention"}:
        types = read_model_types(src)
        table.update(types)
        if "attention" in wanted:
            table["attention"] = read_attention(src, types)
    readers: dict[str, Callable[[Source], Json]] = {
        "rope": read_rope,
        "quantization": read_quantization,
        "packages": read_packages,
        "helpers": read_helpers,
        "from_pretrained": read_from_pretrained,
        "messages": read_messages,
    }
    for name, reader in readers.items():
        if name in wanted:
            table[name] = reader(src)
    if set(SECTIONS) <= set(table):
        table["answers"] = derive_answers(table)
    return table


# ---------------------------------------------------------------------------------------------------
# Small AST helpers
