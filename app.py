"""The Chalice app: thin wiring only. Parse, call ``chalicelib``, answer.

Every Lambda function of the app imports this module at cold start, so it
imports only Chalice and the Powertools logger and metrics; each handler
imports what it needs on its first call (a scheduled job never loads the
partner API's pydantic models, and the API never loads the day end).
"""
from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware

from chalicelib import observability
from chalicelib.observability import logger, metrics
from chalicelib.resources import APP_NAME

app = Chalice(app_name=APP_NAME)
# The back office (/backoffice/...): operators of the Cognito user pool, who sign in at /backoffice/session
# and send their id token as a bearer token; each route's handler verifies it (chalicelib/usecases/
# operator_auth.py), on AWS and locally alike, so API Gateway authorises nothing itself.
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(ConvertToMiddleware(observability.capture_lambda_handler))


@app.middleware("http")
def contract_shaped_errors(event, get_response):
    """Chalice's own refusals (405, 415) answer in the contract's error shape too."""
    from chalicelib.api.http import contract_shaped

    return contract_shaped(get_response(event))


@app.route("/health", methods=["GET"])
def health():
    return {"status": "ok"}


@app.route("/v1/quotes", methods=["POST"])
def create_quote():
    from chalicelib.api import http, quotes

    return http.answer(lambda: quotes.create(app.current_request))


@app.route("/v1/applications", methods=["POST"])
def submit_application():
    from chalicelib.api import applications, http

    return http.answer(lambda: applications.submit(app.current_request))


@app.route("/v1/applications/{application_id}", methods=["GET"])
def get_application(application_id):
    from chalicelib.api import applications, http

    return http.answer(lambda: applications.view(app.current_request, application_id))


@app.route("/v1/applications/{application_id}/acceptance", methods=["POST"])
def answer_offer(application_id):
    from chalicelib.api import http, offers

    return http.answer(lambda: offers.answer(app.current_request, application_id))


@app.route("/v1/applications/{application_id}/contract", methods=["GET"])
def get_contract(application_id):
    from chalicelib.api import http, offers

    return http.answer(lambda: offers.contract(app.current_request, application_id))


@app.route("/v1/credit-lines/{credit_line_id}", methods=["GET"])
def get_credit_line(credit_line_id):
    from chalicelib.api import credit_lines, http

    return http.answer(lambda: credit_lines.view(app.current_request, credit_line_id))


@app.route("/v1/credit-lines/{credit_line_id}/drawdowns", methods=["POST"])
def draw_on_credit_line(credit_line_id):
    from chalicelib.api import credit_lines, http

    return http.answer(lambda: credit_lines.drawdown(app.current_request, credit_line_id))


@app.route("/v1/loans/{loan_id}", methods=["GET"])
def get_loan(loan_id):
    from chalicelib.api import http, loans

    return http.answer(lambda: loans.view(app.current_request, loan_id))


@app.route("/v1/loans/{loan_id}/schedule", methods=["GET"])
def get_loan_schedule(loan_id):
    from chalicelib.api import http, loans

    return http.answer(lambda: loans.schedule(app.current_request, loan_id))


@app.route("/v1/loans/{loan_id}/repayments", methods=["POST"])
def post_repayment(loan_id):
    from chalicelib.api import http, loans

    return http.answer(lambda: loans.repay(app.current_request, loan_id))


@app.route("/v1/events", methods=["GET"])
def get_events():
    from chalicelib.api import http, loans

    return http.answer(lambda: loans.events(app.current_request))


@app.route("/v1/reconciliation-files", methods=["POST"])
def request_reconciliation_upload():
    from chalicelib.api import http, loans

    return http.answer(lambda: loans.reconciliation_upload(app.current_request))


@app.route("/backoffice/reviews", methods=["GET"])
def review_queue():
    from chalicelib.api import backoffice, http

    return http.answer(lambda: backoffice.review_queue(app.current_request))


@app.route("/backoffice/reviews/{application_id}", methods=["POST"])
def decide_review(application_id):
    from chalicelib.api import backoffice, http

    return http.answer(lambda: backoffice.decide(app.current_request, application_id))


@app.route("/backoffice/funders", methods=["GET"])
def list_funders():
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.list_funders(app.current_request))


@app.route("/backoffice/funders/{code}", methods=["GET"])
def get_funder(code):
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.get_funder(app.current_request, code))


@app.route("/backoffice/funders/{code}", methods=["PUT"])
def put_funder(code):
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.put_funder(app.current_request, code))


@app.route("/backoffice/products/{product_code}/funding", methods=["GET"])
def get_product_funding(product_code):
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.get_funding(app.current_request, product_code))


