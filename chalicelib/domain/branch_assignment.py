"""Which branch (二级法人行社) an application belongs to.

The applicant's division code (ID digits 1-6) is looked up in the branches'
configured division codes; an unmapped code falls back to the partner's
default branch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from chalicelib.domain.branch import Branch


class NoBranch(Exception):
    """Neither the division code nor the partner's configuration names a branch."""


@dataclass(frozen=True)
class Assignment:
    branch_code: str
    reason: str  # "DIVISION_CODE" or "PARTNER_DEFAULT"


def division_table(branches: Iterable[Branch]) -> dict[str, str]:
    table: dict[str, str] = {}
    for branch in branches:
        for code in branch.division_codes:
            if code in table and table[code] != branch.branch_code:
                raise ValueError(f"division code {code} is claimed by {table[code]} and {branch.branch_code}")
            table[code] = branch.branch_code
    return table


def assign(division_code: str, table: dict[str, str], partner_default: str | None) -> Assignment:
    if division_code in table:
        return Assignment(table[division_code], "DIVISION_CODE")
    if partner_default:
        return Assignment(partner_default, "PARTNER_DEFAULT")
    raise NoBranch(f"no branch serves division {division_code} and the partner has no default branch")
