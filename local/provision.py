"""Create the resources declared in ``chalicelib/resources.py`` in moto.

The CDK stack builds the same declarations in AWS; here they become moto
tables, keys, parameters, buckets, the operators' user pool and its app client,
Lambda functions and state machines, so that the local stack and the tests run
against exactly what the stack declares.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from chalicelib import resources
from chalicelib.resources import APP_NAME

ROOT = Path(__file__).resolve().parent.parent
STATEMACHINES = ROOT / "statemachines"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Provisioned:
    env: dict[str, str]
    function_arns: dict[str, str]
    state_machine_arns: dict[str, str]


def physical_name(stage: str, resource_id: str) -> str:
    return f"{APP_NAME}-{stage}-{resource_id}"


def bucket_name(stage: str, bucket_id: str, account: str, region: str) -> str:
    """``{app}-{stage}-{id}-{account}-{region}``: bucket names are global across all of AWS, so the
    account and region make them unique (and ``_`` is not allowed in them)."""
    return f"{APP_NAME}-{stage}-{bucket_id.replace('_', '-')}-{account}-{region}"


def function_name(stage: str, name: str) -> str:
    """Chalice's deployed name for a function: ``{app}-{stage}-{function}``."""
    return f"{APP_NAME}-{stage}-{name}"


def short_function_name(stage: str, deployed: str) -> str:
    name = deployed.split(":function:")[-1].split(":")[0]
    return name.removeprefix(f"{APP_NAME}-{stage}-")


def definition(machine: resources.StateMachine, function_arns: dict[str, str]) -> str:
    """The ASL text with its ``${...FunctionArn}`` placeholders pointed at the given functions."""
    text = (STATEMACHINES / machine.definition).read_text(encoding="utf-8")
    for placeholder, fn in machine.functions.items():
        text = text.replace("${" + placeholder + "}", function_arns[fn])
    if "${" in text:
        raise ValueError(f"{machine.definition} has a placeholder that resources.py does not map")
    return text


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "# the local stack runs the app's handlers in-process\n")
    return buffer.getvalue()


def _table(ddb: Any, table: resources.Table, name: str) -> None:
    attributes = {table.partition_key}
    keys = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
    if table.sort_key:
        attributes.add(table.sort_key)
        keys.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
    indexes = []
    for index in table.indexes:
        schema = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        attributes.add(index.partition_key)
        if index.sort_key:
            schema.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
            attributes.add(index.sort_key)
        indexes.append({"IndexName": index.name, "KeySchema": schema, "Projection": {"ProjectionType": index.projection}})
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = indexes
    ddb.create_table(**kwargs)
    if table.ttl_attribute:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute})


def _expiry_rules(bucket: resources.Bucket) -> list[dict[str, Any]]:
    return [
        {
            "ID": f"expire-{prefix.strip('/').replace('/', '-')}",
            "Filter": {"Prefix": prefix},
            "Status": "Enabled",
            "Expiration": {"Days": days},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
        for prefix, days in bucket.expire
    ]


def _bucket(s3: Any, bucket: resources.Bucket, name: str, region: str, key_id: str) -> None:
    """As the CDK stack builds it: versioned, SSE-KMS with its key, public access blocked and,
    with ``object_lock``, a default retention in compliance mode of ARCHIVE_RETENTION_DAYS."""
    from chalicelib import settings

    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    if bucket.object_lock:
        kwargs["ObjectLockEnabledForBucket"] = True  # only at creation; it turns versioning on too
    s3.create_bucket(**kwargs)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}, "BucketKeyEnabled": True}]
        },
    )
    if bucket.expire:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": _expiry_rules(bucket)})
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    if bucket.object_lock:
        days = int(settings.env("ARCHIVE_RETENTION_DAYS"))
        s3.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": days}}},
        )


