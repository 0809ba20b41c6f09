"""The platform's CloudFormation stack, built only from ``chalicelib/resources.py``.

Every table, key, parameter tree, bucket, user pool, app client, state machine and
function comes from a loop over the declarations, so a new declaration needs no edit
here. Each function gets its own role granting exactly what ``Function.uses`` says, and
exactly the environment variables of the resources it uses (``resources.env_for``) plus
the common ones of ``.chalice/config.json``.

The back-office console (``console/``) is a static site: a private S3 bucket read by a
CloudFront distribution through origin access control, whose ``/backoffice/*`` behaviour
goes to the REST API, so the console and the API share one origin (no CORS). Operators
sign in at ``/backoffice/session`` against the operators' user pool (a group per role,
and per branch: the branches of ``-c branches=BR_A,BR_B``, else of
``config/sample/branches.json``; a branch added later gets its group with
``aws cognito-idp create-group --group-name branch-<code>``).

Tables and their indexes are billed on demand, unless ``-c dynamodb_capacity=provisioned``
(or DYNAMODB_CAPACITY=provisioned) asks for provisioned capacity with auto scaling: see
``dynamodb_capacity``.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk.aws_stepfunctions import CfnStateMachine
from chalice.cdk import Chalice
from chalice.config import Config
from chalice.constants import DEFAULT_APIGATEWAY_STAGE_NAME
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from chalicelib import resources
from chalicelib.domain.operator import branch_group, role_groups
from chalicelib.resources import APP_NAME, Access, Bucket, Key, ParameterTree, StateMachine, Table, UserPool, UserPoolClient

ROOT = Path(__file__).resolve().parent.parent

TABLE_READ = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DescribeTable",
    "dynamodb:ConditionCheckItem",
)
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
# Objects: GetObject covers HeadObject; GetObjectVersion reads (and presigns) a given version. ListBucket
# (on the bucket's ARN) makes S3 answer a missing key 404 rather than 403, so "absent" can be told apart
# from "denied" (put's idempotency check, head). No ListBucketVersions: nothing lists versions.
BUCKET_READ = ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket")
# PutObjectRetention: a write that sets its own Object Lock retention. Nothing may delete.
BUCKET_WRITE = ("s3:PutObject", "s3:PutObjectRetention")

# (kind of resource, access) -> IAM actions. A declaration using a pair missing here fails the synth.
ACTIONS: dict[tuple[type, Access], tuple[str, ...]] = {
    (Table, Access.READ): TABLE_READ,
    (Table, Access.READ_WRITE): TABLE_READ + TABLE_WRITE,
    (ParameterTree, Access.READ): ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"),
    (Bucket, Access.READ): BUCKET_READ,
    (Bucket, Access.READ_WRITE): BUCKET_READ + BUCKET_WRITE,
    (Key, Access.ENCRYPT): ("kms:GenerateDataKey",),
    (Key, Access.DECRYPT): ("kms:Decrypt",),
    (Key, Access.ENCRYPT_DECRYPT): ("kms:GenerateDataKey", "kms:Decrypt"),
    (Key, Access.MAC): ("kms:GenerateMac",),
    (StateMachine, Access.START): ("states:StartExecution",),
    # Task tokens are answered on the executions of the machine.
    (StateMachine, Access.CALLBACK): ("states:SendTaskSuccess", "states:SendTaskFailure"),
    (StateMachine, Access.START_AND_CALLBACK): ("states:StartExecution", "states:SendTaskSuccess", "states:SendTaskFailure"),
    # InitiateAuth with a public app client and the pool's published keys need no IAM permission.
    (UserPool, Access.SIGN_IN): (),
    (UserPoolClient, Access.SIGN_IN): (),
}
XRAY_WRITE = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# What Step Functions needs to deliver a state machine's logs and traces.
STATE_MACHINE_LOG_DELIVERY = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
STATE_MACHINE_XRAY = XRAY_WRITE + ("xray:GetSamplingRules", "xray:GetSamplingTargets")

# Chalice requires a role ARN when it does not manage roles; the stack overrides every function's Role.
ROLE_PLACEHOLDER = "overridden-per-function-by-the-stack"


@dataclass(frozen=True)
class Built:
    """What functions need of a built resource: their variable's value, and the ARNs a grant covers."""

    env_value: str
    arns: list[str]
    construct: Construct | None = None  # for resources that others are built with (a bucket's key)


