"""Value classes without `dataclasses`: `@frozen` (immutable) and `@record` (mutable), slotted.

`dataclasses` imports `inspect` and writes and compiles six methods for every class; with sixty value
classes that was a fifth of `advisor recommend`'s run time (12 ms of decoration plus 8 ms of imports). Here
the fields are read from the class's annotations (in order, inherited from decorated bases), and one set of
plain functions, reading the field list kept on the class, does what generated methods would do.
`field`, `replace`, `fields` and `asdict` stand in for their `dataclasses` namesakes; type checkers see
dataclass-like classes through `dataclass_transform`.
"""

from __future__ import annotations

from collections.abc import Callable
from keyword import iskeyword
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenError(AttributeError):
    """An attempt to assign to or delete a field of a frozen value."""


class _Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None) -> None:
        self.default, self.default_factory = default, default_factory


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field's default, or a factory called for each new value (for mutable defaults)."""
    return _Field(default, default_factory)


def _build(cls: type[T], frozen_: bool) -> type[T]:
    spec: list[tuple[str, Any, Callable[[], Any] | None]] = []
    for base in reversed(cls.__mro__[1:]):
        spec.extend(getattr(base, "__frozen_fields__", ()))
    names_before = {name for name, _, _ in spec}
    own: list[str] = []
    namespace = dict(cls.__dict__)
    # not inspect.get_annotations: importing inspect costs more than the rest of this module's work
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = namespace.pop(name, MISSING)
        default, factory = (value.default, value.default_factory) if isinstance(value, _Field) else (value, None)
        spec = [s for s in spec if s[0] != name]
        spec.append((name, default, factory))
        if name not in names_before:
            own.append(name)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__slots__"] = tuple(own)
    namespace["__frozen_fields__"] = tuple(spec)
    namespace["__frozen_names__"] = tuple(name for name, _, _ in spec)
    namespace["__match_args__"] = namespace["__frozen_names__"]
    namespace["__frozen_values__"] = _getter(namespace["__frozen_names__"])
    namespace["__frozen_index__"] = {name: i for i, (name, _, _) in enumerate(spec)}
    methods: dict[str, Any] = dict(_FROZEN if frozen_ else _MUTABLE)
    for key, method in methods.items():
        if key not in cls.__dict__ or key in ("__setattr__", "__delattr__"):
            namespace[key] = method
    metaclass: Any = type(cls)
    made: type[T] = metaclass(cls.__name__, cls.__bases__, namespace)
    return made


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: type[T]) -> type[T]:
    """Make CLS an immutable, slotted value class (init, equality, hash and repr over its fields)."""
    return _build(cls, True)


