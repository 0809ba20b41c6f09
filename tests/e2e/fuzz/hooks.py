"""Schemathesis hooks (``SCHEMATHESIS_HOOKS=tests.e2e.fuzz.hooks``): every request signed as the contract says.

The signature covers the request exactly as it goes on the wire (its method, the
canonical form of its path and query, its body's bytes), so it is made by
``requests``' auth hook on the prepared request, with the project's own partner
client's ``PartnerSignature``: the same code a partner's engineer would read.

It is the fuzzer's own auth provider, so the cases that test authentication itself
go without it: the ``ignored_auth`` probes (no credentials, wrong ones), and every
case whose headers are generated invalid on purpose (the operations' only headers
are the four of the signature: a header left out, a nonce too short, a timestamp
not a number), which must be refused with 401, not repaired by a signature.
"""
from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation

from local.partner_client import PartnerSignature

PARTNER_ENV, SECRET_ENV = "FUZZ_PARTNER_ID", "FUZZ_PARTNER_SECRET"


def headers_generated_invalid(case: Any) -> bool:
    meta = case.meta
    if meta is None:
        return False
    component = meta.components.get(ParameterLocation.HEADER)
    return component is not None and component.mode.is_negative


@schemathesis.auth(refresh_interval=None)  # asked for each case: whether to sign depends on the case
class ContractSignature:
    def get(self, case: Any, context: Any) -> PartnerSignature | None:
        if headers_generated_invalid(case):
            return None
        return PartnerSignature(os.environ[PARTNER_ENV], os.environ[SECRET_ENV])

    def set(self, case: Any, data: PartnerSignature, context: Any) -> None:
        case._auth = data  # requests' auth: applied to the prepared request, as it goes on the wire


# A schema states each field's shape; these refusals depend on what it cannot state, and each is
# documented on its field: the ID number's GB 11643 check character and real birth date, the card's
# Luhn digit and the account name that must be the applicant's (the fuzzer draws each field alone),
# the Unicode categories of printable text a pattern cannot list (``PrintableText``);
# an instant not in the future (a schema has no clock); a cursor this API gave (not any text of its
# alphabet). A schema-valid request may get 400 on these operations only, and only naming these fields.
DOCUMENTED_400 = {
    "POST /v1/applications": {"applicant.id_number", "account.card_number", "account.account_name", "applicant.employer", "account.bank_name"},
    "POST /v1/applications/{application_id}/acceptance": {"accepted_at"},
    "POST /v1/loans/{loan_id}/repayments": {"paid_at"},
    "GET /v1/events": {"after"},
}


@schemathesis.check
def schema_valid_data_refused_only_where_documented(ctx: Any, response: Any, case: Any) -> bool | None:
    """Narrows the 400 that the run's configuration lets ``positive_data_acceptance`` take on these operations."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    if any(component.mode.is_negative for component in meta.components.values()):
        return None
    documented = DOCUMENTED_400.get(case.operation.label, set())
    fields = {detail.get("field") for detail in (response.json() or {}).get("details", [])}
    if not fields or not fields <= documented:
        raise AssertionError(f"a schema-valid request was refused with 400 for {sorted(map(str, fields - documented)) or 'no field'}; documented: {sorted(documented)}")
    return None
