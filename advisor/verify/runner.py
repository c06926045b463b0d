"""Run verify jobs in a worker subprocess: a timeout per step, and a fresh worker after a crash."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

import advisor
from advisor.core.frozen import field, fields, record
from advisor.facts.dists import environment_path
from advisor.verify.types import Outcome

PREFIX = "@@verify "
CUT = "not run: the overall deadline passed"


@record
class JobResult:
    """What the worker reported for one job."""

    device: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)
    cut: str | None = None
    """Why the candidates without an outcome were not run (the pool's deadline passed)."""


def step_label(cand: dict[str, Any]) -> str:
    """A candidate as progress lines name it: `sdpa bfloat16`, `default float16`."""
    return f"{cand.get('attn') or 'default'} {cand.get('dtype')}"


_START = "import json, runpy, sys; sys.path[:] = json.loads(sys.argv[1]); " \
         "runpy.run_module('advisor.verify.worker', run_name='__main__', alter_sys=True)"
"""The worker starts isolated (-I): its path is advisor's own folder and the environment's, never the working
directory, PYTHONPATH or the user site, where a cloned repository's `torch.py` would be imported instead."""


def worker_path() -> list[str]:
    """The worker's module search path: the folder that holds advisor, then the environment's path."""
    return [os.path.dirname(os.path.dirname(os.path.abspath(advisor.__file__))), *environment_path()]


class Worker:
    """One `python -m advisor.verify.worker` process and a thread that reads its events."""

    def __init__(self, compile_flex: bool, env: dict[str, str] | None = None) -> None:
        environ = dict(os.environ if env is None else env)
        if not compile_flex:
            environ["TORCHDYNAMO_DISABLE"] = "1"
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", _START, json.dumps(worker_path())],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=environ,
                                     start_new_session=True, text=True, encoding="utf-8")
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(PREFIX):
                try:
                    self.events.put(json.loads(line[len(PREFIX):]))
                except json.JSONDecodeError:
                    continue
        self.events.put(None)

    def send(self, job: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()

    def next_event(self, timeout: float) -> dict[str, Any] | None:
        """The next event; None when the process ended. Raises queue.Empty on timeout."""
        return self.events.get(timeout=timeout)

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        lines = [ln for ln in self.stderr.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        return lines[-1].strip()[:300] if lines else ""

    def close(self, kill: bool = False) -> str:
        """End the process (killing its group if asked); return the last line it wrote on stderr."""
        if self.proc.poll() is None:
            if kill:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                assert self.proc.stdin is not None
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        tail = self.stderr_tail()
        self.stderr.close()
        return tail


class WorkerPool:
    """Runs jobs one after another in a reused worker; use as a context manager.

    TIMEOUT_S bounds each wait for the worker (a candidate, or building the model); DEADLINE, a
    `time.monotonic()` instant, bounds them all: past it no candidate is started, the one running is
    stopped, and the rest are reported as cut. ON_RESULT, when given, is called with each candidate of a
    job and its outcome as soon as the worker reports it; ON_STEP with a line saying what the worker
    starts now or what a candidate's outcome was (both for progress lines).
    """

    def __init__(self, compile_flex: bool = True, timeout_s: float = 300.0, deadline: float | None = None,
                 on_result: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
                 on_step: Callable[[str], None] | None = None) -> None:
        self.compile_flex = compile_flex
        self.timeout_s = timeout_s
        self.deadline = deadline
        self.on_result = on_result
        self.on_step = on_step
        self._worker: Worker | None = None

    def _step(self, job: dict[str, Any], event: dict[str, Any]) -> None:
        if self.on_step is None:
            return
        text, index = str(event.get("text", "")), event.get("index")
        cands = job["candidates"]
        if isinstance(index, int) and 0 <= index < len(cands):
            text = f"[{index + 1}/{len(cands)}] {step_label(cands[index])}: {text}"
        self.on_step(text)

    def _wait_s(self) -> float:
        if self.deadline is None:
            return self.timeout_s
        return max(0.0, min(self.timeout_s, self.deadline - time.monotonic()))

    def _report(self, job: dict[str, Any], index: int, outcome: dict[str, Any]) -> None:
        if self.on_result is not None and 0 <= index < len(job["candidates"]):
            self.on_result(job["candidates"][index], outcome)
        known = set(fields(Outcome))
        self._step(job, {"index": index, "text": Outcome(**{k: v for k, v in outcome.items() if k in known}).summary()})

    def _past_deadline(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def _drop(self, kill: bool) -> str:
        assert self._worker is not None
        worker, self._worker = self._worker, None
        tail = worker.close(kill=kill)
        code = worker.proc.returncode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
        return f"the worker process ended ({how})" + (f": {tail}" if tail else "")

    def run(self, job: dict[str, Any]) -> JobResult:
        """Run JOB; a crash or timeout marks the candidate it hit and the rest go to a fresh worker."""
        result = JobResult()
        start, total = 0, len(job["candidates"])
        while True:
            if self._past_deadline():
                result.cut = CUT
                return result
            if self._worker is None:
                self._worker = Worker(self.compile_flex)
            self._worker.send(job | {"start": start})
            current: int | None = None
            restart = False
            while not restart:
                failure: tuple[str, str] | None
                try:
                    event = self._worker.next_event(self._wait_s())
                except queue.Empty:
                    self._drop(kill=True)
                    if self._past_deadline():
                        result.cut = CUT
                        return result
                    where = "building the model" if current is None else "this candidate"
                    event, failure = None, ("timeout", f"no answer within {self.timeout_s:g} s while {where}")
                else:
                    failure = ("crash", self._drop(kill=False)) if event is None else None
                if failure is not None:
                    stage, message = failure
                    if current is None:
                        result.skipped = message
                        return result
                    result.outcomes[current] = {"loaded": False, "ran": False, "stage": stage, "error": message}
                    self._report(job, current, result.outcomes[current])
                    start, restart = current + 1, True
                    continue
                assert event is not None  # no failure means an event arrived
                kind = event.get("event")
                if kind == "device":
                    result.device = {k: v for k, v in event.items() if k != "event"}
                elif kind == "model":
                    result.model = {k: v for k, v in event.items() if k != "event"}
                elif kind == "skip":
                    result.skipped = str(event.get("reason"))
                elif kind == "step":
                    self._step(job, event)
                elif kind == "note":
                    result.notes.append(str(event.get("text")))
                elif kind == "start":
                    current = int(event["index"])
                elif kind == "result":
                    result.outcomes[int(event["index"])] = dict(event["outcome"])
                    self._report(job, int(event["index"]), result.outcomes[int(event["index"])])
                    current = None
                elif kind == "done":
                    return result
            if start >= total:
                return result
