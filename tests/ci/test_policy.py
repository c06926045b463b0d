"""The policy file: the matrix, ignores, lock files, and strict validation (exit 2, file:line)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from advisor.ci.policy import load_policy
from advisor.ci.software import read_pins, software_from_pins
from advisor.core.errors import InputError
from tests.ci.conftest import LLAMA, MATRIX_POLICY, ROOT, SW5, Run, write_policy


def test_matrix_runs_every_model_on_every_target(advisor: Callable[..., Run], tmp_path: Path) -> None:
    r = advisor("check", "--policy", write_policy(tmp_path, MATRIX_POLICY), "--format", "json")
    data = json.loads(r.out)
    targets = sorted({c["target"] for c in data["cases"]})
    assert targets == ["A100-80GB · tf4-fa", "A100-80GB · tf5", "T4 · tf4-fa", "T4 · tf5"]
    assert len(data["cases"]) == 8
    failing = {(f["rule"], f["target"]) for f in data["findings"]}
    assert ("FA2-CC", "T4 · tf5") in failing and ("FA2-CC", "T4 · tf4-fa") in failing
    assert ("FA2-PKG", "A100-80GB · tf5") in failing  # no flash-attn in the tf5 profile
    assert not any(t == "A100-80GB · tf4-fa" for _, t in failing)
    assert all(f["file"].endswith("advisor.toml") and f["line"] == 6 for f in data["findings"]
               if f["rule"] == "FA2-CC")
    assert r.code == 1


def test_ignores_suppress_and_unused_ignore_is_a_finding(advisor: Callable[..., Run], tmp_path: Path) -> None:
    text = MATRIX_POLICY.replace('gpus = ["T4", "A100-80GB"]', 'gpus = ["A100-80GB"]') + """
[[ignore]]
rule = "FA2-PKG"
reason = "flash-attn comes from our base image"

