"""Fake installed distributions on a temporary folder put on the module path: real imports, real subprocesses."""

from __future__ import annotations

from pathlib import Path

UNDEFINED = ("/x/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: undefined symbol: "
             "_ZN3c104cuda9SetDeviceEi")
"""What a flash-attn built against another torch says on import."""


def package(root: Path, name: str, dist: str, version: str, body: str) -> Path:
    """A top-level package `name` with `__init__.py` = body, and its dist-info."""
    (root / name).mkdir(parents=True)
    init = root / name / "__init__.py"
    init.write_text(body)
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    return init


def flash_attn(root: Path, works: bool, version: str = "2.8.3") -> Path:
    """flash-attn VERSION under ROOT: importing it works (with its flash_attn_2_cuda), or fails as if built
    against another torch (`undefined symbol`)."""
    package(root, "flash_attn", "flash-attn", version,
            "import flash_attn_2_cuda\n" if works else f"raise ImportError({UNDEFINED!r} + '\\nsecond line')\n")
    if works:
        (root / "flash_attn_2_cuda.py").write_text("VERSION = 1\n")
    return root
