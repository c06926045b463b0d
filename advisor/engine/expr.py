"""Requirement expressions: a small, safe subset of Python evaluated in three-valued logic.

A requirement reads like `gpu.cc >= "8.0" and pkg.flash_attn >= "2.6.0"`. Names are fact names;
strings compared with a version fact are versions. Any comparison that touches an unknown fact is
unknown, and `and` / `or` / `not` follow Kleene's rules, so an unknown never passes silently.

An expression is checked once (names, kinds, constants) and translated into Python source over the helper
functions below, compiled to a code object. The code object is what the rule pack caches (`marshal`), so a
later run loads compiled requirements without parsing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import CodeType, FunctionType
from typing import Any, Protocol

from packaging.version import InvalidVersion, Version

from advisor.core.logic import Tri, Unknown

Namespace = Mapping[str, Any]
Kinds = Callable[[str], str | None]
"""Returns the kind of a fact name (`version`, `number`, `bool`, `str`, `set`, `any`), None if unknown."""


class ExprError(ValueError):
    """An expression that does not parse, names an unknown fact, or holds a bad constant."""


class Dynamic(Protocol):
    """Facts computed from the flags being tried (the memory plan depends on dtype and quantization)."""

    def lookup(self, name: str, scope: Mapping[str, Any]) -> Any: ...


class Scope(dict[str, Any]):
    """The names a requirement reads: facts, the flags in scope (unset ones read as None), and `memory.*`
    figures, which follow the flags in scope. Compiled requirements index it (`ns[name]`): a name that is
    present costs a C-level lookup; only a missing one calls Python (`__missing__`)."""

    dynamic: Dynamic | None = None
    flags_key: tuple[str, ...] | None = None
    """The dynamic facts' key of the flags in scope (`MemoryPlan.flags_key`), set by a scope whose flags no
    longer change once it is read (check mode's); None: computed at each lookup."""

    def __missing__(self, key: str) -> Any:
        if key.startswith("memory."):
            if self.dynamic is None:
                return Unknown(key, "no memory plan was computed")
            return self.dynamic.lookup(key, self)
        return None

    def get(self, key: str, default: Any = None) -> Any:
        if key in self or key.startswith("memory."):
            return self[key]
        return default

    def child(self, **values: Any) -> Scope:
        """A copy with more names set, keeping the dynamic facts."""
        out = Scope(self)
        out.dynamic = self.dynamic
        out.update(values)
        return out


def to_tri(value: Any) -> Tri:
    if isinstance(value, Tri):
        return value
    if isinstance(value, Unknown):
        return Tri.UNKNOWN
    return Tri.of(bool(value))


# -- what compiled expressions call ---------------------------------------------------------------


def _and(*parts: Callable[[], Any]) -> Tri:
    acc = Tri.TRUE
    for part in parts:
        acc = acc & to_tri(part())
        if acc is Tri.FALSE:
            return acc
    return acc


def _or(*parts: Callable[[], Any]) -> Tri:
    acc = Tri.FALSE
    for part in parts:
        acc = acc | to_tri(part())
        if acc is Tri.TRUE:
            return acc
    return acc


def _not(value: Any) -> Tri:
    return ~to_tri(value)


def _known(value: Any) -> Tri:
    return Tri.of(not isinstance(value, Unknown))


def _contains(a: Any, b: Any, negate: bool) -> Tri:
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return Tri.UNKNOWN
    found = b is not None and a in b
    return Tri.of(found != negate)


def _equal(a: Any, b: Any, negate: bool) -> Tri:
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return Tri.UNKNOWN
    try:
        return Tri.of((a == b) != negate)
    except TypeError:
        return Tri.FALSE


def _order(a: Any, b: Any, op: str) -> Tri:
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return Tri.UNKNOWN
    if a is None or b is None:
        return Tri.FALSE
    try:
        if op == "<":
            return Tri.of(a < b)
        if op == "<=":
            return Tri.of(a <= b)
        if op == ">":
            return Tri.of(a > b)
        return Tri.of(a >= b)
    except TypeError:
        return Tri.FALSE


HELPERS = {"_and": _and, "_or": _or, "_not": _not, "_known": _known, "_contains": _contains, "_equal": _equal,
           "_order": _order}


class Expr:
    """A checked requirement: its text, the fact names it reads, and the compiled function."""

    __slots__ = ("_fn", "boundaries", "code", "constants", "names", "text")

    def __init__(self, text: str, names: frozenset[str], code: CodeType, constants: tuple[Any, ...],
                 boundaries: tuple[tuple[str, str], ...] = ()) -> None:
        self.text, self.names, self.code, self.constants = text, names, code, constants
        self.boundaries = boundaries
        """(fact, literal) for every version fact compared with a version written in the expression: a
        boundary written by hand (known when compiled; a rule pack does not keep it)."""
        fn: Callable[[Namespace, tuple[Any, ...]], Any] = FunctionType(code, HELPERS)
        self._fn = fn

    def truth(self, ns: Namespace) -> Tri:
        return to_tri(self._fn(ns if isinstance(ns, Scope) else Scope(ns), self.constants))

    def unknowns(self, ns: Namespace) -> list[Unknown]:
        """The unknown facts this expression reads, for the message that says what to find out."""
        return [v for n in sorted(self.names) if isinstance(v := ns.get(n), Unknown)]

    def packed(self) -> tuple[Any, ...]:
        """What the rule pack stores: text, names, code, constants (versions as strings)."""
        consts = tuple(("v", str(c)) if isinstance(c, Version) else
                       ("vs", tuple(str(v) for v in c)) if _versions(c) else ("c", c) for c in self.constants)
        return (self.text, tuple(sorted(self.names)), self.code, consts)

    @classmethod
    def unpack(cls, data: tuple[Any, ...]) -> Expr:
        text, names, code, consts = data
        constants = tuple(Version(v) if k == "v" else tuple(Version(x) for x in v) if k == "vs" else v
                          for k, v in consts)
        return cls(text, frozenset(names), code, constants)


def _versions(value: Any) -> bool:
    return isinstance(value, tuple) and bool(value) and all(isinstance(v, Version) for v in value)


def compile_expr(text: str, kinds: Kinds) -> Expr:
    """Parse and check an expression, and compile it; raise ExprError with what is wrong."""
    import ast  # only when a rule file is compiled, never when the rule pack is loaded

    try:
        tree = ast.parse(f"(\n{text.strip()}\n)", mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"does not parse: {exc.msg} in {text!r}") from None
    except RecursionError:
        raise ExprError(f"is nested too deeply: {text[:80]!r}") from None
    gen = _Generator(kinds)
    body = gen.node(tree.body)
    source = f"def _requirement(ns, C):\n    return {body}\n"
    module = compile(source, f"<requirement {text[:60]!r}>", "exec")
    code = next(c for c in module.co_consts if isinstance(c, CodeType))
    return Expr(text, frozenset(gen.names), code, tuple(gen.constants), tuple(gen.boundaries))


class _Generator:
    """Translates a checked expression tree into Python source over the helpers."""

    def __init__(self, kinds: Kinds) -> None:
        self.kinds = kinds
        self.names: set[str] = set()
        self.constants: list[Any] = []
        self.boundaries: list[tuple[str, str]] = []

    def const(self, value: Any) -> str:
        self.constants.append(value)
        return f"C[{len(self.constants) - 1}]"

    def node(self, n: Any) -> str:
        import ast

        if isinstance(n, ast.BoolOp):
            parts = ", ".join(f"lambda: {self.node(v)}" for v in n.values)
            return f"_and({parts})" if isinstance(n.op, ast.And) else f"_or({parts})"
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
            return f"_not({self.node(n.operand)})"
        if isinstance(n, ast.Compare):
            return self.compare(n)
        if isinstance(n, ast.Name | ast.Attribute):
            return f"ns[{self.fact_name(n)!r}]"
        if isinstance(n, ast.Constant) and isinstance(n.value, str | int | float | bool | type(None)):
            return self.const(n.value)
        if isinstance(n, ast.List | ast.Tuple | ast.Set):
            return self.const(tuple(self.constant(e) for e in n.elts))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "known" and len(n.args) == 1:
            return f"_known({self.node(n.args[0])})"
        raise ExprError(f"unsupported syntax {ast.unparse(n)!r} (use facts, constants, comparisons, "
                        "and/or/not, `in`, and known(fact))")

    def fact_name(self, n: Any) -> str:
        import ast

        parts: list[str] = []
        while isinstance(n, ast.Attribute):
            parts.append(n.attr)
            n = n.value
        if not isinstance(n, ast.Name):
            raise ExprError(f"bad fact name {ast.unparse(n)!r}")
        parts.append(n.id)
        name = ".".join(reversed(parts))
        if name in ("true", "false", "none"):
            raise ExprError(f"write {name.capitalize()} for the constant, not {name}")
        if self.kinds(name) is None:
            raise ExprError(f"unknown fact {name!r}")
        self.names.add(name)
        return name

    def constant(self, n: Any) -> Any:
        import ast

        if isinstance(n, ast.Constant) and isinstance(n.value, str | int | float | bool | type(None)):
            return n.value
        raise ExprError(f"lists may hold only constants, not {ast.unparse(n)!r}")

    def compare(self, n: Any) -> str:
        import ast

        if len(n.ops) != 1:
            raise ExprError(f"write one comparison at a time: {ast.unparse(n)!r}")
        op = n.ops[0]
        left, right = n.left, n.comparators[0]
        kind = self.kind_of(left) or self.kind_of(right)
        a, b = self.operand(left, kind), self.operand(right, kind)
        if kind == "version":
            fact = next((self.fact_name(s) for s in (left, right) if isinstance(s, ast.Name | ast.Attribute)), "")
            for side in (left, right):
                literals = side.elts if isinstance(side, ast.List | ast.Tuple) else [side]
                self.boundaries += [(fact, str(e.value)) for e in literals
                                    if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if isinstance(op, ast.In | ast.NotIn):
            return f"_contains({a}, {b}, {isinstance(op, ast.NotIn)})"
        if isinstance(op, ast.Eq | ast.NotEq):
            return f"_equal({a}, {b}, {isinstance(op, ast.NotEq)})"
        symbol = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}.get(type(op))
        if symbol is None:
            raise ExprError(f"unsupported comparison in {ast.unparse(n)!r}")
        return f"_order({a}, {b}, {symbol!r})"

    def kind_of(self, n: Any) -> str | None:
        import ast

        if isinstance(n, ast.Name | ast.Attribute):
            return self.kinds(self.fact_name(n))
        return None

    def operand(self, n: Any, kind: str | None) -> str:
        import ast

        if kind == "version" and isinstance(n, ast.Constant) and isinstance(n.value, str):
            try:
                return self.const(Version(n.value))
            except InvalidVersion:
                raise ExprError(f"{n.value!r} is not a version") from None
        if kind == "version" and isinstance(n, ast.List | ast.Tuple):
            try:
                return self.const(tuple(Version(str(self.constant(e))) for e in n.elts))
            except InvalidVersion as exc:
                raise ExprError(str(exc)) from None
        return self.node(n)
