"""Time the TUI against a bare Textual app with the same widgets: the advice on the first screen after
start, and the redraw after a GPU change. Paired runs, medians, ratios.

    python benchmarks/bench_tui.py [--runs 7] [--redraws 20] [--size 80x24]

Both apps run headless (Textual's own pilot and headless driver, no terminal). The advisor app opens on a
fixture config (Llama 3.1 8B), a catalog GPU (H100) and a software profile with a flash-attn overlay. The
yardstick (`benchmarks/tui_bare.py`) is a Textual app with the advisor app's widgets and stylesheet, filled
from a dump of what the advisor app shows, with no advisor code behind it.

- **start**: a fresh process each run, from the moment the parent starts it until the first frame that
  shows the advice (for the yardstick: its first frame, already filled). Runs alternate between the two
  apps, so a busy machine slows both alike. Beside it, the CPU seconds the process had used by then (all
  threads), which a busy machine inflates less than wall time.
- **redraw**: in one process per app, the time from a GPU change (H100 ↔ T4, as the GPU select sets it)
  until the first frame that shows the new advice; for the yardstick, from refilling it with the other dump
  until its next frame.

Frames are counted where Textual hands a rendered update to its driver (`App._display`), which it does in
headless mode too. The package is byte-compiled first, as an installed wheel would be.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODEL = "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"
PROFILE = "fixtures/software/tui.json"
OVERLAY = "flash-attn==2.6.3"
GPUS = ("H100", "T4")


# -- the apps under test (imports inside functions: the yardstick's process must not load advisor) ---------

class FrameTimes:
    """Mixed into an app: when it first drew, and when it drew (with the CPU time then) after `ready` was set."""

    first: float | None = None
    ready: float | None = None
    frame: float | None = None
    cpu: float | None = None

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)  # type: ignore[misc]
        if renderable is None:
            return
        now = time.time()
        self.first = self.first or now
        if self.ready is not None and self.frame is None:
            self.frame, self.cpu = now, time.process_time()


def advisor_app(gpu: str = GPUS[0]) -> Any:
    """An `AdvisorApp` on the benchmark's inputs that notes when the advice is filled and when it is drawn."""
    from advisor.tui.app import AdvisorApp  # only in the advisor's own processes
    from advisor.tui.session import Inputs  # as above

    class Timed(FrameTimes, AdvisorApp):
        def _fill(self, advice: Any) -> None:
            super()._fill(advice)
            self.ready = time.time()

    inputs = Inputs.of(model=MODEL, gpu=gpu, software_file=Path(PROFILE), with_packages=(OVERLAY,))
    return Timed(inputs)


