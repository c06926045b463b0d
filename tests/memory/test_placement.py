"""Placement fills runs of equal layers a GPU at a time: the loads, CPU bytes and offloaded cache are those of
placing the layers one by one (what accelerate's sequential fill does), for any runs and any GPUs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.memory.placement import Load, Piece, _fill


def one_by_one(runs: list[tuple[int, Piece]], caps: list[int], reserve: int) -> tuple[list[Load], int, int]:
    """The fill unit by unit, as it reads without runs."""
    pieces = [p for n, p in runs for _ in range(n)]
    caps = [max(c - (reserve if i == 0 else 0), 0) for i, c in enumerate(caps)]
    total, room = sum(p.total for p in pieces), sum(caps)
    biggest = max((p.total for p in pieces), default=0)
    targets = [min(c, int(total * c / room) + biggest) if room else 0 for c in caps]
    loads = [Load() for _ in caps]
    pos = cpu = cache = 0
    for p in pieces:
        while pos < len(caps) and loads[pos].weights + loads[pos].cache + loads[pos].extra + loads[pos].slack \
                + p.total > targets[pos]:
            pos += 1
        if pos < len(caps):
            loads[pos].add(p)
        else:
            cpu += p.weights + p.extra + p.slack
            cache += p.cache
    return loads, cpu, cache


pieces = st.builds(Piece, st.integers(0, 5_000), st.integers(0, 2_000), st.integers(0, 500), st.integers(0, 300))
runs = st.lists(st.tuples(st.integers(0, 90), pieces), max_size=8)
caps = st.lists(st.integers(0, 400_000), min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(runs, caps, st.integers(0, 50_000))
def test_runs_fill_as_one_unit_after_another(units: list[tuple[int, Piece]], room: list[int], reserve: int) -> None:
    assert _fill(units, room, reserve) == one_by_one(units, room, reserve)


def test_a_run_that_does_not_fit_spills_to_the_next_gpu_then_the_cpu() -> None:
    layer = Piece(100, 10)
    loads, cpu, cache = _fill([(30, layer)], [1_000, 1_000], 0)
    assert [ld.weights for ld in loads] == [900, 900] and cpu == 1_200 and cache == 120