def physical_name(stage: str, resource_id: str) -> str:
    """``{app}-{stage}-{id}``, as the local stack names the same resources."""
    return f"{APP_NAME}-{stage}-{resource_id}"


def bucket_name(stage: str, bucket_id: str, account: str, region: str) -> str:
    """``{app}-{stage}-{id}-{account}-{region}``, as the local stack names it: bucket names are
    global across all of AWS (and may not contain ``_``)."""
    return f"{APP_NAME}-{stage}-{bucket_id.replace('_', '-')}-{account}-{region}"


def pascal(name: str) -> str:
    return to_cfn_resource_name(name)


def chalice_logical_id(function_name: str) -> str:
    """The logical id ``chalice package`` gives a function (the REST API's is always APIHandler)."""
    return "APIHandler" if function_name == "api_handler" else to_cfn_resource_name(function_name)


def chalice_settings(stage: str) -> dict[str, object]:
    """The Chalice construct's configuration: ``.chalice/config.json`` resolved for ``stage``.

    The construct names its Chalice stage after the CDK stack, so it would not find
    ``stage`` in the config file; and it reads only top-level keys of this dict, never
    per-function ones. So the common values are resolved here, and the stack applies
    each function's role and resource variables to the packaged template itself.
    """
    disk = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    config = Config(chalice_stage=stage, config_from_disk=disk)
    return {
        "environment_variables": {**config.environment_variables, "STAGE": stage},
        "api_gateway_stage": config.api_gateway_stage or DEFAULT_APIGATEWAY_STAGE_NAME,
        "manage_iam_role": False,
        "iam_role_arn": ROLE_PLACEHOLDER,
        "xray": True,
    }


BACK_OFFICE_PREFIX = "/backoffice"


def give_the_back_office_its_function(template: dict, function_name: str, api_function: str = "APIHandler") -> dict:
    """The packaged SAM template with the back office's routes served by a function of their own.

    ``chalice package`` makes one function (``APIHandler``) for every route of the app. The back
    office (``/backoffice/...``) is another role, with other permissions: this copies the function
    under the back office's logical id (the same code and handler; its own role, variables and
    concurrency follow from ``resources.FUNCTIONS`` like any function's), points every
    ``/backoffice`` path of the REST API's definition at it, and lets API Gateway invoke it. The
    partner API's function is then never called for a back-office route, and needs none of its grants.
    """
    resources_ = template["Resources"]
    logical_id = chalice_logical_id(function_name)
    resources_[logical_id] = json.loads(json.dumps(resources_[api_function]))
    old = "${%s.Arn}" % api_function
    new = "${%s.Arn}" % logical_id
    routed = 0
    for path, item in resources_["RestAPI"]["Properties"]["DefinitionBody"]["paths"].items():
        if path != BACK_OFFICE_PREFIX and not path.startswith(BACK_OFFICE_PREFIX + "/"):
            continue
        for operation in item.values():
            integration = operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
            if integration and old in json.dumps(integration["uri"]):
                integration["uri"] = json.loads(json.dumps(integration["uri"]).replace(old, new))
                routed += 1
    if not routed:
        raise ValueError("no back-office route found in the packaged REST API")
    permission = json.loads(json.dumps(resources_[f"{api_function}InvokePermission"]))
    permission["Properties"]["FunctionName"] = {"Ref": logical_id}
    resources_[f"{logical_id}InvokePermission"] = permission
    return template


class PackagedApp(Chalice):
    """The Chalice app as ``chalice package`` makes it, with the back office on a function of its own."""

    def _generate_sam_template_with_assets(self, chalice_out_dir: str, package_id: str) -> str:
        path = super()._generate_sam_template_with_assets(chalice_out_dir, package_id)
        template = json.loads(Path(path).read_text(encoding="utf-8"))
        Path(path).write_text(json.dumps(give_the_back_office_its_function(template, resources.BACK_OFFICE_FUNCTION), indent=2), encoding="utf-8")
        return path


