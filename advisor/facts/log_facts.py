"""What a log says about where it came from: the model it loads, package versions, GPUs, the exceptions.

Each recogniser is a literal trigger and a regex run on the line that holds it, so a 10 MB log costs one fast
search per trigger plus a little per occurrence (at most `MAX_HITS` per trigger and block), not a regex over
every line. Nothing here knows rules: `engine/explain.py` decides what the facts mean.

The model is named by, best first: a `from_pretrained("…")` call in a traceback's source line, a
`--model_name_or_path` option, a Hub URL, a Hub cache folder (`models--org--name`), a local `…/config.json`,
or transformers' `… is not a local folder and is not a valid model identifier`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from advisor.core.explanation import ModelMention, Recognised
from advisor.facts.gpu_catalog import find_gpu

MAX_HITS = 200
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?")
PATH_KINDS = ("from_pretrained", "command line", "config path")
"""Kinds of mention that may name a local path rather than a Hub id."""
NOT_ORGS = {"api", "datasets", "spaces", "docs", "models", "settings", "join", "login", "blog", "papers", "collections",
            "organizations", "new", "pricing", "tasks", "learn", "chat", "huggingface"}
"""First path segments of huggingface.co URLs that are not an owner."""
PACKAGES = {"torch": "torch", "pytorch": "torch", "transformers": "transformers", "accelerate": "accelerate",
            "flash-attn": "flash-attn", "flash_attn": "flash-attn", "bitsandbytes": "bitsandbytes",
            "xformers": "xformers", "optimum": "optimum", "peft": "peft", "deepspeed": "deepspeed",
            "huggingface-hub": "huggingface-hub", "huggingface_hub": "huggingface-hub", "safetensors": "safetensors",
            "kernels": "kernels", "triton": "triton", "vllm": "vllm", "gptqmodel": "gptqmodel",
            "auto-gptq": "auto-gptq", "autoawq": "autoawq"}
"""Names a log gives packages by (lowercased) → the distribution."""
_VERSION = r"v?(\d+\.\d+(?:\.\d+)?(?:(?:\.post|\.dev|a|b|rc)\d+)?(?:\+[\w.]+)?)"
_PKG_NAMES = "|".join(sorted((re.escape(n) for n in PACKAGES), key=len, reverse=True))
PACKAGE_VERSION = re.compile(
    rf"(?<![\w-])`?({_PKG_NAMES})`?(?:==|=|-(?=\d)|:\s*|\s+version:?\s*|\s+version \(GPU\?\):\s*|\s+)"
    rf"{_VERSION}(?![\w.])", re.IGNORECASE)
FROM_PRETRAINED = re.compile(r"from_pretrained\((?P<args>[^\n]*)")
FIRST_ARG = re.compile(r"\s*(?:pretrained_model_name_or_path\s*=\s*)?(?P<q>[\"'])(?P<id>[^\"'\s]{1,200})(?P=q)")
KWARG = re.compile(
    r"\b(?P<key>[a-z_][a-z0-9_]*)\s*=\s*(?P<value>\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|True|False|None|torch\.\w+"
    r"|-?\d+(?:\.\d+)?)")
MODEL_OPTION = re.compile(r"--model(?:_name_or_path|_id|_name)?[ =](?P<q>[\"']?)(?P<id>[^\s\"']{1,200})(?P=q)")
HUB_URL = re.compile(r"https?://huggingface\.co/(?:api/models/)?(?P<id>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)")
CACHE_DIR = re.compile(r"models--(?P<org>[A-Za-z0-9][\w.-]*?)--(?P<name>[A-Za-z0-9][\w.-]*?)(?=/|\\|\s|$|['\"])")
CONFIG_PATH = re.compile(r"(?<![\w:/.])(?P<path>(?:/|[A-Za-z]:\\|~/|\./)[^\s\"':]*?)[/\\]config\.json")
NOT_FOUND = re.compile(r"(?P<q>['\"]?)(?P<id>[^\s'\"]{1,200})(?P=q) is not a local folder and is not a valid model")
EXCEPTION = re.compile(r"^[ \t]*(?P<type>(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Warning))"
                       r"(?::[ \t]|:?$)")
GPU_NAME = re.compile(r"\b(?:NVIDIA|Tesla|GeForce|Quadro)\b[ \t]+(?P<rest>[\w-]+(?:[ \t]+[\w-]+){0,4})")
CAPABILITY = re.compile(r"(?:compute capability|CUDA capability)(?: of| is)?(?: at least)?[ \t:=]*"
                        r"(?:(?P<dot>\d{1,2}\.\d)|\((?P<tmaj>\d{1,2}),[ \t]*(?P<tmin>\d)\)|sm_(?P<sm>\d{2,3}))")
PYTHON = re.compile(r"python(?P<v>3\.\d{1,2})[/\\](?:site|dist)-packages")
TORCH_DTYPE = re.compile(r"torch\.(bfloat16|float16|float32|half|float|bf16)")

TRIGGERS: tuple[tuple[str, str], ...] = (
    ("from_pretrained(", "from_pretrained"), ("--model", "option"), ("huggingface.co/", "url"),
    ("models--", "cache"), ("config.json", "config"), ("is not a local folder", "not_found"),
    ("Error", "exception"), ("Exception", "exception"), ("NVIDIA", "gpu"), ("Tesla", "gpu"),
    ("capability", "cc"), ("-packages", "python"),
    *((name, "version") for name in ("torch", "Torch", "transformers", "accelerate", "flash", "bitsandbytes",
                                     "xformers", "deepspeed", "vllm", "huggingface_hub", "peft")),
)


def _lines_with(text: str, needle: str) -> Iterator[tuple[int, str]]:
    """(offset of the line's start, the line) for each line of TEXT holding NEEDLE, at most MAX_HITS."""
    pos, hits, last = text.find(needle), 0, -1
    while pos >= 0 and hits < MAX_HITS:
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        if start != last:
            hits += 1
            last = start
            yield start, text[start:end]
        pos = text.find(needle, end)


class Recogniser:
    """Collects what the blocks of one log say; `result()` is the summary."""

    def __init__(self) -> None:
        self.models: list[ModelMention] = []
        self.packages: dict[str, list[str]] = {}
        self.gpus: dict[str, str] = {}
        self.capabilities: list[str] = []
        self.exceptions: list[tuple[int, str]] = []
        self.flags: dict[str, object] = {}
        self.python: str | None = None

    def feed(self, text: str, first_line: int, skip_lines: int = 0) -> None:
        """Read one normalised block whose first line has number FIRST_LINE; its first SKIP_LINES were read."""
        skip_to = 0
        if skip_lines:
            skip_to = -1
            for _ in range(skip_lines):
                skip_to = text.find("\n", skip_to + 1)
                if skip_to < 0:
                    return
            skip_to += 1
        found: dict[tuple[int, str], str] = {}
        for needle, kind in TRIGGERS:
            if needle in text:
                for start, line in _lines_with(text, needle):
                    if start >= skip_to:
                        found.setdefault((start, kind), line)
        number, at = first_line, 0
        for (start, kind), line in sorted(found.items()):
            number += text.count("\n", at, start)
            at = start
            getattr(self, f"_{kind}")(line, number)

    # -- one method per kind of trigger ----------------------------------------------------------------

    def _model(self, model_id: str, how: str, line: int) -> None:
        """A Hub id, or (for the kinds that may name one) a local path."""
        if how not in PATH_KINDS:
            model_id = model_id.rstrip(".,;:)")
        if MODEL_ID.fullmatch(model_id) or how in PATH_KINDS:
            self.models.append(ModelMention(model_id, how, line))

    def _from_pretrained(self, line: str, number: int) -> None:
        for m in FROM_PRETRAINED.finditer(line):
            args = m.group("args")
            first = FIRST_ARG.match(args)
            if first:
                self._model(first.group("id"), "from_pretrained", number)
            for kw in KWARG.finditer(args):
                if kw.group("key") != "pretrained_model_name_or_path":
                    self.flags[kw.group("key")] = _literal(kw.group("value"))

    def _option(self, line: str, number: int) -> None:
        for m in MODEL_OPTION.finditer(line):
            self._model(m.group("id"), "command line", number)

    def _url(self, line: str, number: int) -> None:
        for m in HUB_URL.finditer(line):
            model_id = m.group("id")
            if model_id.split("/")[0].lower() not in NOT_ORGS:
                self._model(model_id, "Hub URL", number)

    def _cache(self, line: str, number: int) -> None:
        for m in CACHE_DIR.finditer(line):
            self._model(f"{m.group('org')}/{m.group('name')}", "Hub cache path", number)

    def _config(self, line: str, number: int) -> None:
        for m in CONFIG_PATH.finditer(line):
            if "models--" not in m.group("path"):
                self._model(m.group("path"), "config path", number)

    def _not_found(self, line: str, number: int) -> None:
        for m in NOT_FOUND.finditer(line):
            self._model(m.group("id"), "not found on the Hub", number)

    def _exception(self, line: str, number: int) -> None:
        m = EXCEPTION.match(line)
        if m:
            self.exceptions.append((number, m.group("type")))

    def _gpu(self, line: str, number: int) -> None:
        for m in GPU_NAME.finditer(line):
            words = m.group("rest").split()
            for k in range(min(len(words), 4), 0, -1):
                gpu = find_gpu(" ".join(words[:k]))
                if gpu is not None:
                    while k > 1 and find_gpu(" ".join(words[:k - 1])) == gpu:
                        k -= 1  # the fewest words that name the same GPU: not "T4 Off"
                    written = " ".join(m.group(0).split()[: k + 1])
                    self.gpus.setdefault(written, gpu.name)
                    break

    def _cc(self, line: str, number: int) -> None:
        for m in CAPABILITY.finditer(line):
            if m.group("dot"):
                cc = m.group("dot")
            elif m.group("tmaj"):
                cc = f"{m.group('tmaj')}.{m.group('tmin')}"
            else:
                sm = m.group("sm")
                cc = f"{sm[:-1]}.{sm[-1]}"
            if cc not in self.capabilities:
                self.capabilities.append(cc)

    def _python(self, line: str, number: int) -> None:
        m = PYTHON.search(line)
        if m:
            self.python = m.group("v")

    def _version(self, line: str, number: int) -> None:
        for m in PACKAGE_VERSION.finditer(line):
            dist = PACKAGES[m.group(1).lower()]
            seen = self.packages.setdefault(dist, [])
            if m.group(2) not in seen:
                seen.append(m.group(2))

    def result(self) -> Recognised:
        exceptions = tuple(dict.fromkeys(t for _, t in sorted(self.exceptions)))
        return Recognised(
            models=tuple(self.models), packages=tuple((k, tuple(v)) for k, v in sorted(self.packages.items())),
            gpus=tuple(self.gpus.items()), capabilities=tuple(self.capabilities), exceptions=exceptions,
            flags=dict(self.flags), python=self.python)


def _literal(text: str) -> object:
    """A keyword argument's value as written in a source line: a string, bool, None, number or dtype name."""
    if text[0] in "\"'":
        return text[1:-1]
    if text in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[text]
    dtype = TORCH_DTYPE.fullmatch(text)
    if dtype:
        return {"half": "float16", "float": "float32", "bf16": "bfloat16"}.get(dtype.group(1), dtype.group(1))
    if text.startswith("torch."):
        return text
    return float(text) if "." in text else int(text)
