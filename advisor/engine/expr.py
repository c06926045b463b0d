"""Requirement expressions: a small, safe subset of Python evaluated in three-valued logic.

A requirement reads like `gpu.cc >= "8.0" and pkg.flash_attn >= "2.6.0"`. Names are fact names;
strings compared with a version fact are versions. Any comparison that touches an unknown fact is
unknown, and `and` / `or` / `not` follow Kleene's rules, so an unknown never passes silently.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from packaging.version import InvalidVersion, Version

from advisor.core.logic import Tri, Unknown

Namespace = Mapping[str, Any]
Kinds = Callable[[str], str | None]
"""Returns the kind of a fact name (`version`, `number`, `bool`, `str`, `set`, `any`), None if unknown."""

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}


class ExprError(ValueError):
    """An expression that does not parse, names an unknown fact, or holds a bad constant."""


class Expr:
    """A requirement. `compile_expr` checks and compiles it at once; `deferred_expr` on first use
    (for rule files already checked by an earlier run: compiling every rule dominates a cold start)."""

    __slots__ = ("_fn", "_kinds", "_names", "text")

    def __init__(self, text: str, kinds: Kinds) -> None:
        self.text = text
        self._kinds = kinds
        self._names: frozenset[str] = frozenset()
        self._fn: Callable[[Namespace], Any] | None = None

    def compile(self) -> Expr:
        if self._fn is None:
            try:
                tree = ast.parse(f"(\n{self.text.strip()}\n)", mode="eval")
            except SyntaxError as exc:
                raise ExprError(f"does not parse: {exc.msg} in {self.text!r}") from None
            names: set[str] = set()
            self._fn = _Compiler(self._kinds, names).node(tree.body)
            self._names = frozenset(names)
        return self

    @property
    def names(self) -> frozenset[str]:
        return self.compile()._names

    def truth(self, ns: Namespace) -> Tri:
        fn = self._fn or self.compile()._fn
        assert fn is not None
        return to_tri(fn(ns))

    def unknowns(self, ns: Namespace) -> list[Unknown]:
        """The unknown facts this expression reads, for the message that says what to find out."""
        return [v for n in sorted(self.names) if isinstance(v := ns.get(n), Unknown)]


def to_tri(value: Any) -> Tri:
    if isinstance(value, Tri):
        return value
    if isinstance(value, Unknown):
        return Tri.UNKNOWN
    return Tri.of(bool(value))


def compile_expr(text: str, kinds: Kinds) -> Expr:
    """Parse and check an expression; raise ExprError with what is wrong."""
    return Expr(text, kinds).compile()


def deferred_expr(text: str, kinds: Kinds) -> Expr:
    """An expression compiled when first evaluated (its text was checked by an earlier run)."""
    return Expr(text, kinds)


class _Compiler:
    def __init__(self, kinds: Kinds, names: set[str]) -> None:
        self.kinds, self.names = kinds, names

    def node(self, n: ast.expr) -> Callable[[Namespace], Any]:
        if isinstance(n, ast.BoolOp):
            parts = [self.node(v) for v in n.values]
            if isinstance(n.op, ast.And):
                return lambda ns: _fold(parts, ns, Tri.TRUE, Tri.__and__)
            return lambda ns: _fold(parts, ns, Tri.FALSE, Tri.__or__)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
            inner = self.node(n.operand)
            return lambda ns: ~to_tri(inner(ns))
        if isinstance(n, ast.Compare):
            return self.compare(n)
        if isinstance(n, ast.Name | ast.Attribute):
            name = self.fact_name(n)
            return lambda ns: ns.get(name)
        if isinstance(n, ast.Constant) and isinstance(n.value, str | int | float | bool | type(None)):
            value = n.value
            return lambda ns: value
        if isinstance(n, ast.List | ast.Tuple | ast.Set):
            items = tuple(self.constant(e) for e in n.elts)
            return lambda ns: items
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "known" and len(n.args) == 1:
            arg = self.node(n.args[0])
            return lambda ns: Tri.of(not isinstance(arg(ns), Unknown))
        raise ExprError(f"unsupported syntax {ast.unparse(n)!r} (use facts, constants, comparisons, "
                        "and/or/not, `in`, and known(fact))")

    def fact_name(self, n: ast.expr) -> str:
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

    def constant(self, n: ast.expr) -> Any:
        if isinstance(n, ast.Constant) and isinstance(n.value, str | int | float | bool | type(None)):
            return n.value
        raise ExprError(f"lists may hold only constants, not {ast.unparse(n)!r}")

    def compare(self, n: ast.Compare) -> Callable[[Namespace], Any]:
        if len(n.ops) != 1:
            raise ExprError(f"write one comparison at a time: {ast.unparse(n)!r}")
        op = n.ops[0]
        left, right = n.left, n.comparators[0]
        kind = self.kind_of(left) or self.kind_of(right)
        lf = self.operand(left, kind)
        rf = self.operand(right, kind)
        if isinstance(op, ast.In | ast.NotIn):
            negate = isinstance(op, ast.NotIn)

            def contains(ns: Namespace) -> Any:
                a, b = lf(ns), rf(ns)
                if isinstance(a, Unknown) or isinstance(b, Unknown):
                    return Tri.UNKNOWN
                found = b is not None and a in b
                return Tri.of(found != negate)

            return contains
        fn = _COMPARE.get(type(op))
        if fn is None:
            raise ExprError(f"unsupported comparison in {ast.unparse(n)!r}")
        ordering = not isinstance(op, ast.Eq | ast.NotEq)

        def cmp(ns: Namespace) -> Any:
            a, b = lf(ns), rf(ns)
            if isinstance(a, Unknown) or isinstance(b, Unknown):
                return Tri.UNKNOWN
            if ordering and (a is None or b is None):
                return Tri.FALSE
            try:
                return Tri.of(bool(fn(a, b)))
            except TypeError:
                return Tri.FALSE

        return cmp

    def kind_of(self, n: ast.expr) -> str | None:
        if isinstance(n, ast.Name | ast.Attribute):
            return self.kinds(self.fact_name(n))
        return None

    def operand(self, n: ast.expr, kind: str | None) -> Callable[[Namespace], Any]:
        if kind == "version" and isinstance(n, ast.Constant) and isinstance(n.value, str):
            try:
                v = Version(n.value)
            except InvalidVersion:
                raise ExprError(f"{n.value!r} is not a version") from None
            return lambda ns: v
        if kind == "version" and isinstance(n, ast.List | ast.Tuple):
            try:
                vs = tuple(Version(str(self.constant(e))) for e in n.elts)
            except InvalidVersion as exc:
                raise ExprError(str(exc)) from None
            return lambda ns: vs
        return self.node(n)


def _fold(parts: list[Callable[[Namespace], Any]], ns: Namespace, start: Tri,
          op: Callable[[Tri, Tri], Tri]) -> Tri:
    acc = start
    for part in parts:
        acc = op(acc, to_tri(part(ns)))
        if (start is Tri.TRUE and acc is Tri.FALSE) or (start is Tri.FALSE and acc is Tri.TRUE):
            return acc
    return acc
