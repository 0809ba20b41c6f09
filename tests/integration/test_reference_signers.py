"""The document's reference signers (Python and Java, as a partner copies them) sign what the server verifies.

The snippets are taken from docs/openapi.yaml itself; for each worked example of the
document's table (and a few more targets) each computes the canonical form the
domain's ``canonical_target`` computes, and a request signed by it gets past
authentication on the server (Chalice's test client, which hands the app the event
API Gateway would).
"""
from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import time
import types
from pathlib import Path

import pytest
import yaml

from chalicelib.domain.canonical_request import canonical_target

DOC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text(encoding="utf-8"))["info"]["description"]
WORKED = re.findall(r"^\| `([^`]+)`[^|]*\| `([^`]+)`", DOC, re.M)  # (sent, canonical) rows of the worked examples
MORE = ["/v1/events?limit=5&after=a+b%2B%E8%B4%B7", "/v1/loans/x@y,z;1", "/v1/events?limit=2&limit=1&after=z", "/v1/loans/100%25", "/v1/events?"]


def snippet(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC, re.S)
    assert len(blocks) == 1, f"the document has one {language} signer"
    return blocks[0]


def test_the_worked_examples_are_the_rule():
    assert len(WORKED) >= 8
    for sent, canonical in WORKED:
        assert canonical_target(sent) == canonical, sent


@pytest.fixture(scope="module")
def python_signer() -> types.ModuleType:
    module = types.ModuleType("reference_signer")
    exec(compile(snippet("python"), "docs/openapi.yaml#python", "exec"), module.__dict__)  # noqa: S102 - the document's own code
    return module


@pytest.fixture(scope="module")
def java_signer(tmp_path_factory):
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("no Java compiler on this machine (CI installs one: .ci/run)")
    source = tmp_path_factory.mktemp("java") / "PartnerSigner.java"
    source.write_text(snippet("java"), encoding="utf-8")
    subprocess.run(["javac", "-d", str(source.parent), str(source)], check=True, capture_output=True, timeout=120)

    def run(secret: str, method: str, target: str, ts: str, nonce: str, body: bytes) -> tuple[str, str]:
        done = subprocess.run(
            ["java", "-cp", str(source.parent), "PartnerSigner", secret, method, target, ts, nonce],
            input=body, capture_output=True, check=True, timeout=60,
        )
        canonical, signature = done.stdout.decode("utf-8").splitlines()
        return canonical, signature

    return run


def _targets() -> list[str]:
    return [sent for sent, _ in WORKED] + MORE


def _answer(client, target: str, headers: dict[str, str]) -> int:
    return client.http.get(target, headers=headers).status_code


def _headers(signature: str, ts: str, nonce: str) -> dict[str, str]:
    return {"x-partner-id": "P_DEMO", "x-timestamp": ts, "x-nonce": nonce, "x-signature": signature}


def test_the_python_signer_computes_the_rule_and_the_server_verifies_it(python_signer, client, aws):
    secret = aws.secrets["P_DEMO"]
    for target in _targets():
        assert python_signer.canonical(target) == canonical_target(target), target
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        status = _answer(client, target, _headers(python_signer.sign(secret, "GET", target, ts, nonce, b""), ts, nonce))
        assert status in (200, 400, 404), (target, status)  # past authentication: the route's own answer


def test_the_java_signer_computes_the_rule_and_the_server_verifies_it(java_signer, python_signer, client, aws):
    secret = aws.secrets["P_DEMO"]
    for target in _targets():
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        canonical, signature = java_signer(secret, "GET", target, ts, nonce, b"")
        assert canonical == canonical_target(target), target
        assert signature == python_signer.sign(secret, "GET", target, ts, nonce, b"")
        assert _answer(client, target, _headers(signature, ts, nonce)) in (200, 400, 404), target
    body = '{"product_code": "CONSUMER_STD", "amount": "12000.00", "term_months": 12, "repayment_method": "EQUAL_INSTALLMENT"}'.encode()
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    _, signature = java_signer(secret, "POST", "/v1/quotes", ts, nonce, body)
    response = client.http.post("/v1/quotes", headers={**_headers(signature, ts, nonce), "content-type": "application/json"}, body=body)
    assert response.status_code == 200, response.body
