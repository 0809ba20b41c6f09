"""The back office edits fund-routing configuration: funders, a product's funding, a branch's quotas.

Against moto and the sample configuration (``local/seed.py``): only platform operators
write; every write names the version it was made from and is audited in the same
transaction; the TOTAL quota limits follow the configured totals; routing reads the result.
"""
from __future__ import annotations

import copy
import json
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.domain.operator import Operator, Role
from chalicelib.domain.routing import NOT_COOPERATING, RoutingContext, plan
from chalicelib.persistence import config_repository, config_versions, quotas
from chalicelib.persistence.config_versions import ConfigRef, VersionConflict
from chalicelib.usecases import configuration
from chalicelib.usecases.errors import Refused
from tests.support.operators import operator_headers

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample"
FUNDERS = {raw["code"]: raw for raw in json.loads((SAMPLE / "funders.json").read_text(encoding="utf-8"))}
FUNDING = json.loads((SAMPLE / "product_funding" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))
ADMIN = Operator(operator_id="admin", name="省联社平台管理员", role=Role.PLATFORM)

NEW_FUNDER = {
    "code": "PB_JINAN",
    "name": "济南参与行",
    "kind": "PARTICIPATING_BANK",
    "province_code": "37",
    "cooperating": True,
    "position_available": "40000000.00",
    "acceptance_hours": {"start": "08:00", "end": "20:00"},
    "service_fee_rate": "0.0175",
    "answer_timeout_seconds": 6.0,
    "quotas": {"total": "250000000.00", "daily": "9000000.00", "per_customer": "200000.00"},
}


def headers(operator: str) -> dict[str, str]:
    return operator_headers(operator, json_body=True)


def get(client, path: str, operator: str = "admin"):
    response = client.http.get(path, headers=headers(operator))
    return response.status_code, json.loads(response.body)


def put(client, path: str, body, operator: str = "admin"):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    response = client.http.put(path, headers=headers(operator), body=raw)
    return response.status_code, json.loads(response.body)


def funder(template: str, expected_version: int | None = None, **changes) -> dict:
    """A sample funder (or ``NEW_FUNDER``) with changes, and the version the change is made from."""
    document = copy.deepcopy(FUNDERS.get(template, NEW_FUNDER))
    document.update(changes)
    if expected_version is not None:
        document["expected_version"] = expected_version
    return document


def fields(body: dict) -> set[str]:
    return {detail["field"] for detail in body["details"]}


def test_any_operator_reads_every_funder_with_its_version_and_total_quota(client, aws):
    status, body = get(client, "/backoffice/funders", operator="auditor")
    assert status == 200
    listed = {item["code"]: item for item in body["items"]}
    assert set(listed) == set(FUNDERS)
    xicheng = listed["BR_XICHENG"]
    assert xicheng["version"] == 1 and xicheng["funder"]["cooperating"] is True
    assert xicheng["total_quota"] == {"limit": "300000000.00", "remaining": "300000000.00"}
    assert get(client, "/backoffice/funders/BR_XICHENG", operator="reviewer.chaoyang") == (200, xicheng)
    status, missing = get(client, "/backoffice/funders/PB_NOWHERE")
    assert (status, missing["code"]) == (404, "FUNDER_NOT_FOUND")
    assert get(client, "/backoffice/funders/not-a-code")[0] == 404


