"""Onboarding a partner is writing one mapping file: no Python per partner."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from chalicelib.domain.partner_mapping import FieldError, MappingError, PartnerMapping, adapt, load_mappings, partner_field
from tests.unit.test_partner_mapping import MAPPINGS, PAYLOADS, STANDARD_EXAMPLE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
THIRD_MAPPING = FIXTURES / "partner_mappings" / "P_THIRD.json"
THIRD_PAYLOAD = json.loads((FIXTURES / "partner_payloads" / "P_THIRD.json").read_text(encoding="utf-8"))


@pytest.fixture
def mapping_dir(tmp_path: Path) -> Path:
    """The sample mappings directory, plus the third partner's file dropped in beside them."""
    directory = tmp_path / "partner_mappings"
    shutil.copytree(MAPPINGS, directory)
    shutil.copy(THIRD_MAPPING, directory / "P_THIRD.json")
    return directory


def test_a_third_partner_is_onboarded_by_adding_its_mapping_file(mapping_dir):
    mappings = load_mappings(mapping_dir)
    assert sorted(mappings) == ["P_QIANHAI", "P_THIRD", "P_XINGYUN"]
    assert adapt(mappings["P_THIRD"], THIRD_PAYLOAD).standard == STANDARD_EXAMPLE


def test_the_partners_already_there_are_unchanged(mapping_dir):
    mappings = load_mappings(mapping_dir)
    for partner_id in ("P_QIANHAI", "P_XINGYUN"):
        payload = json.loads((PAYLOADS / f"{partner_id}.json").read_text(encoding="utf-8"))
        assert adapt(mappings[partner_id], payload).standard == STANDARD_EXAMPLE


def test_the_third_format_is_a_format_of_its_own(mapping_dir):
    mappings = load_mappings(mapping_dir)
    sources = {name: {rule.source for rule in mapping.rules if rule.source} for name, mapping in mappings.items()}
    assert not sources["P_THIRD"] & (sources["P_QIANHAI"] | sources["P_XINGYUN"])


def test_the_third_partner_s_errors_name_its_own_fields(mapping_dir):
    mapping = load_mappings(mapping_dir)["P_THIRD"]
    bad = copy.deepcopy(THIRD_PAYLOAD)
    bad["body"]["loan"]["method"] = "annuity"
    bad["body"]["loan"]["amountYuan"] = "50000.001"
    del bad["body"]["agreements"][1]
    with pytest.raises(MappingError) as caught:
        adapt(mapping, bad)
    assert [e.field for e in caught.value.errors] == ["body.loan.amountYuan", "body.loan.method", "body.agreements[1].accepted"]
    assert caught.value.errors[1] == FieldError("body.loan.method", "is not a known code; expected one of EI, EP, IF, BL")
    adapted = adapt(mapping, THIRD_PAYLOAD)
    assert partner_field("applicant.id_number", adapted.sources) == "body.borrower.certificate.no"
    assert partner_field("applicant", adapted.sources) == "body.borrower"


def test_the_third_partner_may_leave_out_what_its_mapping_defaults(mapping_dir):
    mapping = load_mappings(mapping_dir)["P_THIRD"]
    assert "productCode" not in THIRD_PAYLOAD["body"]
    explicit = copy.deepcopy(THIRD_PAYLOAD)
    explicit["body"]["productCode"] = "CONSUMER_PLUS"
    assert adapt(mapping, explicit).standard["product_code"] == "CONSUMER_PLUS"


def test_a_broken_mapping_file_is_refused_when_loaded(mapping_dir):
    raw = json.loads(THIRD_MAPPING.read_text(encoding="utf-8"))
    raw["rules"][0]["convert"] = "yuan"  # no such converter
    (mapping_dir / "P_BROKEN.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="P_BROKEN.json is invalid"):
        load_mappings(mapping_dir)


def test_the_third_mapping_survives_being_stored_as_its_json_dump(mapping_dir):
    mapping = load_mappings(mapping_dir)["P_THIRD"]
    stored = PartnerMapping.model_validate(json.loads(json.dumps(mapping.model_dump(mode="json"))))
    assert stored == mapping
    without_product = copy.deepcopy(THIRD_PAYLOAD)
    assert adapt(stored, without_product).standard["product_code"] == "CONSUMER_STD"  # the default survives