def _user_pool(cognito: Any, pool: resources.UserPool, name: str) -> str:
    """As the CDK stack builds it: administrators create the users, who sign in by username
    (case-insensitive) with a strong password; a group per role (``chalicelib/domain/operator.py``).
    Branch groups come with the branches (``local/seed.py``), as they are configuration."""
    from chalicelib.domain.operator import role_groups

    pool_id = cognito.create_user_pool(
        PoolName=name,
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        UsernameConfiguration={"CaseSensitive": False},
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True, "RequireSymbols": False}},
        Schema=[{"Name": "name", "AttributeDataType": "String", "Mutable": True, "Required": True}],
    )["UserPool"]["Id"]
    for group in role_groups():
        cognito.create_group(UserPoolId=pool_id, GroupName=group, Description=f"Back-office role {group}")
    return pool_id


def _user_pool_client(cognito: Any, client: resources.UserPoolClient, pool_id: str, name: str) -> str:
    return cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=name,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=list(client.read_attributes),
        IdTokenValidity=client.id_token_minutes,
        AccessTokenValidity=client.id_token_minutes,
        RefreshTokenValidity=client.refresh_token_hours,
        TokenValidityUnits={"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "hours"},
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]["ClientId"]


def provision(stage: str, region: str) -> Provisioned:
    """Create every declared resource; return the environment the functions receive."""
    client = lambda service: boto3.client(service, region_name=region)  # noqa: E731
    env: dict[str, str] = {}
    ddb = client("dynamodb")
    for table in resources.TABLES:
        name = physical_name(stage, table.id)
        _table(ddb, table, name)
        env[table.env] = name
    kms = client("kms")
    key_ids: dict[str, str] = {}
    for key in resources.KEYS:
        key_id = kms.create_key(Description=key.description, KeySpec=key.spec, KeyUsage=key.usage)["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=key.alias(stage), TargetKeyId=key_id)
        env[key.env] = key_ids[key.id] = key_id
    s3 = client("s3")
    for bucket in resources.BUCKETS:
        name = bucket_name(stage, bucket.id, ACCOUNT, region)
        _bucket(s3, bucket, name, region, key_ids[bucket.key])
        env[bucket.env] = name
    for tree in resources.PARAMETER_TREES:
        env[tree.env] = f"/{APP_NAME}/{stage}{tree.path}"
    cognito = client("cognito-idp")
    pool_ids: dict[str, str] = {}
    for pool in resources.USER_POOLS:
        env[pool.env] = pool_ids[pool.id] = _user_pool(cognito, pool, physical_name(stage, pool.id))
    for app_client in resources.USER_POOL_CLIENTS:
        env[app_client.env] = _user_pool_client(cognito, app_client, pool_ids[app_client.pool], physical_name(stage, app_client.id))

    iam = client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}
    role_arn = iam.create_role(RoleName=f"{APP_NAME}-{stage}-local", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

    lam = client("lambda")
    function_arns = {}
    code = _dummy_zip()
    for fn in resources.FUNCTIONS:
        created = lam.create_function(
            FunctionName=function_name(stage, fn.name),
            Runtime="python3.11",
            Role=role_arn,
            Handler=f"app.{fn.name}",
            Code={"ZipFile": code},
            Description=fn.description,
        )
        function_arns[fn.name] = created["FunctionArn"]

    for bucket in resources.BUCKETS:
        if bucket.notifications:
            s3.put_bucket_notification_configuration(
                Bucket=env[bucket.env],
                NotificationConfiguration={
                    "LambdaFunctionConfigurations": [
                        {"LambdaFunctionArn": function_arns[fn], "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}}
                        for prefix, fn in bucket.notifications
                    ]
                },
            )

    sfn = client("stepfunctions")
    machine_arns = {}
    for machine in resources.STATE_MACHINES:
        created = sfn.create_state_machine(
            name=physical_name(stage, machine.id),
            definition=definition(machine, function_arns),
            roleArn=role_arn,
            type=machine.type,
        )
        machine_arns[machine.id] = created["stateMachineArn"]
        env[machine.env] = created["stateMachineArn"]
    return Provisioned(env=env, function_arns=function_arns, state_machine_arns=machine_arns)
