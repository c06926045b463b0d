"""Time `advisor recommend <repo id> --offline --format json` answered from the huggingface_hub cache and from the
bundled catalog, against the same config.json given as a local file, in paired, interleaved runs.

Run: python benchmarks/bench_hub_id.py [--runs N]

Goal (issue 19): a repo id answered from the cache or the catalog costs at most 1.2x the local config; no request
is made in either case, so huggingface_hub is not imported. Temporary folders only; no network.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paired import advisor_command, compile_package, interleaved, ratio_table, runs_main

REPO = "meta-llama/Llama-3.1-8B"
COMMIT = "d04e592bb4f6aa9cfee91e2e20afa771667e1d4b"


def prepare(folder: Path) -> tuple[Path, Path, Path]:
    """A local copy of the catalog's config, an HF cache holding the same file, and an empty HF cache."""
    from advisor.facts.model_catalog import catalog

    entry = catalog().lookup(REPO)
    assert entry is not None, f"{REPO} is not in the bundled catalog"
    text = json.dumps(entry.config, indent=2)
    local = folder / "config.json"
    local.write_text(text, encoding="utf-8")
    cached = folder / "hf-cached"
    repo = cached / "hub" / ("models--" + REPO.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    (repo / "snapshots" / COMMIT / "config.json").write_text(text, encoding="utf-8")
    empty = folder / "hf-empty"
    empty.mkdir()
    return local, cached, empty


def measure(runs: int) -> dict[str, float]:
    """Median seconds of the local config, the cache answer and the catalog answer."""
    compile_package()
    advisor = advisor_command()
    common = ["--gpu", "A100-80GB", "--format", "json"]
    with tempfile.TemporaryDirectory(prefix="bench-hub-id-") as tmp:
        local, cached, empty = prepare(Path(tmp))
        # HF_HOME differs per command: each runs through `env`, so all three take turns in one loop
        cases = {
            "local config.json": ["env", f"HF_HOME={empty}", *advisor, "recommend", str(local), *common],
            "repo id, from the cache (--offline)": ["env", f"HF_HOME={cached}", *advisor, "recommend",
                                                    REPO, "--offline", *common],
            "repo id, from the catalog (--offline)": ["env", f"HF_HOME={empty}", *advisor, "recommend",
                                                      REPO, "--offline", *common],
        }
        times = interleaved(cases, runs, env={"HF_HUB_OFFLINE": "", "HF_HUB_CACHE": ""})
    print(ratio_table("repo id answered offline vs the same local config (goal: at most 1.2x)", times,
                      "local config.json"))
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    runs_main(__doc__, measure)


if __name__ == "__main__":
    main()
