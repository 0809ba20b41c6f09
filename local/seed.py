"""The sample configuration of the local stack: three partners (two with their own formats), three branches, product CONSUMER_STD."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from chalicelib.domain.branch import Branch
from chalicelib.domain.partner import Partner
from chalicelib.domain.partner_mapping import load_mappings
from chalicelib.domain.product import Product
from chalicelib.persistence import config_repository, partner_secrets

SAMPLE = Path(__file__).resolve().parent.parent / "config" / "sample"

# Local only: printed at start so that a developer can sign requests by hand.
LOCAL_SECRETS = {"P_DEMO": "demo-secret-change-me", "P_QIANHAI": "qianhai-secret-change-me", "P_XINGYUN": "xingyun-secret-change-me"}


def operator_token(operator_id: str) -> str:
    """The local stack's login token of an operator (on AWS, operators are IAM principals)."""
    return f"local-{operator_id.replace('.', '-')}"


def seed_review() -> None:
    """Review policies (with branch overrides), scorecards and operators."""
    from chalicelib.domain.operator import Operator
    from chalicelib.usecases.operator_auth import token_key

    for path in sorted((SAMPLE / "review_policies").glob("*.json")):
        config_repository.put_review_policy(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted((SAMPLE / "review_policies" / "overrides").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        config_repository.put_branch_overrides(document["product_code"], document["branch_code"], document)
    for path in sorted((SAMPLE / "scorecards").glob("*.json")):
        config_repository.put_scorecard(path.stem, json.loads(path.read_text(encoding="utf-8")))
    seed_funding()
    for raw in json.loads((SAMPLE / "operators.json").read_text(encoding="utf-8")):
        operator = Operator.model_validate(raw)
        config_repository.put_operator(f"OPERATOR_TOKEN#{token_key(operator_token(operator.operator_id))}", operator)


# The local stack's simulated funders: the participating bank times out (so routing moves on).
LOCAL_FUNDER_SIMULATOR = {"approval_rate": {"BR_DONGCHENG": 1.0, "BR_XICHENG": 1.0, "BR_CHAOYANG": 1.0, "PB_HUAXIA_JOINT": 1.0}, "timeouts": [], "seed": "local"}


def seed_funding() -> None:
    """Funders and branches with their total quotas, the products' funding channels and routing rules."""
    from chalicelib.persistence import quotas

    for raw in json.loads((SAMPLE / "branches.json").read_text(encoding="utf-8")):
        if raw.get("quotas"):
            quotas.set_limit("BRANCH", raw["branch_code"], "TOTAL", Decimal(raw["quotas"]["total"]))
    for raw in json.loads((SAMPLE / "funders.json").read_text(encoding="utf-8")):
        config_repository.put_funder(raw)
        quotas.set_limit("FUNDER", raw["code"], "TOTAL", Decimal(raw["quotas"]["total"]))
    for path in sorted((SAMPLE / "product_funding").glob("*.json")):
        config_repository.put_product_funding(json.loads(path.read_text(encoding="utf-8")))
    config_repository.put_funder_simulator(LOCAL_FUNDER_SIMULATOR)


def seed(business_date: date | None = None) -> dict[str, str]:
    """Load the sample configuration; answers the partner secrets it stored."""
    for path in sorted((SAMPLE / "products").glob("*.json")):
        config_repository.put_product(Product.model_validate_json(path.read_text(encoding="utf-8")))
    for raw in json.loads((SAMPLE / "branches.json").read_text(encoding="utf-8")):
        config_repository.put_branch(Branch.model_validate(raw))
    for raw in json.loads((SAMPLE / "partners.json").read_text(encoding="utf-8")):
        config_repository.put_partner(Partner.model_validate(raw))
    for partner_id, mapping in load_mappings(SAMPLE / "partner_mappings").items():
        config_repository.put_partner_mapping(partner_id, mapping)
    for partner_id, secret in LOCAL_SECRETS.items():
        partner_secrets.put_secret(partner_id, secret)
    seed_review()
    config_repository.set_business_date(business_date or date.today())
    config_repository.clear_cache()
    return dict(LOCAL_SECRETS)
