"""The back office's list cursors: opaque, and good only for the list that gave them."""
from __future__ import annotations

import base64
import json

import pytest

from chalicelib.persistence.inquiries import Partition, decode_cursor, encode_cursor

KEYS = ("pk", "branch_day", "application_id")
WALK = [
    Partition(None, "branch_day", "BR_DONGCHENG#2026-11-23", KEYS, lambda entries: entries),
    Partition(None, "branch_day", "BR_XICHENG#2026-11-23", KEYS, lambda entries: entries),
]
KEY = {"pk": {"S": "APP#AP1"}, "branch_day": {"S": "BR_XICHENG#2026-11-23"}, "application_id": {"S": "AP1"}}


def _raw(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_cursor_goes_back_to_where_it_was_given():
    cursor = encode_cursor(1, KEY)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor, WALK) == (1, KEY)
    assert decode_cursor(encode_cursor(0, None), WALK) == (0, None)


@pytest.mark.parametrize(
    "cursor",
    [
        "", "!!", "x" * 3000, _raw([1, 2]), _raw({"p": 2, "k": None}), _raw({"p": -1, "k": None}), _raw({"p": True, "k": None}),
        _raw({"p": 0, "k": KEY}),  # the key names another partition than the one it points at
        _raw({"p": 1, "k": {**KEY, "extra": {"S": "x"}}}),
        _raw({"p": 1, "k": {**KEY, "application_id": {"N": "1"}}}),
        _raw({"p": 1, "k": None, "more": 1}),
    ],
)
def test_anything_else_is_refused(cursor):
    with pytest.raises(ValueError):
        decode_cursor(cursor, WALK)