def test_a_platform_operator_creates_and_changes_a_funder_and_its_total_quota_follows(client, aws):
    status, created = put(client, "/backoffice/funders/PB_JINAN", funder("PB_JINAN"))  # no expected_version: create
    assert status == 201, created
    assert created["version"] == 1 and created["funder"]["name"] == "济南参与行"
    assert created["total_quota"] == {"limit": "250000000.00", "remaining": "250000000.00"}
    assert "PB_JINAN" in {f.code for f in config_repository.funders()}

    # Some of the quota is in use; a new total keeps it reserved.
    assert quotas.reserve("R-JINAN", [quotas.QuotaPart("FUNDER", "PB_JINAN", "TOTAL", Decimal("1000.00"))], MONDAY_10AM)
    bigger = funder("PB_JINAN", 1, quotas={"total": "300000000.00", "daily": "9000000.00", "per_customer": "200000.00"})
    status, changed = put(client, "/backoffice/funders/PB_JINAN", bigger)
    assert status == 200, changed
    assert changed["version"] == 2 and changed["total_quota_applied"] is True
    assert changed["total_quota"] == {"limit": "300000000.00", "remaining": "299999000.00"}
    assert quotas.usage("FUNDER", "PB_JINAN", "TOTAL") == (Decimal("300000000.00"), Decimal("299999000.00"))

    # A change that leaves the total alone leaves the quota alone.
    status, renamed = put(client, "/backoffice/funders/PB_JINAN", funder("PB_JINAN", 2, name="济南银行", quotas=bigger["quotas"]))
    assert (status, renamed["version"], renamed["funder"]["name"]) == (200, 3, "济南银行")
    assert quotas.usage("FUNDER", "PB_JINAN", "TOTAL") == (Decimal("300000000.00"), Decimal("299999000.00"))


def test_a_stale_version_is_a_conflict_and_changes_nothing(client, aws):
    assert put(client, "/backoffice/funders/BR_XICHENG", funder("BR_XICHENG", 1, position_available="1.00"))[0] == 200
    status, body = put(client, "/backoffice/funders/BR_XICHENG", funder("BR_XICHENG", 1, position_available="2.00"))
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    assert body["details"] == [{"field": "expected_version", "message": "the current version is 2"}]
    status, body = put(client, "/backoffice/funders/BR_XICHENG", funder("BR_XICHENG", 0))  # "create" what exists
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    status, body = put(client, "/backoffice/funders/PB_JINAN", funder("PB_JINAN", 3))  # "change" what does not exist
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    assert get(client, "/backoffice/funders/PB_JINAN")[0] == 404
    _, now = get(client, "/backoffice/funders/BR_XICHENG")
    assert (now["version"], now["funder"]["position_available"]) == (2, "1.00")
    assert [item["version"] for item in get(client, "/backoffice/config-history?key=FUNDER/BR_XICHENG")[1]["items"]] == [2]


