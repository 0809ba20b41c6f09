"""POST and GET /v1/applications through Chalice's test client, against moto."""
from __future__ import annotations

import json
import threading

import boto3
import pytest

from chalicelib.domain.partner import Partner
from chalicelib.persistence import applications, config_repository, partner_secrets, pii_vault
from chalicelib.persistence.models import ApplicationItem, CustomerItem
from chalicelib.usecases import intake
from tests.support.applications import STANDARD, partner_payload, resident_id, standard
from tests.support.aws import wait_until_settled
from tests.support.signing import body_bytes, signed_headers

PATH = "/v1/applications"


def answer(response):
    return response.status_code, json.loads(response.body)


@pytest.fixture
def submit(post_signed, aws):
    def send(payload, partner_id="P_DEMO", **kw):
        return answer(post_signed(PATH, payload, partner_id=partner_id, secret=aws.secrets[partner_id], **kw))

    return send


@pytest.fixture
def get_as(client, aws):
    def get(application_id, partner_id="P_DEMO"):
        path = f"{PATH}/{application_id}"
        headers = signed_headers(partner_id, aws.secrets[partner_id], "GET", path, b"")
        return answer(client.http.get(path, headers=headers))

    return get


def test_a_standard_application_is_received_and_shown_masked(submit, get_as):
    status, body = submit(STANDARD)
    assert status == 202 and body["status"] == "RECEIVED"
    status, shown = get_as(body["application_id"])
    assert status == 200
    assert shown["partner_application_no"] == "A2026112300001"
    assert shown["branch_code"] == "BR_DONGCHENG"  # 110101 is served by 东城
    applicant = shown["application"]["applicant"]
    assert (applicant["name"], applicant["id_number"], applicant["mobile"]) == ("张*", "110101********4514", "138****8000")
    assert shown["application"]["account"]["card_number"] == "622202*********3446"
    assert shown["application"]["amount"] == "50000.00"


def test_the_origination_workflow_starts_once_per_application(submit, aws):
    _, body = submit(STANDARD)
    sfn = boto3.client("stepfunctions")
    arn = aws.provisioned.state_machine_arns["origination"]
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == [body["application_id"]]
    done = wait_until_settled(sfn, executions[0]["executionArn"])
    item = applications.get(body["application_id"])
    assert done["status"] == "SUCCEEDED" or (done["status"] == "RUNNING" and item.status == "OFFERED")
    submit(STANDARD)  # a replay starts nothing new
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_the_same_application_again_answers_the_same_id(submit):
    first = submit(STANDARD)
    again = submit(STANDARD)
    assert first[0] == 202 and again[0] == 200
    assert again[1] == first[1]


def test_the_same_number_with_another_body_is_a_conflict(submit):
    submit(STANDARD)
    status, body = submit(standard(amount="60000.00"))
    assert (status, body["code"]) == (409, "IDEMPOTENCY_CONFLICT")


def test_the_same_meaning_written_differently_is_the_same_application(submit):
    _, first = submit(STANDARD)
    reordered = json.loads(json.dumps(STANDARD, sort_keys=True))
    reordered["amount"] = "50000.0"
    status, body = submit(reordered)
    assert (status, body["application_id"]) == (200, first["application_id"])


def test_concurrent_duplicates_make_exactly_one_application(aws):
    partner = config_repository.partner("P_DEMO")
    results, errors = [], []

    def go():
        try:
            results.append(intake.submit(partner, standard(), boto3.client("stepfunctions")))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r.application_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    stored = [i for i in ApplicationItem.scan() if i.pk.startswith("APP#")]
    assert len(stored) == 1


@pytest.mark.parametrize("partner_id", ["P_QIANHAI", "P_XINGYUN"])
def test_a_partner_s_own_format_is_standardised(submit, get_as, partner_id):
    _, demo = submit(STANDARD)
    status, body = submit(partner_payload(partner_id), partner_id=partner_id)
    assert status == 202, body
    _, own = get_as(body["application_id"], partner_id)
    _, reference = get_as(demo["application_id"])
    assert own["application"] == reference["application"]


def test_one_person_is_one_customer_across_partners(submit):
    submit(STANDARD)
    submit(partner_payload("P_QIANHAI"), partner_id="P_QIANHAI")
    submit(partner_payload("P_XINGYUN"), partner_id="P_XINGYUN")
    customers = list(CustomerItem.scan())
    assert len(customers) == 1
    owners = {i.customer_id for i in ApplicationItem.scan() if i.pk.startswith("APP#")}
    assert owners == {customers[0].customer_id}
    assert customers[0].home_branch == "BR_DONGCHENG"
    assert "110101199003074514" not in customers[0].pk


def test_a_customer_stays_with_the_branch_of_the_first_application(submit):
    person = resident_id(division="110105")  # 朝阳
    assert submit(standard(partner_application_no="N1", applicant__id_number=person))[0] == 202
    moved = standard(partner_application_no="N2", applicant__id_number=person)
    assert submit(moved, partner_id="P_QIANHAI")[0] == 400  # P_QIANHAI posts its own format, not the standard
    [customer] = list(CustomerItem.scan())
    assert customer.home_branch == "BR_CHAOYANG"


def test_an_unmapped_division_falls_back_to_the_partner_s_default_branch(submit, get_as):
    _, body = submit(standard(applicant__id_number=resident_id(division="440305")))
    _, shown = get_as(body["application_id"])
    assert shown["branch_code"] == "BR_DONGCHENG"
    item = ApplicationItem.get(f"APP#{body['application_id']}")
    assert item.branch_reason == "PARTNER_DEFAULT"


