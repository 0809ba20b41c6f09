"""``make demo``: start the local stack; quotes as P_DEMO and applications from three partners over signed HTTP; stop."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import timedelta

from local.partner_client import PartnerClient
from local.serve import configure_logging
from local.stack import LocalStack, free_port

METHODS = {
    "EQUAL_INSTALLMENT": "等额本息 equal installment",
    "EQUAL_PRINCIPAL": "等额本金 equal principal",
    "INTEREST_FIRST": "先息后本 interest first",
    "BULLET": "到期一次还本付息 bullet",
}
COLUMNS = ("period", "due_date", "payment", "principal", "interest", "balance_after")


def table(body: dict) -> str:
    widths = [max(len(c), *(len(str(i[c])) for i in body["installments"])) for c in COLUMNS]
    line = lambda cells: "  ".join(str(cell).rjust(w) for cell, w in zip(cells, widths))  # noqa: E731
    rows = [line(COLUMNS), line("-" * w for w in widths)]
    rows += [line(i[c] for c in COLUMNS) for i in body["installments"]]
    rows.append(line(("total", "", body["total_payment"], body["total_principal"], body["total_interest"], "")))
    return "\n".join(rows)


def applications(stack: LocalStack) -> None:
    """Three partners, three formats: how each was standardised and assigned."""
    from local.seed import SAMPLE

    payloads = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted((SAMPLE / "partner_payloads").glob("*.json"))}
    payloads["P_DEMO"] = json.loads((SAMPLE / "standard_application.json").read_text(encoding="utf-8"))
    print("== Applications (进件) from three partners, each in its own format ==")  # noqa: T201
    for partner_id in ("P_DEMO", "P_QIANHAI", "P_XINGYUN"):
        partner = PartnerClient(stack.api_url, partner_id, stack.secrets[partner_id])
        sent = payloads[partner_id]
        received = partner.post("/v1/applications", sent)
        shown = partner.get(f"/v1/applications/{received.json()['application_id']}").json()
        print(f"\n-- {partner_id} sent ({'the standard format' if partner_id == 'P_DEMO' else 'its own format'}):")  # noqa: T201
        print("   " + json.dumps(sent, ensure_ascii=False)[:300] + " ...")  # noqa: T201
        print(f"   answered {received.status_code} {received.json()}")  # noqa: T201
        standard = shown["application"]
        applicant = standard["applicant"]
        print(  # noqa: T201
            f"   standardised: amount {standard['amount']}, {standard['term_months']} months, {standard['repayment_method']}, "
            f"{standard['purpose']}; applicant {applicant['name']} {applicant['id_number']} {applicant['mobile']}, "
            f"{applicant['occupation']}/{applicant['education']}/{applicant['marital_status']}; card {standard['account']['card_number']}"
        )
        print(f"   assigned to branch {shown['branch_code']}; status {shown['status']}")  # noqa: T201
    again = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"]).post("/v1/applications", payloads["P_DEMO"])
    print(f"\nThe same application again answers {again.status_code} with the same id: {again.json()}")  # noqa: T201
    broken = dict(payloads["P_QIANHAI"], cust_cert_no="110101199003074515", req_no="QH-BROKEN")
    refused = PartnerClient(stack.api_url, "P_QIANHAI", stack.secrets["P_QIANHAI"]).post("/v1/applications", broken)
    print(f"A bad ID number from P_QIANHAI answers {refused.status_code}, naming its own field: {refused.json()['details']}\n")  # noqa: T201


def wait_for_status(partner: PartnerClient, application_id: str, done: set[str], timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = partner.get(f"/v1/applications/{application_id}").json()
        if shown["status"] in done or time.monotonic() > deadline:
            return shown
        time.sleep(0.2)


def reviews(stack: LocalStack) -> None:
    """Approval, rejection with reasons, and a manual review approved by the branch's reviewer."""
    import requests

    from local.seed import operator_password
    from local.people import person

    partner = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"])
    ends = {"OFFERED", "NO_FUNDER", "REJECTED", "EXPIRED", "MANUAL_REVIEW"}
    print("== Review (审批): credit bureau (simulated), anti-fraud, rules, scorecard, decision ==")  # noqa: T201
    cases = [(452, "a clean credit file"), (911, "overdue at the bureau now"), (920, "12 lender inquiries in 3 months (多头借贷)")]
    waiting = None
    for sequence, story in cases:
        received = partner.post("/v1/applications", person(sequence)).json()
        shown = wait_for_status(partner, received["application_id"], ends)
        decision = shown["decision"] or {}
        print(f"  {story:45s} -> {shown['status']:13s} {decision.get('outcome')} reasons={decision.get('reasons')} "  # noqa: T201
              f"limit={decision.get('approved_limit')} rate={decision.get('annual_rate')}")
        if shown.get("offer"):
            routes = " -> ".join(f"{a['channel']}:{a['result']}" for a in shown["routing"])
            print(f"      routed {routes}; offer {shown['offer']['funders']}")  # noqa: T201
        if shown["status"] == "MANUAL_REVIEW":
            waiting = received["application_id"]
    if waiting:
        credentials = {"username": "reviewer.dongcheng", "password": operator_password("reviewer.dongcheng")}
        session = requests.post(f"{stack.api_url}/backoffice/session", json=credentials, timeout=10).json()
        reviewer = {"Authorization": f"Bearer {session['id_token']}"}
        print(f"  {session['operator']['name']} signs in to the back office (a Cognito id token, {session['expires_in']} s)")  # noqa: T201
        queue = requests.get(f"{stack.api_url}/backoffice/reviews", headers=reviewer, timeout=10).json()
        print(f"  东城 reviewer's queue: {[i['application_id'] for i in queue['items']]}")  # noqa: T201
        answer = requests.post(f"{stack.api_url}/backoffice/reviews/{waiting}", headers=reviewer, json={"outcome": "APPROVE", "comment": "电核通过:本人确认借款用途"}, timeout=10)
        shown = wait_for_status(partner, waiting, {"OFFERED", "NO_FUNDER", "REJECTED"})
        print(f"  the reviewer approves ({answer.status_code}) -> {shown['status']} limit={shown['decision']['approved_limit']} rate={shown['decision']['annual_rate']}")  # noqa: T201
        if shown.get("offer"):
            print(f"      offer {shown['offer']['funders']}, expires {shown['offer']['expires_at']}\n")  # noqa: T201


