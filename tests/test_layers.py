"""The house stays one-directional: imports point down the layers, no module cycle, no hidden imports.

Read with `ast` (nothing is imported): every `import advisor...` at module level or inside a function
counts; only `if TYPE_CHECKING:` blocks are exempt.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "advisor"
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("facts",),
    ("memory",),
    ("engine",),
    ("ci", "verify"),
    ("emit",),
    ("api",),
    ("tui",),
    ("cli",),
    ("__main__",),
)
"""Bottom first. A module may import its own package and any package of a lower layer."""
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top(module: str) -> str:
    """The top-level part of advisor a module belongs to (`advisor.facts.hub` → `facts`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported advisor module, line, inside a try whose handlers catch ImportError) for one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                h.type is not None and any(n in ast.unparse(h.type) for n in ("ImportError", "ModuleNotFound"))
                for h in node.handlers):
            for stmt in node.body:
                guarded.update(id(n) for n in ast.walk(stmt))
    current = module_name(path)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = current.split(".")[: -node.level] if path.name != "__init__.py" else current.split(".")
                names = [".".join([*base, node.module] if node.module else base)]
            elif node.module and node.module.split(".")[0] == "advisor":
                names = [node.module]
                names += [f"{node.module}.{a.name}" for a in node.names
                          if (PACKAGE.parent / f"{node.module}.{a.name}".replace(".", "/")).exists()
                          or (PACKAGE.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == "advisor"]
        for name in names:
            yield name, node.lineno, id(node) in guarded


def graph() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        out[module_name(path)] = {name for name, _, _ in imports(path)}
    return out


def test_every_package_has_a_layer() -> None:
    packages = {top(module_name(p)) for p in PACKAGE.rglob("*.py")} - {""}
    assert packages <= set(RANK), f"give these a layer in LAYERS: {sorted(packages - set(RANK))}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: module_name(p))
def test_imports_point_down(path: Path) -> None:
    here = top(module_name(path))
    upward = []
    for name, line, _ in imports(path):
        there = top(name)
        if there in ("", here):
            continue
        if here == "" or RANK[there] >= RANK[here]:
            upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not upward, "imports must point down the layers:\n" + "\n".join(upward)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: module_name(p))
def test_no_first_party_import_behind_except_import_error(path: Path) -> None:
    hidden = [f"{path.relative_to(PACKAGE.parent)}:{line} {name}" for name, line, guarded in imports(path) if guarded]
    assert not hidden, "a first-party import may not be hidden behind `except ImportError`: " + ", ".join(hidden)


def test_the_root_package_imports_nothing() -> None:
    assert not list(imports(PACKAGE / "__init__.py"))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_modules() -> None:
    edges = graph()
    # A package's __init__ is imported with any of its modules: an edge to a package is an edge to its __init__.
    assert _cycles(edges) == []


def test_the_checker_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_architecture_page_names_every_package_and_real_files() -> None:
    import re

    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in (p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        assert f"**{package}/**" in page or f"{package}/" in page, f"docs/architecture.md does not describe {package}/"
    for where in ("A rule.", "A flag.", "A GPU.", "An output format.", "An architecture's memory formula."):
        assert f"**{where}**" in page
    for package, module in re.findall(r"`(core|facts|memory|engine|ci|verify|emit|tui)/([a-z_]+\.py)`", page):
        assert (PACKAGE / package / module).is_file(), f"docs/architecture.md names {package}/{module}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: module_name(p))
def test_an_import_inside_a_function_says_why(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    skip = _type_checking_nodes(tree)
    silent = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if id(node) in skip or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if not (mod or "").startswith("advisor"):
                continue
            here, above = lines[node.lineno - 1], lines[node.lineno - 2] if node.lineno > 1 else ""
            if "#" not in here and not above.strip().startswith("#"):
                silent.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not silent, "a first-party import inside a function needs a comment saying why: " + ", ".join(silent)
