"""Exact totals: partials whose exact sum is the exact sum of the values."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk.reports._exact import exact_total, partials

_FINITE = st.floats(min_value=-1e12, max_value=1e12)  # seconds: far from overflow


def _exact(values: list[float]) -> Fraction:
    return sum((Fraction(v) for v in values), Fraction(0))


@given(st.lists(_FINITE, max_size=30))
def test_partials_sum_exactly_to_the_values(values: list[float]) -> None:
    """The partials add up, exactly (as fractions), to the exact sum of the values, the
    largest first; their fsum is the values' fsum. One value (the shortcut) included."""
    parts = partials(values)
    assert _exact(list(parts)) == _exact(values)
    assert math.fsum(parts) == math.fsum(values)
    assert list(parts) == sorted(parts, key=abs, reverse=True)
    assert 0.0 not in parts


@given(_FINITE)
def test_one_value_is_its_own_partial(value: float) -> None:
    """A single value is kept as it is (none when it is zero), as the general loop gives."""
    assert partials([value]) == (() if value == 0 else (value,))
    assert partials([value, 0.0]) == partials([value])


@given(st.lists(st.lists(_FINITE, max_size=8), max_size=8))
def test_totals_of_groups_of_partials_are_the_fsum_of_every_value(
    groups: list[list[float]],
) -> None:
    """exact_total over each group's partials is fsum over all the values, whatever the grouping."""
    flat = [v for group in groups for v in group]
    assert exact_total(partials(group) for group in groups) == math.fsum(flat)
