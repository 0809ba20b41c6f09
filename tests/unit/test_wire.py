"""The wire types of request bodies: what the document's patterns say, the server accepts, and nothing else."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from chalicelib.domain.wire import TIMESTAMP_PATTERN, Timestamp

TIMESTAMP = TypeAdapter(Timestamp)


@pytest.mark.parametrize(
    ("sent", "instant"),
    [
        ("2026-11-23T10:00:00+08:00", datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)),
        ("2026-11-23T02:00:00Z", datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)),
        ("2026-11-23t02:00:00z", datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)),
        ("2026-11-23 10:00:00+08:00", datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)),  # RFC 3339's readable form
        ("2026-11-23T02:00:00.1234567Z", datetime(2026, 11, 23, 2, 0, 0, 123456, tzinfo=timezone.utc)),
    ],
)
def test_an_rfc_3339_date_time_with_its_offset_is_the_instant_it_names(sent, instant):
    assert TIMESTAMP.validate_python(sent) == instant


@pytest.mark.parametrize(
    "sent",
    [0, 1796624619, "0", "1796624619", None, True, "2026-11-23", "2026-11-23T10:00:00", "2026-11-23T10:00+08:00",
     "2026-11-23T24:00:00Z", "2026-02-30T10:00:00Z", "2026-11-23T10:00:00+0800", "tomorrow"],
)
def test_anything_else_is_refused(sent):
    with pytest.raises(ValidationError):
        TIMESTAMP.validate_python(sent)


OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@given(st.datetimes(timezones=OFFSETS))
def test_any_aware_instant_written_as_rfc_3339_matches_the_documented_pattern_and_reads_back(moment):
    text = moment.isoformat()
    assert re.fullmatch(TIMESTAMP_PATTERN, text), text
    assert TIMESTAMP.validate_python(text) == moment
