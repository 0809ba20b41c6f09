"""Anti-fraud checks over prepared data: pure, no look-ups.

Whoever reviews an application first gathers the ``FraudFacts`` (blacklist
hits, how many distinct ID numbers used the same mobile or card in the window,
how many applications the person made in the window, whether the ID number is
valid and the applicant's age from it); ``check`` then compares them with the
policy's ``FraudLimits`` (data, overridable per branch). Every hit rejects.

Counting conventions (the preparer must follow them):

- ``distinct_ids_for_mobile_in_window`` / ``distinct_ids_for_card_in_window``:
  the number of distinct ID numbers that used this mobile / card in the last
  ``window_days`` days, *including* the applicant's own (so 1 is the normal case).
- ``applications_by_person_in_window``: the person's applications in the last
  ``window_days`` days, *including* this one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

F_BLACKLIST = "F_BLACKLIST"
F_MOBILE_SHARED = "F_MOBILE_SHARED"
F_CARD_SHARED = "F_CARD_SHARED"
F_TOO_MANY_APPLICATIONS = "F_TOO_MANY_APPLICATIONS"
F_ID_INVALID = "F_ID_INVALID"
F_AGE_OUT_OF_RANGE = "F_AGE_OUT_OF_RANGE"


@dataclass(frozen=True)
class FraudFacts:
    id_blacklisted: bool = False  # the ID number's hash is on the blacklist
    mobile_blacklisted: bool = False
    card_blacklisted: bool = False
    distinct_ids_for_mobile_in_window: int = 1
    distinct_ids_for_card_in_window: int = 1
    applications_by_person_in_window: int = 1
    id_valid: bool = True  # check character, date of birth and province code all good
    applicant_age: int | None = None  # whole years on the application date; None when the ID is invalid

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FraudLimits(BaseModel):
    """How much is too much; a count above its maximum is a hit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_days: int = Field(default=30, ge=1, le=366)  # for the preparer's counts; recorded in the trail
    max_ids_per_mobile: int = Field(default=2, ge=1)
    max_ids_per_card: int = Field(default=1, ge=1)
    max_applications_per_person: int = Field(default=3, ge=1)
    age_min: int = Field(default=18, ge=0, le=150)  # legal capacity to contract, whatever the product says
    age_max: int = Field(default=75, ge=0, le=150)

    @model_validator(mode="after")
    def _ages_ordered(self) -> "FraudLimits":
        if self.age_min > self.age_max:
            raise ValueError("age_min is above age_max")
        return self


@dataclass(frozen=True)
class FraudHit:
    code: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


def check(facts: FraudFacts, limits: FraudLimits) -> list[FraudHit]:
    """The anti-fraud hits of one application (empty when clean), in a fixed order."""
    hits = []
    listed = [name for name, on in (("id", facts.id_blacklisted), ("mobile", facts.mobile_blacklisted), ("card", facts.card_blacklisted)) if on]
    if listed:
        hits.append(FraudHit(F_BLACKLIST, f"on the blacklist: {', '.join(listed)}"))
    if facts.distinct_ids_for_mobile_in_window > limits.max_ids_per_mobile:
        hits.append(
            FraudHit(
                F_MOBILE_SHARED,
                f"the mobile was used by {facts.distinct_ids_for_mobile_in_window} ID numbers in {limits.window_days} days "
                f"(at most {limits.max_ids_per_mobile})",
            )
        )
    if facts.distinct_ids_for_card_in_window > limits.max_ids_per_card:
        hits.append(
            FraudHit(
                F_CARD_SHARED,
                f"the card was used by {facts.distinct_ids_for_card_in_window} ID numbers in {limits.window_days} days "
                f"(at most {limits.max_ids_per_card})",
            )
        )
    if facts.applications_by_person_in_window > limits.max_applications_per_person:
        hits.append(
            FraudHit(
                F_TOO_MANY_APPLICATIONS,
                f"{facts.applications_by_person_in_window} applications in {limits.window_days} days "
                f"(at most {limits.max_applications_per_person})",
            )
        )
    if not facts.id_valid:
        hits.append(FraudHit(F_ID_INVALID, "the ID number is not valid"))
    elif facts.applicant_age is None:
        hits.append(FraudHit(F_AGE_OUT_OF_RANGE, "the applicant's age is unknown"))
    elif not limits.age_min <= facts.applicant_age <= limits.age_max:
        hits.append(
            FraudHit(F_AGE_OUT_OF_RANGE, f"the applicant is {facts.applicant_age}, outside {limits.age_min} to {limits.age_max}")
        )
    return hits
