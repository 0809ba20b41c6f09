"""The code uses only what ``resources.py`` declares, and each function only what it lists.

The CDK template tests check the other half: the stack grants exactly the
declarations. Together: a function can touch only what it was granted.
"""
from __future__ import annotations

import ast
import json
import secrets
import time
from pathlib import Path

import pytest

import app
from chalicelib import resources
from chalicelib.domain.signing import sign_target
from local.lambda_runtime import LambdaContext
from tests.conftest import load_event
from tests.support.aws_calls import recorded_calls, touched

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", DEPLOYED, ids=lambda p: str(p.relative_to(ROOT)))
def test_deployed_code_never_imports_local_only_code(path):
    assert not imports(path) & {"local", "moto", "tests", "pytest", "hypothesis"}


@pytest.mark.parametrize("path", sorted((ROOT / "chalicelib" / "domain").rglob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_no_aws_sdk(path):
    assert not imports(path) & {"boto3", "botocore", "pynamodb", "aws_lambda_powertools", "chalice"}


@pytest.mark.parametrize("path", DEPLOYED, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_settings_reads_the_environment(path):
    if path.name == "settings.py":
        return
    text = path.read_text(encoding="utf-8")
    assert "os.environ" not in text and "getenv" not in text


def test_every_env_name_the_code_asks_for_is_declared():
    declared = resources.all_env_names()
    for path in DEPLOYED:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "env" and node.args and isinstance(node.args[0], ast.Constant):
                assert node.args[0].value in declared, f"{path.name} reads undeclared {node.args[0].value}"


def test_every_chalice_function_is_declared_and_every_declaration_is_a_function():
    # The REST API's routes are one Chalice function, deployed twice: the partners' and the back office's.
    chalice_functions = {"api_handler", resources.BACK_OFFICE_FUNCTION} | {f.name for f in app.app.pure_lambda_functions} | {e.name for e in app.app.event_sources}
    assert chalice_functions == {f.name for f in resources.FUNCTIONS}


def test_every_state_machine_placeholder_is_declared():
    for machine in resources.STATE_MACHINES:
        text = (ROOT / "statemachines" / machine.definition).read_text(encoding="utf-8")
        json.loads(text)
        placeholders = {part.split("}")[0] for part in text.split("${")[1:]}
        assert placeholders == set(machine.functions)
        assert set(machine.functions.values()) <= {f.name for f in resources.FUNCTIONS}


def signed_sample(secret: str, name: str) -> dict:
    """A sample API Gateway event, signed now with a fresh nonce."""
    event = load_event(name)
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    event["headers"]["X-Nonce"] = nonce
    event["headers"].update({"X-Timestamp": ts, "X-Signature": sign_target(secret, "POST", event["path"], ts, nonce, event["body"].encode())})
    return event


class NoWorkflow:
    """Stands in for Step Functions so that setting up a step's input starts nothing in the background."""

    class exceptions:  # noqa: N801 - the shape of a boto3 client
        class ExecutionAlreadyExists(Exception):
            pass

    def start_execution(self, **kwargs):
        return {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:none:" + kwargs["name"]}


def prepared(function: str) -> dict:
    """The sample event of a workflow step, with the application (and report) that it names in place."""
    from chalicelib.persistence import config_repository
    from chalicelib.usecases import intake, review
    from tests.support.applications import person

    if function.startswith(("offer_", "sign_", "disburse_")):
        return _offered(function)
    if function == "origination_watch":  # an offer past its deadline: expired, its reservation released
        from chalicelib.persistence.models import ApplicationItem

        item = ApplicationItem.get(f"APP#{_offered('offer_close')['application_id']}")
        item.update(actions=[ApplicationItem.waits_until.set("2026-01-01T00:00:00+00:00")])
        return load_event("schedule_origination_watch.json")
    if function in ("day_end_credit_report", "day_end_reconcile", "reconcile_partner_file"):
        return _reported(function)
    if function == "day_end_close_loans":  # a disbursed loan for its segments to close
        from chalicelib.usecases import disbursement

        disbursement.disburse(_offered("disburse_loan")["application_id"])
        return load_event("day_end_close_loans.json") | {"total": 1}
    if not function.startswith(("review_", "route_")):
        return {}
    received = intake.submit(config_repository.partner("P_DEMO"), person(452 if function.startswith("route_") else 920), NoWorkflow())
    event = dict(load_event(f"{function}.json"), application_id=received.application_id)
    if function in ("review_decide", "review_await_manual", "review_close", "route_application"):
        event["report_key"] = review.query_bureau(received.application_id)["report_key"]
    if function == "review_close":
        review.await_manual(received.application_id, 3600)
    if function == "route_application":
        assert review.decide(received.application_id, event.pop("report_key"))["outcome"] == "APPROVE"
        review.close(received.application_id, "APPROVED")
    return event


def _reported(function: str) -> dict:
    """A disbursed loan (for the branch's file) and the partner's file of its day (to reconcile)."""
    from chalicelib.domain.reconciliation import Row, render_partner_file
    from chalicelib.persistence import loans, reports
    from chalicelib.usecases import disbursement

    loan_id = disbursement.disburse(_offered("disburse_loan")["application_id"])["loan_id"]
    loan = loans.get(loan_id)
    row = Row("DISBURSEMENT", loan.partner_application_no, loan_id, int(loan.amount * 100), "SUCCESS")
    if function == "day_end_credit_report":  # the day end's close wrote the branch's part of the run
        from chalicelib.usecases import loan_day_end

        loan_day_end.close_segment(loan.start_date, 0, 1, load_event("day_end_credit_report.json")["run"])
    else:
        reports.put(reports.inbound_key("P_DEMO", loan.start_date), render_partner_file([row], loan.start_date))
    if function == "reconcile_partner_file":
        event = load_event("s3_reconciliation_file.json")
        event["Records"][0]["s3"]["object"]["key"] = reports.inbound_key("P_DEMO", loan.start_date)
        return event
    return load_event(f"{function}.json") | {"business_date": loan.start_date.isoformat()}


def _offered(function: str) -> dict:
    """An application with an offer (accepted, for the signing step), and the step's event."""
    from datetime import datetime, timezone

    from chalicelib.persistence import applications
    from chalicelib.usecases import fund_routing

    application_id = prepared("route_application")["application_id"]
    assert fund_routing.route(application_id)["status"] == "OFFERED"
    if function in ("sign_contract", "disburse_loan"):
        now = datetime.now(timezone.utc).isoformat()
        applications.transition(application_id, "SIGNING", {"OFFERED"}, now, acceptance={"accepted": True, "accepted_at": now, "received_at": now})
    if function == "disburse_loan":
        from chalicelib.usecases import contracting

        contracting.sign(application_id)
    return dict(load_event(f"{function}.json"), application_id=application_id)


def repayment_sample(secret: str) -> dict:
    """A repayment of a disbursed loan, as API Gateway passes it."""
    from chalicelib.usecases import disbursement

    application_id = prepared("disburse_loan")["application_id"]
    loan_id = disbursement.disburse(application_id)["loan_id"]
    event = json.loads(json.dumps(load_event("api_repayment_request.json")).replace("LN20261123-101500-a1b2c3d4e5", loan_id))
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    event["headers"].update({"X-Timestamp": ts, "X-Nonce": nonce, "X-Signature": sign_target(secret, "POST", event["path"], ts, nonce, event["body"].encode())})
    return event


def operator_event(name: str, operator_id: str) -> dict:
    """A sample back-office event with the operator's id token instead of the sample's."""
    from tests.support.operators import operator_headers

    event = load_event(name)
    event["headers"]["Authorization"] = operator_headers(operator_id)["authorization"]
    return event


def sign_in_event(operator_id: str) -> dict:
    """POST /backoffice/session with a sample operator's local credentials."""
    from local.seed import operator_password

    event = load_event("api_backoffice_put_funder.json")
    event.update(resource="/backoffice/session", path="/backoffice/session", httpMethod="POST", pathParameters=None)
    event["requestContext"].update(resourcePath="/backoffice/session", httpMethod="POST", path="/api/backoffice/session")
    event["headers"].pop("Authorization")
    event["body"] = json.dumps({"username": operator_id, "password": operator_password(operator_id)})
    return event


def invocations(secrets, event):
    step = lambda name: lambda: getattr(app, name)(event, LambdaContext(name))  # noqa: E731
    return {
        "api_handler": lambda: app.app(signed_sample(secrets["P_DEMO"], "api_quote_request.json"), LambdaContext("api_handler")),
        "api_handler:applications": lambda: app.app(signed_sample(secrets["P_DEMO"], "api_application_request.json"), LambdaContext("api_handler")),
        # The back office: a platform operator changes a funder (config and audit) and its TOTAL quota follows.
        "backoffice_api": lambda: app.app(event, LambdaContext("backoffice_api")),
        # An operator signs in (Cognito InitiateAuth with the console's app client).
        "backoffice_api:session": lambda: app.app(event, LambdaContext("backoffice_api")),
        # A repayment: the loan, its repayment record and its posting in one transaction.
        "api_handler:repayments": lambda: app.app(event, LambdaContext("api_handler")),
        "advance_business_date": lambda: app.advance_business_date(load_event("advance_business_date.json"), LambdaContext("advance_business_date")),
        "start_day_end": lambda: app.start_day_end(load_event("schedule_start_day_end.json"), LambdaContext("start_day_end")),
        "origination_watch": lambda: app.origination_watch(event, LambdaContext("origination_watch")),
        **{
            name: step(name)
            for name in (
                "review_query_bureau", "review_decide", "review_await_manual", "review_close", "route_application",
                "offer_close", "sign_contract", "disburse_loan", "day_end_close_loans",
                "day_end_credit_report", "day_end_reconcile", "reconcile_partner_file",
            )
        },
    }


@pytest.mark.parametrize("function", [f.name for f in resources.FUNCTIONS] + ["api_handler:applications", "backoffice_api:session", "api_handler:repayments"])
def test_each_function_touches_only_what_it_declares(aws, function):
    from tests.support.aws import clear_client_caches

    samples = {
        "api_handler:repayments": lambda: repayment_sample(aws.secrets["P_DEMO"]),
        "backoffice_api": lambda: operator_event("api_backoffice_put_funder.json", "admin"),  # signed in before counting
        "backoffice_api:session": lambda: sign_in_event("admin"),
    }
    event = samples.get(function, lambda: prepared(function))()
    clear_client_caches()  # count the calls of a cold function
    declared = resources.function(function.split(":")[0]).uses
    with recorded_calls() as calls:
        result = invocations(aws.secrets, event)[function]()
    if function.startswith(("api_handler", "backoffice_api")):
        assert result["statusCode"] in (200, 201, 202), result
    assert calls, "a sample event that makes no AWS call proves nothing"
    for call in calls:
        for resource, access in touched(call, aws.env):
            assert resource in declared, f"{function} touched {resource} ({call.operation}) without declaring it"
            assert declared[resource].covers(access), (function, call.operation, declared[resource], access)
