"""Routing properties: joint shares add up to the fen, rank is a deterministic permutation."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.funding import Channel, ChannelShare, Funder, ProductFunding
from chalicelib.domain.routing import SORT_KEYS, RoutingContext, joint_shares, plan, rank

HALF_FEN = Decimal("0.005")
FEN = Decimal("0.01")
CST = timezone(timedelta(hours=8))


@st.composite
def ratios(draw, max_funders: int = 5, min_funders: int = 2) -> list[Decimal]:
    """min_funders..max_funders ratios, each >= 0.01 with at most 4 decimals, summing to exactly 1."""
    count = draw(st.integers(min_value=min_funders, max_value=max_funders))
    units = 10_000  # ratios in 1/10,000
    minimum = 100  # 0.01
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=units - count * minimum), min_size=count - 1, max_size=count - 1)))
    parts = [b - a + minimum for a, b in zip([0, *cuts], [*cuts, units - count * minimum])]
    assert sum(parts) == units
    return [Decimal(p).scaleb(-4) for p in parts]


def channel_of(parts: list[Decimal]) -> Channel:
    return Channel(code="J", shares=tuple(ChannelShare(funder_code=f"F{i}", ratio=r) for i, r in enumerate(parts)))


amounts = st.integers(min_value=100_00, max_value=10_000_000_00).map(lambda fen: Decimal(fen).scaleb(-2))


@settings(max_examples=300, deadline=None)
@given(amount=amounts, parts=ratios())
def test_joint_shares_sum_exactly_and_stay_close_to_the_ratio(amount, parts):
    channel = channel_of(parts)
    shares = joint_shares(amount, channel)
    assert sum(shares.values()) == amount
    assert list(shares) == list(channel.funder_codes)
    others = len(parts) - 1
    for index, share in enumerate(channel.shares):
        value = shares[share.funder_code]
        assert value >= 0
        assert value == value.quantize(FEN)
        exact = amount * share.ratio
        if index == 0:  # the lead takes every other share's rounding
            assert abs(value - exact) <= HALF_FEN * others
        else:
            assert abs(value - exact) <= HALF_FEN
        if len(parts) <= 3:
            assert abs(value - exact) <= FEN


@settings(max_examples=300, deadline=None)
@given(amount=st.integers(min_value=1, max_value=10_000_00).map(lambda fen: Decimal(fen).scaleb(-2)), parts=ratios(max_funders=2))
def test_two_funder_shares_never_negative_even_for_tiny_amounts(amount, parts):
    shares = joint_shares(amount, channel_of(parts))
    assert sum(shares.values()) == amount and min(shares.values()) >= 0


CODES = [f"F{i}" for i in range(8)]


@st.composite
def funders_and_funding(draw):
    funders = {
        code: Funder(
            code=code,
            name=code,
            kind="BRANCH",
            province_code=draw(st.sampled_from(["11", "31", "44"])),
            position_available=Decimal("1000000.00"),
            service_fee_rate=Decimal(draw(st.integers(0, 300))).scaleb(-4),
            answer_timeout_seconds=5,
            quotas={"total": "1000000.00", "daily": "1000000.00", "per_customer": "1000000.00"},
        )
        for code in CODES
    }
    channels = []
    for index in range(draw(st.integers(min_value=1, max_value=8))):
        members = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True))
        if len(members) == 1:
            channels.append(Channel.single(f"CH{index}", members[0]))
        else:
            parts = draw(ratios(max_funders=len(members), min_funders=len(members)))
            channels.append(Channel(code=f"CH{index}", shares=tuple(ChannelShare(funder_code=m, ratio=r) for m, r in zip(members, parts))))
    rules = draw(st.lists(st.sampled_from(sorted(SORT_KEYS)), min_size=1, max_size=len(SORT_KEYS), unique=True))
    reverse = draw(st.lists(st.booleans(), min_size=len(rules), max_size=len(rules)))
    pf = ProductFunding(
        product_code="CONSUMER_STD",
        channels=tuple(channels),
        routing_rules=tuple({"name": r, "params": {"reverse": rev}} for r, rev in zip(rules, reverse)),
    )
    context = RoutingContext(
        amount=draw(amounts),
        borrower_province=draw(st.sampled_from(["11", "31", "44", None])),
        previous_funders=frozenset(draw(st.lists(st.sampled_from(CODES), max_size=3))),
        lent_so_far={c: Decimal(draw(st.integers(0, 5))) for c in CODES},
        now=datetime(2026, 11, 23, 11, 0, tzinfo=CST),
    )
    return funders, pf, context


@settings(max_examples=200, deadline=None)
@given(case=funders_and_funding())
def test_rank_is_a_deterministic_permutation(case):
    funders, pf, context = case
    ranked = rank(pf, funders, context)
    assert sorted(c.code for c in ranked) == sorted(c.code for c in pf.channels)
    assert [c.code for c in rank(pf, funders, context)] == [c.code for c in ranked]
    assert [c.code for c in rank(pf, list(funders.values()), context)] == [c.code for c in ranked]
    result = plan(pf, funders, context)
    assert [c.channel.code for c in result.candidates] == [c.code for c in ranked]
    assert all(sum(c.shares.values()) == context.amount for c in result.candidates)


@settings(max_examples=200, deadline=None)
@given(case=funders_and_funding())
def test_rank_is_lexicographic_by_the_rules(case):
    funders, pf, context = case
    ranked = rank(pf, funders, context)

    def composite(channel):
        return [SORT_KEYS[r.name](channel, funders, context) for r in pf.routing_rules]

    for before, after in zip(ranked, ranked[1:]):
        for rule, a, b in zip(pf.routing_rules, composite(before), composite(after)):
            if a != b:
                assert (a > b) if rule.reverse else (a < b)
                break
        else:  # a full tie keeps configuration order
            order = [c.code for c in pf.channels]
            assert order.index(before.code) < order.index(after.code)