def routing(stack: LocalStack) -> None:
    """Fund routing: a funder that times out, a joint loan, and own funds when every funder refuses."""
    from chalicelib.persistence import config_repository
    from local.people import person
    from local.seed import LOCAL_FUNDER_SIMULATOR, SAMPLE

    partner = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"])
    print("== Fund routing (资金路由) ==")  # noqa: T201
    sample_funders = json.loads((SAMPLE / "funders.json").read_text(encoding="utf-8"))
    closed = [f["code"] for f in sample_funders if f.get("acceptance_hours") and f["acceptance_hours"] != {"start": "00:00", "end": "24:00"}]
    print(f"  (funders with acceptance hours, {', '.join(closed)}, are opened all day for these scenes, so they show the same at any hour)")  # noqa: T201
    for raw in sample_funders:  # the local stack reads configuration uncached
        config_repository.put_funder({**raw, "acceptance_hours": None})
    branches_refuse = {"BR_XICHENG": 0.0, "BR_CHAOYANG": 0.0, "BR_DONGCHENG": 1.0, "PB_HUAXIA_JOINT": 1.0}
    scenes = [
        ("a branch times out", {**LOCAL_FUNDER_SIMULATOR, "timeouts": ["BR_XICHENG"]}, 453),
        ("the single-funder channels refuse: a joint loan", {**LOCAL_FUNDER_SIMULATOR, "approval_rate": branches_refuse}, 456),
        ("... and the participating bank times out", {**LOCAL_FUNDER_SIMULATOR, "approval_rate": branches_refuse, "timeouts": ["PB_HUAXIA_JOINT"]}, 459),
        ("every funder refuses", {**LOCAL_FUNDER_SIMULATOR, "approval_rate": 0.0}, 454),
    ]
    for story, simulator, sequence in scenes:
        config_repository.put_funder_simulator(simulator)
        received = partner.post("/v1/applications", person(sequence)).json()
        shown = wait_for_status(partner, received["application_id"], {"OFFERED", "NO_FUNDER", "REJECTED"})
        tried = "; ".join(
            f"{a['channel']}: {a['result']}" + "".join(f" ({x['funder']} {x['reason'] or 'approved'})" for x in a["answers"] if not x["approved"])
            for a in shown.get("routing") or []
        )
        outcome = (shown.get("offer") or {}).get("funders") or (shown.get("decision") or {}).get("reasons")
        print(f"  {story}: {tried or 'not routed'}\n      -> {shown['status']} {outcome}")  # noqa: T201
    config_repository.put_funder_simulator(LOCAL_FUNDER_SIMULATOR)
    for raw in sample_funders:
        config_repository.put_funder(raw)
    print()  # noqa: T201


