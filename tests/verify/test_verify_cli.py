"""advisor verify from the command line: the table, JSON, exit codes, bad input, a missing runtime."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LLAMA = str(ROOT / "fixtures" / "configs" / "meta-llama__Meta-Llama-3.1-8B.json")
SMALL = ["--max-params", "8000000", "--seq-len", "16", "--no-compile", "--offline"]


def advisor(*args: str, code: str = "from advisor.cli import main; sys.exit(main(sys.argv[1:]))",
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", f"import sys\n{code}", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_verify_recommended_json() -> None:
    # float32 asked for: the recommendation is then the same on CPUs with and without bfloat16 instructions
    done = advisor("verify", LLAMA, "--format", "json", "--dtype", "float32", "--quiet", *SMALL)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [row] = report["results"]
    assert row["candidate"] == {"attn_implementation": "sdpa", "dtype": "float32"}
    assert row["prediction"]["recommended"] is True
    assert row["outcome"]["loaded"] and row["outcome"]["ran"] and row["outcome"]["generated"]
    assert row["outcome"]["effective_attn"] == "sdpa"
    assert row["outcome"]["rel_error"] < 1e-3
    assert row["outcome"]["forward_s"] > 0 and row["outcome"]["token_s"] > 0
    assert row["outcome"]["peak_bytes"] > 0
    assert report["built"]["shape"]["head_dim"] == 128
    assert report["agreement"] == {"agreed": 1, "run": 1}
    assert done.stderr == ""  # --quiet: no progress lines


def steps(stderr: str) -> list[str]:
    """The progress lines without their `advisor verify [  1.2 s] ` prefix."""
    out = []
    for line in stderr.splitlines():
        assert re.match(r"advisor verify \[ *\d+\.\d s\] ", line), line
        out.append(line.split("] ", 1)[1])
    return out


def test_verify_attn_table() -> None:
    done = advisor("verify", LLAMA, "--candidates", "attn", *SMALL)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    fa2 = next(ln for ln in lines if ln.startswith(" flash_attention_2"))
    assert "fails (" in fa2 and "FA2-PKG" in fa2 and "ImportError" in fa2
    assert any(ln.startswith(" eager · float32") and " yes " in ln for ln in lines)
    assert "agreement with the rules: 6/6" in done.stdout
    assert "Hub kernel" in done.stdout
    # progress on stderr, one line per step, each candidate numbered among the six that run
    lines = steps(done.stderr)
    assert lines[0] == "reading the config with the installed transformers"
    assert any(ln.startswith("building it (") and "parameters) and saving it" in ln for ln in lines)
    eager = [ln for ln in lines if ln.startswith("[6/6] eager float32: ")]
    assert [ln.split(": ", 1)[1].split(" (")[0] for ln in eager] == [
        "loading", "forward", "generating 8 tokens", "works"]
    assert "[4/6] flash_attention_2 float32: fails at load: ImportError" in "\n".join(lines)
    assert lines.index("computing the eager float32 reference") < lines.index(eager[0])


def test_remote_code_only_exits_2_without_running_it() -> None:
    done = advisor("verify", str(ROOT / "fixtures/configs/Qwen__Qwen-7B.json"), *SMALL)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "remote code" in done.stderr and "Traceback" not in done.stderr


def test_unknown_architecture_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "no_such_arch", "architectures": ["NoSuchForCausalLM"],
                               "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2}))
    done = advisor("verify", str(cfg), *SMALL)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no_such_arch" in done.stderr


def test_too_large_exits_2() -> None:
    done = advisor("verify", LLAMA, "--max-params", "5000", "--no-compile", "--offline")
    assert done.returncode == 2
    assert "too large even at a few layers" in done.stderr and "Traceback" not in done.stderr


def test_bad_option_exits_2() -> None:
    done = advisor("verify", LLAMA, "--seq-len", "1")
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_real_without_cached_weights_exits_2(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text((ROOT / "fixtures/configs/EleutherAI__pythia-14m.json").read_text())
    done = advisor("verify", str(tmp_path), "--real", "--offline")
    assert done.returncode == 2
    assert "no weights" in done.stderr and "never downloads" in done.stderr


def test_missing_torch_says_how_to_install() -> None:
    code = ('sys.modules["torch"] = None\n'
            "from advisor.cli import main; sys.exit(main(sys.argv[1:]))")
    done = advisor("verify", LLAMA, "--offline", code=code)
    assert done.returncode == 2
    assert "pip install 'hf-advisor[verify]'" in done.stderr and "Traceback" not in done.stderr


def test_recommend_path_does_not_import_torch() -> None:
    code = ("from advisor.cli import main\nimport io, contextlib\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(sys.argv[1:])\n"
            "import advisor.verify\n"
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    done = advisor("recommend", LLAMA, "--format", "json", "--offline", code=code)
    assert done.stdout.strip() == "[]", done.stderr