def test_two_concurrent_edits_at_the_same_version_exactly_one_wins(aws):
    contenders = 6
    start = threading.Barrier(contenders)
    outcomes: dict[str, str] = {}

    def edit(i: int) -> None:
        from chalicelib.domain.funding import Funder

        change = Funder.model_validate(funder("BR_CHAOYANG", position_available=f"{i + 1}000000.00"))
        start.wait()
        try:
            configuration.put_funder(ADMIN, change, 1)
            outcomes[change.position_available.to_eng_string()] = "won"
        except Refused as exc:
            outcomes[change.position_available.to_eng_string()] = exc.code

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [amount for amount, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1 and sorted(outcomes.values()).count("VERSION_CONFLICT") == contenders - 1, outcomes
    stored = config_versions.read(ConfigRef("FUNDER", "BR_CHAOYANG"))
    assert (stored.version, stored.document["position_available"]) == (2, winners[0])
    audit = config_versions.history(ConfigRef("FUNDER", "BR_CHAOYANG"))
    assert [(r.version, r.after["position_available"]) for r in audit] == [(2, winners[0])]


def test_the_version_condition_is_dynamodb_s_not_only_a_check_before_writing(aws):
    ref = ConfigRef("FUNDER", "OWN_FUNDS")
    before = config_versions.read(ref)
    after = dict(before.document, position_available="1.00")
    assert config_versions.write(ref, 1, before.document, after, "admin", "PLATFORM", "2026-11-23T02:00:00+00:00") == 2
    with pytest.raises(VersionConflict) as lost:
        config_versions.write(ref, 1, before.document, dict(after, position_available="2.00"), "admin", "PLATFORM", "2026-11-23T02:00:01+00:00")
    assert lost.value.current == 2
    assert config_versions.read(ref).document["position_available"] == "1.00"
    assert [r.version for r in config_versions.history(ref)] == [2]  # no audit record for the loser


def test_the_seed_s_writes_move_the_version_too(client, aws):
    config_repository.put_funder(FUNDERS["BR_DONGCHENG"])
    status, body = put(client, "/backoffice/funders/BR_DONGCHENG", funder("BR_DONGCHENG", 1))
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    assert put(client, "/backoffice/funders/BR_DONGCHENG", funder("BR_DONGCHENG", 2))[0] == 200


def test_only_platform_operators_write_and_branch_staff_see_only_their_branch(client, aws):
    for operator in ("operator.dongcheng", "reviewer.dongcheng", "auditor"):
        status, body = put(client, "/backoffice/funders/BR_DONGCHENG", funder("BR_DONGCHENG", 1), operator=operator)
        assert (status, body["code"]) == (403, "FORBIDDEN"), operator
        assert put(client, "/backoffice/products/CONSUMER_STD/funding", dict(FUNDING, expected_version=1), operator=operator)[0] == 403
        quota_change = {"total": "1.00", "daily": "1.00", "per_customer": "1.00", "expected_version": 1}
        assert put(client, "/backoffice/branches/BR_DONGCHENG/quotas", quota_change, operator=operator)[0] == 403
    assert put(client, "/backoffice/funders/BR_DONGCHENG", {"nonsense": 1}, operator="operator.dongcheng")[0] == 403  # before validation
    assert get(client, "/backoffice/funders/BR_DONGCHENG")[1]["version"] == 1

    status, own = get(client, "/backoffice/branches/BR_DONGCHENG/quotas", operator="operator.dongcheng")
    assert status == 200 and own["quotas"]["total"] == "800000000.00" and own["version"] == 1
    assert own["total_quota"] == {"limit": "800000000.00", "remaining": "800000000.00"}
    status, other = get(client, "/backoffice/branches/BR_XICHENG/quotas", operator="operator.dongcheng")
    assert (status, other["code"]) == (403, "BRANCH_FORBIDDEN")
    assert get(client, "/backoffice/config-history?key=BRANCH/BR_XICHENG", operator="operator.dongcheng")[0] == 403
    assert get(client, "/backoffice/branches/BR_NOWHERE/quotas")[0] == 404
    assert get(client, "/backoffice/products/CONSUMER_STD/funding", operator="reviewer.xicheng")[0] == 200

    response = client.http.get("/backoffice/funders", headers={"authorization": "Bearer not-a-token"})
    assert (response.status_code, json.loads(response.body)["code"]) == (401, "OPERATOR_UNKNOWN")


def test_bad_input_is_400_with_field_paths(client, aws):
    bad = funder("BR_XICHENG", "1", position_available=30000000, name="", surprise=True)
    bad["quotas"] = {"total": 1, "daily": "x"}
    status, body = put(client, "/backoffice/funders/BR_XICHENG", bad)
    assert (status, body["code"]) == (400, "INVALID_INPUT")
    assert {"expected_version", "position_available", "name", "surprise", "quotas.total", "quotas.daily", "quotas.per_customer"} <= fields(body)

    status, body = put(client, "/backoffice/funders/BR_XICHENG", funder("BR_DONGCHENG", 1))
    assert (status, fields(body)) == (400, {"code"})
    status, body = put(client, "/backoffice/products/CONSUMER_STD/funding", dict(FUNDING, product_code="OTHER", expected_version=1))
    assert (status, fields(body)) == (400, {"product_code"})
    channels = [{"code": "CH_HALF", "shares": [{"funder_code": "BR_DONGCHENG", "ratio": "0.5"}]}]
    status, body = put(client, "/backoffice/products/CONSUMER_STD/funding", dict(FUNDING, channels=channels, routing_rules=["no_such_rule"]))
    assert status == 400 and "channels[0]" in fields(body), body
    status, body = put(client, "/backoffice/branches/BR_XICHENG/quotas", {"total": "100.00", "daily": "200.00", "per_customer": 1})
    assert (status, fields(body)) == (400, {"per_customer"})
    status, body = put(client, "/backoffice/branches/BR_XICHENG/quotas", {"total": "100.00", "daily": "200.00", "per_customer": "1.00", "expected_version": 1})
    assert status == 400 and "daily" in body["details"][0]["message"]
    assert put(client, "/backoffice/funders/BR_XICHENG", b"{not json")[1]["code"] == "INVALID_JSON"
    status, body = put(client, "/backoffice/funders/BR_XICHENG", [1, 2])
    assert (status, fields(body)) == (400, {"body"})
    status, body = get(client, "/backoffice/config-history?key=PARTNER/P_DEMO&limit=0")
    assert (status, fields(body)) == (400, {"key", "limit"})
    assert get(client, "/backoffice/config-history")[0] == 400
    assert get(client, "/backoffice/config-history?key=FUNDER/BR_XICHENG&limit=" + "9" * 5000)[0] == 400
    # and nothing changed
    assert get(client, "/backoffice/funders/BR_XICHENG")[1]["version"] == 1


def test_a_product_s_funding_must_name_funders_that_exist_and_fit(client, aws):
    unknown = copy.deepcopy(FUNDING) | {"expected_version": 1}
    unknown["channels"].append({"code": "CH_NOWHERE", "shares": [{"funder_code": "PB_NOWHERE", "ratio": "1"}]})
    status, body = put(client, "/backoffice/products/CONSUMER_STD/funding", unknown)
    assert (status, body["code"]) == (422, "FUNDING_INCONSISTENT")
    assert body["details"] == [{"field": "channels", "message": "channel CH_NOWHERE: funder PB_NOWHERE does not exist"}]

    status, body = put(client, "/backoffice/products/CONSUMER_STD/funding", dict(FUNDING, own_funds_fallback="BR_XICHENG", expected_version=1))
    assert (status, fields(body)) == (422, {"own_funds_fallback"})
    assert "not OWN_FUNDS" in body["details"][0]["message"]

    status, body = put(client, "/backoffice/products/NO_SUCH_PRODUCT/funding", dict(FUNDING, product_code="NO_SUCH_PRODUCT"))
    assert (status, body["code"]) == (404, "PRODUCT_NOT_FOUND")
    assert get(client, "/backoffice/products/NO_SUCH_PRODUCT/funding")[1]["code"] == "PRODUCT_NOT_FOUND"
    assert get(client, "/backoffice/products/CONSUMER_STD/funding")[1]["version"] == 1  # nothing changed

    # Once the funder exists, the same funding is accepted.
    assert put(client, "/backoffice/funders/PB_NOWHERE", funder("PB_JINAN", code="PB_NOWHERE"))[0] == 201
    status, body = put(client, "/backoffice/products/CONSUMER_STD/funding", unknown)
    assert (status, body["version"]) == (200, 2)
    assert "CH_NOWHERE" in [c.code for c in config_repository.product_funding("CONSUMER_STD").channels]


def test_the_own_funds_fallback_of_a_product_stays_own_funds(client, aws):
    status, body = put(client, "/backoffice/funders/OWN_FUNDS", funder("OWN_FUNDS", 1, kind="BRANCH"))
    assert (status, body["code"], fields(body)) == (422, "FUNDING_INCONSISTENT", {"kind"})
    assert any("product CONSUMER_STD falls back to OWN_FUNDS" in detail["message"] for detail in body["details"])
    assert put(client, "/backoffice/funders/OWN_FUNDS", funder("OWN_FUNDS", 1, position_available="1.00"))[0] == 200


def test_a_branch_s_quotas_change_and_its_total_quota_follows_keeping_what_is_reserved(client, aws):
    assert quotas.reserve("R-XICHENG", [quotas.QuotaPart("BRANCH", "BR_XICHENG", "TOTAL", Decimal("2500.00"))], MONDAY_10AM)
    change = {"total": "600000000.00", "daily": "25000000.00", "per_customer": "400000.00", "expected_version": 1}
    status, body = put(client, "/backoffice/branches/BR_XICHENG/quotas", change)
    assert status == 200, body
    assert body["version"] == 2 and body["quotas"] == {"total": "600000000.00", "daily": "25000000.00", "per_customer": "400000.00"}
    assert body["total_quota"] == {"limit": "600000000.00", "remaining": "599997500.00"}
    branch = config_repository.branch("BR_XICHENG")  # what routing reads, at once in this process
    assert branch.quotas.daily == Decimal("25000000.00") and branch.division_codes == ("110102",)
    assert put(client, "/backoffice/branches/BR_XICHENG/quotas", change)[1]["code"] == "VERSION_CONFLICT"
    assert put(client, "/backoffice/branches/BR_NOWHERE/quotas", change)[1]["code"] == "BRANCH_NOT_FOUND"
    status, history = get(client, "/backoffice/config-history?key=BRANCH/BR_XICHENG", operator="reviewer.xicheng")
    assert status == 200 and history["items"][0]["before"]["quotas"]["total"] == "500000000.00"
    assert history["items"][0]["after"]["quotas"]["total"] == "600000000.00"


def test_the_history_lists_each_change_newest_first_with_who_and_before_and_after(client, aws):
    put(client, "/backoffice/funders/PB_HUAXIA_JOINT", funder("PB_HUAXIA_JOINT", 1, service_fee_rate="0.0190"))
    put(client, "/backoffice/funders/PB_HUAXIA_JOINT", funder("PB_HUAXIA_JOINT", 2, service_fee_rate="0.0210"))
    status, body = get(client, "/backoffice/config-history?key=FUNDER/PB_HUAXIA_JOINT", operator="auditor")
    assert status == 200 and body["key"] == "FUNDER/PB_HUAXIA_JOINT"
    newest, older = body["items"]
    assert (newest["version"], older["version"]) == (3, 2)
    assert {newest["operator_id"], older["operator_id"]} == {"admin"} and newest["operator_role"] == "PLATFORM"
    assert older["before"]["service_fee_rate"] == "0.0200" and older["after"]["service_fee_rate"] == "0.0190"
    assert newest["before"] == older["after"] and newest["after"]["service_fee_rate"] == "0.0210"
    assert newest["at"] >= older["at"]
    assert [i["version"] for i in get(client, "/backoffice/config-history?key=FUNDER/PB_HUAXIA_JOINT&limit=1")[1]["items"]] == [3]
    assert get(client, "/backoffice/config-history?key=FUNDING/CONSUMER_STD")[1]["items"] == []


def test_routing_uses_the_edited_configuration_at_once(client, aws):
    def ranked():
        context = RoutingContext(amount=Decimal("10000.00"), borrower_province="11", now=MONDAY_10AM)
        return plan(config_repository.product_funding("CONSUMER_STD"), config_repository.funders(), context)

    before = {c.channel.code: c.skip_reasons for c in ranked().candidates}  # the configuration is cached now
    assert before["CH_DONGCHENG"] == ()
    assert put(client, "/backoffice/funders/BR_DONGCHENG", funder("BR_DONGCHENG", 1, cooperating=False))[0] == 200
    after = {c.channel.code: c.skip_reasons for c in ranked().candidates}
    assert after["CH_DONGCHENG"] == (f"{NOT_COOPERATING}:BR_DONGCHENG",)
    assert f"{NOT_COOPERATING}:BR_DONGCHENG" in after["CH_DONGCHENG_HUAXIA_JOINT"]
    assert after["CH_XICHENG"] == ()

    only_xicheng = dict(FUNDING, channels=[FUNDING["channels"][1]], routing_rules=["fee_rate"], expected_version=1)
    assert put(client, "/backoffice/products/CONSUMER_STD/funding", only_xicheng)[0] == 200
    routed = ranked()
    assert [c.channel.code for c in routed.candidates] == ["CH_XICHENG"] and routed.rules == ("fee_rate",)


# -- products -----------------------------------------------------------------------------------

PRODUCT = json.loads((SAMPLE / "products" / "CONSUMER_STD.json").read_text(encoding="utf-8"))


def product(expected_version: int | None = None, **changes) -> dict:
    """The sample CONSUMER_STD with changes, and the version the change is made from."""
    document = copy.deepcopy(PRODUCT) | changes
    if expected_version is not None:
        document["expected_version"] = expected_version
    return document


def test_any_operator_reads_the_products_with_their_versions_a_page_at_a_time(client, aws):
    status, body = get(client, "/backoffice/products", operator="auditor")
    assert status == 200 and body["next_cursor"] is None
    assert [item["product_code"] for item in body["items"]] == ["CONSUMER_LINE", "CONSUMER_STD"]
    std = body["items"][1]
    assert std["version"] == 1 and std["product"]["amount_max"] == "300000.00" and std["product"]["terms_months"] == [3, 6, 9, 12, 24, 36]
    assert get(client, "/backoffice/products/CONSUMER_STD", operator="reviewer.xicheng") == (200, std)

    status, first = get(client, "/backoffice/products?limit=1", operator="operator.dongcheng")
    assert status == 200 and [i["product_code"] for i in first["items"]] == ["CONSUMER_LINE"] and first["next_cursor"]
    status, second = get(client, f"/backoffice/products?limit=1&cursor={first['next_cursor']}")
    assert [i["product_code"] for i in second["items"]] == ["CONSUMER_STD"] and second["next_cursor"] is None

    status, missing = get(client, "/backoffice/products/NO_SUCH_PRODUCT")
    assert (status, missing["code"]) == (404, "PRODUCT_NOT_FOUND")
    assert get(client, "/backoffice/products/not-a-code")[0] == 404
    status, body = get(client, "/backoffice/products?limit=0&cursor=nonsense&color=red")
    assert (status, fields(body)) == (400, {"limit", "cursor", "color"})
    status, body = get(client, f"/backoffice/products?cursor={first['next_cursor']}A")
    assert (status, fields(body)) == (400, {"cursor"})


def test_a_platform_operator_changes_and_creates_products_versioned_and_audited(client, aws):
    status, changed = put(client, "/backoffice/products/CONSUMER_STD", product(1, amount_max="200000.00", terms_months=[12, 6, 12]))
    assert status == 200, changed
    assert changed["version"] == 2 and changed["product"]["amount_max"] == "200000.00" and changed["product"]["terms_months"] == [6, 12]
    assert changed["product"]["applicant_age_min"] == 18  # defaults made explicit
    assert config_repository.product("CONSUMER_STD").amount_max == Decimal("200000.00")

    status, history = get(client, "/backoffice/config-history?key=PRODUCT/CONSUMER_STD", operator="auditor")
    assert status == 200 and history["key"] == "PRODUCT/CONSUMER_STD"
    [entry] = history["items"]
    assert (entry["version"], entry["operator_id"], entry["operator_role"]) == (2, "admin", "PLATFORM")
    assert entry["before"]["amount_max"] == "300000.00" and entry["before"]["terms_months"] == [3, 6, 9, 12, 24, 36]
    assert entry["after"] == changed["product"] and entry["at"]

    status, body = put(client, "/backoffice/products/CONSUMER_STD", product(1, name="旧版本上的修改"))
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    assert body["details"] == [{"field": "expected_version", "message": "the current version is 2"}]
    assert get(client, "/backoffice/products/CONSUMER_STD")[1]["product"]["name"] == PRODUCT["name"]

    new = product(code="CONSUMER_MINI", name="小额消费贷", amount_min="500.00", amount_max="20000.00")
    status, created = put(client, "/backoffice/products/CONSUMER_MINI", new)
    assert (status, created["version"], created["product_code"]) == (201, 1, "CONSUMER_MINI"), created
    assert put(client, "/backoffice/products/CONSUMER_MINI", new)[1]["code"] == "VERSION_CONFLICT"  # "create" what exists
    assert [i["product_code"] for i in get(client, "/backoffice/products")[1]["items"]] == ["CONSUMER_LINE", "CONSUMER_MINI", "CONSUMER_STD"]
    [created_entry] = get(client, "/backoffice/config-history?key=PRODUCT/CONSUMER_MINI")[1]["items"]
    assert created_entry["before"] is None and created_entry["after"]["amount_max"] == "20000.00"


def test_only_platform_operators_change_products(client, aws):
    for operator in ("operator.dongcheng", "reviewer.dongcheng", "auditor"):
        status, body = put(client, "/backoffice/products/CONSUMER_STD", product(1, amount_max="1000.00"), operator=operator)
        assert (status, body["code"]) == (403, "FORBIDDEN"), operator
        assert put(client, "/backoffice/products/CONSUMER_STD", {"nonsense": 1}, operator=operator)[0] == 403  # before validation
    assert get(client, "/backoffice/products/CONSUMER_STD")[1]["version"] == 1
    assert get(client, "/backoffice/config-history?key=PRODUCT/CONSUMER_STD")[1]["items"] == []


def test_a_bad_product_is_400_with_field_paths_and_changes_nothing(client, aws):
    bad = product(1, amount_min=1000, quote_rate_max=0.24, name="", surprise=True, terms_months=[0, 12], repayment_methods=["MONTHLY"])
    bad["prepayment"] = {"allowed": True, "mode": "LOWER_INSTALLMENT", "fee_rate": 0.01}
    status, body = put(client, "/backoffice/products/CONSUMER_STD", bad)
    assert (status, body["code"]) == (400, "INVALID_INPUT")
    assert {"amount_min", "quote_rate_max", "name", "surprise", "terms_months", "repayment_methods[0]", "prepayment.fee_rate"} <= fields(body), body

    status, body = put(client, "/backoffice/products/CONSUMER_STD", product(1, amount_min="500000.00"))
    assert (status, fields(body)) == (400, {"amount_min"}) and "above amount_max" in body["details"][0]["message"]
    status, body = put(client, "/backoffice/products/CONSUMER_STD", product(1, default_annual_rate="0.2500"))
    assert (status, fields(body)) == (400, {"default_annual_rate"})
    status, body = put(client, "/backoffice/products/CONSUMER_STD", product(1, code="CONSUMER_LINE"))
    assert (status, fields(body)) == (400, {"code"})
    status, body = put(client, "/backoffice/products/CONSUMER_STD", product(1, penalty_markup="2"))
    assert (status, fields(body)) == (400, {"penalty_markup"})
    assert put(client, "/backoffice/products/CONSUMER_STD", b"{not json")[1]["code"] == "INVALID_JSON"
    assert get(client, "/backoffice/products/CONSUMER_STD")[1]["version"] == 1


def test_a_product_change_takes_effect_for_new_quotes_and_applications_at_once(client, aws, post_signed):
    from tests.support.applications import STANDARD  # amount 50000.00

    quote = {"product_code": "CONSUMER_STD", "amount": STANDARD["amount"], "term_months": 12, "repayment_method": "EQUAL_INSTALLMENT"}
    assert post_signed("/v1/quotes", quote).status_code == 200  # the product is in this process's cache now
    assert put(client, "/backoffice/products/CONSUMER_STD", product(1, amount_max="40000.00"))[0] == 200

    refused = post_signed("/v1/quotes", quote)
    body = json.loads(refused.body)
    assert (refused.status_code, body["code"], fields(body)) == (422, "OUTSIDE_PRODUCT_TERMS", {"amount"})
    assert "40000.00" in body["details"][0]["message"]
    refused = post_signed("/v1/applications", STANDARD)
    body = json.loads(refused.body)
    assert (refused.status_code, body["code"], fields(body)) == (422, "OUTSIDE_PRODUCT_TERMS", {"amount"})
    assert post_signed("/v1/quotes", dict(quote, amount="40000.00")).status_code == 200
