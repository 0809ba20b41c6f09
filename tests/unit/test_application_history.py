"""An application's timeline and review as the back office shows them (pure)."""
from __future__ import annotations

from chalicelib.domain import application_history as history

TRAIL = {
    "outcome": "APPROVE",
    "reasons": ["R_OK"],
    "score": 612,
    "band": "B",
    "pd": "0.031",
    "inputs": {"applicant_age": 36, "bureau_overdue_now": False, "bureau_inquiries_3m": 1},
    "rule_results": [{"rule": "R1", "passed": True}],
    "scorecard": {"version": "v1", "contributions": [["age", 35]]},
    "bureau": {"report_id": "CR1", "queried_at": "2026-11-23T10:00:01+00:00", "source": "SIMULATOR"},
    "decided_at": "2026-11-23T10:00:02+00:00",
    "manual_review": {"outcome": "APPROVE", "by": "reviewer.dongcheng", "comment": "called 13800138000, fine", "at": "2026-11-23T10:05:00+00:00"},
    "routing": {"routed_at": "2026-11-23T10:06:00+00:00", "attempts": [{"channel": "A", "result": "REFUSED"}, {"channel": "B", "result": "APPROVED"}]},
}
CONTRACT = {
    "contract_no": "C1", "signed_at": "2026-11-23T10:08:00+00:00", "signer": "CN=BR",
    "contract": {"key": "k/contract.pdf", "sha256": "a" * 64, "version_id": "v", "size": 10},
    "authorisation": {"key": "k/authorisation.pdf", "sha256": "b" * 64, "version_id": "v", "size": 10},
}


def test_the_timeline_puts_statuses_and_events_in_time_order():
    entries = history.timeline(
        created_at="2026-11-23T10:00:00+00:00", initial_status="RECEIVED",
        status_history=[["RECEIVED", "2026-11-23T10:00:00+00:00"], ["REVIEWING", "2026-11-23T10:00:01+00:00"],
                        ["MANUAL_REVIEW", "2026-11-23T10:00:03+00:00"], ["ROUTING", "2026-11-23T10:05:01+00:00"],
                        ["OFFERED", "2026-11-23T10:06:00+00:00"], ["SIGNING", "2026-11-23T10:07:00+00:00"]],
        status="SIGNING", updated_at="2026-11-23T10:08:00+00:00", trail=TRAIL,
        acceptance={"accepted": True, "accepted_at": "2026-11-23T18:06:30+08:00", "received_at": "2026-11-23T10:06:59+00:00"},
        contract=CONTRACT,
    )
    kinds = [(e["kind"], e.get("status")) for e in entries]
    assert kinds == [
        ("STATUS", "RECEIVED"), ("STATUS", "REVIEWING"), ("DECISION", None), ("STATUS", "MANUAL_REVIEW"), ("MANUAL_REVIEW", None),
        ("STATUS", "ROUTING"), ("STATUS", "OFFERED"), ("ROUTING", None), ("ANSWER", None), ("STATUS", "SIGNING"), ("CONTRACT_SIGNED", None),
    ]
    routing = next(e for e in entries if e["kind"] == "ROUTING")
    assert routing["channels_tried"] == 2 and routing["channel"] == "B"
    assert next(e for e in entries if e["kind"] == "CONTRACT_SIGNED")["sha256"] == "a" * 64


def test_times_with_other_offsets_are_ordered_by_the_moment():
    entries = history.timeline(
        created_at=None, initial_status="RECEIVED", status_history=[["OFFERED", "2026-11-23T10:00:00+00:00"]],
        status="OFFERED", updated_at=None, acceptance={"accepted": False, "accepted_at": "2026-11-23T17:59:00+08:00"},
    )
    assert [e["kind"] for e in entries] == ["ANSWER", "STATUS"]


def test_an_application_stored_before_statuses_were_kept_shows_where_it_began_and_is():
    entries = history.timeline(created_at="t0", initial_status="RECEIVED", status_history=None, status="OFFERED", updated_at="t1")
    assert [(e["status"], e["at"]) for e in entries] == [("RECEIVED", "t0"), ("OFFERED", "t1")]


def test_a_reviewers_comment_is_scrubbed_of_numbers():
    entries = history.timeline(created_at=None, initial_status=None, status_history=[], status=None, updated_at=None, trail=TRAIL)
    manual = next(e for e in entries if e["kind"] == "MANUAL_REVIEW")
    assert "13800138000" not in manual["comment"] and "138****8000" in manual["comment"]
    assert "13800138000" not in str(history.manual_review(TRAIL["manual_review"]))
    assert history.manual_review(None) is None


def test_the_review_is_read_from_the_trail():
    assert history.bureau_summary(TRAIL) == {
        "report_id": "CR1", "queried_at": "2026-11-23T10:00:01+00:00", "source": "SIMULATOR",
        "facts": {"bureau_overdue_now": False, "bureau_inquiries_3m": 1},
    }
    score = history.score(TRAIL, {"reasons": ["R_OK"], "score": 612})
    assert score["score"] == 612 and score["band"] == "B" and score["contributions"] == [["age", 35]] and score["reasons"] == ["R_OK"]
    assert set(history.decision_trail(TRAIL)) == set(TRAIL) - {"routing", "manual_review"}
    assert history.bureau_summary(None) is None and history.score({}, None) is None and history.decision_trail(None) is None


def test_documents_are_the_archived_ones_with_their_hashes():
    assert history.documents(CONTRACT) == [
        {"kind": "contract", "key": "k/contract.pdf", "sha256": "a" * 64},
        {"kind": "authorisation", "key": "k/authorisation.pdf", "sha256": "b" * 64},
    ]
    assert history.documents(None) == []
