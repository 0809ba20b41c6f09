"""The facts a review decides on, gathered from the application, the ID number and the bureau report.

One dictionary (see ``decision.py`` for its names) feeds the rules and the
trail; ``scorecard_inputs`` maps it onto the scorecard's characteristics.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from chalicelib.domain.identity import ResidentId, age_on


def application_facts(application: Mapping[str, Any], resident: ResidentId, bureau: Mapping[str, Any], on: date) -> dict[str, Any]:
    """``application`` is the standardised application (masked is enough: no personal field is used)."""
    applicant = application["applicant"]
    return {
        "applicant_age": age_on(resident.birth_date, on),
        "applicant_sex": resident.sex,
        "province_code": resident.province_code,
        "monthly_income": Decimal(applicant["monthly_income"]),
        "requested_amount": Decimal(application["amount"]),
        "term_months": application["term_months"],
        "repayment_method": application["repayment_method"],
        "purpose": application["purpose"],
        "occupation": applicant["occupation"],
        "education": applicant["education"],
        "marital_status": applicant["marital_status"],
        "bureau_report_found": True,
        **bureau,
    }


def repayment_history(facts: Mapping[str, Any]) -> str:
    """The scorecard's repayment-history category. A current overdue is PAST_OVERDUE, never
    CRITICAL (which scores best in the training data, a quirk it must not reward)."""
    if facts.get("bureau_current_overdue") or (facts.get("bureau_overdue_count_24m") or 0) > 0:
        return "PAST_OVERDUE"
    return "PAYING_DULY" if (facts.get("bureau_open_loans") or 0) > 0 else "NO_CREDIT"


def scorecard_inputs(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "age_years": facts["applicant_age"],
        "amount": facts["requested_amount"],
        "term_months": facts["term_months"],
        "purpose": facts["purpose"],
        "other_lenders_loans": "BANK" if (facts.get("bureau_open_loans") or 0) > 0 else "NONE",
        "repayment_history": repayment_history(facts),
        # employment_length and housing are not collected yet: they score their missing points
    }
