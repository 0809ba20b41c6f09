"""A third partner joins with configuration only: a partner record, its mapping (data) and its secret."""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.domain.partner import Partner
from chalicelib.domain.partner_mapping import load_mapping
from chalicelib.persistence import config_repository, partner_secrets
from tests.support.applications import STANDARD

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_a_new_partner_posts_its_own_format_after_only_configuration(client, post_signed, aws):
    config_repository.put_partner(Partner(partner_id="P_THIRD", name="第三示例渠道", products=("CONSUMER_STD",), uses_mapping=True, default_branch="BR_XICHENG"))
    config_repository.put_partner_mapping("P_THIRD", load_mapping(FIXTURES / "partner_mappings" / "P_THIRD.json"))
    partner_secrets.put_secret("P_THIRD", "third-secret")
    payload = json.loads((FIXTURES / "partner_payloads" / "P_THIRD.json").read_text(encoding="utf-8"))

    response = post_signed("/v1/applications", payload, partner_id="P_THIRD", secret="third-secret")
    assert response.status_code == 202, response.body
    third = json.loads(response.body)["application_id"]
    demo = json.loads(post_signed("/v1/applications", STANDARD).body)["application_id"]

    from tests.support.signing import signed_headers

    def shown(partner_id, secret, application_id):
        path = f"/v1/applications/{application_id}"
        return json.loads(client.http.get(path, headers=signed_headers(partner_id, secret, "GET", path, b"")).body)

    assert shown("P_THIRD", "third-secret", third)["application"] == shown("P_DEMO", aws.secrets["P_DEMO"], demo)["application"]