def test_a_mapped_division_goes_to_its_branch(submit, get_as):
    _, body = submit(standard(applicant__id_number=resident_id(division="110105")))
    assert get_as(body["application_id"])[1]["branch_code"] == "BR_CHAOYANG"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"applicant__id_number": "110101199003074515"}, "applicant.id_number"),
        ({"applicant__mobile": "12345"}, "applicant.mobile"),
        ({"account__card_number": "6222020200112233447"}, "account.card_number"),
        ({"consents__credit_inquiry": False}, "consents.credit_inquiry"),
        ({"amount": "50000.001"}, "amount"),
        ({"purpose": "GAMBLING"}, "purpose"),
        ({"partner_application_no": ""}, "partner_application_no"),
    ],
)
def test_invalid_standard_fields_answer_400_with_their_path(submit, changes, field):
    status, body = submit(standard(**changes))
    assert status == 400 and body["code"] == "INVALID_INPUT"
    assert field in [d["field"] for d in body["details"]], body


def test_a_mapped_partner_s_errors_name_its_own_fields(submit):
    payload = partner_payload("P_QIANHAI")
    payload["cust_cert_no"] = "110101199003074515"  # bad check character
    del payload["cust_mobile"]
    status, body = submit(payload, partner_id="P_QIANHAI")
    assert status == 400
    fields = {d["field"] for d in body["details"]}
    assert "cust_mobile" in fields
    payload["cust_mobile"] = "13800138000"
    status, body = submit(payload, partner_id="P_QIANHAI")
    assert (status, [d["field"] for d in body["details"]]) == (400, ["cust_cert_no"])


@pytest.mark.parametrize(
    "changes, code, field",
    [
        ({"amount": "500000.00"}, "OUTSIDE_PRODUCT_TERMS", "amount"),
        ({"term_months": 7}, "OUTSIDE_PRODUCT_TERMS", "term_months"),
        ({"applicant__id_number": resident_id(birth="19500101")}, "OUTSIDE_PRODUCT_TERMS", "applicant.id_number"),
        ({"applicant__id_number": resident_id(birth="20120101")}, "OUTSIDE_PRODUCT_TERMS", "applicant.id_number"),
        ({"product_code": "MORTGAGE_X"}, "PRODUCT_NOT_OFFERED", None),
    ],
)
def test_business_rules_answer_422(submit, changes, code, field):
    status, body = submit(standard(**changes))
    assert (status, body["code"]) == (422, code), body
    if field:
        assert [d["field"] for d in body["details"]] == [field]


def test_another_partner_s_application_is_not_found(submit, get_as):
    _, body = submit(STANDARD)
    assert get_as(body["application_id"], "P_QIANHAI")[0] == 404
    assert get_as("AP20260101000000deadbeef00")[0] == 404
    assert get_as("not-an-id")[0] == 404


def test_a_replayed_nonce_answers_401(submit):
    assert submit(STANDARD, nonce="n" * 32)[0] == 202
    status, body = submit(standard(partner_application_no="A2"), nonce="n" * 32)
    assert (status, body["code"]) == (401, "NONCE_REPLAYED")


def test_a_partner_over_its_rate_limit_answers_429(submit, aws):
    demo = config_repository.partner("P_DEMO")
    config_repository.put_partner(demo.model_copy(update={"rate_limit_per_minute": 2}))
    config_repository.clear_cache()
    assert submit(standard(partner_application_no="R1"))[0] == 202
    assert submit(standard(partner_application_no="R2"))[0] == 202
    status, body = submit(standard(partner_application_no="R3"))
    assert (status, body["code"]) == (429, "RATE_LIMITED")


def test_a_disabled_partner_answers_403(submit, aws):
    config_repository.put_partner(Partner(partner_id="P_OFF", name="停用", status="DISABLED", products=("CONSUMER_STD",)))
    partner_secrets.put_secret("P_OFF", "off")
    aws.secrets["P_OFF"] = "off"
    assert submit(STANDARD, partner_id="P_OFF")[0] == 403


def test_personal_data_is_sealed_and_opens_only_with_its_context(submit):
    _, body = submit(STANDARD)
    item = ApplicationItem.get(f"APP#{body['application_id']}")
    opened = pii_vault.unseal(item.sealed_pii, {"application_id": body["application_id"]})
    assert opened == {"name": "张三", "id_number": "110101199003074514", "mobile": "13800138000", "card_number": "6222020200112233446"}
    with pytest.raises(Exception):
        pii_vault.unseal(item.sealed_pii, {"application_id": "AP-another"})


def test_a_body_that_is_not_json_answers_400(submit):
    assert submit(b"{nope")[0] == 400
    assert submit([1, 2])[0] == 400
    assert submit([1, 2], partner_id="P_XINGYUN")[0] == 400


def test_a_workflow_that_failed_to_start_is_started_by_the_replay(aws):
    sfn = boto3.client("stepfunctions")

    class Down:
        exceptions = sfn.exceptions

        def start_execution(self, **kwargs):
            raise ConnectionError("Step Functions unreachable")

    partner = config_repository.partner("P_DEMO")
    with pytest.raises(ConnectionError):
        intake.submit(partner, standard(), Down())
    [stored] = [i for i in ApplicationItem.scan() if i.pk.startswith("APP#")]  # received and kept, not lost
    arn = aws.provisioned.state_machine_arns["origination"]
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []
    again = intake.submit(partner, standard(), sfn)
    assert (again.application_id, again.created) == (stored.application_id, False)
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]] == [stored.application_id]


def test_a_nonce_is_claimed_once_under_concurrency(aws):
    from chalicelib.persistence import partner_guard

    claimed = []
    threads = [threading.Thread(target=lambda: claimed.append(partner_guard.claim_nonce("P_DEMO", "c" * 32, 1_790_000_000))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == [False] * 15 + [True]