@dataclass_transform(field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Make CLS a mutable, slotted record (init, equality and repr over its fields; not hashable)."""
    return _build(cls, False)


COMPILE_AFTER = 200
"""Values made with the generic init before a class gets its own compiled `__init__`: compiling costs about
a hundred generic inits, so a class a run makes few values of (each of them, in `advisor recommend`) never pays."""
_MADE: dict[type, int] = {}


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    """The generic init, until a class has made COMPILE_AFTER values: then its own `__init__` is compiled (as
    `dataclasses` would, but only for the classes a run makes many values of) and takes over."""
    cls = type(self)
    made = _MADE.get(cls, 0) + 1
    _MADE[cls] = made
    if made >= COMPILE_AFTER and cls.__dict__.get("__init__") is _init:
        own = None if hasattr(cls, "__post_init__") else _compile_init(cls)
        cls.__init__ = own or _generic_init  # the generic one for good where none is compiled
        _MADE.pop(cls, None)
    _generic_init(self, *args, **kwargs)


def _compile_init(cls: Any) -> Callable[..., None] | None:
    """`__init__(self, a, b=…, c=…)` setting each field in order; None when a field name is not an identifier."""
    spec = cls.__frozen_fields__
    names = [name for name, _, _ in spec]
    if not all(n.isidentifier() and not iskeyword(n) and not n.startswith("_f_") and n not in ("self", "_set",
                                                                                          "_MISSING") for n in names):
        return None
    env: dict[str, Any] = {"_set": object.__setattr__, "_MISSING": MISSING}
    params, body, required_seen_default = [], [], False
    for i, (name, default, factory) in enumerate(spec):
        if default is not MISSING:
            env[f"_f_d{i}"] = default
            params.append(f"{name}=_f_d{i}")
            required_seen_default = True
        elif factory is not None:
            env[f"_f_f{i}"] = factory
            params.append(f"{name}=_MISSING")
            body.append(f" if {name} is _MISSING: {name} = _f_f{i}()")
            required_seen_default = True
        elif required_seen_default:
            return None  # a required field after a defaulted one: the generic init says what is missing
        else:
            params.append(name)
        body.append(f" _set(self, {name!r}, {name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or " pass") + "\n"
    exec(compile(source, f"<init of {cls.__qualname__}>", "exec"), env)
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _generic_init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    spec = cls.__frozen_fields__
    if not kwargs and len(args) == len(spec):  # every field given in order: the common case, kept short
        for name, value in zip(cls.__frozen_names__, args, strict=True):
            object.__setattr__(self, name, value)
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()
        return
    name_of = cls.__name__
    if len(args) > len(spec):
        raise TypeError(f"{name_of}() takes {len(spec)} positional arguments but {len(args)} were given")
    unknown = set(kwargs) - set(type(self).__frozen_names__)
    if unknown:
        raise TypeError(f"{name_of}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    for i, (name, default, factory) in enumerate(spec):
        if i < len(args):
            if name in kwargs:
                raise TypeError(f"{name_of}() got multiple values for argument {name!r}")
            value = args[i]
        elif name in kwargs:
            value = kwargs[name]
        elif default is not MISSING:
            value = default
        elif factory is not None:
            value = factory()
        else:
            raise TypeError(f"{name_of}() missing required argument: {name!r}")
        object.__setattr__(self, name, value)
    post = getattr(self, "__post_init__", None)
    if post is not None:
        post()


def _getter(names: tuple[str, ...]) -> Any:
    """A callable giving a value's fields as a tuple, in order (`attrgetter` reads them in C)."""
    if len(names) >= 2:
        return attrgetter(*names)
    one = attrgetter(names[0]) if names else None
    return staticmethod(lambda obj: (one(obj),) if one is not None else ())


def _values(self: Any) -> tuple[Any, ...]:
    values: tuple[Any, ...] = type(self).__frozen_values__(self)
    return values


def _repr(self: Any) -> str:
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__frozen_names__)
    return f"{type(self).__qualname__}({inner})"


def _eq(self: Any, other: object) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> tuple[Any, ...]:
    return _values(self)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for name, value in zip(type(self).__frozen_names__, state, strict=True):
        object.__setattr__(self, name, value)


_MUTABLE = {"__init__": _init, "__repr__": _repr, "__eq__": _eq, "__hash__": None, "__getstate__": _getstate,
            "__setstate__": _setstate}
_FROZEN = {**_MUTABLE, "__hash__": _hash, "__setattr__": _setattr, "__delattr__": _delattr}


def is_value(obj: object) -> bool:
    """Whether OBJ is an instance of a `@frozen` or `@record` class."""
    return hasattr(type(obj), "__frozen_fields__") and not isinstance(obj, type)


def fields(obj: object) -> tuple[str, ...]:
    """The field names of a value (or value class), in order."""
    cls = obj if isinstance(obj, type) else type(obj)
    names: tuple[str, ...] = cls.__frozen_names__  # type: ignore[attr-defined]
    return names


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of OBJ with CHANGES (field name → new value); the class's __post_init__ runs again."""
    cls: Any = type(obj)
    index: dict[str, int] = cls.__frozen_index__
    values = list(_values(obj))
    for name, value in changes.items():
        at = index.get(name)
        if at is None:
            raise TypeError(f"{cls.__name__} has no field {sorted(set(changes) - set(index))[0]!r}")
        values[at] = value
    made: T = cls(*values)
    return made


def asdict(obj: object) -> dict[str, Any]:
    """A value as a dict, nested values (and those inside lists, tuples and dicts) converted too."""

    def conv(v: Any) -> Any:
        if is_value(v):
            return {name: conv(getattr(v, name)) for name in fields(v)}
        if isinstance(v, list | tuple):
            return type(v)(conv(x) for x in v)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    out: dict[str, Any] = conv(obj)
    return out