def credit_lines(stack: LocalStack) -> None:
    """A revolving line (授信), two drawdowns (用信) to the line's funder, one more than is left."""
    from chalicelib.persistence import config_repository
    from local.people import person
    from local.seed import LOCAL_FUNDER_SIMULATOR

    partner = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"])
    print("== Credit lines (循环授信 and 用信) ==")  # noqa: T201
    received = partner.post("/v1/applications", person(455, product_code="CONSUMER_LINE", amount="30000.00", term_months=12)).json()
    shown = wait_for_status(partner, received["application_id"], {"OFFERED", "NO_FUNDER", "REJECTED"})
    offer = shown.get("offer") or {}
    if offer.get("type") != "CREDIT_LINE":
        print(f"  the line application ended {shown['status']}: {shown.get('decision')}\n")  # noqa: T201
        return
    line_id = offer["credit_line_id"]
    from datetime import datetime, timezone

    pending = partner.get(f"/v1/credit-lines/{line_id}").json()["status"]
    partner.post(f"/v1/applications/{shown['application_id']}/acceptance", {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()})
    deadline = time.monotonic() + 60
    while (line := partner.get(f"/v1/credit-lines/{line_id}").json())["status"] == "PENDING" and time.monotonic() < deadline:
        time.sleep(0.3)
    print(f"  line offered ({pending}); the borrower accepts, the line agreement is signed -> {line['status']}")  # noqa: T201
    print(f"  line {line_id}: limit {line['limit']} from {line['funders']}, usable until {line['expires_on']} (exclusive)")  # noqa: T201
    draws = [("D-DEMO-1", "8000.00", None), ("D-DEMO-2", "6000.00", {**LOCAL_FUNDER_SIMULATOR, "approval_rate": 0.0})]
    for number, amount, simulator in draws:
        if simulator:
            config_repository.put_funder_simulator(simulator)
        body = {"partner_application_no": number, "amount": amount, "term_months": 6, "repayment_method": "EQUAL_INSTALLMENT", "purpose": "CONSUMPTION"}
        drawdown = partner.post(f"/v1/credit-lines/{line_id}/drawdowns", body).json()
        done = wait_for_status(partner, drawdown["application_id"], {"OFFERED", "NO_FUNDER"})
        tried = " -> ".join(f"{a['channel']}:{a['result']}" for a in done.get("routing") or [])
        story = "the line's funder refuses" if simulator else "the line's funder"
        print(f"  drawdown {amount} ({story}): {tried} -> {done['status']} {(done.get('offer') or {}).get('funders')}")  # noqa: T201
    config_repository.put_funder_simulator(LOCAL_FUNDER_SIMULATOR)
    left = partner.get(f"/v1/credit-lines/{line_id}").json()["available"]
    too_much = partner.post(f"/v1/credit-lines/{line_id}/drawdowns", {**body, "partner_application_no": "D-DEMO-3", "amount": "20000.00"})
    print(f"  available now {left}; a drawdown of 20000.00 answers {too_much.status_code} {too_much.json()['details']}\n")  # noqa: T201


