"""The sample configuration of the local stack: three partners (two with their own formats), three branches, product CONSUMER_STD,
and the back-office operators as users of the operators' user pool (one per role and branch, with local passwords).

Also each product's contract template (and a branch's own), and the signing credentials: a local CA
whose root is the trust root, and a document-signing certificate and key per branch."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from chalicelib.domain.branch import Branch
from chalicelib.domain.operator import Operator
from chalicelib.domain.partner import Partner
from chalicelib.domain.partner_mapping import load_mappings
from chalicelib.domain.product import Product
from chalicelib.persistence import config_repository, partner_secrets

if TYPE_CHECKING:
    from local.ca import LocalCa

SAMPLE = Path(__file__).resolve().parent.parent / "config" / "sample"

# Local only: printed at start so that a developer can sign requests by hand.
LOCAL_SECRETS = {"P_DEMO": "demo-secret-change-me", "P_QIANHAI": "qianhai-secret-change-me", "P_XINGYUN": "xingyun-secret-change-me"}


def operator_password(operator_id: str) -> str:
    """The local stack's password of a sample operator: deterministic, printed at start, local only
    (on AWS an administrator creates each user, who sets their own password)."""
    return f"LocalOnly-{operator_id}-1"


def sample_operators() -> list[Operator]:
    """``config/sample/operators.json``: one operator per role and branch."""
    return [Operator.model_validate(raw) for raw in json.loads((SAMPLE / "operators.json").read_text(encoding="utf-8"))]


def seed_operators(branches: Iterable[Branch]) -> None:
    """A group per branch in the operators' user pool (the role groups come with the pool, see
    ``local/provision.py``), and each sample operator as a user with a permanent password
    (``operator_password``), their ``name``, and exactly the groups of their role and branch."""
    from chalicelib import resources, settings
    from chalicelib.aws_clients import client
    from chalicelib.domain.operator import branch_group, groups_of

    cognito = client("cognito-idp")
    pool_id = settings.resource_env(resources.OPERATOR_POOL.id)
    codes = {branch.branch_code for branch in branches}
    for code in sorted(codes):
        cognito.create_group(UserPoolId=pool_id, GroupName=branch_group(code), Description=f"Back-office staff of {code}")
    for operator in sample_operators():
        if operator.branch_code is not None and operator.branch_code not in codes:
            raise ValueError(f"operator {operator.operator_id}: branch {operator.branch_code} is not a sample branch")
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=operator.operator_id,
            UserAttributes=[{"Name": "name", "Value": operator.name}],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=operator.operator_id, Password=operator_password(operator.operator_id), Permanent=True)
        for group in groups_of(operator):
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=operator.operator_id, GroupName=group)


def seed_review() -> None:
    """Review policies (with branch overrides), scorecards and funding."""
    for path in sorted((SAMPLE / "review_policies").glob("*.json")):
        config_repository.put_review_policy(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted((SAMPLE / "review_policies" / "overrides").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        config_repository.put_branch_overrides(document["product_code"], document["branch_code"], document)
    for path in sorted((SAMPLE / "scorecards").glob("*.json")):
        config_repository.put_scorecard(path.stem, json.loads(path.read_text(encoding="utf-8")))
    seed_funding()


# The local stack's simulated funders: the participating bank times out (so routing moves on).
LOCAL_FUNDER_SIMULATOR = {"approval_rate": {"BR_DONGCHENG": 1.0, "BR_XICHENG": 1.0, "BR_CHAOYANG": 1.0, "PB_HUAXIA_JOINT": 1.0}, "timeouts": [], "seed": "local"}


# The local stack's simulated payment gateway: cards ending in these digits behave so (see
# chalicelib/ports/payments.py; ``card_ending`` makes such a card); any other card is paid.
LOCAL_PAYMENT_SIMULATOR = {
    "platform_balance": "500000000.00",
    "pending_queries": 1,
    "card_rules": {
        "8801": "CARD_INVALID",
        "8802": "DECLINED",
        "8803": "TIMEOUT_THEN_PAID",
        "8804": "UNKNOWN_THEN_PAID",
        "8805": "TIMEOUT_NOT_RECEIVED",
        "8806": "UNKNOWN_THEN_FAILED",
        "8807": "GATEWAY_DOWN",
    },
}


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
    config_repository.put_payment_simulator(LOCAL_PAYMENT_SIMULATOR)
    config_repository.put_policy("WARNINGS", json.loads((SAMPLE / "warning_policy.json").read_text(encoding="utf-8")))
    config_repository.put_policy("COLLECTIONS", json.loads((SAMPLE / "collection_policy.json").read_text(encoding="utf-8")))


def seed_contract_templates() -> None:
    """``contract_templates/<PRODUCT>.json`` for a product, ``<PRODUCT>.<BRANCH>.json`` for a branch's own."""
    for path in sorted((SAMPLE / "contract_templates").glob("*.json")):
        product_code, _, branch_code = path.stem.partition(".")
        config_repository.put_contract_template(product_code, branch_code or None, json.loads(path.read_text(encoding="utf-8")))


def seed_signing(branches: Iterable[Branch]) -> LocalCa:
    """A local CA (its root the trust root) and a document-signing certificate and key per branch,
    stored in the SIGNING_CREDENTIALS tree as SecureStrings; answers the CA."""
    from chalicelib.ports import ca as ca_port
    from local.ca import issue_branch_certificate, make_ca

    ca = make_ca()
    ca_port.put_trust_root(ca.certificate_pem)
    for branch in branches:
        issued = issue_branch_certificate(ca, branch.branch_code, branch.name)
        ca_port.put_branch_credentials(branch.branch_code, issued.chain_pem, issued.key_pem)
    ca_port.clear_cache()
    return ca


def seed(business_date: date | None = None) -> dict[str, str]:
    """Load the sample configuration; answers the partner secrets it stored."""
    for path in sorted((SAMPLE / "products").glob("*.json")):
        config_repository.put_product(Product.model_validate_json(path.read_text(encoding="utf-8")))
    branches = [Branch.model_validate(raw) for raw in json.loads((SAMPLE / "branches.json").read_text(encoding="utf-8"))]
    for branch in branches:
        config_repository.put_branch(branch)
    for raw in json.loads((SAMPLE / "partners.json").read_text(encoding="utf-8")):
        config_repository.put_partner(Partner.model_validate(raw))
    for partner_id, mapping in load_mappings(SAMPLE / "partner_mappings").items():
        config_repository.put_partner_mapping(partner_id, mapping)
    for partner_id, secret in LOCAL_SECRETS.items():
        partner_secrets.put_secret(partner_id, secret)
    seed_review()
    seed_operators(branches)
    seed_contract_templates()
    seed_signing(branches)
    config_repository.set_business_date(business_date or date.today())
    config_repository.clear_cache()
    return dict(LOCAL_SECRETS)
