"""Onboard the fuzzer's partner on a running local stack, as an operator onboards one: configuration only.

``python -m tests.e2e.fuzz.onboard`` with the stack's resources in the environment
(its banner) and ``AWS_ENDPOINT_URL`` its AWS endpoint. The partner offers the
products ``P_DEMO`` offers, with its own secret, and an agreement whose rate limit
the fuzzer's run stays within (its 429 is tested by the integration tests).
"""
from __future__ import annotations

import os

from chalicelib.domain.partner import Partner
from chalicelib.persistence import config_repository, partner_secrets

PARTNER_ID = "P_FUZZ"
SECRET_ENV = "FUZZ_PARTNER_SECRET"


def onboard(secret: str) -> Partner:
    demo = config_repository.partner("P_DEMO")
    assert demo is not None, "the local stack has no P_DEMO to take the products from"
    partner = Partner(
        partner_id=PARTNER_ID, name="接口模糊测试渠道", products=demo.products, default_branch=demo.default_branch, rate_limit_per_minute=100_000
    )
    config_repository.put_partner(partner)
    partner_secrets.put_secret(PARTNER_ID, secret)
    return partner


if __name__ == "__main__":
    onboard(os.environ[SECRET_ENV])
