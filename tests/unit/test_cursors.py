"""Opaque cursors: what encode makes, decode gives back; anything else is refused."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import cursors

positions = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(positions)
def test_decode_gives_back_what_encode_made(position):
    cursor = cursors.encode(position)
    assert "=" not in cursor and cursors.decode(cursor, 10_000) == position


@pytest.mark.parametrize("cursor", ["", "not a cursor!", "e30=", "////", "a" * 5, None, 7, cursors.encode({"k": "x" * 200})])
def test_anything_else_is_refused(cursor):
    with pytest.raises(ValueError):
        cursors.decode(cursor, 100)
