"""Signing credentials from Parameter Store (moto): each branch signs with its own certificate,
and the result verifies against the trust root stored beside them. Contract templates are config."""
from __future__ import annotations

import boto3
import pytest

from chalicelib import resources, settings
from chalicelib.documents.authorisation_pdf import render_authorisation
from chalicelib.documents.contract_pdf import render_contract
from chalicelib.documents.verification import verify_pdf
from chalicelib.persistence import config_repository
from chalicelib.ports import ca
from tests.unit.test_contract import terms


@pytest.fixture
def template(aws):
    return config_repository.contract_template("CONSUMER_STD", "BR_DONGCHENG")


def test_a_seeded_branch_signs_and_the_result_verifies_with_the_stored_trust_root(aws, template):
    signer = ca.branch_signer("BR_DONGCHENG")
    assert isinstance(signer, ca.KeySigner)
    assert signer.subject == "东城农村商业银行 (BR_DONGCHENG document signing)"
    roots = ca.trust_roots()
    assert len(roots) == 1 and roots[0].startswith(b"-----BEGIN CERTIFICATE-----")
    contract = signer.sign(render_contract(terms(), template), reason="借款合同电子签章", location="北京")
    letter = signer.sign(render_authorisation(terms(), template), reason="征信查询授权书签章", location="北京")
    for pdf in (contract, letter):
        result = verify_pdf(pdf, roots)
        assert result.valid and result.signer == signer.subject


def test_each_branch_has_its_own_certificate_under_the_same_root(aws):
    subjects = {code: ca.branch_signer(code).subject for code in ("BR_DONGCHENG", "BR_XICHENG", "BR_CHAOYANG")}
    assert subjects["BR_XICHENG"] == "西城农村商业银行 (BR_XICHENG document signing)"
    assert len(set(subjects.values())) == 3
    signed = ca.branch_signer("BR_CHAOYANG").sign(render_contract(terms(), config_repository.contract_template("CONSUMER_STD", None)), reason="r", location="l")
    assert verify_pdf(signed, ca.trust_roots()).trusted


def test_an_unknown_branch_has_no_signing_credentials(aws):
    with pytest.raises(ca.NoSigningCredentials, match="BR_NOWHERE"):
        ca.branch_signer("BR_NOWHERE")
    with pytest.raises(ValueError):
        ca.branch_signer("../partners")


def test_the_credentials_are_secure_strings_under_the_declared_tree(aws):
    ssm = boto3.client("ssm", region_name=settings.region())
    path = settings.env(resources.SIGNING_CREDENTIALS.env)
    found = ssm.get_parameters_by_path(Path=path, Recursive=True)["Parameters"]
    names = {p["Name"] for p in found}
    assert f"{path}/trust-root" in names
    assert {f"{path}/branches/BR_DONGCHENG/key", f"{path}/branches/BR_DONGCHENG/certificate"} <= names
    assert all(p["Type"] == "SecureString" for p in found)
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [f"{path}/branches/BR_DONGCHENG/key"]}])["Parameters"][0]
    assert described["KeyId"] == settings.env(resources.SECRETS_KEY.env)


def test_a_key_missing_for_a_branch_with_a_certificate_is_no_credentials(aws):
    from local.ca import issue_branch_certificate, make_ca

    issued = issue_branch_certificate(make_ca(), "BR_NEW", "新设农村商业银行")
    ca.put_branch_credentials("BR_NEW", issued.chain_pem)  # the certificate only
    with pytest.raises(ca.NoSigningCredentials, match="no signing key"):
        ca.branch_signer("BR_NEW")


def test_http_mode_signs_through_the_ca_service(aws, monkeypatch):
    monkeypatch.setenv("CA_SIGNING_MODE", "http")
    with pytest.raises(ca.NoSigningCredentials, match="client"):
        ca.branch_signer("BR_DONGCHENG")
    ca.put_ca_client("zhudai", "ca-client-secret")
    signer = ca.branch_signer("BR_DONGCHENG")
    assert isinstance(signer, ca.HttpCaSigner) and signer.subject == "东城农村商业银行 (BR_DONGCHENG document signing)"
    assert "ca-client-secret" not in repr(signer)
    monkeypatch.setenv("CA_SIGNING_MODE", "hsm")
    with pytest.raises(settings.ConfigurationError):
        ca.branch_signer("BR_DONGCHENG")


def test_a_branch_template_overrides_the_products(aws):
    assert config_repository.contract_template("CONSUMER_STD", "BR_XICHENG").template_id == "CONSUMER_STD_LOAN_XICHENG"
    assert config_repository.contract_template("CONSUMER_STD", "BR_DONGCHENG").template_id == "CONSUMER_STD_LOAN"
    assert config_repository.contract_template("CONSUMER_STD", None).template_id == "CONSUMER_STD_LOAN"
    assert config_repository.contract_template("CONSUMER_LINE", "BR_XICHENG").template_id == "CONSUMER_LINE"
    assert config_repository.contract_template("NO_SUCH_PRODUCT", "BR_XICHENG") is None


def test_a_bad_template_is_never_stored(aws):
    from pydantic import ValidationError

    document = config_repository.contract_template("CONSUMER_STD", None).model_dump(mode="json")
    document["clauses"][0]["text"] = "{amount_in_wrods}"
    with pytest.raises(ValidationError):
        config_repository.put_contract_template("CONSUMER_STD", "BR_CHAOYANG", document)
    config_repository.clear_cache()
    assert config_repository.contract_template("CONSUMER_STD", "BR_CHAOYANG").template_id == "CONSUMER_STD_LOAN"
