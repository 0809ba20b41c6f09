"""Review throughput: rules + anti-fraud + scorecard + decision over 10,000 synthetic applications.

Pure domain logic on prepared data (no AWS, no network), on one core: the
process is pinned to one CPU where the OS allows it. The facts are generated
first with a fixed seed (not timed); then each application is evaluated
against the CONSUMER_STD review policy with the BR_XICHENG overrides applied
to every third one, scored, decided, and its trail built (what is stored).
Prints decisions per second against the goal (2,000/s); never asserts on
time: the machine may be shared.

    python bench/review.py [--count 10000] [--seed 20261123]
"""
from __future__ import annotations

import collections
import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from one_core import arguments, pin_to_one_core  # noqa: E402
from report_kit import md_table, verdict, write_section  # noqa: E402
from chalicelib.domain.antifraud import FraudFacts, check  # noqa: E402
from chalicelib.domain.decision import ReviewPolicy, decide  # noqa: E402
from chalicelib.domain.product import Product  # noqa: E402
from chalicelib.domain.rules import evaluate  # noqa: E402

GOAL = 2000
SAMPLES = ROOT / "config" / "sample"
FIXED_SCORE, FIXED_PD = 560, Decimal("0.074074")


def load_scorecard():
    """The sample scorecard when its module and file exist, else None (a fixed score is used)."""
    path = SAMPLES / "scorecards" / "CONSUMER_STD.json"
    try:
        from chalicelib.domain import scorecard as module
    except ImportError:
        return None
    card_class = getattr(module, "Scorecard", None)
    if card_class is None or not callable(getattr(card_class, "score", None)) or not path.exists():
        return None
    return card_class.model_validate_json(path.read_text(encoding="utf-8"))


