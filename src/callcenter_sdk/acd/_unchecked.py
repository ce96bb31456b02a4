"""Building frozen values on the hot path without checking them again.

A frozen attrs class's ``__init__`` runs its converters, its validators and
its ``__attrs_post_init__``, then sets each field through the frozen
``object.__setattr__``: about a microsecond for a value of seven fields. The
engine builds eight events and three actions per contact, and its record
fold one record and a few intervals, from values it made itself (enum
members, checked times): for them, :func:`unchecked` gives a constructor
with the class's own keyword signature that sets the slots directly, about
twice as fast. What it builds is an ordinary instance of the class, equal to
the one ``__init__`` would build from the same already-converted values.

It is internal: callers promise that every value is what the field holds
after conversion (a member, not its string) and valid.

.. versionadded:: 0.3
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar, cast

import attrs

__all__ = ["unchecked", "unchecked_rows"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def unchecked(cls: Callable[_P, _T]) -> Callable[_P, _T]:
    """A keyword constructor of the frozen, slotted attrs class ``cls`` that checks nothing.

    Defaults are those of the class (a default is converted once, here; a
    factory default is called, and converted, on each call that leaves the
    field out). Passed values are stored as they are: no converter, no
    validator, no ``__attrs_post_init__``.

    Raises:
        TypeError: ``cls`` is not a slotted attrs class.
    """
    if not (isinstance(cls, type) and attrs.has(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls!r} is not a slotted attrs class")
    fields = attrs.fields(cls)
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_missing": attrs.NOTHING}
    params: list[str] = []
    body: list[str] = ["    self = _new(_cls)"]
    for i, f in enumerate(fields):
        env[f"_set{i}"] = getattr(cls, f.name).__set__
        default = f.default
        if default is attrs.NOTHING:
            params.append(f.name)
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            env[f"_factory{i}"] = default.factory
            made = f"_factory{i}(self)" if default.takes_self else f"_factory{i}()"
            if f.converter is not None:
                env[f"_conv{i}"] = _plain(cls, f)
                made = f"_conv{i}({made})"
            params.append(f"{f.name}=_missing")
            body.append(f"    if {f.name} is _missing:")
            body.append(f"        {f.name} = {made}")
        else:
            if f.converter is not None:
                default = _plain(cls, f)(default)
            env[f"_default{i}"] = default
            params.append(f"{f.name}=_default{i}")
        body.append(f"    _set{i}(self, {f.name})")
    body.append("    return self")
    name = f"unchecked_{cls.__name__}"
    source = f"def {name}(*, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<unchecked {cls.__qualname__}>", "exec"), env)  # noqa: S102
    build: Callable[_P, _T] = env[name]
    build.__doc__ = f"Build a {cls.__qualname__} from converted, valid values (no checks)."
    return build


def _plain(cls: type, field: attrs.Attribute[Any]) -> Callable[[Any], Any]:
    """A field's converter as a plain one-argument function."""
    converter: object = field.converter
    if isinstance(converter, attrs.Converter) or not callable(converter):
        raise TypeError(f"{cls.__qualname__}.{field.name}: only plain converters are supported")
    return cast("Callable[[Any], Any]", converter)


def unchecked_rows(cls: type[_T]) -> Callable[[Iterable[Sequence[Any]]], list[_T]]:
    """A builder of ``cls`` values from rows holding every field, in the class's field order.

    The rows are those ``operator.attrgetter(*field names)`` gives: what
    :func:`~callcenter_sdk.sim.replicate` sends back from a worker process.
    As with :func:`unchecked`, nothing is converted or checked again.

    Raises:
        TypeError: ``cls`` is not a slotted attrs class.
    """
    if not (attrs.has(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls!r} is not a slotted attrs class")
    fields = attrs.fields(cls)
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    names = [f"v{i}" for i in range(len(fields))]
    body = [
        "def rows(rows):",
        "    out = []",
        "    append = out.append",
        f"    for ({', '.join(names)},) in rows:",
        "        self = _new(_cls)",
    ]
    for i, f in enumerate(fields):
        env[f"_set{i}"] = getattr(cls, f.name).__set__
        body.append(f"        _set{i}(self, v{i})")
    body += ["        append(self)", "    return out"]
    exec(compile("\n".join(body) + "\n", f"<unchecked rows {cls.__qualname__}>", "exec"), env)  # noqa: S102
    build: Callable[[Iterable[Sequence[Any]]], list[_T]] = env["rows"]
    return build
