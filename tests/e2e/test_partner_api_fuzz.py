"""The partner API against its own document, by an independent fuzzer: Schemathesis, every check, a fixed seed.

Schemathesis reads docs/openapi.yaml as a partner's engineer would, generates
requests for every ``/v1/`` operation (the document's examples, its coverage of
each schema's edges, random valid and invalid data, undeclared methods, missing
and wrong credentials), sends them to the running local stack signed by the
contract's rule (``tests/e2e/fuzz/hooks.py``), and checks every answer against the
document: no 5xx, the status codes, content types, headers and bodies documented,
schema-valid requests accepted and invalid ones refused, authentication enforced.

Its partner (``P_FUZZ``) is onboarded by configuration, as any partner is, and owns
real resources for the operations on one application, loan and credit line (its
ids are pinned, so the fuzzer reaches past the 404 of an id nobody issued).

Where the fuzzer is told more than the document's schemas say, it is below with its
reason: ``positive_accepted`` (the refusals a schema cannot state, each documented on
its operation or field), narrowed by a check of ours. Nothing else is excluded. The
run's warning that most generated requests of some operations are refused is that: a
random product code, ID number or card fails the business checks (documented 4xx), so
``dictionaries`` lets some requests draw real ones. The examples phase skips the
operations whose document gives no request example (the GETs).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.partner_client import PartnerClient
from local.people import person
from tests.e2e.fuzz import onboard

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
SEED = 20261207
MAX_EXAMPLES = 25  # per operation and phase: about 1,000 cases a run (with the coverage phase's), 1.5 min

# Business rules a schema cannot state per product and state, each documented as its operation's
# 422: the product's amount range, terms, methods, quote rates and ages, an offer no longer open, a
# line not usable, a loan not active, a day not yet closed. A schema-valid request may get those; and
# 400 only as ``hooks.DOCUMENTED_400`` says (the check ``schema_valid_data_refused_only_where_documented``).
# It never gets a 5xx.
BUSINESS_RULES = ["POST /v1/quotes", "POST /v1/applications", "POST /v1/applications/{application_id}/acceptance",
                  "POST /v1/credit-lines/{credit_line_id}/drawdowns", "POST /v1/loans/{loan_id}/repayments", "POST /v1/reconciliation-files"]
ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]


def positive_accepted() -> dict[str, list[str]]:
    """Per operation, what ``positive_data_acceptance`` takes beyond its defaults, and why (above)."""
    from tests.e2e.fuzz.hooks import DOCUMENTED_400

    labels = sorted(set(BUSINESS_RULES) | set(DOCUMENTED_400))
    return {label: ACCEPTED + ["400"] * (label in DOCUMENTED_400) + ["422"] * (label in BUSINESS_RULES) for label in labels}


def stack_environment(banner_resources: dict[str, str], aws_endpoint: str) -> dict[str, str]:
    """The environment of a program that works on the running stack's resources (as its functions do)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | banner_resources | {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def onboard_partner(banner_resources: dict[str, str], aws_endpoint: str) -> str:
    secret = secrets.token_hex(16)
    env = stack_environment(banner_resources, aws_endpoint) | {onboard.SECRET_ENV: secret}
    subprocess.run([sys.executable, "-m", "tests.e2e.fuzz.onboard"], cwd=ROOT, env=env, check=True, timeout=60)
    return secret


def _until(client: PartnerClient, application_id: str, statuses: set[str], deadline: float) -> dict[str, Any]:
    while (shown := client.get(f"/v1/applications/{application_id}").json())["status"] not in statuses:
        assert time.monotonic() < deadline, shown
        time.sleep(0.2)
    return shown


def _accepted(client: PartnerClient, body: dict[str, Any], until: set[str], deadline: float) -> dict[str, Any]:
    response = client.post("/v1/applications", body)
    assert response.status_code == 202, response.text
    application_id = response.json()["application_id"]
    shown = _until(client, application_id, {"OFFERED", "REJECTED", "NO_FUNDER"}, deadline)
    assert shown["status"] == "OFFERED", shown
    answer = {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()}
    assert client.post(f"/v1/applications/{application_id}/acceptance", answer).status_code == 200
    return _until(client, application_id, until, deadline)


