"""Record every AWS API call a piece of code makes (in its own thread), and the declared resources it touched."""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from botocore.client import BaseClient

from chalicelib import resources

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]


@contextlib.contextmanager
def recorded_calls() -> Iterator[list[Call]]:
    calls: list[Call] = []
    original = BaseClient._make_api_call
    caller = threading.get_ident()  # not the workflows that the calls start in other threads

    def record(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if threading.get_ident() == caller:
            calls.append(Call(client.meta.service_model.service_name, operation, dict(params)))
        return original(client, operation, params)

    BaseClient._make_api_call = record  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def touched(call: Call, env: dict[str, str]) -> list[tuple[str, resources.Access]]:
    """The declared resources a call touched and the access each needed; KeyError if undeclared."""
    by_value = {}
    for rid, resource in resources.all_resources().items():
        if resource.env in env:
            by_value[env[resource.env]] = rid
    if call.service == "dynamodb" and call.operation == "TransactWriteItems":
        tables = {part["TableName"] for item in call.params["TransactItems"] for part in item.values()}
        return [(by_value[t], resources.Access.READ_WRITE) for t in sorted(tables)]
    if call.service == "dynamodb":
        access = resources.Access.READ_WRITE if call.operation in DYNAMODB_WRITES else resources.Access.READ
        tables = sorted(call.params["RequestItems"]) if "RequestItems" in call.params else [call.params["TableName"]]  # Batch*Item
        return [(by_value[t], access) for t in tables]
    if call.service == "ssm":
        name = call.params.get("Name") or call.params.get("Path") or call.params["Names"][0]
        tree = next(rid for value, rid in by_value.items() if value.startswith("/") and name.startswith(value + "/"))
        return [(tree, resources.Access.READ)]
    if call.service == "kms":
        access = {"GenerateDataKey": resources.Access.ENCRYPT, "Decrypt": resources.Access.DECRYPT, "GenerateMac": resources.Access.MAC}
        return [(by_value[call.params["KeyId"]], access[call.operation])]
    if call.service in ("sfn", "stepfunctions") and call.operation == "StartExecution":
        return [(by_value[call.params["stateMachineArn"]], resources.Access.START)]
    if call.service in ("sfn", "stepfunctions") and call.operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        # A task token names no machine: it answers the one machine whose definition waits for tokens.
        waiting = [m.id for m in resources.STATE_MACHINES if "waitForTaskToken" in (ROOT / "statemachines" / m.definition).read_text(encoding="utf-8")]
        assert len(waiting) == 1, waiting
        return [(waiting[0], resources.Access.CALLBACK)]
    if call.service == "s3":
        access = resources.Access.READ_WRITE if call.operation.startswith(("Put", "Delete", "Copy")) else resources.Access.READ
        return [(by_value[call.params["Bucket"]], access)]
    if call.service == "cognito-idp" and call.operation in ("InitiateAuth", "RespondToAuthChallenge", "RevokeToken"):
        client = by_value[call.params["ClientId"]]  # a public app client's calls, on its pool
        return [(client, resources.Access.SIGN_IN), (resources.all_resources()[client].pool, resources.Access.SIGN_IN)]
    raise KeyError(f"{call.service}.{call.operation} touches nothing declared")
