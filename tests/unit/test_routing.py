"""Funding routing: each sort key, their composition, ties, skip reasons, joint shares, configuration checks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from chalicelib.domain.funding import (
    AcceptanceHours,
    Channel,
    ChannelShare,
    Funder,
    FunderKind,
    FundingMode,
    ProductFunding,
)
from chalicelib.domain.routing import (
    NO_FUNDER,
    NOT_COOPERATING,
    OUTSIDE_HOURS,
    POSITION_SHORT,
    SORT_KEYS,
    NoRoutingRules,
    RoutingConfigError,
    RoutingContext,
    balance,
    fee_rate,
    joint_shares,
    plan,
    preferred_cooperation,
    province_of,
    rank,
    region_match,
    skip_reasons,
    sort_key,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "sample"
CST = timezone(timedelta(hours=8))
# Monday 2026-11-23 11:00 China time
MONDAY_11H = datetime(2026, 11, 23, 11, 0, tzinfo=CST)


def funder(code: str, **overrides) -> Funder:
    data = {
        "code": code,
        "name": code,
        "kind": "BRANCH",
        "province_code": "11",
        "position_available": "1000000.00",
        "service_fee_rate": "0.0150",
        "answer_timeout_seconds": 5,
        "quotas": {"total": "1000000.00", "daily": "100000.00", "per_customer": "50000.00"},
    }
    data.update(overrides)
    return Funder.model_validate(data)


def single(code: str, funder_code: str | None = None) -> Channel:
    return Channel.single(code, funder_code or code)


def joint(code: str, *parts: tuple[str, str]) -> Channel:
    return Channel(code=code, shares=tuple(ChannelShare(funder_code=f, ratio=Decimal(r)) for f, r in parts))


def funding(channels, rules, fallback=None, mode="SINGLE_APPROVAL") -> ProductFunding:
    months = 12 if mode == "CREDIT_LINE" else None
    return ProductFunding(
        product_code="CONSUMER_STD", channels=tuple(channels), routing_rules=tuple(rules), own_funds_fallback=fallback, mode=mode, line_validity_months=months
    )


def context(**overrides) -> RoutingContext:
    data = dict(amount=Decimal("10000.00"), borrower_province="11", previous_funders=frozenset(), lent_so_far={}, now=MONDAY_11H)
    data.update(overrides)
    return RoutingContext(**data)


def codes(channels) -> list[str]:
    return [c.code for c in channels]


FUNDERS = {
    f.code: f
    for f in [
        funder("A", province_code="11", service_fee_rate="0.0100"),
        funder("B", province_code="31", service_fee_rate="0.0200"),
        funder("C", province_code="11", service_fee_rate="0.0300"),
        funder("D", province_code="44", service_fee_rate="0.0300"),
        funder("OWN", kind="OWN_FUNDS", province_code=None, service_fee_rate="0"),
    ]
}


# --- the sort keys, one by one -------------------------------------------------------------


def test_registry_holds_the_four_seed_rules():
    assert {"preferred_cooperation", "region_match", "balance", "fee_rate"} <= set(SORT_KEYS)


def test_preferred_cooperation_puts_previous_funders_first():
    pf = funding([single("A"), single("B"), single("C")], ["preferred_cooperation"])
    assert codes(rank(pf, FUNDERS, context(previous_funders={"C"}))) == ["C", "A", "B"]
    assert preferred_cooperation(single("C"), FUNDERS, context(previous_funders={"C"})) < preferred_cooperation(single("A"), FUNDERS, context())


def test_preferred_cooperation_counts_any_funder_of_a_joint_channel():
    ch = joint("J", ("A", "0.7"), ("B", "0.3"))
    assert preferred_cooperation(ch, FUNDERS, context(previous_funders={"B"})) == (0,)
    assert preferred_cooperation(ch, FUNDERS, context(previous_funders={"C"})) == (1,)


def test_region_match_puts_the_borrowers_province_first():
    pf = funding([single("A"), single("B"), single("D")], ["region_match"])
    assert codes(rank(pf, FUNDERS, context(borrower_province="44"))) == ["D", "A", "B"]
    assert codes(rank(pf, FUNDERS, context(borrower_province="31"))) == ["B", "A", "D"]


def test_region_match_reads_the_lead_of_a_joint_channel_and_no_province_matches_nothing():
    ch = joint("J", ("B", "0.7"), ("A", "0.3"))
    assert region_match(ch, FUNDERS, context(borrower_province="31")) == (0,)
    assert region_match(ch, FUNDERS, context(borrower_province="11")) == (1,)
    assert region_match(single("A"), FUNDERS, context(borrower_province=None)) == (1,)
    assert region_match(single("OWN"), FUNDERS, context(borrower_province=None)) == (1,)


def test_province_of_takes_id_digits_one_and_two():
    assert province_of("110101199003074514") == "11"


def test_balance_least_lent_first_and_unknown_means_zero():
    pf = funding([single("A"), single("B"), single("C")], ["balance"])
    lent = {"A": Decimal("500.00"), "B": Decimal("100.00")}
    assert codes(rank(pf, FUNDERS, context(lent_so_far=lent))) == ["C", "B", "A"]


def test_balance_of_a_joint_channel_is_its_leads():
    ch = joint("J", ("A", "0.5"), ("B", "0.5"))
    lent = {"A": Decimal("7.00"), "B": Decimal("0.00")}
    assert balance(ch, FUNDERS, context(lent_so_far=lent)) == (Decimal("7.00"),)


def test_fee_rate_highest_first():
    pf = funding([single("A"), single("B"), single("C")], ["fee_rate"])
    assert codes(rank(pf, FUNDERS, context())) == ["C", "B", "A"]


def test_fee_rate_of_a_joint_channel_is_weighted_by_ratio():
    ch = joint("J", ("A", "0.7"), ("C", "0.3"))  # 0.7*0.01 + 0.3*0.03 = 0.016
    assert fee_rate(ch, FUNDERS, context()) == (Decimal("-0.016"),)
    pf = funding([single("A"), ch, single("B")], ["fee_rate"])
    assert codes(rank(pf, FUNDERS, context())) == ["B", "J", "A"]


def test_reverse_param_turns_a_rule_round():
    pf = funding([single("A"), single("B"), single("C")], [{"name": "fee_rate", "params": {"reverse": True}}])
    assert codes(rank(pf, FUNDERS, context())) == ["A", "B", "C"]


# --- composition and ties -------------------------------------------------------------------


def test_first_rule_decides_later_rules_break_ties():
    chans = [single("A"), single("B"), single("C"), single("D")]
    ctx = context(borrower_province="11", previous_funders={"B"}, lent_so_far={"C": Decimal("10.00")})
    # preferred: B; then region 11: A, C (balance: A 0 before C 10); then D
    assert codes(rank(funding(chans, ["preferred_cooperation", "region_match", "balance", "fee_rate"]), FUNDERS, ctx)) == ["B", "A", "C", "D"]
    # region first: A, C tie on region and preference -> balance; B and D: neither in 11, B preferred
    assert codes(rank(funding(chans, ["region_match", "preferred_cooperation", "balance"]), FUNDERS, ctx)) == ["A", "C", "B", "D"]
    # fee first: C and D tie at 0.03 -> balance puts D (0) before C (10)
    assert codes(rank(funding(chans, ["fee_rate", "balance"]), FUNDERS, ctx)) == ["D", "C", "B", "A"]


def test_full_ties_keep_configuration_order():
    chans = [single("C"), single("A"), single("D"), single("B")]
    assert codes(rank(funding(chans, ["balance"]), FUNDERS, context())) == ["C", "A", "D", "B"]
    chans2 = [single("D"), single("C")]  # same fee, same balance
    assert codes(rank(funding(chans2, ["fee_rate", "balance"]), FUNDERS, context())) == ["D", "C"]


def test_a_new_rule_is_one_registered_function():
    name = "test_lowest_timeout"
    try:
        @sort_key(name)
        def lowest_timeout(channel, funders, ctx):
            return (max(funders[c].answer_timeout_seconds for c in channel.funder_codes),)

        funders = dict(FUNDERS, A=funder("A", answer_timeout_seconds=9), B=funder("B", answer_timeout_seconds=1))
        pf = funding([single("A"), single("B")], [name])
        assert codes(rank(pf, funders, context())) == ["B", "A"]
        with pytest.raises(ValueError):
            sort_key(name)(lowest_timeout)  # registered twice
    finally:
        SORT_KEYS.pop(name, None)


# --- no routing rules, bad configurations --------------------------------------------------------


def test_no_routing_configuration_is_a_clear_error():
    with pytest.raises(NoRoutingRules, match="product has no routing rules") as raised:
        rank(None, FUNDERS, context())
    assert "产品未配置产品路由规则" in str(raised.value)
    with pytest.raises(NoRoutingRules):
        plan(funding([single("A")], []), FUNDERS, context())


def test_unknown_rule_is_a_validation_error():
    with pytest.raises(ValidationError, match="unknown routing rules: nearest_branch"):
        funding([single("A")], ["balance", "nearest_branch"])
    with pytest.raises(ValueError):
        funding([single("A")], ["balance", "balance"])
    with pytest.raises(ValidationError, match="unknown rule params"):
        funding([single("A")], [{"name": "balance", "params": {"weight": 2}}])


@pytest.mark.parametrize(
    "ratios",
    [("0.7", "0.2"), ("0.7", "0.4"), ("1", "0"), ("1.2", "-0.2"), ("0.5", "0.5000001")],
)
def test_channel_ratios_must_be_in_0_1_and_sum_to_exactly_1(ratios):
    with pytest.raises(ValidationError):
        joint("J", ("A", ratios[0]), ("B", ratios[1]))


def test_channel_ratio_validation_accepts_exact_sums_and_rejects_duplicates():
    assert joint("J", ("A", "0.333334"), ("B", "0.333333"), ("C", "0.333333")).lead.funder_code == "A"
    with pytest.raises(ValidationError, match="twice"):
        joint("J", ("A", "0.5"), ("A", "0.5"))


def test_channel_codes_unique():
    with pytest.raises(ValidationError, match="not unique"):
        funding([single("A"), single("A")], ["balance"])


def test_validate_against_lists_missing_funders_and_a_wrong_fallback():
    pf = funding([single("A"), joint("J", ("A", "0.5"), ("Z", "0.5"))], ["balance"], fallback="B")
    problems = pf.validate_against(FUNDERS.values())
    assert problems == ["channel J: funder Z does not exist", "own_funds_fallback: funder B is BRANCH, not OWN_FUNDS"]
    assert funding([single("A")], ["balance"], fallback="OWN").validate_against(FUNDERS) == []
    assert "own_funds_fallback: funder NOPE does not exist" in funding([single("A")], ["balance"], fallback="NOPE").validate_against(FUNDERS)
    with pytest.raises(RoutingConfigError, match="Z does not exist"):
        plan(pf, FUNDERS, context())


def test_funder_validation():
    with pytest.raises(ValidationError):
        funder("A", province_code="1")
    with pytest.raises(ValidationError):
        funder("A", position_available="1.001")
    with pytest.raises(ValidationError):
        funder("A", quotas={"total": "10.00", "daily": "20.00", "per_customer": "1.00"})
    with pytest.raises(ValidationError):
        funder("A", acceptance_hours={"start": "09:00", "end": "09:00"})
    with pytest.raises(ValidationError):
        funder("A", acceptance_hours={"start": "09:00", "end": "18:00", "weekdays": [0]})
    with pytest.raises(ValidationError):
        funder("A", extra_field=1)


def test_context_validation():
    with pytest.raises(ValueError, match="aware"):
        context(now=datetime(2026, 11, 23, 11, 0))
    with pytest.raises(ValueError):
        context(amount=Decimal("1.001"))
    with pytest.raises(ValueError):
        context(borrower_province="1")


# --- skip reasons -----------------------------------------------------------------------------------


def reasons_for(f: Funder, now=MONDAY_11H, amount="10000.00") -> list[str]:
    ch = single("X", f.code)
    ctx = context(now=now, amount=Decimal(amount))
    return skip_reasons(ch, {f.code: f}, ctx, joint_shares(ctx.amount, ch))


def test_skip_not_cooperating_and_position_short():
    assert reasons_for(funder("A")) == []
    assert reasons_for(funder("A", cooperating=False)) == [f"{NOT_COOPERATING}:A"]
    assert reasons_for(funder("A", position_available="9999.99")) == [f"{POSITION_SHORT}:A"]
    assert reasons_for(funder("A", position_available="10000.00")) == []


def test_skip_position_short_is_per_funder_share_in_a_joint_channel():
    funders = {"A": funder("A", position_available="7000.00"), "B": funder("B", position_available="2999.99")}
    ch = joint("J", ("A", "0.7"), ("B", "0.3"))
    ctx = context()
    assert skip_reasons(ch, funders, ctx, joint_shares(ctx.amount, ch)) == [f"{POSITION_SHORT}:B"]


def test_skip_outside_hours_same_day_window():
    hours = {"start": "09:00", "end": "17:30"}
    f = funder("A", acceptance_hours=hours)
    assert reasons_for(f, now=datetime(2026, 11, 23, 9, 0, tzinfo=CST)) == []
    assert reasons_for(f, now=datetime(2026, 11, 23, 17, 29, tzinfo=CST)) == []
    assert reasons_for(f, now=datetime(2026, 11, 23, 17, 30, tzinfo=CST)) == [f"{OUTSIDE_HOURS}:A"]
    assert reasons_for(f, now=datetime(2026, 11, 23, 8, 59, tzinfo=CST)) == [f"{OUTSIDE_HOURS}:A"]
    # given in UTC: 00:30 UTC is 08:30 China time (closed), 01:30 UTC is 09:30 (open)
    assert reasons_for(f, now=datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc)) == [f"{OUTSIDE_HOURS}:A"]
    assert reasons_for(f, now=datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)) == []


def test_skip_outside_hours_window_across_midnight():
    f = funder("A", acceptance_hours={"start": "22:00", "end": "06:00"})
    for hour, minute, open_ in [(21, 59, False), (22, 0, True), (23, 59, True), (0, 0, True), (5, 59, True), (6, 0, False), (12, 0, False)]:
        now = datetime(2026, 11, 23, hour, minute, tzinfo=CST)
        assert (reasons_for(f, now=now) == []) is open_, (hour, minute)


def test_skip_outside_hours_weekdays_including_a_window_opened_the_day_before():
    weekday_hours = funder("A", acceptance_hours={"start": "09:00", "end": "17:00", "weekdays": [1, 2, 3, 4, 5]})
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=CST)
    assert reasons_for(weekday_hours, now=saturday) == [f"{OUTSIDE_HOURS}:A"]
    assert reasons_for(weekday_hours, now=datetime(2026, 11, 27, 10, 0, tzinfo=CST)) == []  # Friday
    # Friday night's window (opens Fri 22:00) covers Saturday 01:00; Saturday night's does not exist.
    night = funder("A", acceptance_hours={"start": "22:00", "end": "06:00", "weekdays": [5]})
    assert reasons_for(night, now=datetime(2026, 11, 27, 23, 0, tzinfo=CST)) == []  # Fri 23:00
    assert reasons_for(night, now=datetime(2026, 11, 28, 1, 0, tzinfo=CST)) == []  # Sat 01:00
    assert reasons_for(night, now=datetime(2026, 11, 28, 23, 0, tzinfo=CST)) == [f"{OUTSIDE_HOURS}:A"]  # Sat 23:00
    assert reasons_for(night, now=datetime(2026, 11, 27, 1, 0, tzinfo=CST)) == [f"{OUTSIDE_HOURS}:A"]  # Fri 01:00 (Thu's window)
    sunday_night = funder("A", acceptance_hours={"start": "22:00", "end": "06:00", "weekdays": [7]})
    assert reasons_for(sunday_night, now=datetime(2026, 11, 30, 2, 0, tzinfo=CST)) == []  # Mon 02:00, Sunday's window


def test_acceptance_hours_all_day():
    assert AcceptanceHours(start="00:00", end="24:00").contains(datetime(2026, 11, 23, 23, 59, tzinfo=CST))


def test_all_reasons_listed_per_funder_in_share_order():
    funders = {
        "A": funder("A", cooperating=False, acceptance_hours={"start": "09:00", "end": "10:00"}),
        "B": funder("B", position_available="0.00"),
    }
    ch = joint("J", ("A", "0.5"), ("B", "0.5"))
    ctx = context()
    assert skip_reasons(ch, funders, ctx, joint_shares(ctx.amount, ch)) == [f"{NOT_COOPERATING}:A", f"{OUTSIDE_HOURS}:A", f"{POSITION_SHORT}:B"]


# --- joint shares -----------------------------------------------------------------------------------


def test_joint_shares_rest_to_the_lead():
    ch = joint("J", ("A", "0.7"), ("B", "0.3"))
    assert joint_shares(Decimal("12345.67"), ch) == {"A": Decimal("8641.97"), "B": Decimal("3703.70")}
    thirds = joint("T", ("A", "0.333334"), ("B", "0.333333"), ("C", "0.333333"))
    shares = joint_shares(Decimal("100.00"), thirds)
    assert shares == {"A": Decimal("33.34"), "B": Decimal("33.33"), "C": Decimal("33.33")}
    assert sum(shares.values()) == Decimal("100.00")


def test_joint_shares_half_up():
    ch = joint("J", ("A", "0.5"), ("B", "0.5"))
    assert joint_shares(Decimal("0.01"), ch) == {"A": Decimal("0.00"), "B": Decimal("0.01")}  # 0.005 -> 0.01
    assert joint_shares(Decimal("100.00"), single("A")) == {"A": Decimal("100.00")}


def test_joint_shares_refuse_sub_fen_amounts():
    with pytest.raises(ValueError):
        joint_shares(Decimal("1.001"), single("A"))


# --- the plan ---------------------------------------------------------------------------------------


def test_plan_keeps_skipped_channels_with_reasons_and_adds_the_fallback():
    funders = dict(FUNDERS, B=funder("B", province_code="31", cooperating=False))
    pf = funding([single("A"), single("B"), joint("J", ("C", "0.6"), ("B", "0.4"))], ["fee_rate"], fallback="OWN")
    result = plan(pf, funders, context())
    assert [c.channel.code for c in result.candidates] == ["J", "B", "A"]
    assert [c.position for c in result.candidates] == [1, 2, 3]
    assert result.candidates[0].skip_reasons == (f"{NOT_COOPERATING}:B",)
    assert result.candidates[0].shares == {"C": Decimal("6000.00"), "B": Decimal("4000.00")}
    assert [c.channel.code for c in result.to_try()] == ["A", "OWN_FUNDS_FALLBACK"]
    assert result.fallback is not None and result.fallback.position == 4 and result.fallback.fallback
    assert result.if_all_refuse == "OWN_FUNDS_FALLBACK"
    trail = result.trail()
    assert trail["candidates"][0]["skip_reasons"] == ["NOT_COOPERATING:B"]
    assert trail["candidates"][0]["shares"][0] == {"funder_code": "C", "ratio": "0.6000", "amount": "6000.00", "lead": True}
    assert trail["mode"] == "SINGLE_APPROVAL" and trail["amount"] == "10000.00"


def test_plan_without_fallback_ends_in_no_funder():
    result = plan(funding([single("A")], ["balance"], mode="CREDIT_LINE"), FUNDERS, context())
    assert result.fallback is None and result.if_all_refuse == NO_FUNDER
    assert result.mode is FundingMode.CREDIT_LINE


def test_plan_with_a_short_fallback_ends_in_no_funder():
    funders = dict(FUNDERS, OWN=funder("OWN", kind="OWN_FUNDS", position_available="1.00"))
    result = plan(funding([single("A")], ["balance"], fallback="OWN"), funders, context())
    assert result.fallback.skip_reasons == (f"{POSITION_SHORT}:OWN",)
    assert result.if_all_refuse == NO_FUNDER
    assert [c.channel.code for c in result.to_try()] == ["A"]


# --- the sample configuration ---------------------------------------------------------------------


def test_sample_configuration_loads_and_routes():
    funders = TypeAdapter(list[Funder]).validate_json((SAMPLES / "funders.json").read_text(encoding="utf-8"))
    pf = ProductFunding.model_validate_json((SAMPLES / "product_funding" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
    assert pf.validate_against(funders) == []
    kinds = {f.code: f.kind for f in funders}
    assert kinds["PB_HUAXIA_JOINT"] is FunderKind.PARTICIPATING_BANK and kinds["OWN_FUNDS"] is FunderKind.OWN_FUNDS
    assert all(kinds[c] is FunderKind.BRANCH for c in ("BR_DONGCHENG", "BR_XICHENG", "BR_CHAOYANG"))
    assert [r.name for r in pf.routing_rules] == ["preferred_cooperation", "region_match", "balance", "fee_rate"]
    ctx = context(amount=Decimal("12345.67"), previous_funders={"BR_XICHENG"}, lent_so_far={"BR_DONGCHENG": Decimal("100.00")})
    result = plan(pf, funders, ctx)
    assert [c.channel.code for c in result.candidates] == ["CH_XICHENG", "CH_CHAOYANG", "CH_DONGCHENG_HUAXIA_JOINT", "CH_DONGCHENG"]
    assert result.candidates[2].shares == {"BR_DONGCHENG": Decimal("8641.97"), "PB_HUAXIA_JOINT": Decimal("3703.70")}
    assert result.if_all_refuse == "OWN_FUNDS_FALLBACK"
