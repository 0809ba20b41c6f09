"""The bank's PAdES signature on a contract, and its verification (local CA, no AWS)."""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from chalicelib.documents.contract_pdf import render_contract
from chalicelib.documents.signature import sign_pdf
from chalicelib.documents.verification import verify_pdf
from chalicelib.domain.contract import ContractTemplate
from chalicelib.domain.signing import sign as hmac_sign
from chalicelib.ports.ca import HttpCaSigner, KeySigner, SigningRejected, SigningUnavailable
from local.ca import issue_branch_certificate, make_ca
from tests.support.http_stub import StubServer
from tests.unit.test_contract import template_document, terms

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "zhudai-test", "ca-secret-for-tests"


@pytest.fixture(scope="module")
def ca():
    return make_ca()


@pytest.fixture(scope="module")
def branch(ca):
    return issue_branch_certificate(ca, "BR_DONGCHENG", "东城农村商业银行")


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return render_contract(terms(), ContractTemplate.model_validate(template_document()))


@pytest.fixture(scope="module")
def signed(branch, unsigned) -> bytes:
    return KeySigner(branch.key_pem, branch.chain_pem).sign(unsigned, reason="借款合同电子签章", location="北京")


def byte_range(pdf: bytes) -> tuple[int, int, int, int]:
    found = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert len(found) == 1
    return tuple(int(x) for x in found[0])  # type: ignore[return-value]


def flipped(pdf: bytes, at: int) -> bytes:
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    return bytes(changed)


# -- signing and verifying ------------------------------------------------------------------------


def test_a_signed_contract_verifies_and_names_the_branch(ca, signed, unsigned):
    before = datetime.now(timezone.utc)
    result = verify_pdf(signed, [ca.certificate_pem])
    assert (result.signed, result.intact, result.trusted, result.valid) == (True, True, True, True)
    assert result.signer == "东城农村商业银行 (BR_DONGCHENG document signing)"
    assert result.signed_at is not None and before - timedelta(minutes=5) < result.signed_at <= before + timedelta(seconds=1)
    assert result.sha256 == hashlib.sha256(signed).hexdigest() and result.hash_matches is None and result.problems == ()
    assert signed.startswith(unsigned)  # an incremental update: the generated contract is unchanged inside
    start, first, second_start, second = byte_range(signed)
    assert start == 0 and second_start + second == len(signed)  # the signature covers the whole file


def test_the_signature_is_pades(signed):
    assert b"/ETSI.CAdES.detached" in signed and b"(BankSignature)" in signed


def test_one_flipped_byte_anywhere_in_the_signed_range_is_caught_never_raised(ca, signed):
    start, first, second_start, second = byte_range(signed)
    positions = [start + first * k // 23 for k in range(1, 23)] + [second_start + second * k // 7 for k in range(0, 7)]
    for at in positions:
        result = verify_pdf(flipped(signed, at), [ca.certificate_pem])
        assert not result.valid, at
        assert not result.intact or not result.signed, at


def test_a_change_appended_after_signing_is_caught(ca, signed):
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    info = writer.trailer["/Info"]
    info[NameObject("/Title")] = TextStringObject("篡改")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue(), [ca.certificate_pem])
    assert result.signed and not result.intact and not result.valid
    assert any("whole file" in p for p in result.problems)


def test_a_certificate_from_another_ca_is_not_trusted(ca, unsigned):
    stranger = issue_branch_certificate(make_ca("Some Other CA"), "BR_DONGCHENG", "东城农村商业银行")
    signed = KeySigner(stranger.key_pem, stranger.chain_pem).sign(unsigned, reason="r", location="l")
    result = verify_pdf(signed, [ca.certificate_pem])
    assert result.signed and result.intact and not result.trusted and not result.valid


def test_a_lookalike_ca_with_the_same_name_is_not_trusted(ca, unsigned):
    impostor = issue_branch_certificate(make_ca(), "BR_DONGCHENG", "东城农村商业银行")  # same CA subject, other key
    signed = KeySigner(impostor.key_pem, impostor.chain_pem).sign(unsigned, reason="r", location="l")
    result = verify_pdf(signed, [ca.certificate_pem])
    assert not result.trusted and not result.valid