def seeded_ids(client: PartnerClient) -> dict[str, str]:
    """A disbursed loan (its application and contract) and an active credit line of the fuzzer's partner."""
    deadline = time.monotonic() + 120
    loan = _accepted(client, person(466, partner_application_no="FUZZ-LOAN-1", amount="20000.00"), {"DISBURSED", "DISBURSEMENT_FAILED"}, deadline)
    assert loan["status"] == "DISBURSED", loan
    line_body = person(468, partner_application_no="FUZZ-LINE-1", product_code="CONSUMER_LINE", amount="50000.00", term_months=12, applicant__monthly_income="30000.00")
    line = _accepted(client, line_body, {"SIGNING", "DISBURSED", "CANCELLED", "EXPIRED"}, deadline)
    credit_line_id = line["credit_line_id"]
    while client.get(f"/v1/credit-lines/{credit_line_id}").json()["status"] != "ACTIVE":
        assert time.monotonic() < deadline, "the credit line did not open"
        time.sleep(0.2)
    return {"application_id": loan["application_id"], "loan_id": loan["loan_id"], "credit_line_id": credit_line_id}


def dictionaries() -> dict[str, list[Any]]:
    """Values the fuzzer draws now and then (``DRAWN``) for fields whose valid values a schema cannot
    state (real products, terms the products offer, ID numbers with their check character of clean
    credit files, Luhn-valid cards, one name on both the applicant and the account), so that some of
    its valid requests go past those checks into quotes, applications and their workflows."""
    from chalicelib.ports.credit_bureau import make_id
    from local.people import card_number

    return {
        "products": ["CONSUMER_STD", "CONSUMER_LINE"],
        "terms": [6, 12],
        "amounts": ["5000.00", "12000.00"],
        "id_numbers": [make_id(sequence) for sequence in range(470, 480)],
        "cards": [card_number(sequence) for sequence in range(470, 480)],
        "names": ["张三"],
    }


DRAWN = {
    "body.product_code": "products",
    "body.term_months": "terms",
    "body.amount": "amounts",
    "body.applicant.id_number": "id_numbers",
    "body.account.card_number": "cards",
    "body.applicant.name": "names",
    "body.account.account_name": "names",
}


def config_file(directory: Path, ids: dict[str, str]) -> Path:
    """The run's schemathesis.toml: the seed, the pinned ids, ``dictionaries`` and ``positive_accepted``."""
    lines = [f"seed = {SEED}", "", "[generation]", f"max-examples = {MAX_EXAMPLES}", ""]
    for name, values in dictionaries().items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values, ensure_ascii=False)}", ""]
    lines += [
        "[parameters]",
        *[f'"path.{name}" = "{value}"' for name, value in sorted(ids.items())],
        *[f'"{field}" = {{ dictionary = "{name}", probability = 0.7 }}' for field, name in DRAWN.items()],
    ]
    for label, statuses in positive_accepted().items():
        lines += [
            "",
            "[[operations]]",
            f'include-name = "{label}"',
            f"checks.positive_data_acceptance.expected-statuses = {json.dumps(statuses)}",
        ]
    path = directory / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_fuzzer(api_url: str, partner_id: str, secret: str, config: Path, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(ROOT / "docs" / "openapi.yaml"),
        "--url", api_url, "--checks", "all", "--include-path-regex", "^/v1/", "--workers", "1",
        "--report", "ndjson", "--report-ndjson-path", str(report), "--no-color",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz.hooks",
        "FUZZ_PARTNER_ID": partner_id,
        "FUZZ_PARTNER_SECRET": secret,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(command, cwd=config.parent, env=env, capture_output=True, text=True, timeout=900)


def test_schemathesis_finds_no_disagreement_between_the_document_and_the_server(local_stack, tmp_path):
    secret = onboard_partner(local_stack.resources, local_stack.aws_endpoint)
    client = PartnerClient(local_stack.api_url, onboard.PARTNER_ID, secret)
    ids = seeded_ids(client)
    result = run_fuzzer(local_stack.api_url, onboard.PARTNER_ID, secret, config_file(tmp_path, ids), tmp_path / "events.ndjson")
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    operations = [f"{method.upper()} {path}" for path, item in SPEC["paths"].items() if path.startswith("/v1/") for method in item]
    assert re.search(rf"Tested:\s+{len(operations)}\b", result.stdout), result.stdout[-3000:]  # every /v1/ operation
    cases = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert cases and cases.group(1) == cases.group(2) and int(cases.group(1)) >= 500, result.stdout[-3000:]
