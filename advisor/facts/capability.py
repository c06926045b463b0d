"""What a CUDA compute capability implies: architecture name, hardware bf16, fp8."""

from __future__ import annotations

from advisor.core.fact import Fact

ARCHS: tuple[tuple[tuple[int, int], str], ...] = (
    ((10, 0), "Blackwell"),
    ((9, 0), "Hopper"),
    ((8, 9), "Ada"),
    ((8, 0), "Ampere"),
    ((7, 5), "Turing"),
    ((7, 0), "Volta"),
    ((6, 0), "Pascal"),
    ((5, 0), "Maxwell"),
    ((3, 0), "Kepler"),
)
"""Lowest capability of each architecture, newest first (Jetson Thor 11.0 and GB10 12.1 are Blackwell)."""


def arch_name(cc: tuple[int, int]) -> str | None:
    for lowest, name in ARCHS:
        if cc >= lowest:
            return name
    return None


def capability_traits(cc: Fact[tuple[int, int]]) -> tuple[Fact[str], Fact[bool], Fact[bool]]:
    """(arch, bf16, fp8) derived from a compute capability: bf16 needs 8.0, fp8 needs 8.9."""
    if cc.value is None:
        reason = cc.reason or "compute capability unknown"
        return (Fact.unknown(reason, cc.source), Fact.unknown(reason, cc.source),
                Fact.unknown(reason, cc.source))
    major, minor = cc.value
    source = f"compute capability {major}.{minor}"
    arch = arch_name(cc.value)
    arch_fact: Fact[str] = (Fact.of(arch, source) if arch else
                            Fact.unknown(f"no known architecture for {source}", source))
    return arch_fact, Fact.of(cc.value >= (8, 0), source), Fact.of(cc.value >= (8, 9), source)
