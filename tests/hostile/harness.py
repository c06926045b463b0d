"""Run the real `advisor` as a stranger's input would: a subprocess with its own caches and working folder,
measured for wall time and peak memory (os.wait4), and judged by what a hostile input must never cause."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "fixtures" / "configs"
SHARED_CONFIGS = Path("/work/shared/fixtures/hub-configs")
MARKER = "MARKER-RAN"
"""A file that hostile code in a fixture would write: its presence means advisor ran code not its own."""
TIME_S = 30.0
"""Each run ends within this (a cold start of the CLI is about 1 s; none of these should wait on anything)."""
MEMORY_MIB = 700
"""Each run's peak resident memory stays under this (a plain recommend is about 60 MiB)."""


PROGRESS = re.compile(r"^advisor (check|lint|verify) \[\s*[\d.]+ s\] ")
"""A progress line (shown once a run has taken two seconds): not an error line."""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    wall_s: float
    peak_mib: float


def advisor(*args: str | Path, cwd: Path, env: Mapping[str, str] | None = None, stdin: str | None = None,
            python_m: bool = False, timeout: float = TIME_S * 2, signal_after: float | None = None) -> Run:
    """`advisor ARGS` (or `python -m advisor`) in CWD with its caches under CWD, offline unless ENV says; killed
    past TIMEOUT; with SIGNAL_AFTER, sent SIGTERM that many seconds in."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "ADVISOR_", "PYTHON"))}
    base.update(HF_HOME=str(cwd / ".hf"), ADVISOR_CACHE_DIR=str(cwd / ".advisor-cache"), HF_HUB_OFFLINE="1",
                NO_COLOR="1", COLUMNS="100")
    base.update(env or {})
    command = [sys.executable, "-m", "advisor"] if python_m else [str(Path(sys.executable).parent / "advisor")]
    out_path, err_path, in_path = cwd / ".stdout", cwd / ".stderr", cwd / ".stdin"
    in_path.write_text(stdin or "")
    # A small wrapper interpreter, started with posix_spawn, forks and execs advisor in CWD and reports what
    # os.wait4 says of it. The wrapper's own peak counts the memory of whoever spawned it (an exec after a
    # vfork-style spawn inherits the spawning process's high-water mark: a pytest worker's 700+ MiB), so
    # advisor's peak is read where advisor is the child of a process that small.
    report = cwd / ".wait4"
    start = time.monotonic()
    pid = os.posix_spawn(sys.executable, [sys.executable, "-I", "-c", _WRAPPER, str(cwd), str(report), *command,
                                          *map(str, args)],
                         base, setsid=True, file_actions=[
                             (os.POSIX_SPAWN_OPEN, 0, str(in_path), os.O_RDONLY, 0),
                             (os.POSIX_SPAWN_OPEN, 1, str(out_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                             (os.POSIX_SPAWN_OPEN, 2, str(err_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)])
    killer = threading.Timer(timeout, lambda: os.killpg(pid, signal.SIGKILL))
    killer.start()
    if signal_after is not None:
        threading.Timer(signal_after, lambda: os.kill(pid, signal.SIGTERM)).start()
    _, status, _ = os.wait4(pid, 0)
    killer.cancel()
    wall = time.monotonic() - start
    code, peak = os.waitstatus_to_exitcode(status), 0.0
    if report.is_file():
        status_text, peak_kib = report.read_text().split()
        code, peak = os.waitstatus_to_exitcode(int(status_text)), int(peak_kib) / 1024
        report.unlink()
    for leftover in (in_path,):
        leftover.unlink()
    out, err = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    return Run(code, out, err, wall, peak)


_WRAPPER = """
import os, signal, sys
cwd, report, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    os.chdir(cwd)
    os.execv(argv[0], argv)
signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
while True:
    try:
        _, status, usage = os.wait4(pid, 0)
        break
    except InterruptedError:
        continue
with open(report, "w") as fh:
    fh.write(f"{status} {usage.ru_maxrss}")
"""


def assert_contained(run: Run, codes: Sequence[int], folder: Path, *, time_s: float = TIME_S,
                     memory_mib: float = MEMORY_MIB, says: str = "") -> None:
    """The run ended with one of CODES, its stderr is at most one line of `advisor: ...` (no traceback, no
    internal error), it kept within TIME_S and MEMORY_MIB, and no marker file appeared under FOLDER."""
    assert run.code in codes, (run.code, run.err[-2000:])
    assert run.code != 70 and "Traceback" not in run.err and "internal error" not in run.err, run.err[-2000:]
    lines = [line for line in run.err.splitlines() if line.strip() and not PROGRESS.match(line)]
    if run.code != 0:
        assert len(lines) <= 1 and all(line.startswith(("advisor: ", "advisor check: ", "advisor lint: "))
                                       for line in lines), run.err[-2000:]
        assert all(len(line) <= 1200 for line in lines), run.err[:2000]
        assert run.code != 2 or len(lines) == 1, run.err[-2000:]
    assert says in run.err + run.out, (says, run.err[-2000:])
    assert run.wall_s < time_s, run.wall_s
    assert run.peak_mib < memory_mib, run.peak_mib
    assert not list(folder.rglob(MARKER)), "a marker file was written: code not advisor's own ran"
