"""``make demo``: start the local stack, ask for quotes as P_DEMO over HTTP, print them, stop."""
from __future__ import annotations

import logging
import sys

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


def main() -> int:
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
        print(f"A wrongly signed request answers {unsigned.status_code}: {unsigned.json()['code']}")  # noqa: T201
    print("Local stack stopped.")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