[[ignore]]
rule = "FA3-CC"
"""
    r = advisor("check", "--policy", write_policy(tmp_path, text), "--format", "json")
    data = json.loads(r.out)
    rules = [f["rule"] for f in data["findings"]]
    assert "FA2-PKG" not in rules
    unused = [f for f in data["findings"] if f["rule"] == "POLICY-IGNORE-UNUSED"]
    assert len(unused) == 1 and "FA3-CC" in unused[0]["message"] and unused[0]["line"] == 26
    assert r.code == 0  # the unused ignore is a warning; fail-on is error
    assert advisor("check", "--policy", tmp_path / "advisor.toml", "--fail-on", "warning").code == 1


def test_policy_fail_on_and_cli_override(advisor: Callable[..., Run], tmp_path: Path) -> None:
    text = MATRIX_POLICY.replace('gpus = ["T4", "A100-80GB"]', 'gpus = ["A100-80GB"]').replace(
        'fail-on = "error"', 'fail-on = "info"').replace(
        'name = "tf5"\nprofile = "{SW5}"\n\n[[software]]\n', "")
    policy = write_policy(tmp_path, text)
    data = json.loads(advisor("check", "--policy", policy, "--format", "json").out)
    assert data["fail_on"] == "info"
    assert advisor("check", "--policy", policy).code == (1 if data["findings"] else 0)
    assert advisor("check", "--policy", policy, "--fail-on", "error").code == 0


def test_pyproject_tool_advisor(advisor: Callable[..., Run], tmp_path: Path) -> None:
    body = MATRIX_POLICY.replace("[[model]]", "[[tool.advisor.model]]").replace(
        "[[software]]", "[[tool.advisor.software]]")
    head, _, rest = body.partition("[[tool.advisor.model]]")
    text = '[project]\nname = "x"\n\n[tool.advisor]\n' + head + "[[tool.advisor.model]]" + rest
    path = write_policy(tmp_path, text, "pyproject.toml")
    data = json.loads(advisor("check", "--policy", path, "--format", "json").out)
    assert len(data["cases"]) == 8
    assert {f["line"] for f in data["findings"] if f["rule"] == "FA2-CC"} == {10}
    bad = write_policy(tmp_path, text.replace("gpus =", "gpu ="), "pyproject.toml")
    r = advisor("check", "--policy", bad)
    assert r.code == 2 and "pyproject.toml:8: unknown key `gpu`; did you mean `gpus`?" in r.err


BAD = [
    ("colour = 1\n", "advisor.toml:2: unknown key `colour`"),
    ('fail-on = "fatal"\n', "advisor.toml:2: fail-on = 'fatal': choose one of error, warning, info"),
    ("context = \"long\"\n", "advisor.toml:2: context must be an integer, not a string"),
    ("offline = 1\n", "advisor.toml:2: offline must be true or false, not an integer"),
    ('gpus = ["T4", "T5"]\n', "advisor.toml:2: gpus: unknown GPU 'T5'; did you mean"),
    ('gpus = "T4"\n', "advisor.toml:2: gpus must be an array of strings, not a string"),
    ('[[model]]\nid = "x"\nflag = {}\n',
     "advisor.toml:4: model[1]: unknown key `flag`; did you mean `flags`?"),
    ('[[model]]\nid = "x"\nflags = "sdpa"\n', "advisor.toml:4: model[1].flags must be a table"),
    ('[[model]]\nid = "x"\nflags = { dtype = "int3" }\n',
     "advisor.toml:4: model[1].flags.dtype: dtype 'int3'"),
    ('[[model]]\nrevision = "main"\n', "advisor.toml:2: model[1]: needs an `id`"),
    ('[model]\nid = "x"\n', "advisor.toml:2: `model` must be an array of tables: write [[model]]"),
    ('[[software]]\nname = "a"\n',
     "advisor.toml:2: software[1]: give exactly one of profile, lockfile or packages"),
    ('[[software]]\npackages = { torch = "two" }\n',
     "advisor.toml:3: software[1]: software[1].packages: torch"),
    ('[[software]]\nprofile = "missing.json"\n', "advisor.toml:3: software[1]: "),
    ('[[software]]\npackages = { torch = "2.5.1" }\nwith = ["flash-attn"]\n',
     "advisor.toml:4: software[1].with: 'flash-attn': write NAME==VERSION"),
    ('[[ignore]]\nrule = "FA2-CCC"\n', "advisor.toml:3: ignore[1]: no rule 'FA2-CCC'; did you mean FA2-CC"),
    ('gpus = ["T4"\n', "advisor.toml:2:"),
    ("model = [1, 2]\n", "advisor.toml:2: `model` must be an array of tables"),
    ('hardware = ["nope.json"]\n', "advisor.toml:2: hardware: "),
]


@pytest.mark.parametrize("body, message", BAD)
def test_bad_policy_exit_2_with_file_and_line(advisor: Callable[..., Run], tmp_path: Path, body: str,
                                              message: str) -> None:
    path = write_policy(tmp_path, "# policy\n" + body)
    r = advisor("check", "--policy", path)
    assert r.code == 2, r.err
    assert r.out == "" and r.err.count("\n") == 1
    assert f"{tmp_path}/{message}" in r.err


def test_invalid_toml_names_line_and_column(advisor: Callable[..., Run], tmp_path: Path) -> None:
    path = write_policy(tmp_path, '# policy\nfail-on = "error"\ngpus = [T4]\n')
    r = advisor("check", "--policy", path)
    assert r.code == 2 and f"{path}:3:9: invalid TOML: Invalid value" in r.err


def test_policy_without_models_and_missing_file(advisor: Callable[..., Run], tmp_path: Path) -> None:
    r = advisor("check", "--policy", write_policy(tmp_path, 'gpus = ["T4"]\n'))
    assert r.code == 0 and "nothing to check" in r.out and "names no models" in r.out  # a lint-only policy
    r = advisor("check", "--policy", tmp_path / "nope.toml")
    assert r.code == 2 and "cannot read the policy" in r.err


def test_software_from_lock_files(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("# pinned\ntorch==2.5.1+cu124 ; sys_platform == 'linux'\ntransformers[torch]==4.46.0 \\\n"
                   "    --hash=sha256:abc\naccelerate>=1.0\nrequests==2.32.0\n-e .\n", encoding="utf-8")
    pins = read_pins(req)
    assert str(pins["torch"]) == "2.5.1+cu124" and str(pins["transformers"]) == "4.46.0"
    assert isinstance(pins["accelerate"], str) and "does not pin one version" in pins["accelerate"]
    assert "requests" not in pins
    sw = software_from_pins(pins, "lockfile:requirements.txt")
    assert sw.torch.cuda.value == "12.4"
    assert sw.package("flash-attn").version.known and sw.package("flash-attn").version.value is None
    assert not sw.package("accelerate").version.known

    uv = tmp_path / "uv.lock"
    uv.write_text('version = 1\n[[package]]\nname = "torch"\nversion = "2.7.1"\n\n[[package]]\n'
                  'name = "flash_attn"\nversion = "2.8.3"\n', encoding="utf-8")
    pins = read_pins(uv)
    assert str(pins["torch"]) == "2.7.1" and str(pins["flash-attn"]) == "2.8.3"
    assert software_from_pins(pins, "x").modules["flash_attn_2_cuda"].value is True

    poetry = tmp_path / "poetry.lock"
    poetry.write_text('[[package]]\nname = "transformers"\nversion = "5.23.0"\n', encoding="utf-8")
    assert str(read_pins(poetry)["transformers"]) == "5.23.0"
    broken = tmp_path / "bad.lock"
    broken.write_text("[[package]\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid TOML lock file"):
        read_pins(broken)


def test_policy_with_lockfile_and_packages(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.5.1\ntransformers==4.46.0\n", encoding="utf-8")
    path = write_policy(tmp_path, MATRIX_POLICY.split("[[software]]")[0] + """