def bare_app(dumps: list[dict[str, Any]]) -> Any:
    """The yardstick, filled with the first dump on mount."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from tui_bare import BareApp  # textual only

    class TimedBare(FrameTimes, BareApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.fill(dumps[0])

        def fill(self, dump: dict[str, Any]) -> None:
            self.show(dump)
            self.ready = time.time()

    return TimedBare(dumps[0]["gpu_names"])


def dump(app: Any) -> dict[str, Any]:
    """What a settled advisor app shows, as plain data for the yardstick."""
    from textual.content import Content
    from textual.widgets import DataTable, OptionList, Static

    def markup(widget: Static) -> str:
        visual = widget.visual
        return str(getattr(visual, "markup", visual)) if visual is not None else ""

    def rows(table: DataTable[Any]) -> list[list[str]]:
        return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]

    findings = app.query_one("#findings-list", OptionList)
    prompts = [findings.get_option_at_index(i).prompt for i in range(findings.option_count)]
    advice = app.advice
    rec = advice.recommendation
    headline = app.query("#headline")
    return {
        "gpu_names": [g.name for g in __import__("advisor.api", fromlist=["gpus"]).gpus()],
        "status": markup(app.query_one("#status", Static)),
        "headline": markup(headline.first(Static)) if headline else "",
        "model": MODEL,
        "flags": rows(app.query_one("#flags-table", DataTable)),
        "detail": markup(app.query_one("#flag-detail-body", Static)),
        "findings": [p.markup if isinstance(p, Content) else str(p) for p in prompts],
        "findings_label": str(app.query_one("#tabs").get_tab("findings").label),
        "memory": markup(app.query_one("#memory-summary", Static)),
        "facts": advice.facts_json(),
        "packages": rows(app.query_one("#packages-table", DataTable)),
        "python": rec.python,
    }


# -- children: one measurement each, printed as JSON ----------------------------------------------------

def child_start(kind: str, size: tuple[int, int], dumps_file: str | None) -> None:
    app = advisor_app() if kind == "advisor" else bare_app(json.loads(Path(dumps_file or "").read_text()))

    def check() -> None:
        if app.frame is not None:
            print(json.dumps({"first": app.first, "frame": app.frame, "cpu": app.cpu}), flush=True)
            app.exit()

    app.call_later(lambda: app.set_interval(0.002, check))
    app.run(headless=True, size=size)


async def _until_drawn(app: Any) -> None:
    while app.frame is None:
        await asyncio.sleep(0.001)


def child_redraw(kind: str, size: tuple[int, int], dumps_file: str | None, count: int) -> None:
    dumps = json.loads(Path(dumps_file).read_text()) if dumps_file else []

    async def run() -> list[float]:
        app = advisor_app() if kind == "advisor" else bare_app(dumps)
        out: list[float] = []
        async with app.run_test(size=size) as pilot:
            await _until_drawn(app)
            await pilot.pause(0.2)
            for i in range(count):
                app.ready = app.frame = None
                start = time.time()
                if kind == "advisor":
                    app.set_inputs(app.inputs.changed(gpu=GPUS[(i + 1) % 2]))
                else:
                    app.fill(dumps[(i + 1) % 2])
                await _until_drawn(app)
                out.append(app.frame - start)
                await pilot.pause(0.05)
        return out

    print(json.dumps(asyncio.run(run())), flush=True)


def make_dumps(size: tuple[int, int], path: Path) -> None:
    """Dump what the advisor app shows for each GPU of the redraw (the yardstick shows the same)."""

    async def run() -> list[dict[str, Any]]:
        out = []
        for gpu in GPUS:
            app = advisor_app(gpu)
            async with app.run_test(size=size) as pilot:
                await _until_drawn(app)
                await pilot.pause(0.2)
                await pilot.press("2", "3", "4", "5", "6", "1")  # every tab shown once (an app may mount
                await pilot.pause(0.2)                            # a tab's widgets when it is first shown)
                out.append(dump(app))
        return out

    path.write_text(json.dumps(asyncio.run(run())), encoding="utf-8")


# -- the parent ----------------------------------------------------------------------------------------

def spawn(args: list[str]) -> tuple[str, float]:
    """(the last line of stdout, the wall-clock time it was started at) of one child."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.time()
    proc = subprocess.run([sys.executable, __file__, "--child", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr}")
    return proc.stdout.strip().splitlines()[-1], start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="fresh processes per app for the start (default 7)")
    ap.add_argument("--redraws", type=int, default=20, help="GPU changes per redraw process (default 20)")
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    if args.child:
        what, kind, *rest = args.child
        dumps = rest[0] if rest else None
        if what == "start":
            child_start(kind, (w, h), dumps)
        else:
            child_redraw(kind, (w, h), dumps, int(rest[1]))
        return 0

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "advisor"), str(ROOT / "benchmarks")],
                   env=env, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        dumps = Path(tmp) / "dumps.json"
        make_dumps((w, h), dumps)
        start: dict[str, list[tuple[float, float, float]]] = {"advisor": [], "bare": []}
        for _ in range(args.runs):
            for kind in ("advisor", "bare"):
                out, began = spawn(["start", kind, *([str(dumps)] if kind == "bare" else [])])
                seen = json.loads(out)
                start[kind].append((seen["first"] - began, seen["frame"] - began, seen["cpu"]))
        redraw: dict[str, list[float]] = {"advisor": [], "bare": []}
        for kind in ("advisor", "bare", "advisor", "bare"):
            out, _ = spawn(["redraw", kind, str(dumps), str(args.redraws)])
            redraw[kind] += json.loads(out)

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print(f"TUI, {args.size}, Python {sys.version.split()[0]}, {args.runs} fresh processes per app, "
          f"{len(redraw['advisor'])} GPU changes per app")
    print(f"{'':<44}{'advisor':>10}{'bare':>10}{'ratio':>8}")
    rows = [("start: first frame (s)", [r[0] for r in start["advisor"]], [r[0] for r in start["bare"]]),
            ("start: advice on the first screen (s)", [r[1] for r in start["advisor"]],
             [r[1] for r in start["bare"]]),
            ("start: CPU seconds until then", [r[2] for r in start["advisor"]], [r[2] for r in start["bare"]]),
            ("redraw after a GPU change (ms)", [v * 1000 for v in redraw["advisor"]],
             [v * 1000 for v in redraw["bare"]])]
    for name, a, b in rows:
        print(f"{name:<44}{med(a):>10.3f}{med(b):>10.3f}{med(a) / med(b):>7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
