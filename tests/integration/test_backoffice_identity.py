"""Operators' identity at the back-office API: Cognito sign-in, id tokens, roles and branches from groups.

Against moto's Cognito (the user pool of ``local/provision.py``, the users of ``local/seed.py``),
through the Chalice app: every check is made at the API, not only in the console.
"""
from __future__ import annotations

import json
import re
import time

import boto3
import pytest

from chalicelib import resources, settings
from local.seed import operator_password, sample_operators
from tests.support import tokens
from tests.support.applications import person
from tests.support.operators import id_token, operator_headers
from tests.support.signing import signed_headers

JSON = {"content-type": "application/json"}


def call(client, method, path, headers=None, body=None):
    raw = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
    response = getattr(client.http, method.lower())(path, headers=headers or {}, **({"body": raw} if raw is not None else {}))
    return response.status_code, (json.loads(response.body) if response.body else None), response.headers


def sign_in(client, username, password, headers=JSON):
    return call(client, "POST", "/backoffice/session", headers, {"username": username, "password": password})


def cognito():
    return boto3.client("cognito-idp", region_name=settings.region())


def pool_id():
    return settings.resource_env(resources.OPERATOR_POOL.id)


def client_id():
    return settings.resource_env(resources.CONSOLE_CLIENT.id)


def add_user(username, groups, password="LocalOnly-test-User-1"):
    """A user of the operators' pool in exactly ``groups``; answers their password."""
    idp = cognito()
    for group in groups:
        try:
            idp.create_group(UserPoolId=pool_id(), GroupName=group)
        except idp.exceptions.GroupExistsException:
            pass
    idp.admin_create_user(UserPoolId=pool_id(), Username=username, UserAttributes=[{"Name": "name", "Value": "某人"}], MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id(), Username=username, Password=password, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool_id(), Username=username, GroupName=group)
    return password


def bearer(token):
    return {"authorization": f"Bearer {token}"}


# -- signing in -------------------------------------------------------------------------------


def test_every_seeded_operator_signs_in_and_is_who_the_sample_says(client, aws):
    for operator in sample_operators():
        status, body, headers = sign_in(client, operator.operator_id, operator_password(operator.operator_id))
        assert status == 200, body
        assert body["operator"] == {"operator_id": operator.operator_id, "name": operator.name, "role": operator.role.value, "branch_code": operator.branch_code}
        assert 3500 <= body["expires_in"] <= 3600
        assert headers["Cache-Control"] == "no-store"
        assert call(client, "GET", "/backoffice/me", bearer(body["id_token"]))[:2] == (200, body["operator"])


def test_wrong_credentials_are_401_and_do_not_say_which_part_was_wrong(client, aws):
    idp = cognito()
    idp.admin_disable_user(UserPoolId=pool_id(), Username="reviewer.chaoyang")
    wrong_password = sign_in(client, "admin", "LocalOnly-admin-2")
    unknown_user = sign_in(client, "nobody", operator_password("nobody"))
    disabled = sign_in(client, "reviewer.chaoyang", operator_password("reviewer.chaoyang"))
    for status, body, headers in (wrong_password, unknown_user, disabled):
        assert (status, body["code"], body["details"]) == (401, "NOT_AUTHENTICATED", [])
        assert body["message"] == wrong_password[1]["message"]

    idp.admin_create_user(UserPoolId=pool_id(), Username="new.operator", TemporaryPassword="LocalOnly-Temp-1", MessageAction="SUPPRESS")
    status, body, _ = sign_in(client, "new.operator", "LocalOnly-Temp-1")
    assert (status, body["code"]) == (401, "CHALLENGE_REQUIRED") and "NEW_PASSWORD_REQUIRED" in body["message"]


def test_a_bad_sign_in_body_is_400_with_field_paths(client, aws):
    for body, fields in (
        ({}, {"username", "password"}),
        ({"username": "", "password": "x"}, {"username"}),
        ({"username": "admin", "password": 12345678}, {"password"}),
        ({"username": "admin", "password": "x", "remember": True}, {"remember"}),
        ({"username": "a" * 129, "password": "x" * 257}, {"username", "password"}),
    ):
        status, answer, _ = call(client, "POST", "/backoffice/session", JSON, body)
        assert (status, answer["code"]) == (400, "INVALID_INPUT"), body
        assert {detail["field"] for detail in answer["details"]} == fields
    for raw, code in ((b"[]", "INVALID_INPUT"), (b"{", "INVALID_JSON"), (b"\xff", "INVALID_JSON"), (b"", "INVALID_JSON")):
        status, answer, _ = call(client, "POST", "/backoffice/session", JSON, raw)
        assert (status, answer["code"]) == (400, code), raw


def test_the_password_never_reaches_the_logs(client, aws, app_log):
    sign_in(client, "admin", operator_password("admin"))
    sign_in(client, "admin", "LocalOnly-Wrong-Password-1")
    logged = app_log.getvalue()
    assert "operator signed in" in logged and "operator sign-in refused" in logged
    assert operator_password("admin") not in logged and "LocalOnly-Wrong-Password-1" not in logged
    assert not re.search(r"eyJ[\w-]+\.eyJ", logged), "no token in the logs"


