from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from chalice.test import Client

from local import api_gateway
from tests.support.aws import MockedAws, mocked_aws
from tests.support.signing import body_bytes, signed_headers

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

QUOTE = {
    "product_code": "CONSUMER_STD",
    "amount": "12000.00",
    "term_months": 12,
    "repayment_method": "EQUAL_INSTALLMENT",
    "annual_rate": "0.0600",
    "start_date": "2026-01-15",
}

api_gateway.install()  # Chalice's test client hands the app API Gateway's event (path and query decoded once)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockedAws]:
    with mocked_aws(monkeypatch) as mocked:
        yield mocked


@pytest.fixture
def client(aws: MockedAws) -> Iterator[Client]:
    import app

    with Client(app.app, stage_name="local") as test_client:
        yield test_client


@pytest.fixture
def post_signed(client: Client, aws: MockedAws) -> Callable[..., Any]:
    """POST as a partner (P_DEMO by default), signed; extra keywords override the headers' parts."""

    def post(path: str, payload: Any, partner_id: str = "P_DEMO", secret: str | None = None, **overrides: Any) -> Any:
        body = body_bytes(payload)
        headers = signed_headers(partner_id, secret or aws.secrets["P_DEMO"], "POST", path, body, **overrides)
        return client.http.post(path, headers=headers, body=body)

    return post


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """Everything the app's Powertools logger writes, through its own (scrubbing) formatter."""
    buffer = io.StringIO()
    from chalicelib.observability import logger

    handlers = [h for h in logger._logger.handlers if hasattr(h, "setStream")]
    previous = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous):
        handler.setStream(stream)
