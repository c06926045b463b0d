"""Time the fact probes: NVML through the stub library, the import probe cold and cached, and this machine's
software facts under `--with` overlays (which keep the probe for the imports an overlay does not change).

Run: python benchmarks/bench_probes.py   (needs gcc; uses temporary folders only)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MACHINES = ROOT / "fixtures" / "machines"
REPEAT = 20

NVML_TIMER = """
import json, sys, time
from advisor.facts.cpu import probe_cpu
from advisor.facts.nvml import probe_nvml
cpu = probe_cpu()
times = []
for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    hw = probe_nvml(cpu=cpu)
    times.append(time.perf_counter() - t)
print(json.dumps({"times": times, "gpus": len(hw.gpus)}))
"""


def nvml_times(lib_dir: Path, machine: str, visible: str | None = None) -> tuple[list[float], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LD_LIBRARY_PATH": str(lib_dir),
           "ADVISOR_NVML_STUB_MACHINE": str(MACHINES / f"{machine}.nvml")}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible
    out = subprocess.run([sys.executable, "-c", NVML_TIMER, str(REPEAT)], env=env, capture_output=True,
                         text=True, check=True).stdout
    data = json.loads(out)
    return data["times"], data["gpus"]


def import_times(work: Path) -> list[tuple[str, float]]:
    from advisor.facts.probe import probe_imports

    site = work / "site"
    (site / "flash_attn").mkdir(parents=True)
    (site / "flash_attn" / "__init__.py").write_text(
        "raise ImportError('/x/flash_attn_2_cuda.so: undefined symbol: _ZN3c104cuda9SetDeviceEi')\n")
    (site / "flash_attn-2.6.3.dist-info").mkdir()
    (site / "flash_attn-2.6.3.dist-info" / "METADATA").write_text("Name: flash-attn\nVersion: 2.6.3\n")
    rows = []
    t = time.perf_counter()
    probe_imports(path=[str(work / "empty")])
    rows.append(("import probe, nothing installed", time.perf_counter() - t))
    t = time.perf_counter()
    cold = probe_imports(path=[str(site)])
    rows.append(("import probe, cold (subprocess)", time.perf_counter() - t))
    assert not cold["flash_attn"].cached
    cached = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        warm = probe_imports(path=[str(site)])
        cached.append(time.perf_counter() - t)
    assert warm["flash_attn"].cached
    rows.append((f"import probe, cached (median of {REPEAT})", statistics.median(cached)))
    return rows


def software_times(work: Path) -> list[tuple[str, float]]:
    """`software_of` for this machine, with and without a (broken) flash-attn on the path, under overlays."""
    from advisor.facts.target import Target, software_of

    rows = []
    cases = [("", ()), (" --with transformers", ("transformers==5.23.0",)), (" --with torch", ("torch==2.9.0",))]
    for installed in (False, True):
        if installed:
            sys.path.insert(0, str(work / "site"))  # the fake flash-attn of import_times
        for label, overlays in cases:
            software_of(Target(with_packages=overlays))  # fills the probe's cache where it probes
            times = []
            for _ in range(REPEAT):
                t = time.perf_counter()
                software_of(Target(with_packages=overlays))
                times.append(time.perf_counter() - t)
            what = "flash-attn installed, cached" if installed else "nothing probed installed"
            rows.append((f"software_of{label} ({what}, median of {REPEAT})", statistics.median(times)))
    sys.path.remove(str(work / "site"))
    return rows


def main() -> None:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        print("gcc not found: the NVML stub cannot be built", file=sys.stderr)
        raise SystemExit(2)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["ADVISOR_CACHE_DIR"] = str(work / "cache")
        subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(work / "libnvidia-ml.so.1"),
                        str(ROOT / "tests" / "stub_nvml" / "libnvidia_ml_stub.c")], check=True)
        rows: list[tuple[str, float]] = []
        for machine, visible in [("t4", None), ("h100x8", None), ("h100x8", "3,1"), ("a100-mig", None),
                                 ("nvml-errors", None)]:
            times, gpus = nvml_times(work, machine, visible)
            label = f"probe_nvml {machine}" + (f" CVD={visible}" if visible else "") + f" ({gpus} GPU)"
            rows.append((f"{label}, median of {REPEAT}", statistics.median(times)))
        sys.path.insert(0, str(ROOT))
        rows.extend(import_times(work))
        rows.extend(software_times(work))
    width = max(len(name) for name, _ in rows)
    print(f"{'probe':<{width}}  {'ms':>9}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1000:9.2f}")


if __name__ == "__main__":
    main()