@app.route("/backoffice/products/{product_code}/funding", methods=["PUT"])
def put_product_funding(product_code):
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.put_funding(app.current_request, product_code))


@app.route("/backoffice/branches/{branch_code}/quotas", methods=["GET"])
def get_branch_quotas(branch_code):
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.get_branch_quotas(app.current_request, branch_code))


@app.route("/backoffice/branches/{branch_code}/quotas", methods=["PUT"])
def put_branch_quotas(branch_code):
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.put_branch_quotas(app.current_request, branch_code))


@app.route("/backoffice/config-history", methods=["GET"])
def config_history():
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.config_history(app.current_request))


# -- back office: identity and session (console) ------------------------------------------------
@app.route("/backoffice/session", methods=["POST"])
def sign_in_operator():
    from chalicelib.api import backoffice_session, http

    return http.answer(lambda: backoffice_session.sign_in(app.current_request))


@app.route("/backoffice/me", methods=["GET"])
def current_operator():
    from chalicelib.api import backoffice_session, http

    return http.answer(lambda: backoffice_session.me(app.current_request))
# (end of identity routes)


# -- back office: dashboard, applications, loans ------------------------------------------------
@app.route("/backoffice/dashboard", methods=["GET"])
def backoffice_dashboard():
    from chalicelib.api import backoffice_inquiries, http

    return http.answer(lambda: backoffice_inquiries.get_dashboard(app.current_request))


@app.route("/backoffice/applications", methods=["GET"])
def backoffice_applications():
    from chalicelib.api import backoffice_inquiries, http

    return http.answer(lambda: backoffice_inquiries.list_applications(app.current_request))


@app.route("/backoffice/applications/{application_id}", methods=["GET"])
def backoffice_application(application_id):
    from chalicelib.api import backoffice_inquiries, http

    return http.answer(lambda: backoffice_inquiries.get_application(app.current_request, application_id))


@app.route("/backoffice/loans", methods=["GET"])
def backoffice_loans():
    from chalicelib.api import backoffice_inquiries, http

    return http.answer(lambda: backoffice_inquiries.list_loans(app.current_request))


@app.route("/backoffice/loans/{loan_id}", methods=["GET"])
def backoffice_loan(loan_id):
    from chalicelib.api import backoffice_inquiries, http

    return http.answer(lambda: backoffice_inquiries.get_loan(app.current_request, loan_id))


@app.route("/backoffice/loans/{loan_id}/postings", methods=["GET"])
def backoffice_loan_postings(loan_id):
    from chalicelib.api import backoffice_inquiries, http

    return http.answer(lambda: backoffice_inquiries.list_loan_postings(app.current_request, loan_id))


# (end of dashboard, applications, loans routes)


# -- back office: reconciliation, collections, warnings, products ---------------------------------
@app.route("/backoffice/reconciliation", methods=["GET"])
def backoffice_reconciliation_days():
    from chalicelib.api import backoffice_risk, http

    return http.answer(lambda: backoffice_risk.reconciliation_days(app.current_request))


@app.route("/backoffice/reconciliation/{partner_id}/{day}", methods=["GET"])
def backoffice_reconciliation_report(partner_id, day):
    from chalicelib.api import backoffice_risk, http

    return http.answer(lambda: backoffice_risk.reconciliation_report(app.current_request, partner_id, day))


@app.route("/backoffice/collections", methods=["GET"])
def backoffice_collections():
    from chalicelib.api import backoffice_risk, http

    return http.answer(lambda: backoffice_risk.collections(app.current_request))


@app.route("/backoffice/warnings", methods=["GET"])
def backoffice_warnings():
    from chalicelib.api import backoffice_risk, http

    return http.answer(lambda: backoffice_risk.warnings(app.current_request))


@app.route("/backoffice/products", methods=["GET"])
def backoffice_list_products():
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.list_products(app.current_request))


@app.route("/backoffice/products/{product_code}", methods=["GET"])
def backoffice_get_product(product_code):
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.get_product(app.current_request, product_code))


@app.route("/backoffice/products/{product_code}", methods=["PUT"])
def backoffice_put_product(product_code):
    from chalicelib.api import backoffice_config, http

    return http.answer(lambda: backoffice_config.put_product(app.current_request, product_code))


# (end of reconciliation, collections, warnings, products routes)


def undeclared_method(**path_parameters):
    """A method the partner contract does not declare on this resource: 405 with ``Allow`` (OPTIONS: 204)."""
    from chalicelib.api import methods

    request = app.current_request
    return methods.answer(methods.declared(app.routes, request.context["resourcePath"]), request.method)