def contracts(stack: LocalStack) -> None:
    """The borrower accepts; the contract is signed by the branch, archived; downloaded and verified."""
    from datetime import datetime, timezone
    from pathlib import Path

    import requests

    from chalicelib.documents.verification import verify_pdf
    from chalicelib.ports.ca import trust_roots
    from local.people import person

    partner = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"])
    print("== Acceptance, the electronic contract and the bank's signature (电子合同, CA加签) ==")  # noqa: T201
    received = partner.post("/v1/applications", person(458, amount="12000.00", term_months=12)).json()
    shown = wait_for_status(partner, received["application_id"], {"OFFERED", "NO_FUNDER", "REJECTED"})
    if shown["status"] != "OFFERED":
        print(f"  not offered: {shown['status']} {(shown.get('decision') or {}).get('reasons')}\n")  # noqa: T201
        return
    application_id = shown["application_id"]
    answer = partner.post(f"/v1/applications/{application_id}/acceptance", {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()})
    print(f"  offer {shown['offer']['amount']} accepted ({answer.status_code}) -> {answer.json()['status']}")  # noqa: T201
    deadline = time.monotonic() + 60
    while (links := partner.get(f"/v1/applications/{application_id}/contract")).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.3)
    if links.status_code != 200:
        print(f"  no contract: {links.status_code} {links.json()}\n")  # noqa: T201
        return
    body = links.json()
    pdf = requests.get(body["url"], timeout=10).content  # a plain HTTP client, no AWS credentials
    folder = Path(os.environ.get("DEMO_OUT", "demo-out"))
    folder.mkdir(exist_ok=True)
    path = folder / f"contract-{body['contract_no']}.pdf"
    path.write_bytes(pdf)
    verified = verify_pdf(pdf, trust_roots(), expected_sha256=body["sha256"])
    print(f"  contract {body['contract_no']}: {len(pdf):,} bytes written to {path}")  # noqa: T201
    print(f"  verified: signed by {verified.signer} at {verified.signed_at}; intact={verified.intact} trusted={verified.trusted} "  # noqa: T201
          f"hash matches the record={verified.hash_matches} -> {'VALID' if verified.valid else 'INVALID'}")
    tampered = bytearray(pdf)
    tampered[len(tampered) // 2] ^= 0x01
    print(f"  one byte flipped: {'VALID' if verify_pdf(bytes(tampered), trust_roots()).valid else 'INVALID'}")  # noqa: T201
    root = folder / "local-ca.pem"
    root.write_bytes(trust_roots()[0])
    print(f"  check it yourself: python tools/verify_contract.py {path} --trust-root {root} --sha256 {body['sha256']}\n")  # noqa: T201


def _accepted_loan(partner: PartnerClient, sequence: int, **changes: object) -> dict:
    """An application of ``sequence`` offered, accepted, and followed to its disbursement's end."""
    from datetime import datetime, timezone

    from local.people import person

    received = partner.post("/v1/applications", person(sequence, **changes)).json()
    shown = wait_for_status(partner, received["application_id"], {"OFFERED", "NO_FUNDER", "REJECTED"})
    if shown["status"] != "OFFERED":
        return shown
    partner.post(f"/v1/applications/{shown['application_id']}/acceptance", {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()})
    return wait_for_status(partner, shown["application_id"], {"DISBURSED", "DISBURSEMENT_FAILED"}, timeout=60.0)


def disbursements_and_repayments(stack: LocalStack) -> None:
    """Loans disbursed (one card refused, one gateway timeout resolved by a query), repaid on time,
    in part, early and in full; the partner's event feed; each branch's trial balance."""
    from datetime import datetime, timezone

    from chalicelib.domain.schedule import add_months
    from chalicelib.persistence import config_repository, ledger
    from chalicelib.ports.payments import card_ending
    from chalicelib.usecases import disbursement

    partner = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"])
    print("== Disbursement (放款), the ledger and repayments (还款) ==")  # noqa: T201
    people = {
        "on time": (471, {"amount": "12000.00", "term_months": 12}),
        "in part": (472, {"amount": "24000.00", "term_months": 12, "repayment_method": "EQUAL_PRINCIPAL"}),
        "early": (473, {"amount": "36000.00", "term_months": 24}),
        "in full": (474, {"amount": "18000.00", "term_months": 6, "repayment_method": "INTEREST_FIRST"}),
        "card refused": (475, {"amount": "10000.00", "term_months": 6, "account__card_number": card_ending("8801")}),
        "gateway timeout": (477, {"amount": "15000.00", "term_months": 6, "account__card_number": card_ending("8803")}),
    }
    loans = {}
    for story, (sequence, changes) in people.items():
        shown = _accepted_loan(partner, sequence, **changes)
        reason = ", ".join((shown.get("decision") or {}).get("reasons") or [])
        print(f"  {story:16} {shown.get('application_id')}: {shown['status']:20} loan {shown.get('loan_id') or '-'} {reason}")  # noqa: T201
        if shown["status"] == "DISBURSED":
            loans[story] = shown["loan_id"]
    paid = [order.payment_id for order in disbursement.gateway().executed]
    print(f"  the gateway moved money {len(paid)} times, once per payment id: {len(set(paid)) == len(paid)}")  # noqa: T201
    if not loans:
        print()  # noqa: T201
        return
    opened = config_repository.business_date()
    due = add_months(opened, 1)
    config_repository.set_business_date(due)  # the demo jumps to the first due date (the day end comes next)
    print(f"  the business date moves from {opened} to the first due date {due}")  # noqa: T201
    paid_at = datetime.now(timezone.utc).isoformat()
    for story, loan_id in loans.items():
        loan = partner.get(f"/v1/loans/{loan_id}").json()
        installment, settlement = loan["next_installment"]["amount"], loan["settlement"]["amount"]
        amount = {
            "on time": installment,
            "in part": f"{float(installment) / 2:.2f}",
            "early": f"{float(installment) + 10000:.2f}",
            "in full": settlement,
        }.get(story, installment)
        answer = partner.post(f"/v1/loans/{loan_id}/repayments", {"partner_repayment_no": f"R-{story.replace(' ', '-')}", "amount": amount, "paid_at": paid_at})
        body = answer.json()
        if answer.status_code != 201:
            print(f"  {story:16} {amount:>10}: {answer.status_code} {body}")  # noqa: T201
            continue
        parts = body["allocated"]
        print(f"  {story:16} {amount:>10} -> penalty {parts['penalty']}, interest {parts['interest']}, principal {parts['principal']} "  # noqa: T201
              f"(prepaid {body['prepaid_principal']}), fee {parts['fee']}; outstanding {body['outstanding_principal']} {body['loan_status']}")
    early = loans.get("early")
    if early:
        rows = [r for r in partner.get(f"/v1/loans/{early}/schedule").json()["installments"] if r["status"] != "PAID"]
        print(f"  the early loan's next installments (principal+interest): {', '.join(r['principal'] + '+' + r['interest'] for r in rows[:3])} ...")  # noqa: T201
    story, loan_id = next(iter(loans.items()))
    again = partner.post(f"/v1/loans/{loan_id}/repayments", {"partner_repayment_no": f"R-{story.replace(' ', '-')}", "amount": "1.00", "paid_at": paid_at})
    print(f"  a repayment number reused with another amount answers {again.status_code} {again.json()['code']}")  # noqa: T201
    time.sleep(1.1)  # the feed serves an event once it has settled (EVENT_SETTLE_SECONDS, 1 s on the local stack)
    events = partner.get("/v1/events?limit=100").json()["events"]
    print(f"  the partner's event feed: {', '.join(e['type'] for e in events)}")  # noqa: T201
    for branch in sorted({partner.get(f"/v1/loans/{loan_id}").json()["branch_code"] for loan_id in loans.values()}):
        ledger.check(branch)
        rows = ledger.trial_balance(branch)
        debits = sum(r["debits"] for r in rows)
        credits = sum(r["credits"] for r in rows)
        print(f"\n  Trial balance (试算平衡表) of {branch}, every invariant checked:")  # noqa: T201
        print(f"    {'account':<8}{'title':<34}{'debits':>14}{'credits':>14}{'balance':>14}")  # noqa: T201
        for r in rows:
            print(f"    {r['account']:<8}{r['title']:<34}{r['debits']:>14,.2f}{r['credits']:>14,.2f}{r['balance']:>14,.2f} {r['side'][0]}")  # noqa: T201
        print(f"    {'total':<42}{debits:>14,.2f}{credits:>14,.2f}  {'balances' if debits == credits else 'DOES NOT BALANCE'}")  # noqa: T201
    print()  # noqa: T201


def day_ends(stack: LocalStack, days: int = 60) -> None:
    """Sixty business days closed by the day-end state machine: loans fall overdue, are reclassified,
    warned and collected; one is cured; a partner's file with breaks is reconciled."""
    from collections import Counter
    from datetime import datetime, timezone

    import boto3

    from chalicelib.domain.reconciliation import Row, render_partner_file
    from chalicelib import resources
    from chalicelib.domain.loan import LoanStatus
    from chalicelib.persistence import config_repository, loans, reports, risk
    from chalicelib.usecases import day_end

    partner = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"])
    print(f"== The day end (日终), {days} business days ==")  # noqa: T201
    sfn = boto3.client("stepfunctions")
    machine = stack.env[resources.DAY_END_MACHINE.env]
    active = [loan_id for branch in config_repository.branches() for loan_id in loans.of_branch(branch.branch_code, LoanStatus.ACTIVE)]
    first_day = config_repository.business_date()
    classes_seen: Counter[str] = Counter()
    cured = None
    started = time.monotonic()
    for index in range(days):
        config_repository.clear_cache()
        day = config_repository.business_date()
        if index == 1:  # the partner's file of the first day: one repayment it reports 1 fen more, one the bank never had
            rows = [Row("REPAYMENT", "R-on-time", next(iter(active)), 110017, "SUCCESS"), Row("REPAYMENT", "R-UNKNOWN", next(iter(active)), 5000, "SUCCESS")]
            reports.put(reports.inbound_key("P_DEMO", first_day), render_partner_file(rows, first_day))
        if index == 35 and active:  # a borrower pays what is overdue: current again
            cured = active[-1]
            quote = loans.get(cured).settlement(day)
            overdue = quote.due_penalty + quote.due_interest + quote.due_principal
            partner.post(f"/v1/loans/{cured}/repayments", {"partner_repayment_no": "R-CURE", "amount": f"{overdue:.2f}", "paid_at": datetime.now(timezone.utc).isoformat()})
        execution = sfn.start_execution(stateMachineArn=machine, name=day_end.execution_name(day), input=json.dumps(day_end.day_end_input(day)))
        while (described := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
            time.sleep(0.05)
        if described["status"] != "SUCCEEDED":
            print(f"  the day end of {day} ended {described['status']}")  # noqa: T201
            return
        for loan_id in active:
            classes_seen[loans.get(loan_id).loan_class.value] += 1
    elapsed = time.monotonic() - started
    config_repository.clear_cache()
    print(f"  closed {first_day} to {config_repository.business_date() - timedelta(days=1)} in {elapsed:.0f} s ({elapsed / days:.1f} s a day)")  # noqa: T201
    for loan_id in active:
        loan = loans.get(loan_id)
        cases = [risk.case_from(c) for c in risk.cases_of(loan_id)]
        story = ", ".join(f"{c.case_id} {c.stage} {'open' if c.is_open else 'closed ' + c.close_reason.value}" for c in cases) or "no case"
        print(f"  {loan_id}: {loan.status.value} dpd {loan.days_past_due(config_repository.business_date())} class {loan.loan_class.value}; {story}")  # noqa: T201
    branch = loans.get(active[0]).branch_code if active else "BR_DONGCHENG"
    kinds: Counter[str] = Counter()
    day = first_day
    while day < config_repository.business_date():
        kinds.update(w["kind"] for w in risk.warnings(branch, day))
        kinds.update(w["kind"] for w in risk.warnings(None, day))
        day += timedelta(days=1)
    print(f"  warnings over the period: {dict(kinds)}; open collection cases at {branch}: {len(risk.open_cases(branch))}")  # noqa: T201
    report = reports.get(reports.report_key("P_DEMO", first_day))
    if report:
        print(f"  the reconciliation report of P_DEMO for {first_day}:")  # noqa: T201
        lines = report.decode("utf-8").splitlines()
        kinds_of_break = ("MISSING", "MISMATCH", "DUPLICATE", "INVALID")
        for line in lines[:2] + [line for line in lines[2:] if line.startswith(("kind", *kinds_of_break))]:
            print(f"    {line}")  # noqa: T201
    from chalicelib.usecases.credit_reporting import read_branch_report

    last = config_repository.business_date() - timedelta(days=1)
    credit = read_branch_report(branch, last)
    if credit:
        header, *body = credit.decode("utf-8").splitlines()
        print(f"  the credit-bureau file of {branch} for {last}: {len(body) - 1} records; {header}")  # noqa: T201
    print()  # noqa: T201


def main() -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the demo prints what matters itself
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # a short run: no EMF lines among the tables
    configure_logging()
    logging.getLogger("local").setLevel(logging.WARNING)
    with LocalStack(api_port=free_port()) as stack:
        partner = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"])
        print(f"Local stack at {stack.api_url}; quoting as P_DEMO with signed requests.\n")  # noqa: T201
        for method, title in METHODS.items():
            request = {"product_code": "CONSUMER_STD", "amount": "12000.00", "term_months": 6, "repayment_method": method, "annual_rate": "0.0600", "start_date": "2026-01-31"}
            response = partner.post("/v1/quotes", request)
            response.raise_for_status()
            print(f"== {title}: 12,000.00 yuan, 6 months, 6.00% a year, from 2026-01-31 ==")  # noqa: T201
            print(table(response.json()), "\n")  # noqa: T201
        refused = partner.post("/v1/quotes", {"product_code": "CONSUMER_STD", "amount": "500000.00", "term_months": 6, "repayment_method": "BULLET"})
        print(f"A quote outside the product answers {refused.status_code}: {refused.json()}")  # noqa: T201
        unsigned = PartnerClient(stack.api_url, "P_DEMO", "a-wrong-secret").post("/v1/quotes", {})
        print(f"A wrongly signed request answers {unsigned.status_code}: {unsigned.json()['code']}\n")  # noqa: T201
        applications(stack)
        reviews(stack)
        routing(stack)
        credit_lines(stack)
        contracts(stack)
        disbursements_and_repayments(stack)
        day_ends(stack)
    print("Local stack stopped.")  # noqa: T201
    print(console_note())  # noqa: T201
    return 0


def console_note() -> str:
    """Where to look at it all in the back-office console (the demo's stack is gone: ``make serve`` starts one)."""
    from local.serve import operators

    users = "\n".join(f"    {username:20s} {password:34s} {what}" for username, password, what in operators())
    return (
        "\nTo look at applications, loans, reviews, configuration, reconciliation and collections in the back-office\n"
        "console: `make serve`, then open http://127.0.0.1:8000/console/ and sign in as one of (local passwords only):\n"
        f"{users}"
    )


if __name__ == "__main__":
    sys.exit(main())