[[software]]
lockfile = "requirements.txt"

[[software]]
name = "next"
packages = { torch = "2.13.0+cu128", transformers = "5.23.0", flash-attn = "none" }
with = ["accelerate==1.15.0"]
""")
    policy = load_policy(path)
    assert [t.label for t in policy.targets] == ["T4 · requirements.txt", "T4 · next",
                                                 "A100-80GB · requirements.txt", "A100-80GB · next"]
    nxt = policy.targets[1].software
    assert str(nxt.version("transformers")) == "5.23.0" and str(nxt.version("accelerate")) == "1.15.0"
    assert nxt.version("flash-attn") is None
    assert policy.request.offline is True and policy.models[0].line == 6


def test_local_model_paths_are_relative_to_the_policy(advisor: Callable[..., Run], tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "config.json").write_text((ROOT / "fixtures/configs/google-bert__bert-base-uncased.json")
                                        .read_text(encoding="utf-8"), encoding="utf-8")
    text = ('offline = true\ngpus = ["T4"]\n\n[[model]]\nid = "models/config.json"\n'
            'flags = { torch_dtype = "bfloat16" }\n\n[[software]]\nprofile = "{SW5}"\n\n'
            '[[ignore]]\nrule = "DTYPE-BF16-GPU"\nmodel = "models/config.json"\n')
    plain = advisor("check", "--policy", write_policy(tmp_path, text.split("[[ignore]]")[0]), "--format", "json")
    assert "DTYPE-BF16-GPU" in {f["rule"] for f in json.loads(plain.out)["findings"]}
    r = advisor("check", "--policy", write_policy(tmp_path, text), "--format", "json")
    data = json.loads(r.out)
    assert [c["model"] for c in data["cases"]] == ["models/config.json"]
    assert not any(f["rule"] in ("DTYPE-BF16-GPU", "POLICY-IGNORE-UNUSED") for f in data["findings"])


def test_explicit_defaults_on_the_command_line_override_the_policy(advisor: Callable[..., Run],
                                                                   tmp_path: Path) -> None:
    text = f'''dtype = "float16"
batch = 64
context = 32768
gpus = ["L4"]

[[software]]
profile = "{SW5.as_posix()}"

[[model]]
id = "{LLAMA.as_posix()}"
flags = {{ dtype = "bfloat16", device_map = {{ "" = 0 }} }}
'''
    policy = write_policy(tmp_path, text)
    as_written = json.loads(advisor("check", "--policy", policy, "--format", "json").out)
    assert "MEM-SINGLE-GPU" in {f["rule"] for f in as_written["findings"]}  # 64 x 32768 tokens of cache
    small = advisor("check", "--policy", policy, "--batch", "1", "--context", "4096", "--format", "json")
    assert "MEM-SINGLE-GPU" not in {f["rule"] for f in json.loads(small.out)["findings"]}
    from advisor.ci.run import merged_request

    loaded = load_policy(policy)
    assert merged_request(loaded, {}).dtype == "float16" and merged_request(loaded, {}).batch == 64
    overridden = merged_request(loaded, {"dtype": "auto", "batch": 1})
    assert overridden.dtype == "auto" and overridden.batch == 1 and overridden.context == 32768