def test_the_expected_hash_must_match(ca, signed):
    right = hashlib.sha256(signed).hexdigest()
    assert verify_pdf(signed, [ca.certificate_pem], right.upper()).hash_matches is True
    wrong = verify_pdf(signed, [ca.certificate_pem], "0" * 64)
    assert wrong.hash_matches is False and wrong.intact and wrong.trusted and not wrong.valid


def test_unsigned_garbage_and_empty_files_are_not_signed(ca, unsigned):
    for data in (unsigned, b"", b"%PDF-1.4 nothing", bytes(range(256)) * 10, unsigned[: len(unsigned) // 2]):
        result = verify_pdf(data, [ca.certificate_pem])
        assert not result.signed and not result.valid


def test_no_trust_root_means_not_trusted(signed):
    assert not verify_pdf(signed, []).trusted
    assert not verify_pdf(signed, [b"not a certificate"]).trusted


def test_the_key_must_match_the_certificate(ca, branch):
    other = issue_branch_certificate(ca, "BR_XICHENG", "西城农村商业银行")
    with pytest.raises(ValueError, match="matches the signing key"):
        KeySigner(other.key_pem, branch.chain_pem)
    with pytest.raises(ValueError) as caught:
        KeySigner(b"-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n", branch.chain_pem)
    assert "nonsense" not in str(caught.value)
    signer = KeySigner(branch.key_pem, branch.chain_pem)
    assert signer.subject == "东城农村商业银行 (BR_DONGCHENG document signing)"
    assert "PRIVATE" not in repr(signer)


def test_sign_pdf_takes_a_field_name_reason_and_location(ca, branch, unsigned):
    from pyhanko.pdf_utils.reader import PdfFileReader

    signed = sign_pdf(unsigned, KeySigner(branch.key_pem, branch.chain_pem)._signer, field_name="Seal2", reason="征信授权书签章", location="北京市东城区")
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert [s.field_name for s in embedded] == ["Seal2"]
    assert embedded[0].sig_object["/Reason"] == "征信授权书签章" and embedded[0].sig_object["/Location"] == "北京市东城区"
    assert verify_pdf(signed, [ca.certificate_pem]).valid


# -- the CA's remote signing service ---------------------------------------------------------------


def signing_service(branch_key, seen: list[dict]):
    def respond(request):
        body = json.loads(request["body"])
        headers = request["headers"]
        expected = hmac_sign(CLIENT_SECRET, "POST", request["path"], headers["X-Timestamp"], headers["X-Nonce"], request["body"])
        if headers["X-Signature"] != expected or headers["X-Client-Id"] != CLIENT_ID:
            return 401, {"code": "BAD_SIGNATURE", "message": "signature mismatch"}, 0
        seen.append(body)
        digest = base64.b64decode(body["digest"])
        signature = branch_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return 200, {"signature": base64.b64encode(signature).decode()}, 0

    return respond


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer((500, {"code": "NOT_SET"}, 0))
    yield server
    server.close()


def test_the_http_ca_signer_signs_through_the_service(ca, branch, unsigned, stub):
    seen: list[dict] = []
    stub.respond = signing_service(branch.key, seen)
    signer = HttpCaSigner(stub.url, CLIENT_ID, CLIENT_SECRET, branch.chain_pem)
    assert signer.subject == "东城农村商业银行 (BR_DONGCHENG document signing)"
    signed = signer.sign(unsigned, reason="借款合同电子签章", location="北京")
    result = verify_pdf(signed, [ca.certificate_pem])
    assert result.valid and result.signer == signer.subject
    assert len(seen) == 1 and stub.requests[0]["path"] == "/v1/signatures"
    body = seen[0]
    assert body["digest_algorithm"] == "sha256" and body["signature_algorithm"] == "ecdsa"
    assert len(base64.b64decode(body["digest"])) == 32  # only a digest leaves: never the document
    assert body["certificate_sha256"] == hashlib.sha256(branch.certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert stub.requests[0]["headers"]["X-Request-Id"] == body["request_id"]
    assert len(stub.requests[0]["body"]) < 500


def test_a_signature_by_another_key_is_refused_before_it_is_embedded(ca, branch, unsigned, stub):
    stub.respond = signing_service(ec.generate_private_key(ec.SECP256R1()), [])
    with pytest.raises(SigningRejected, match="does not verify"):
        HttpCaSigner(stub.url, CLIENT_ID, CLIENT_SECRET, branch.chain_pem).sign(unsigned, reason="r", location="l")


@pytest.mark.parametrize(
    "answer, error",
    [
        ((500, {"code": "HSM_DOWN"}, 0), SigningUnavailable),
        ((429, {"code": "SLOW_DOWN"}, 0), SigningUnavailable),
        ((200, b"not json", 0), SigningUnavailable),
        ((200, {"signature": "***"}, 0), SigningUnavailable),
        ((200, {"nothing": 1}, 0), SigningUnavailable),
        ((403, {"code": "UNKNOWN_CERTIFICATE"}, 0), SigningRejected),
        ((400, {"code": "BAD_DIGEST"}, 0), SigningRejected),
    ],
)
def test_ca_service_failures(branch, unsigned, stub, answer, error):
    stub.respond = lambda request: answer
    with pytest.raises(error):
        HttpCaSigner(stub.url, CLIENT_ID, CLIENT_SECRET, branch.chain_pem).sign(unsigned, reason="r", location="l")


def test_a_ca_that_does_not_answer_in_time_is_unavailable(branch, unsigned, stub):
    stub.respond = lambda request: (200, {"signature": ""}, 0.6)
    with pytest.raises(SigningUnavailable, match="no answer"):
        HttpCaSigner(stub.url, CLIENT_ID, CLIENT_SECRET, branch.chain_pem, timeout_seconds=0.2).sign(unsigned, reason="r", location="l")


def test_an_unreachable_ca_is_unavailable(branch, unsigned):
    server = StubServer((200, {}, 0))
    url = server.url
    server.close()
    with pytest.raises(SigningUnavailable):
        HttpCaSigner(url, CLIENT_ID, CLIENT_SECRET, branch.chain_pem, timeout_seconds=1).sign(unsigned, reason="r", location="l")


def test_the_http_ca_signer_never_shows_its_secret(branch):
    signer = HttpCaSigner("https://ca.invalid", CLIENT_ID, CLIENT_SECRET, branch.chain_pem)
    assert CLIENT_SECRET not in repr(signer)
    with pytest.raises(ValueError):
        HttpCaSigner("ftp://ca.invalid", CLIENT_ID, CLIENT_SECRET, branch.chain_pem)


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli():
    spec = importlib.util.spec_from_file_location("verify_contract", ROOT / "tools" / "verify_contract.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_exit_codes(cli, ca, signed, tmp_path, capsys):
    contract, root, other = tmp_path / "contract.pdf", tmp_path / "ca.pem", tmp_path / "other.pem"
    contract.write_bytes(signed)
    root.write_bytes(ca.certificate_pem)
    other.write_bytes(make_ca("Other").certificate_pem)
    digest = hashlib.sha256(signed).hexdigest()

    assert cli.main([str(contract), "--trust-root", str(root), "--sha256", digest]) == 0
    out = capsys.readouterr().out
    assert "东城农村商业银行 (BR_DONGCHENG document signing)" in out and "VALID" in out and "matches" in out

    assert cli.main([str(contract), "--trust-root", str(other), "--trust-root", str(root)]) == 0
    assert cli.main([str(contract), "--trust-root", str(other)]) == 1
    assert "trusted:   NO" in capsys.readouterr().out
    assert cli.main([str(contract), "--trust-root", str(root), "--sha256", "ab" * 32]) == 1
    assert "DOES NOT MATCH" in capsys.readouterr().out
    assert cli.main([str(contract)]) == 1
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(flipped(signed, byte_range(signed)[1] // 2))
    assert cli.main([str(tampered), "--trust-root", str(root)]) == 1
    assert cli.main([str(tmp_path / "missing.pdf"), "--trust-root", str(root)]) == 1
    with pytest.raises(SystemExit) as usage:
        cli.main([])
    assert usage.value.code == 2
