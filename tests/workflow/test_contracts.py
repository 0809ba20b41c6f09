"""Signing on moto's interpreter: accepted offers get a signed, archived contract; failures end defined.

After the borrower accepts, the Sign step renders the contract and the
credit-inquiry authorisation, seals both with the branch's certificate (PAdES)
and archives them; the hashes are on the record and the partner gets links.
"""
from __future__ import annotations

import hashlib
import io
import json

from pypdf import PdfReader

from chalicelib.persistence import archive, quotas
from local.seed import SAMPLE
from tests.support.signing import signed_headers
from tests.workflow.test_fund_routing import only_channels, routing_config, simulate  # noqa: F401 - autouse fixture
from tests.workflow.test_offers import answer, offered, reserved
from tests.workflow.test_origination_review import ended, sfn  # noqa: F401 - fixtures


def signed(sfn, aws, post_signed, **changes):
    item = offered(sfn, aws, post_signed, **changes)
    assert answer(post_signed, item.application_id).status_code == 200
    done = ended(sfn, aws, item.application_id)
    assert done.status == "DISBURSED" and done.contract, done.decision
    return done


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_an_accepted_offer_gets_a_signed_archived_contract_whose_hash_is_on_the_record(sfn, aws, post_signed):
    from chalicelib.documents.verification import verify_pdf
    from chalicelib.ports.ca import trust_roots

    item = signed(sfn, aws, post_signed)
    record = item.contract
    contract = archive.get(record["contract"]["key"], record["contract"]["version_id"])
    assert hashlib.sha256(contract).hexdigest() == record["contract"]["sha256"]
    assert record["contract"]["key"].startswith(f"{item.branch_code}/{item.application_id}/")
    verified = verify_pdf(contract, trust_roots(), expected_sha256=record["contract"]["sha256"])
    assert verified.valid and verified.intact and verified.trusted and verified.hash_matches
    assert item.branch_code in (verified.signer or "") or "东城" in (verified.signer or "")
    text = text_of(contract)
    assert record["contract_no"] in text and item.offer["amount"].split(".")[0] in text.replace(",", "")
    authorisation = archive.get(record["authorisation"]["key"], record["authorisation"]["version_id"])
    assert verify_pdf(authorisation, trust_roots()).valid and "授权" in text_of(authorisation)
    assert reserved(item) > 0  # the reservation stays taken by the disbursed loan


def test_the_partner_gets_time_limited_links_and_the_hash(sfn, aws, post_signed, client):
    item = signed(sfn, aws, post_signed)
    path = f"/v1/applications/{item.application_id}/contract"
    shown = json.loads(client.http.get(path, headers=signed_headers("P_DEMO", aws.secrets["P_DEMO"], "GET", path, b"")).body)
    assert shown["sha256"] == item.contract["contract"]["sha256"] and shown["signed"] is True
    assert shown["url"].startswith("http") and "Signature" in shown["url"] and shown["expires_in"] > 0
    other = client.http.get(path, headers=signed_headers("P_QIANHAI", aws.secrets["P_QIANHAI"], "GET", path, b""))
    assert other.status_code == 404
    status_path = f"/v1/applications/{item.application_id}"
    view = json.loads(client.http.get(status_path, headers=signed_headers("P_DEMO", aws.secrets["P_DEMO"], "GET", status_path, b"")).body)
    assert view["contract"]["sha256"] == shown["sha256"]


def test_before_signing_there_is_no_contract(sfn, aws, post_signed, client):
    item = offered(sfn, aws, post_signed)
    path = f"/v1/applications/{item.application_id}/contract"
    response = client.http.get(path, headers=signed_headers("P_DEMO", aws.secrets["P_DEMO"], "GET", path, b""))
    assert response.status_code == 404 and json.loads(response.body)["code"] == "CONTRACT_NOT_READY"


def test_a_joint_loan_s_contract_names_every_funder_and_its_share(sfn, aws, post_signed):
    only_channels("CH_DONGCHENG_HUAXIA_JOINT")
    item = signed(sfn, aws, post_signed)
    text = text_of(archive.get(item.contract["contract"]["key"], item.contract["contract"]["version_id"]))
    names = {f["code"]: f["name"] for f in json.loads((SAMPLE / "funders.json").read_text(encoding="utf-8"))}
    for share in item.offer["funders"]:
        assert names[share["funder"]] in text
        assert share["amount"].replace(",", "") in text.replace(",", "")


def test_a_branch_that_cannot_sign_ends_cancelled_with_its_quota_released(sfn, aws, post_signed):
    import boto3

    from chalicelib import resources, settings

    item = offered(sfn, aws, post_signed)
    boto3.client("ssm").delete_parameter(Name=f"{settings.env(resources.SIGNING_CREDENTIALS.env)}/branches/{item.branch_code}/key")
    from chalicelib.ports import ca

    if hasattr(ca, "clear_cache"):
        ca.clear_cache()
    assert answer(post_signed, item.application_id).status_code == 200
    done = ended(sfn, aws, item.application_id)
    assert done.status == "CANCELLED" and "SIGNING_FAILED" in done.decision["reasons"] and not done.contract
    assert reserved(done) == 0
    assert quotas.get_reservation(item.offer["reservation"]).status == "RELEASED"


def test_the_signing_step_run_again_answers_the_contract_it_recorded(sfn, aws, post_signed):
    from chalicelib.usecases import contracting

    item = signed(sfn, aws, post_signed)
    again = contracting.sign(item.application_id)
    assert again["sha256"] == item.contract["contract"]["sha256"]


def test_a_drawdown_s_contract_is_signed_for_its_line_s_borrower(sfn, aws, post_signed):
    from tests.workflow.test_credit_lines import drawn, open_line

    line = open_line(sfn, aws, post_signed)
    drawdown = drawn(sfn, aws, post_signed, line.credit_line_id, "D0100", amount="5000.00")
    assert answer(post_signed, drawdown.application_id).status_code == 200
    done = ended(sfn, aws, drawdown.application_id)
    assert done.contract and done.status == "DISBURSED" and done.loan_id
    text = text_of(archive.get(done.contract["contract"]["key"], done.contract["contract"]["version_id"]))
    assert line.credit_line_id in text and "5000.00" in text.replace(",", "")


def test_the_cli_checks_a_contract_against_the_application_s_record(sfn, aws, post_signed, tmp_path, capsys):
    from tools.verify_contract import main

    item = signed(sfn, aws, post_signed)
    pdf = archive.get(item.contract["contract"]["key"], item.contract["contract"]["version_id"])
    good = tmp_path / "contract.pdf"
    good.write_bytes(pdf)
    assert main([str(good), "--application-id", item.application_id]) == 0
    assert "hash:      matches" in capsys.readouterr().out
    tampered = bytearray(pdf)
    tampered[len(tampered) // 3] ^= 0x01
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(tampered))
    assert main([str(bad), "--application-id", item.application_id]) == 1
    assert main([str(good), "--application-id", "AP20000101-000000-0000000000"]) == 1
