"""The AWS side of the tests: moto in-process with the declared resources, seeded."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterator

from moto import mock_aws

from chalicelib import aws_clients
from chalicelib.persistence import config_repository, partner_secrets
from local.lambda_runtime import InProcessLambda
from local.provision import Provisioned, provision
from local.stack import MOTO_CONFIG, REGION, STAGE, local_environment

BUSINESS_DATE = date(2026, 11, 23)


@dataclass
class MockedAws:
    provisioned: Provisioned
    runtime: InProcessLambda
    secrets: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        return self.provisioned.env


def clear_client_caches() -> None:
    config_repository.clear_cache()
    partner_secrets.clear_cache()
    aws_clients._client.cache_clear()
    from chalicelib.ports import ca

    ca.clear_cache()


def _faster_moto() -> None:
    """Three costs moto pays on every fresh account that tests need not pay again (about 0.8 s a test):

    - it parses a state machine's definition to validate it at each CreateStateMachine: each
      distinct definition is validated once per process (executions still parse their own);
    - it makes a 2048-bit RSA key for every KMS key, symmetric and HMAC keys too, which never use
      it: those share one. Asymmetric keys still get their own;
    - it imports its one Cognito signing key (a fixed JWKS file) again for every user pool.
    """
    from moto.kms import models as kms_models
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    if getattr(StepFunctionsParserBackend._validate_definition, "once", False):
        return
    validate, validated = StepFunctionsParserBackend._validate_definition, set()

    def validate_once(definition: str) -> None:
        if definition not in validated:
            validate(definition)
            validated.add(definition)

    validate_once.once = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend._validate_definition = staticmethod(validate_once)
    make_private_key, shared = kms_models.generate_private_key, {}

    def private_key(key_spec: str) -> Any:
        if key_spec in ("SYMMETRIC_DEFAULT", "HMAC_256", "HMAC_224", "HMAC_384", "HMAC_512", None, ""):
            return shared.setdefault("unused", make_private_key("RSA_2048"))
        return make_private_key(key_spec)

    kms_models.generate_private_key = private_key

    # every user pool imports moto's one signing key (the same JWKS file) again: import it once.
    # (moto's models use jwk for nothing else than RSAKey.import_key.)
    from types import SimpleNamespace

    from moto.cognitoidp import models as cognito_models

    import_key, imported = cognito_models.jwk.RSAKey.import_key, {}

    def import_once(data: Any) -> Any:
        marker = repr(data)
        if marker not in imported:
            imported[marker] = import_key(data)
        return imported[marker]

    cognito_models.jwk = SimpleNamespace(RSAKey=SimpleNamespace(import_key=import_once))


@contextlib.contextmanager
def mocked_aws(monkeypatch: Any) -> Iterator[MockedAws]:
    """Moto in-process (no server), the declared resources, the app's handlers, the sample config."""
    import app as app_module
    from local import moto_atomicity
    from local.seed import seed

    moto_atomicity.install()
    _faster_moto()
    env = local_environment(moto_port=0)
    for name in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
        env.pop(name)
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_client_caches()
    # Keep boto3's default session between tests: a new one re-reads every service model (~0.6 s).
    with mock_aws(config={**MOTO_CONFIG, "core": {"reset_boto3_session": False}}):
        provisioned = provision(STAGE, REGION)
        for name, value in provisioned.env.items():
            monkeypatch.setenv(name, value)
        runtime = InProcessLambda.for_app(app_module, STAGE).install()
        try:
            secrets = seed(BUSINESS_DATE)
            yield MockedAws(provisioned, runtime, secrets)
        finally:
            stop_running_executions(provisioned.state_machine_arns.values())
            runtime.uninstall()
            clear_client_caches()


def stop_running_executions(machine_arns: Any) -> None:
    """Stop what a test left running (an offer waiting for its answer, a retry), so that it does not
    go on in the background, against tables that are gone, while later tests run."""
    import boto3

    sfn = boto3.client("stepfunctions", region_name=REGION)
    for arn in machine_arns:
        try:
            for execution in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
                sfn.stop_execution(executionArn=execution["executionArn"], error="TestEnded", cause="the test ended")
        except Exception:  # noqa: BLE001 - cleaning up must never fail a test
            continue


def wait_for_execution(sfn: Any, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll until an execution ends; answers its description."""
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still running after {timeout} s")
        time.sleep(0.05)


def executions_of(sfn: Any, machine_arn: str, application_id: str) -> list[dict[str, Any]]:
    """An application's origination executions, every leg (named by the application, or
    ``<application>-<leg>-<n>``), the first started first."""
    found, token = [], None
    while True:
        page = sfn.list_executions(stateMachineArn=machine_arn, maxResults=1000, **({"nextToken": token} if token else {}))
        found += [e for e in page["executions"] if e["name"] == application_id or e["name"].startswith(application_id + "-")]
        token = page.get("nextToken")
        if not token:
            return sorted(found, key=lambda e: e["startDate"])


def wait_until_settled(sfn: Any, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll until no leg of an application's origination runs (its first execution's ARN names the
    machine and the application); answers the description of its last leg."""
    machine_arn, application_id = execution_arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        legs = executions_of(sfn, machine_arn, application_id)
        if legs and all(leg["status"] != "RUNNING" for leg in legs):
            return sfn.describe_execution(executionArn=legs[-1]["executionArn"])
        if time.monotonic() > deadline:
            raise TimeoutError(f"{application_id} still running after {timeout} s")
        time.sleep(0.05)
