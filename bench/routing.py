"""Routing throughput: plan (rank + joint shares + skip reasons) for 10,000 synthetic applications over 20 funders.

Pure domain logic on prepared data (no AWS, no network), on one core where
the OS allows pinning. Twenty funders (branches in several provinces,
participating banks, own funds) with mixed acceptance hours, positions and
fee rates; a product with 20 single-funder channels and 6 joint channels,
routed by the four seed rules with an own-funds fallback. The applications
(amount, province, previous funders, balances, time of day) are generated
first with a fixed seed (not timed); then each is planned and its trail built.
Prints decisions per second; never asserts on time: the machine may be shared.

    python bench/routing.py [--count 10000] [--seed 20261123]
"""
from __future__ import annotations

import collections
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from one_core import arguments, pin_to_one_core  # noqa: E402
from report_kit import md_table, write_section  # noqa: E402
from chalicelib.domain.funding import Channel, ChannelShare, Funder, ProductFunding  # noqa: E402
from chalicelib.domain.routing import RoutingContext, plan  # noqa: E402

CST = timezone(timedelta(hours=8))
PROVINCES = ["11", "13", "31", "37", "41", "44", "51"]


def money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def funders(rng: random.Random) -> dict[str, Funder]:
    made = {}
    for index in range(20):
        kind = "OWN_FUNDS" if index == 19 else ("PARTICIPATING_BANK" if index >= 14 else "BRANCH")
        code = "OWN_FUNDS" if kind == "OWN_FUNDS" else f"F{index:02d}"
        start = rng.choice(["00:00", "07:00", "08:30", "22:00"])
        hours = None if kind == "OWN_FUNDS" else {
            "start": start,
            "end": {"00:00": "24:00", "07:00": "23:00", "08:30": "17:30", "22:00": "06:00"}[start],
            "weekdays": rng.choice([None, [1, 2, 3, 4, 5]]),
        }
        made[code] = Funder.model_validate(
            {
                "code": code,
                "name": code,
                "kind": kind,
                "province_code": None if kind == "OWN_FUNDS" else rng.choice(PROVINCES),
                "cooperating": kind == "OWN_FUNDS" or rng.random() > 0.1,
                "position_available": str(money(rng, 20_000, 5_000_000) if kind != "OWN_FUNDS" else Decimal("10000000.00")),
                "acceptance_hours": hours,
                "service_fee_rate": str(Decimal(rng.randint(50, 300)).scaleb(-4)),
                "answer_timeout_seconds": rng.choice([2, 5, 8]),
                "quotas": {"total": "900000000.00", "daily": "9000000.00", "per_customer": "300000.00"},
            }
        )
    return made


def product_funding(rng: random.Random, codes: list[str]) -> ProductFunding:
    lenders = [c for c in codes if c != "OWN_FUNDS"]
    channels = [Channel.single(f"CH_{code}", code) for code in lenders]
    for index in range(6):
        lead, partner = rng.sample(lenders, 2)
        channels.append(
            Channel(code=f"CH_JOINT_{index}", shares=(ChannelShare(funder_code=lead, ratio=Decimal("0.7")), ChannelShare(funder_code=partner, ratio=Decimal("0.3"))))
        )
    return ProductFunding(
        product_code="CONSUMER_STD",
        channels=tuple(channels),
        routing_rules=("preferred_cooperation", "region_match", "balance", "fee_rate"),
        own_funds_fallback="OWN_FUNDS",
    )


def applications(rng: random.Random, count: int, codes: list[str]) -> list[RoutingContext]:
    start = datetime(2026, 11, 23, tzinfo=CST)
    return [
        RoutingContext(
            amount=money(rng, 1_000, 300_000),
            borrower_province=rng.choice(PROVINCES),
            previous_funders=frozenset(rng.sample(codes, rng.choice([0, 0, 0, 1, 2]))),
            lent_so_far={code: money(rng, 0, 50_000_000) for code in codes},
            now=start + timedelta(minutes=rng.randint(0, 7 * 24 * 60 - 1)),
        )
        for _ in range(count)
    ]


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    pin_to_one_core()
    rng = random.Random(args.seed)
    pool = funders(rng)
    codes = list(pool)
    funding = product_funding(rng, codes)
    contexts = applications(rng, args.count, codes)
    first_choice: collections.Counter[str] = collections.Counter()
    ends: collections.Counter[str] = collections.Counter()
    skipped = 0

    started = time.perf_counter()
    for context in contexts:
        routed = plan(funding, pool, context)
        routed.trail()
        ready = routed.to_try()
        first_choice[ready[0].channel.code if ready else "NONE"] += 1
        ends[routed.if_all_refuse] += 1
        skipped += sum(candidate.skipped for candidate in routed.candidates)
    elapsed = time.perf_counter() - started

    rate = args.count / elapsed
    print(f"routing: {args.count} synthetic applications (seed {args.seed}), {len(pool)} funders, {len(funding.channels)} channels, one core")
    print(f"first channel to try (top 5): {dict(first_choice.most_common(5))}")
    print(f"if all refuse: {dict(ends)}; channels skipped per application: {skipped / args.count:.2f}")
    print(f"{elapsed:.3f} s, {rate:,.0f} routing decisions/s")
    if args.report_dir is not None:
        report(args.report_dir, args.count, args.seed, len(pool), len(funding.channels), elapsed, first_choice, ends, skipped)


def report(report_dir: Path, count: int, seed: int, funders: int, channels: int, elapsed: float,
           first_choice: collections.Counter[str], ends: collections.Counter[str], skipped: int) -> None:
    """The section of bench/REPORT.md: the rate, where the applications go first, what happens if all refuse."""
    write_section(report_dir, "routing", "\n".join([
        "## Routing",
        "",
        f"A routing plan (rank, joint shares, skip reasons, trail) for each of {count:,} synthetic applications (seed {seed}) over "
        f"{funders} funders and {channels} channels; pure logic, one core. The rate is this machine's; the choices are the same on any machine (fixed seed).",
        "",
        md_table(["figure", "value"], [
            ("applications", f"{count:,}"),
            ("funders, channels", f"{funders}, {channels}"),
            ("time", f"{elapsed:.3f} s"),
            ("routing decisions/s", f"{count / elapsed:,.0f}"),
            ("channels skipped per application", f"{skipped / count:.2f}"),
        ], "lr"),
        md_table(["first channel to try (top 5)", "applications"], [(f"`{c}`", f"{k:,}") for c, k in first_choice.most_common(5)]),
        md_table(["if all refuse", "applications"], [(f"`{e}`", f"{k:,}") for e, k in ends.items()]),
    ]))


if __name__ == "__main__":
    main()