def _attribute(name: str | None) -> dynamodb.Attribute | None:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING) if name else None


ON_DEMAND = "on_demand"
PROVISIONED = "provisioned"
# Auto scaling keeps consumed capacity near this share of the provisioned capacity: headroom for a
# burst while it scales up (DynamoDB's own default target).
TARGET_UTILIZATION_PERCENT = 70
# Capacity units, for reads and for writes alike, of a table and of each of its indexes. The maximum is
# DynamoDB's default per-table quota (40,000 read and 40,000 write units).
DEFAULT_MIN_CAPACITY = 5
DEFAULT_MAX_CAPACITY = 40_000


@dataclass(frozen=True)
class TableCapacity:
    """How every table and its global secondary indexes pay for reads and writes.

    On demand (the default) pays per request and needs no planning. Provisioned starts each
    table and index at ``min_capacity`` read and write units, and Application Auto Scaling
    tracks ``TARGET_UTILIZATION_PERCENT`` between ``min_capacity`` and ``max_capacity``: for
    steady daytime traffic about 40% of the on-demand price per write.
    """

    mode: str = ON_DEMAND
    min_capacity: int = DEFAULT_MIN_CAPACITY
    max_capacity: int = DEFAULT_MAX_CAPACITY

    def __post_init__(self) -> None:
        if self.mode not in (ON_DEMAND, PROVISIONED):
            raise ValueError(f"dynamodb_capacity {self.mode!r}: use {ON_DEMAND} or {PROVISIONED}")
        if not 1 <= self.min_capacity <= self.max_capacity:
            raise ValueError(
                f"dynamodb_min_capacity {self.min_capacity}, dynamodb_max_capacity {self.max_capacity}: need 1 <= min <= max"
            )

    @property
    def provisioned(self) -> bool:
        return self.mode == PROVISIONED


def dynamodb_capacity(scope: Construct, environ: Mapping[str, str] = os.environ) -> TableCapacity:
    """The one switch between on-demand and provisioned tables, read as the stage is: context first
    (``-c dynamodb_capacity=provisioned``, ``-c dynamodb_min_capacity=10``, ``-c dynamodb_max_capacity=20000``),
    else DYNAMODB_CAPACITY, DYNAMODB_MIN_CAPACITY, DYNAMODB_MAX_CAPACITY, else on demand, 5 and 40,000.
    A value it does not understand fails the synth rather than deploying something else."""

    def setting(name: str) -> str | None:
        given = scope.node.try_get_context(name)
        if given is None or given == "":
            given = environ.get(name.upper()) or None
        return None if given is None else str(given).strip()

    def units(name: str, default: int) -> int:
        given = setting(name)
        if not given:
            return default
        if not given.isdigit():
            raise ValueError(f"{name} {given!r}: a whole number of capacity units")
        return int(given)

    return TableCapacity(
        mode=(setting("dynamodb_capacity") or ON_DEMAND).lower(),
        min_capacity=units("dynamodb_min_capacity", DEFAULT_MIN_CAPACITY),
        max_capacity=units("dynamodb_max_capacity", DEFAULT_MAX_CAPACITY),
    )


# Lambda's default concurrency quota of an account and region, and what must stay unreserved in it.
DEFAULT_ACCOUNT_CONCURRENCY = 1000
UNRESERVED_MINIMUM = 100