def _answer_undeclared_methods() -> None:
    from chalicelib.api import methods

    for path, undeclared in methods.undeclared(app.routes).items():
        app.route(path, methods=undeclared, name=methods.RESPONDER)(undeclared_method)


_answer_undeclared_methods()


@app.lambda_function(name="review_query_bureau")
def review_query_bureau(event, context):
    """Origination step: REVIEWING; the credit report (raises BureauTimeout/BureauUnavailable to be retried)."""
    from chalicelib.usecases import review

    return review.query_bureau(event["application_id"])


@app.lambda_function(name="review_decide")
def review_decide(event, context):
    """Origination step: anti-fraud, rules, scorecard, decision."""
    from chalicelib.usecases import review

    return review.decide(event["application_id"], event["report_key"])


@app.lambda_function(name="review_await_manual")
def review_await_manual(event, context):
    """Origination step: MANUAL_REVIEW, in the branch's queue until its deadline."""
    from chalicelib.usecases import review

    return review.await_manual(event["application_id"], event["review_timeout_seconds"])


@app.lambda_function(name="route_application")
def route_application(event, context):
    """Origination step: fund routing; with ``"failed": true``, release what routing reserved."""
    from chalicelib.usecases import fund_routing

    if event.get("failed"):
        return fund_routing.routing_failed(event["application_id"])
    return fund_routing.route(event["application_id"])


@app.lambda_function(name="offer_close")
def offer_close(event, context):
    """Origination step: the offer ends (EXPIRED, DECLINED, SIGNING_FAILED) and gives back what it held."""
    from chalicelib.usecases import offers

    return offers.close(event["application_id"], event["end"])


@app.lambda_function(name="sign_contract")
def sign_contract(event, context):
    """Origination step: the signed contract and authorisation, archived."""
    from chalicelib.usecases import contracting

    return contracting.sign(event["application_id"])


@app.lambda_function(name="disburse_loan")
def disburse_loan(event, context):
    """Origination step: the loan booked and paid (or, failed, reversed); ``"give_up": true`` ends it."""
    from chalicelib.usecases import disbursement

    return disbursement.disburse(event["application_id"], give_up=bool(event.get("give_up")))


@app.lambda_function(name="review_close")
def review_close(event, context):
    """Origination step: the end of the review (approved for routing, rejected, expired, failed)."""
    from chalicelib.usecases import review

    return review.close(event["application_id"], event["end"])


@app.lambda_function(name="day_end_close_loans")
def day_end_close_loans(event, context):
    """Day-end step: a chunk of a segment of the loans closed for ``event["business_date"]`` (from ``event["cursor"]``)."""
    from datetime import date

    from chalicelib.usecases import day_end

    return day_end.close_loans(
        date.fromisoformat(event["business_date"]), int(event["segment"]), int(event["total"]), event["run"], event,
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )


@app.lambda_function(name="day_end_credit_report")
def day_end_credit_report(event, context):
    """Day-end step: a branch's credit-bureau file of ``event["business_date"]``."""
    from datetime import date

    from chalicelib.usecases import day_end

    return day_end.credit_report(date.fromisoformat(event["business_date"]), event["branch_code"], event["run"], event.get("segments"))


@app.lambda_function(name="day_end_reconcile")
def day_end_reconcile(event, context):
    """Day-end step: a partner's file of ``event["business_date"]`` reconciled (if it came)."""
    from datetime import date

    from chalicelib.usecases import day_end

    return day_end.reconcile(date.fromisoformat(event["business_date"]), event["partner_id"])


@app.lambda_function(name="reconcile_partner_file")
def reconcile_partner_file(event, context):
    """S3 event: a partner's reconciliation file arrived (late ones too): reconciled now."""
    from chalicelib.usecases import reconciling

    return reconciling.on_upload(event)


@app.lambda_function(name="advance_business_date")
def advance_business_date(event, context):
    """Day-end step: close ``event["business_date"]`` and open the next day."""
    from datetime import date

    from chalicelib.usecases import day_end

    return day_end.advance(date.fromisoformat(event["business_date"]))


@app.schedule("rate(5 minutes)", name="origination_watch")
def origination_watch(event):
    """Deadlines (manual reviews, offers) expired and stalled origination legs started again."""
    from chalicelib.aws_clients import client
    from chalicelib.usecases import origination_watch as watch

    return watch.sweep(client("stepfunctions"))


@app.schedule("cron(30 16 * * ? *)", name="start_day_end")
def start_day_end(event):
    """00:30 China Standard Time: start the day end of the current business date."""
    from chalicelib.aws_clients import client
    from chalicelib.usecases import day_end

    return day_end.start(client("stepfunctions"))