# -- tokens ----------------------------------------------------------------------------------


def forged(**changes):
    return tokens.signed(tokens.id_claims(pool_id(), client_id(), "admin", ["role-PLATFORM"], "省联社平台管理员", **changes))


def access_token(username):
    answer = cognito().initiate_auth(
        ClientId=client_id(), AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": operator_password(username)}
    )
    return answer["AuthenticationResult"]["AccessToken"]


def test_a_token_made_like_cognito_s_is_accepted_so_the_refusals_below_are_for_what_they_change(client, aws):
    assert call(client, "GET", "/backoffice/me", bearer(forged()))[:2] == (200, {"operator_id": "admin", "name": "省联社平台管理员", "role": "PLATFORM", "branch_code": None})


REFUSED_TOKENS = {
    "expired": lambda: forged(exp=int(time.time()) - 30),  # beyond the 5 s allowed for clock skew
    "tampered": lambda: tokens.with_payload(id_token("reviewer.xicheng"), **{"cognito:groups": ["role-PLATFORM"]}),
    "wrong audience": lambda: forged(aud="another-app-client"),
    "wrong issuer": lambda: forged(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AnotherPool"),
    "access token": lambda: access_token("admin"),
    "unsigned": lambda: tokens.unsigned(tokens.id_claims(pool_id(), client_id(), "admin", ["role-PLATFORM"])),
    "the old local token": lambda: "local-admin",
}


def test_a_token_that_is_not_a_current_id_token_of_the_pool_is_401_on_back_office_routes(client, aws):
    for what, make in REFUSED_TOKENS.items():
        token = make()
        for method, path, body in (("GET", "/backoffice/me", None), ("GET", "/backoffice/reviews?branch=BR_DONGCHENG", None), ("PUT", "/backoffice/funders/BR_XICHENG", {})):
            status, answer, _ = call(client, method, path, {**bearer(token), **JSON}, body)
            assert (status, (answer or {}).get("code")) == (401, "OPERATOR_UNKNOWN"), (what, path, answer)
    for headers in ({}, {"authorization": ""}, {"authorization": "Bearer"}, {"authorization": "Basic YWRtaW46eA=="}):
        status, answer, _ = call(client, "GET", "/backoffice/me", headers)
        assert (status, answer["code"]) == (401, "OPERATOR_UNKNOWN"), headers


INCONSISTENT_GROUPS = {
    "no group": [],
    "a branch but no role": ["branch-BR_XICHENG"],
    "a reviewer without a branch": ["role-REVIEWER"],
    "two branches": ["role-REVIEWER", "branch-BR_XICHENG", "branch-BR_DONGCHENG"],
    "platform in a branch": ["role-PLATFORM", "branch-BR_XICHENG"],
    "two roles": ["role-AUDITOR", "role-PLATFORM"],
    "an unknown role": ["role-ROOT"],
}


def test_a_user_whose_groups_make_no_operator_is_refused_at_sign_in_and_with_a_token(client, aws):
    for number, (what, groups) in enumerate(INCONSISTENT_GROUPS.items()):
        username = f"odd.user{number}"
        password = add_user(username, groups)
        status, answer, _ = sign_in(client, username, password)
        assert (status, answer["code"]) == (403, "NOT_AN_OPERATOR"), what
        token = cognito().initiate_auth(
            ClientId=client_id(), AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": password}
        )["AuthenticationResult"]["IdToken"]
        for path in ("/backoffice/me", "/backoffice/reviews?branch=BR_XICHENG"):
            status, answer, _ = call(client, "GET", path, bearer(token))
            assert (status, answer["code"]) == (401, "OPERATOR_UNKNOWN"), (what, path)


def test_a_group_change_takes_effect_at_the_next_sign_in(client, aws):
    """The token carries the groups it was issued with; a reviewer moved to another branch signs in again."""
    idp = cognito()
    idp.admin_remove_user_from_group(UserPoolId=pool_id(), Username="reviewer.chaoyang", GroupName="branch-BR_CHAOYANG")
    idp.admin_add_user_to_group(UserPoolId=pool_id(), Username="reviewer.chaoyang", GroupName="branch-BR_XICHENG")
    status, body, _ = sign_in(client, "reviewer.chaoyang", operator_password("reviewer.chaoyang"))
    assert (status, body["operator"]["branch_code"]) == (200, "BR_XICHENG")


# -- branches and roles ------------------------------------------------------------------------


class NoWorkflow:
    """Stands in for Step Functions: the application is put in the review queue by hand."""

    class exceptions:  # noqa: N801 - the shape of a boto3 client
        class ExecutionAlreadyExists(Exception):
            pass

    def start_execution(self, **kwargs):
        return {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:none:" + kwargs["name"]}


@pytest.fixture
def dongcheng_review(aws):
    """An application of BR_DONGCHENG waiting in its manual review queue."""
    from chalicelib.persistence import applications, config_repository
    from chalicelib.usecases import intake, review

    received = intake.submit(config_repository.partner("P_DEMO"), person(920), NoWorkflow())
    review.query_bureau(received.application_id)
    review.await_manual(received.application_id, 3600)
    assert applications.get(received.application_id).branch_code == "BR_DONGCHENG"
    return received.application_id


def test_a_xicheng_reviewer_neither_sees_nor_decides_dongcheng_s_reviews(client, dongcheng_review):
    from chalicelib.persistence import applications

    xicheng, dongcheng = operator_headers("reviewer.xicheng"), operator_headers("reviewer.dongcheng")
    status, own, _ = call(client, "GET", "/backoffice/reviews", xicheng)
    assert (status, own["branch_code"], own["items"]) == (200, "BR_XICHENG", [])
    status, other, _ = call(client, "GET", "/backoffice/reviews?branch=BR_DONGCHENG", xicheng)
    assert (status, other["code"]) == (403, "BRANCH_FORBIDDEN")
    assert dongcheng_review not in json.dumps(other)
    status, decided, _ = call(client, "POST", f"/backoffice/reviews/{dongcheng_review}", {**xicheng, **JSON}, {"outcome": "APPROVE", "comment": "越权审批"})
    assert (status, decided["code"]) == (404, "NOT_FOUND")  # not even told it exists
    assert applications.get(dongcheng_review).status == "MANUAL_REVIEW"
    assert "manual_review" not in applications.trail_of(applications.get(dongcheng_review))

    status, queue, _ = call(client, "GET", "/backoffice/reviews", dongcheng)
    assert status == 200 and [item["application_id"] for item in queue["items"]] == [dongcheng_review]
    status, queue, _ = call(client, "GET", "/backoffice/reviews?branch=BR_DONGCHENG", operator_headers("admin"))
    assert status == 200 and [item["application_id"] for item in queue["items"]] == [dongcheng_review]


def test_branch_staff_who_are_not_reviewers_decide_nothing(client, dongcheng_review):
    for operator in ("operator.dongcheng", "auditor"):
        status, answer, _ = call(
            client, "POST", f"/backoffice/reviews/{dongcheng_review}", {**operator_headers(operator), **JSON}, {"outcome": "REJECT", "comment": "不该我批"}
        )
        assert status == 404, (operator, answer)


def test_a_branch_operator_reads_only_their_branch_s_quotas(client, aws):
    assert call(client, "GET", "/backoffice/branches/BR_XICHENG/quotas", operator_headers("operator.xicheng"))[0] == 200
    status, answer, _ = call(client, "GET", "/backoffice/branches/BR_DONGCHENG/quotas", operator_headers("operator.xicheng"))
    assert (status, answer["code"]) == (403, "BRANCH_FORBIDDEN")


def test_only_platform_operators_change_configuration(client, aws):
    funder = call(client, "GET", "/backoffice/funders/BR_DONGCHENG", operator_headers("admin"))[1]
    change = {**funder["funder"], "expected_version": funder["version"], "cooperating": False}
    for operator in ("auditor", "auditor.xicheng", "reviewer.dongcheng", "operator.dongcheng"):
        for path, body in (("/backoffice/funders/BR_DONGCHENG", change), ("/backoffice/branches/BR_DONGCHENG/quotas", {"quotas": {"total": "1.00"}})):
            status, answer, _ = call(client, "PUT", path, {**operator_headers(operator), **JSON}, body)
            assert (status, answer["code"]) == (403, "FORBIDDEN"), (operator, path, answer)
    assert call(client, "GET", "/backoffice/funders/BR_DONGCHENG", operator_headers("admin"))[1]["version"] == funder["version"]


# -- partners and operators never cross ------------------------------------------------------


def routes(prefix):
    """The routes the app declares (not the methods it refuses with 405: chalicelib/api/methods.py)."""
    import app
    from chalicelib.api import methods as undeclared

    for path, methods in sorted(app.app.routes.items()):
        if path.startswith(prefix):
            for method in sorted(methods):
                if methods[method].view_name != undeclared.RESPONDER:
                    yield method, re.sub(r"\{[^}]+\}", "X1", path)


def test_a_partner_s_signed_request_opens_no_back_office_route(client, aws):
    back_office = list(routes("/backoffice"))
    assert ("POST", "/backoffice/session") in back_office and len(back_office) > 3
    for method, path in back_office:
        body = b'{"username": "admin", "password": "x"}' if method in ("POST", "PUT", "PATCH") else b""
        headers = signed_headers("P_DEMO", aws.secrets["P_DEMO"], method, path, body)
        status, answer, _ = call(client, method, path, {**headers, **JSON}, body or None)
        assert status == 401, (method, path, answer)


def test_an_operator_s_token_opens_no_partner_route(client, aws):
    partner_routes = list(routes("/v1"))
    assert ("POST", "/v1/applications") in partner_routes
    for method, path in partner_routes:
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        status, answer, _ = call(client, method, path, {**operator_headers("admin"), **JSON}, body)
        assert status == 401, (method, path, answer)