def money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def synthetic(rng: random.Random, terms: tuple[int, ...]) -> tuple[dict, FraudFacts]:
    age = rng.randint(18, 65) if rng.random() > 0.02 else rng.randint(14, 80)
    income = money(rng, 1500, 40000)
    term = rng.choice(terms)
    amount = min(max(Decimal(int(income * Decimal(rng.uniform(0.5, 12)) / 100) * 100), Decimal(1000)), Decimal(200000)).quantize(Decimal("0.01"))
    found = rng.random() > 0.1
    facts = {
        "applicant_age": age,
        "applicant_sex": rng.choice("MF"),
        "province_code": rng.choice(["11", "13", "37", "41", "51"]),
        "monthly_income": income,
        "requested_amount": amount,
        "term_months": term,
        "repayment_method": rng.choice(["EQUAL_INSTALLMENT", "EQUAL_PRINCIPAL", "INTEREST_FIRST", "BULLET"]),
        "purpose": rng.choice(["CONSUMPTION", "EDUCATION", "HOME_IMPROVEMENT", "BUSINESS", "OTHER"]),
        "occupation": rng.choice(["ENGINEER", "TEACHER", "FARMER", "WORKER", "SELF_EMPLOYED"]),
        "education": rng.choice(["SENIOR_HIGH", "ASSOCIATE", "BACHELOR", "MASTER"]),
        "marital_status": rng.choice(["SINGLE", "MARRIED", "DIVORCED"]),
        "bureau_report_found": found,
        "bureau_overdue_count_24m": rng.choice([0, 0, 0, 0, 1, 2, 3, 5, 8]) if found else 0,
        "bureau_max_overdue_months_24m": rng.choice([0, 0, 1, 2, 3]) if found else 0,
        "bureau_current_overdue": found and rng.random() < 0.05,
        "bureau_current_overdue_amount": Decimal("0.00"),
        "bureau_inquiries_3m": rng.choice([0, 1, 1, 2, 3, 4, 7, 10]) if found else 0,
        "bureau_inquiries_1m": rng.choice([0, 0, 1, 2]) if found else 0,
        "bureau_lenders_open": rng.randint(0, 6) if found else 0,
        "bureau_debt_total": money(rng, 0, 300000) if found else Decimal("0.00"),
        "bureau_monthly_repayment": money(rng, 0, int(income) // 3) if found else Decimal("0.00"),
        "existing_customer": rng.random() < 0.2,
        # the scorecard's characteristics (its own names)
        "age_years": age,
        "amount": int(amount),
        "other_lenders_loans": rng.choice(["NONE", "NONE", "BANK", "CONSUMER_FINANCE"]),
        "repayment_history": rng.choice(["ALL_PAID", "NO_CREDIT", "PAYING_DULY", "PAST_OVERDUE", "CRITICAL"]),
        "employment_length": rng.choice(["LT_1Y", "UNEMPLOYED", "Y1_4", "Y4_7", "GE_7Y"]),
        "housing": rng.choice(["FREE", "RENT", "OWN"]),
    }
    fraud = FraudFacts(
        id_blacklisted=rng.random() < 0.01,
        mobile_blacklisted=rng.random() < 0.01,
        card_blacklisted=rng.random() < 0.005,
        distinct_ids_for_mobile_in_window=rng.choice([1] * 30 + [2, 3]),
        distinct_ids_for_card_in_window=rng.choice([1] * 50 + [2]),
        applications_by_person_in_window=rng.choice([1] * 20 + [2, 3, 4]),
        id_valid=rng.random() > 0.002,
        applicant_age=age,
    )
    return facts, fraud


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    pin_to_one_core()
    product = Product.model_validate_json((SAMPLES / "products" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
    policy = ReviewPolicy.model_validate_json((SAMPLES / "review_policies" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
    branch = policy.with_overrides(json.loads((SAMPLES / "review_policies" / "overrides" / "BR_XICHENG.json").read_text(encoding="utf-8")))
    card = load_scorecard()

    rng = random.Random(args.seed)
    applications = [synthetic(rng, product.terms_months) for _ in range(args.count)]
    outcomes: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()

    started = time.perf_counter()
    for index, (facts, fraud) in enumerate(applications):
        used = branch if index % 3 == 0 else policy
        results = evaluate(used.rules, facts)
        hits = check(fraud, used.fraud_limits)
        if card is not None:
            scored = card.score(facts)
            score, pd = scored.score, scored.pd
        else:
            score, pd = FIXED_SCORE, FIXED_PD
        decision = decide(used, product, facts, score, pd, results, hits)
        decision.trail()
        outcomes[decision.outcome.value] += 1
        reasons.update(decision.reasons)
    elapsed = time.perf_counter() - started

    rate = args.count / elapsed
    print(f"review: {args.count} synthetic applications (seed {args.seed}), {len(policy.rules)} rules, one core")
    if card is None:
        print(f"score: FIXED stand-in ({FIXED_SCORE}, PD {FIXED_PD}): no chalicelib.domain.scorecard.Scorecard or no sample scorecard")
    else:
        print(f"score: sample scorecard CONSUMER_STD {card.version}")
    print(f"outcomes: {dict(sorted(outcomes.items()))}")
    print(f"top reasons: {dict(reasons.most_common(8))}")
    print(f"{elapsed:.3f} s, {rate:,.0f} decisions/s (goal {GOAL:,}/s: {'met' if rate >= GOAL else 'NOT met'})")
    if args.report_dir is not None:
        score = f"fixed stand-in ({FIXED_SCORE}, PD {FIXED_PD})" if card is None else f"sample scorecard CONSUMER_STD {card.version}"
        report(args.report_dir, args.count, args.seed, len(policy.rules), score, elapsed, outcomes, reasons)


def report(report_dir: Path, count: int, seed: int, rules: int, score: str, elapsed: float,
           outcomes: collections.Counter[str], reasons: collections.Counter[str]) -> None:
    """The section of bench/REPORT.md: the rate against the goal, the outcomes, the commonest reasons."""
    rate = count / elapsed
    write_section(report_dir, "review", "\n".join([
        "## Review",
        "",
        f"Rules, anti-fraud, scorecard and decision, with the trail built, over {count:,} synthetic applications (seed {seed}); "
        "pure logic, one core. The rate is this machine's; the outcomes and reasons are the same on any machine (fixed seed).",
        "",
        md_table(["figure", "value"], [
            ("applications", f"{count:,}"),
            ("rules in the policy", rules),
            ("score", score),
            ("time", f"{elapsed:.3f} s"),
            ("decisions/s", f"{rate:,.0f}"),
            (f"goal {GOAL:,} decisions/s", verdict(rate >= GOAL)),
        ], "lr"),
        md_table(["outcome", "applications", "share"], [(o, f"{k:,}", f"{k / count:.1%}") for o, k in sorted(outcomes.items())]),
        md_table(["top reason", "applications"], [(f"`{r}`", f"{k:,}") for r, k in reasons.most_common(8)]),
    ]))


if __name__ == "__main__":
    main()