def reserved_concurrency(scope: Construct, environ: Mapping[str, str] = os.environ) -> dict[str, int | None]:
    """Each function's reserved concurrent executions: its declared ``concurrency`` unless told otherwise,
    read as the stage is: context first, else the environment. ``-c reserved_concurrency=off``
    (RESERVED_CONCURRENCY=off) reserves nothing, for an account whose quota is too small;
    ``-c reserved_concurrency_api_handler=400`` (RESERVED_CONCURRENCY_API_HANDLER) sets one function's;
    ``-c lambda_account_concurrency=N`` is the account's quota (1,000 by default), of which 100 must stay
    unreserved, as Lambda requires. A setting it does not understand fails the synth."""

    def setting(name: str) -> str | None:
        given = scope.node.try_get_context(name)
        if given is None or given == "":
            given = environ.get(name.upper()) or None
        return None if given is None else str(given).strip()

    def whole(name: str, text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{name} {text!r}: a whole number of concurrent executions, 1 or more")
        return int(text)

    switch = (setting("reserved_concurrency") or "on").lower()
    if switch not in ("on", "off"):
        raise ValueError(f"reserved_concurrency {switch!r}: use on or off")
    if switch == "off":
        return {fn.name: None for fn in resources.FUNCTIONS}
    chosen = {}
    for fn in resources.FUNCTIONS:
        name = f"reserved_concurrency_{fn.name}"
        given = setting(name)
        chosen[fn.name] = whole(name, given) if given else fn.concurrency
    quota_text = setting("lambda_account_concurrency")
    quota = whole("lambda_account_concurrency", quota_text) if quota_text else DEFAULT_ACCOUNT_CONCURRENCY
    if sum(chosen.values()) > quota - UNRESERVED_MINIMUM:
        raise ValueError(
            f"the functions reserve {sum(chosen.values())} concurrent executions of the account's {quota}: "
            f"at most {quota - UNRESERVED_MINIMUM} (Lambda keeps {UNRESERVED_MINIMUM} unreserved); lower some, "
            "or -c reserved_concurrency=off"
        )
    return chosen


def _track_utilization(*scaled: dynamodb.IScalableTableAttribute) -> None:
    """Target tracking: capacity follows consumption, kept at ``TARGET_UTILIZATION_PERCENT``."""
    for attribute in scaled:
        attribute.scale_on_utilization(target_utilization_percent=TARGET_UTILIZATION_PERCENT)


def build_table(scope: cdk.Stack, stage: str, table: Table, capacity: TableCapacity = TableCapacity()) -> Built:
    """A table with its indexes, encrypted, with point-in-time recovery, retained; billed as
    ``capacity`` says (on demand unless asked otherwise)."""
    provisioned = capacity.provisioned
    units = {"read_capacity": capacity.min_capacity, "write_capacity": capacity.min_capacity} if provisioned else {}
    created = dynamodb.Table(
        scope,
        pascal(table.id) + "Table",
        table_name=physical_name(stage, table.id),
        partition_key=_attribute(table.partition_key),
        sort_key=_attribute(table.sort_key),
        billing_mode=dynamodb.BillingMode.PROVISIONED if provisioned else dynamodb.BillingMode.PAY_PER_REQUEST,
        **units,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
        time_to_live_attribute=table.ttl_attribute,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    for index in table.indexes:
        created.add_global_secondary_index(
            index_name=index.name,
            partition_key=_attribute(index.partition_key),
            sort_key=_attribute(index.sort_key),
            projection_type=dynamodb.ProjectionType[index.projection],
            **units,
        )
    if provisioned:
        bounds = {"min_capacity": capacity.min_capacity, "max_capacity": capacity.max_capacity}
        _track_utilization(created.auto_scale_read_capacity(**bounds), created.auto_scale_write_capacity(**bounds))
        for index in table.indexes:
            _track_utilization(
                created.auto_scale_global_secondary_index_read_capacity(index.name, **bounds),
                created.auto_scale_global_secondary_index_write_capacity(index.name, **bounds),
            )
    cdk.CfnOutput(scope, pascal(table.id) + "TableName", value=created.table_name)
    indexes = [f"{created.table_arn}/index/*"] if table.indexes else []
    return Built(created.table_name, [created.table_arn, *indexes])


def build_key(scope: cdk.Stack, stage: str, key: Key) -> Built:
    created = kms.Key(
        scope,
        pascal(key.id) + "Key",
        alias=key.alias(stage),
        description=key.description,
        key_spec=kms.KeySpec(key.spec),
        key_usage=kms.KeyUsage(key.usage),
        enable_key_rotation=key.spec == "SYMMETRIC_DEFAULT",  # KMS rotates only symmetric keys
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    return Built(created.key_id, [created.key_arn], created)


def archive_retention_days(stage: str) -> int:
    """ARCHIVE_RETENTION_DAYS of ``.chalice/config.json`` for ``stage``: the functions lock each
    version they write for as long, and the bucket's default retention is the same."""
    variables = chalice_settings(stage)["environment_variables"]
    assert isinstance(variables, dict)
    return int(variables["ARCHIVE_RETENTION_DAYS"])


def build_bucket(scope: cdk.Stack, stage: str, bucket: Bucket, key: kms.IKey, retention_days: int) -> Built:
    """Versioned, SSE-KMS with ``key`` (S3 Bucket Keys: one KMS call per bucket key, not per object),
    public access blocked, TLS only, retained; with ``object_lock``, a default retention in
    COMPLIANCE mode of ``retention_days`` (the functions also set it on each version they write)."""
    created = s3.Bucket(
        scope,
        pascal(bucket.id) + "Bucket",
        bucket_name=bucket_name(stage, bucket.id, scope.account, scope.region),
        versioned=True,
        object_lock_enabled=True if bucket.object_lock else None,
        object_lock_default_retention=(
            s3.ObjectLockRetention.compliance(cdk.Duration.days(retention_days)) if bucket.object_lock else None
        ),
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        lifecycle_rules=[
            s3.LifecycleRule(
                id=f"expire-{prefix.strip('/').replace('/', '-')}",
                prefix=prefix,
                expiration=cdk.Duration.days(days),
                noncurrent_version_expiration=cdk.Duration.days(1),
            )
            for prefix, days in bucket.expire
        ]
        or None,
    )
    cdk.CfnOutput(scope, pascal(bucket.id) + "BucketName", value=created.bucket_name)
    # Object actions apply to "arn/*", ListBucket to the bucket's own ARN.
    return Built(created.bucket_name, [created.bucket_arn, created.arn_for_objects("*")], created)


def build_parameter_tree(scope: cdk.Stack, stage: str, tree: ParameterTree) -> Built:
    """Operators put the SecureStrings; the stack only names the tree and grants on it."""
    path = f"/{APP_NAME}/{stage}{tree.path}"
    # GetParametersByPath is authorized on the path itself; GetParameter(s) on each name below it.
    arns = [scope.format_arn(service="ssm", resource="parameter", resource_name=path[1:] + s) for s in ("", "/*")]
    return Built(path, arns)


def build_state_machine(scope: cdk.Stack, stage: str, machine: StateMachine, functions: dict[str, str]) -> Built:
    """``functions`` maps each placeholder of the definition to its function's ARN."""
    name = physical_name(stage, machine.id)
    role = iam.Role(
        scope,
        pascal(machine.id) + "StateMachineRole",
        assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
        description=f"State machine {name}",
        inline_policies={
            "state-machine": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=sorted(set(functions.values()))),
                    # Log delivery and X-Ray take no resource-level permissions.
                    iam.PolicyStatement(actions=[*STATE_MACHINE_LOG_DELIVERY, *STATE_MACHINE_XRAY], resources=["*"]),
                ]
            )
        },
    )
    log_group = logs.LogGroup(
        scope,
        pascal(machine.id) + "StateMachineLogs",
        log_group_name=f"/aws/vendedlogs/states/{name}",
        retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    created = CfnStateMachine(
        scope,
        pascal(machine.id) + "StateMachine",
        state_machine_name=name,
        state_machine_type=machine.type,
        definition_string=(ROOT / "statemachines" / machine.definition).read_text(encoding="utf-8"),
        definition_substitutions=functions,
        role_arn=role.role_arn,
        tracing_configuration=CfnStateMachine.TracingConfigurationProperty(enabled=True),
        logging_configuration=CfnStateMachine.LoggingConfigurationProperty(
            level=machine.log_level,  # origination: errors only (resources.py says why)
            include_execution_data=False,
            destinations=[
                CfnStateMachine.LogDestinationProperty(
                    cloud_watch_logs_log_group=CfnStateMachine.CloudWatchLogsLogGroupProperty(log_group_arn=log_group.log_group_arn)
                )
            ],
        ),
    )
    cdk.CfnOutput(scope, pascal(machine.id) + "StateMachineArn", value=created.attr_arn)
    return Built(created.attr_arn, [created.attr_arn])


def build_user_pool(scope: cdk.Stack, stage: str, pool: UserPool, branch_codes: list[str]) -> Built:
    """Administrators create the users (no sign-up, no self-service recovery); usernames are
    case-insensitive; a strong password; the standard ``name`` attribute is required. A group per
    role and per branch (``chalicelib/domain/operator.py`` names them). MFA stays off until the
    console can answer Cognito's MFA challenge."""
    created = cognito.UserPool(
        scope,
        pascal(pool.id) + "UserPool",
        user_pool_name=physical_name(stage, pool.id),
        self_sign_up_enabled=False,
        sign_in_aliases=cognito.SignInAliases(username=True),
        sign_in_case_sensitive=False,
        standard_attributes=cognito.StandardAttributes(fullname=cognito.StandardAttribute(required=True, mutable=True)),
        password_policy=cognito.PasswordPolicy(
            min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True, require_symbols=False,
            temp_password_validity=cdk.Duration.days(3),
        ),
        mfa=cognito.Mfa.OFF,
        account_recovery=cognito.AccountRecovery.NONE,
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    for group in (*role_groups(), *(branch_group(code) for code in branch_codes)):
        cognito.CfnUserPoolGroup(
            scope,
            pascal(pool.id) + pascal(group) + "Group",
            user_pool_id=created.user_pool_id,
            group_name=group,
            description=f"Back-office operators: {group}",
        )
    cdk.CfnOutput(scope, pascal(pool.id) + "UserPoolId", value=created.user_pool_id)
    return Built(created.user_pool_id, [created.user_pool_arn], created)


# The claims an app client's id tokens may carry: declared attribute name -> CDK's standard attribute.
_STANDARD_ATTRIBUTES = {"name": "fullname", "email": "email", "phone_number": "phone_number", "preferred_username": "preferred_username"}


def build_user_pool_client(scope: cdk.Stack, stage: str, app_client: UserPoolClient, pool: cognito.UserPool) -> Built:
    """No secret; USER_PASSWORD_AUTH and refresh tokens (CDK adds ALLOW_REFRESH_TOKEN_AUTH); no
    OAuth (no hosted UI); unknown users answer as a wrong password; tokens can be revoked."""
    created = pool.add_client(
        pascal(app_client.id) + "Client",
        user_pool_client_name=physical_name(stage, app_client.id),
        generate_secret=False,
        auth_flows=cognito.AuthFlow(user_password=True),
        disable_o_auth=True,
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        id_token_validity=cdk.Duration.minutes(app_client.id_token_minutes),
        access_token_validity=cdk.Duration.minutes(app_client.id_token_minutes),
        refresh_token_validity=cdk.Duration.hours(app_client.refresh_token_hours),
        read_attributes=cognito.ClientAttributes().with_standard_attributes(
            **{_STANDARD_ATTRIBUTES[name]: True for name in app_client.read_attributes}
        ),
        write_attributes=cognito.ClientAttributes(),
    )
    cdk.CfnOutput(scope, pascal(app_client.id) + "UserPoolClientId", value=created.user_pool_client_id)
    return Built(created.user_pool_client_id, [pool.user_pool_arn], created)


def branch_codes(scope: Construct) -> list[str]:
    """The branches that get an operators' group: ``-c branches=BR_A,BR_B``, else the sample's."""
    given = scope.node.try_get_context("branches")
    if given:
        return sorted({code.strip() for code in str(given).split(",") if code.strip()})
    sample = json.loads((ROOT / "config" / "sample" / "branches.json").read_text(encoding="utf-8"))
    return sorted(raw["branch_code"] for raw in sample)


CONSOLE_DIR = ROOT / "console"


def console_config(stage: str, branches: list[str]) -> dict[str, object]:
    """The console's ``config.json``: nothing secret. The API is on the console's own origin."""
    return {"stage": stage, "apiBase": "", "timeZone": "Asia/Shanghai", "defaultLanguage": "zh-CN", "branches": branches}


# Tables are built apart: they take the stack's capacity setting too.
BUILDERS: dict[type, Callable[..., Built]] = {
    Key: build_key,
    ParameterTree: build_parameter_tree,
}


class PlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, stage: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)
        self.stage = stage
        self.built: dict[str, Built] = {}
        self.table_capacity = dynamodb_capacity(self)
        self.concurrency = reserved_concurrency(self)
        for table in resources.TABLES:
            self.built[table.id] = build_table(self, stage, table, self.table_capacity)
        for declared in (*resources.KEYS, *resources.PARAMETER_TREES):
            self.built[declared.id] = BUILDERS[type(declared)](self, stage, declared)
        for bucket in resources.BUCKETS:
            key = self.built[bucket.key].construct
            assert isinstance(key, kms.Key), f"bucket {bucket.id}: {bucket.key} is not a declared key"
            self.built[bucket.id] = build_bucket(self, stage, bucket, key, archive_retention_days(stage))
        branches = branch_codes(self)
        for pool in resources.USER_POOLS:
            self.built[pool.id] = build_user_pool(self, stage, pool, branches)
        for app_client in resources.USER_POOL_CLIENTS:
            user_pool = self.built[app_client.pool].construct
            assert isinstance(user_pool, cognito.UserPool), f"app client {app_client.id}: {app_client.pool} is not a declared user pool"
            self.built[app_client.id] = build_user_pool_client(self, stage, app_client, user_pool)

        self.chalice = PackagedApp(self, "ChaliceApp", source_dir=str(ROOT), stage_config=chalice_settings(stage))
        self._check_functions_declared()
        self._contract_shaped_gateway_errors()

        for machine in resources.STATE_MACHINES:
            functions = {placeholder: self.function_arn(fn) for placeholder, fn in machine.functions.items()}
            self.built[machine.id] = build_state_machine(self, stage, machine, functions)
        for bucket in resources.BUCKETS:
            for prefix, fn in bucket.notifications:
                self._notify(bucket, prefix, fn)
        for fn in resources.FUNCTIONS:
            self._configure_function(fn)
        self._console(stage, branches)

    def _console(self, stage: str, branches: list[str]) -> None:
        """The console as a static site, and ``/backoffice/*`` to the API, on one CloudFront origin.

        The bucket is private (CloudFront reads it through origin access control). The API
        behaviour caches nothing an operator could see twice: its cache key includes the
        ``Authorization`` header (so CloudFront forwards it) with TTLs of 0 (at most 1 s when an
        answer asks for caching), and every other viewer header but ``Host`` goes to the API."""
        bucket = s3.Bucket(
            self,
            "ConsoleBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        api_stage = chalice_settings(stage)["api_gateway_stage"]
        api_domain = f"{self.chalice.get_resource('RestAPI').ref}.execute-api.{self.region}.{self.url_suffix}"
        api_origin = origins.HttpOrigin(
            api_domain,
            origin_path=f"/{api_stage}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        api_cache = cloudfront.CachePolicy(
            self,
            "ConsoleApiCachePolicy",
            cache_policy_name=physical_name(stage, "backoffice-api"),
            comment="The back-office API: keyed by the operator's token, not cached unless an answer asks (1 s at most)",
            min_ttl=cdk.Duration.seconds(0),
            default_ttl=cdk.Duration.seconds(0),
            max_ttl=cdk.Duration.seconds(1),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
        )
        distribution = cloudfront.Distribution(
            self,
            "ConsoleDistribution",
            comment=f"{APP_NAME} {stage} back-office console",
            default_root_object="index.html",
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            additional_behaviors={
                "/backoffice/*": cloudfront.BehaviorOptions(
                    origin=api_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=api_cache,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                ),
            },
        )
        s3_deployment.BucketDeployment(
            self,
            "ConsoleDeployment",
            destination_bucket=bucket,
            sources=[
                s3_deployment.Source.asset(str(CONSOLE_DIR)),
                s3_deployment.Source.json_data("config.json", console_config(stage, branches)),
            ],
            distribution=distribution,
            distribution_paths=["/*"],
            prune=True,
        )
        cdk.CfnOutput(self, "ConsoleUrl", value=f"https://{distribution.distribution_domain_name}/")

    def _contract_shaped_gateway_errors(self) -> None:
        """Errors API Gateway answers itself (unknown route, throttling, a too large body, a
        Lambda failure) come in the partner contract's shape too: ``{"code", "message", "details"}``."""
        template = '{"code": "$context.error.responseType", "message": $context.error.messageString, "details": []}'
        for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
            apigateway.CfnGatewayResponse(
                self,
                pascal(response_type.lower()) + "GatewayResponse",
                rest_api_id=self.chalice.get_resource("RestAPI").ref,
                response_type=response_type,
                response_templates={"application/json": template},
                response_parameters={"gatewayresponse.header.Content-Type": "'application/json'"},
            )

    def _notify(self, bucket: Bucket, prefix: str, function_name: str) -> None:
        """An object created under ``prefix`` invokes the function (S3 event; S3 may invoke it)."""
        from aws_cdk import aws_lambda, aws_s3_notifications

        target = aws_lambda.Function.from_function_attributes(
            self, pascal(function_name) + "Notified", function_arn=self.function_arn(function_name), same_environment=True
        )
        self.built[bucket.id].construct.add_event_notification(
            s3.EventType.OBJECT_CREATED, aws_s3_notifications.LambdaDestination(target), s3.NotificationKeyFilter(prefix=prefix)
        )

    def function_arn(self, function_name: str) -> str:
        return self.chalice.get_function(chalice_logical_id(function_name)).function_arn

    def _check_functions_declared(self) -> None:
        packaged = {
            child.node.id
            for child in self.chalice.sam_template.node.children
            if isinstance(child, cdk.CfnResource) and child.cfn_resource_type == "AWS::Serverless::Function"
        }
        declared = {chalice_logical_id(fn.name) for fn in resources.FUNCTIONS}
        if packaged != declared:
            raise ValueError(
                f"app.py and resources.FUNCTIONS disagree: only packaged {sorted(packaged - declared)}, "
                f"only declared {sorted(declared - packaged)}"
            )

    def _configure_function(self, fn: resources.Function) -> None:
        """Give the packaged function its own least-privilege role and its resources' variables."""
        declared = resources.all_resources()
        statements = [
            iam.PolicyStatement(actions=list(ACTIONS[(type(declared[rid]), access)]), resources=self.built[rid].arns)
            for rid, access in sorted(fn.uses.items())
            if ACTIONS[(type(declared[rid]), access)]  # signing in with a public app client needs no IAM action
        ]
        statements.append(iam.PolicyStatement(actions=list(XRAY_WRITE), resources=["*"]))
        role = iam.Role(
            self,
            pascal(fn.name) + "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Lambda function {fn.name}",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaBasicExecutionRole")],
            inline_policies={"access": iam.PolicyDocument(statements=statements)},
        )
        logical_id = chalice_logical_id(fn.name)
        # Kept a year, as the state machines' logs. (Chalice's own log_retention_in_days
        # refers to the API function by a logical id its template does not have.)
        logs.LogGroup(
            self,
            pascal(fn.name) + "Logs",
            log_group_name=f"/aws/lambda/{self.chalice.get_function(logical_id).function_name}",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        function = self.chalice.get_resource(logical_id)
        function.add_property_override("Role", role.role_arn)
        function.add_property_override("Description", fn.description)
        function.add_property_override("Timeout", fn.timeout)
        function.add_property_override("MemorySize", fn.memory)
        if self.concurrency[fn.name] is not None:
            function.add_property_override("ReservedConcurrentExecutions", self.concurrency[fn.name])
        for rid in fn.uses:
            self.chalice.add_environment_variable(declared[rid].env, self.built[rid].env_value, logical_id)
