"""Five-tier risk classification of a loan (五级分类), by days past due.

Per the 2023 rules on the risk classification of financial assets: normal
(正常) when nothing is overdue; special mention (关注) 1-90 days; substandard
(次级) 91-270; doubtful (可疑) 271-360; loss (损失) over 360.
"""
from __future__ import annotations

from enum import Enum


class LoanClass(str, Enum):
    NORMAL = "NORMAL"  # 正常
    SPECIAL_MENTION = "SPECIAL_MENTION"  # 关注
    SUBSTANDARD = "SUBSTANDARD"  # 次级
    DOUBTFUL = "DOUBTFUL"  # 可疑
    LOSS = "LOSS"  # 损失


def classify(days_past_due: int) -> LoanClass:
    """The class that the days past due alone give."""
    if days_past_due < 0:
        raise ValueError("days past due cannot be negative")
    if days_past_due == 0:
        return LoanClass.NORMAL
    if days_past_due <= 90:
        return LoanClass.SPECIAL_MENTION
    if days_past_due <= 270:
        return LoanClass.SUBSTANDARD
    if days_past_due <= 360:
        return LoanClass.DOUBTFUL
    return LoanClass.LOSS


_ORDER = list(LoanClass)


def reclassify(previous: LoanClass | None, days_past_due: int) -> LoanClass:
    """The class after a day end: by days past due, but never better than ``previous`` while the
    loan is still overdue (a loan that is current again is NORMAL)."""
    by_days = classify(days_past_due)
    if days_past_due == 0 or previous is None:
        return by_days
    return max(by_days, previous, key=_ORDER.index)


def worse(a: LoanClass, b: LoanClass) -> bool:
    """Whether ``a`` is a worse class than ``b`` (a downgrade from ``b`` to ``a``)."""
    return _ORDER.index(a) > _ORDER.index(b)
