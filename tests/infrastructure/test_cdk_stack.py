"""The synthesized CDK template builds exactly what ``chalicelib/resources.py`` declares.

Expected values come from the declarations and from the rules below, never from
``infrastructure/stack.py``: an extra grant, variable or resource in the stack fails here.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from chalicelib import resources
from chalicelib.domain.operator import branch_group, role_groups
from chalicelib.resources import Access, Bucket, Key, ParameterTree, StateMachine, Table, UserPool, UserPoolClient
from tests.infrastructure.cfn import Synthesized, as_list, render
from tests.infrastructure.conftest import synthesize

pytestmark = pytest.mark.infrastructure

ROOT = Path(__file__).resolve().parents[2]

TABLE_READ = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DescribeTable",
    "dynamodb:ConditionCheckItem",
}
TABLE_WRITE = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
# HeadObject is authorised by GetObject; a given version needs GetObjectVersion; ListBucket makes a
# missing key 404 (not 403). Writers set each version's retention; nobody deletes.
BUCKET_READ = {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}
BUCKET_WRITE = {"s3:PutObject", "s3:PutObjectRetention"}
EXPECTED_ACTIONS = {
    (Table, Access.READ): TABLE_READ,
    (Table, Access.READ_WRITE): TABLE_READ | TABLE_WRITE,
    (ParameterTree, Access.READ): {"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"},
    (Bucket, Access.READ): BUCKET_READ,
    (Bucket, Access.READ_WRITE): BUCKET_READ | BUCKET_WRITE,
    (Key, Access.ENCRYPT): {"kms:GenerateDataKey"},
    (Key, Access.DECRYPT): {"kms:Decrypt"},
    (Key, Access.ENCRYPT_DECRYPT): {"kms:GenerateDataKey", "kms:Decrypt"},
    (Key, Access.MAC): {"kms:GenerateMac"},
    (StateMachine, Access.START): {"states:StartExecution"},
    (StateMachine, Access.CALLBACK): {"states:SendTaskSuccess", "states:SendTaskFailure"},
    (StateMachine, Access.START_AND_CALLBACK): {"states:StartExecution", "states:SendTaskSuccess", "states:SendTaskFailure"},
    # InitiateAuth with a public app client, and the pool's published keys: no IAM permission at all.
    (UserPool, Access.SIGN_IN): set(),
    (UserPoolClient, Access.SIGN_IN): set(),
}
XRAY_WRITE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
LAMBDA_BASIC_EXECUTION = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# What Step Functions itself needs on "*" to deliver logs and traces (AWS documents no narrower resource).
STATE_MACHINE_SERVICE_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}
FUNCTION_NAMES = [fn.name for fn in resources.FUNCTIONS]


def handlers() -> dict[str, str]:
    """Chalice function name -> its Lambda handler, from the Chalice app itself."""
    import app

    found = {"api_handler": "app.app", resources.BACK_OFFICE_FUNCTION: "app.app"}
    found.update({f.name: f.handler_string for f in app.app.pure_lambda_functions})
    found.update({e.name: e.handler_string for e in app.app.event_sources})
    return found


def function_id(stack: Synthesized, name: str) -> str:
    """The function's logical id: by its handler, but for the REST API's two (the same handler, two roles)."""
    if handlers()[name] == "app.app":
        from infrastructure.stack import chalice_logical_id

        assert stack.props(chalice_logical_id(name))["Handler"] == "app.app"
        return chalice_logical_id(name)
    return stack.function_logical_id(handlers()[name])


def expected_grants(stack: Synthesized, fn: resources.Function) -> dict[str, set[str]]:
    expected = {"*": XRAY_WRITE}
    for rid, access in fn.uses.items():
        declared = resources.all_resources()[rid]
        if not EXPECTED_ACTIONS[(type(declared), access)]:
            continue
        for arn in stack.grant_arns(declared):
            expected[arn] = EXPECTED_ACTIONS[(type(declared), access)]
    return expected


def configured(name: str, stage: str) -> str:
    """A common variable of ``.chalice/config.json`` as ``stage`` resolves it."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return {**config["environment_variables"], **config["stages"].get(stage, {}).get("environment_variables", {})}[name]


def key_schema(partition_key: str, sort_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    return schema + ([{"AttributeName": sort_key, "KeyType": "RANGE"}] if sort_key else [])


def assert_table(stack: Synthesized, table: Table, provisioned_units: int | None = None) -> None:
    """``provisioned_units``: None for on demand (the default), else the read and write units the
    table and each of its indexes start with (auto scaling's minimum)."""
    resource = stack.resources[stack.logical_id(table)]
    props = resource["Properties"]
    assert props["KeySchema"] == key_schema(table.partition_key, table.sort_key)
    names = {table.partition_key, table.sort_key} | {i.partition_key for i in table.indexes} | {i.sort_key for i in table.indexes}
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": name, "AttributeType": "S"} for name in sorted(names - {None})
    ]
    throughput = None if provisioned_units is None else {"ReadCapacityUnits": provisioned_units, "WriteCapacityUnits": provisioned_units}
    # CloudFormation's default BillingMode is PROVISIONED
    assert props.get("BillingMode", "PROVISIONED") == ("PAY_PER_REQUEST" if throughput is None else "PROVISIONED")
    assert props.get("ProvisionedThroughput") == throughput
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    indexes = {index["IndexName"]: index for index in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in table.indexes}
    for index in table.indexes:
        assert indexes[index.name]["KeySchema"] == key_schema(index.partition_key, index.sort_key)
        assert indexes[index.name]["Projection"] == {"ProjectionType": index.projection}
        assert indexes[index.name].get("ProvisionedThroughput") == throughput
    if table.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": table.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


def assert_bucket(stack: Synthesized, bucket: Bucket, key: Key, retention_days: int) -> None:
    lid = stack.logical_id(bucket)  # found by its declared name
    resource = stack.resources[lid]
    props = resource["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    if bucket.object_lock:
        assert props["ObjectLockEnabled"] is True
        assert props["ObjectLockConfiguration"] == {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": retention_days}},
        }
    else:
        assert "ObjectLockEnabled" not in props and "ObjectLockConfiguration" not in props
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert key.id == bucket.key
    assert render(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == "${%s.Arn}" % stack.logical_id(key)
    assert rule["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    # TLS only: every request over plain HTTP is denied, on the bucket and on every object.
    denied = [
        s for s in stack.bucket_policy(lid)
        if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denied) == 1 and denied[0]["Action"] == "s3:*" and denied[0]["Principal"] == {"AWS": "*"}
    assert sorted(render(r) for r in as_list(denied[0]["Resource"])) == sorted(stack.grant_arns(bucket))
    assert all(s["Effect"] == "Deny" for s in stack.bucket_policy(lid)), "the bucket policy only denies"


# -- resources ---------------------------------------------------------------------------


@pytest.mark.parametrize("table", resources.TABLES, ids=lambda t: t.id)
def test_every_declared_table_exists_with_its_keys_indexes_and_ttl(stack, table):
    assert_table(stack, table)


def test_a_table_with_indexes_and_ttl_needs_no_stack_edit():
    """The table builder on a declaration with what the current ones lack: indexes, a TTL."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infrastructure.stack import build_table

    table = Table(
        id="loans",
        env="LOANS_TABLE_NAME",
        partition_key="pk",
        sort_key="sk",
        indexes=(resources.Index("by_partner", "partner_id", "created_at"), resources.Index("by_status", "status")),
        ttl_attribute="expires_at",
    )
    scope = cdk.Stack(cdk.App(), "TableOnly")
    build_table(scope, "dev", table)
    built = Synthesized(Template.from_stack(scope).to_json(), "dev")
    assert_table(built, table)
    assert built.grant_arns(table) == ["${%s.Arn}" % built.logical_id(table), "${%s.Arn}/index/*" % built.logical_id(table)]


def test_tables_are_on_demand_by_default_with_no_auto_scaling(stack):
    assert all(stack.props(lid)["BillingMode"] == "PAY_PER_REQUEST" for lid in stack.of_type("AWS::DynamoDB::Table"))
    assert not stack.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    assert not stack.of_type("AWS::ApplicationAutoScaling::ScalingPolicy")


def test_the_stack_makes_only_declared_tables_keys_and_state_machines(stack):
    assert len(stack.of_type("AWS::DynamoDB::Table")) == len(resources.TABLES)
    assert len(stack.of_type("AWS::S3::Bucket")) == len(resources.BUCKETS) + 1  # and the console's site
    assert len(stack.of_type("AWS::Cognito::UserPool")) == len(resources.USER_POOLS)
    assert len(stack.of_type("AWS::Cognito::UserPoolClient")) == len(resources.USER_POOL_CLIENTS)
    assert len(stack.of_type("AWS::KMS::Key")) == len(resources.KEYS)
    assert len(stack.of_type("AWS::StepFunctions::StateMachine")) == len(resources.STATE_MACHINES)
    assert not stack.of_type("AWS::SSM::Parameter"), "operators put the secrets; the stack must not"


@pytest.mark.parametrize("key", resources.KEYS, ids=lambda k: k.id)
def test_every_declared_key_has_its_spec_usage_alias_and_rotates_if_it_can(stack, key):
    # logical_id finds the key through the alias named in the declaration
    props = stack.props(stack.logical_id(key))
    assert props.get("KeySpec", "SYMMETRIC_DEFAULT") == key.spec
    assert props.get("KeyUsage", "ENCRYPT_DECRYPT") == key.usage
    assert props.get("EnableKeyRotation", False) is (key.spec == "SYMMETRIC_DEFAULT")
    assert props["Description"] == key.description
    assert stack.resources[stack.logical_id(key)]["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("bucket", resources.BUCKETS, ids=lambda b: b.id)
def test_every_declared_bucket_is_versioned_locked_encrypted_with_its_key_private_and_tls_only(stack, bucket):
    key = resources.all_resources()[bucket.key]
    assert_bucket(stack, bucket, key, int(configured("ARCHIVE_RETENTION_DAYS", stack.stage)))


def test_a_bucket_without_object_lock_needs_no_stack_edit():
    """The bucket builder on a declaration the current ones are not: no Object Lock."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infrastructure.stack import build_bucket, build_key

    key = Key(id="exports_key", env="EXPORTS_KEY_ID")
    bucket = Bucket(id="exports", env="EXPORTS_BUCKET_NAME", key="exports_key")
    scope = cdk.Stack(cdk.App(), "BucketOnly")
    built_key = build_key(scope, "dev", key)
    build_bucket(scope, "dev", bucket, built_key.construct, 30)
    built = Synthesized(Template.from_stack(scope).to_json(), "dev")
    assert_bucket(built, bucket, key, 30)
    assert built.grant_arns(bucket) == ["${%s.Arn}" % built.logical_id(bucket), "${%s.Arn}/*" % built.logical_id(bucket)]


def test_the_stack_grants_per_kind_of_resource_and_access_what_the_rules_say():
    """The whole table, also the rows no function uses yet (a bucket read by one function, written by another)."""
    from infrastructure.stack import ACTIONS

    assert {pair: set(actions) for pair, actions in ACTIONS.items()} == EXPECTED_ACTIONS


@pytest.mark.parametrize("machine", resources.STATE_MACHINES, ids=lambda m: m.id)
def test_every_state_machine_has_its_definition_with_exactly_its_placeholders(stack, machine):
    props = stack.props(stack.logical_id(machine))
    assert props["StateMachineType"] == machine.type
    definition = (ROOT / "statemachines" / machine.definition).read_text(encoding="utf-8")
    assert json.loads(props["DefinitionString"]) == json.loads(definition)
    placeholders = set(re.findall(r"\$\{(\w+)\}", props["DefinitionString"]))
    assert placeholders == set(props["DefinitionSubstitutions"]) == set(machine.functions)
    for placeholder, fn in machine.functions.items():
        assert render(props["DefinitionSubstitutions"][placeholder]) == "${%s.Arn}" % function_id(stack, fn)
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == machine.log_level and props["LoggingConfiguration"]["IncludeExecutionData"] is False
    [destination] = props["LoggingConfiguration"]["Destinations"]
    log_group = render(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
    assert stack.resources[log_group[2:-5]]["Type"] == "AWS::Logs::LogGroup"


@pytest.mark.parametrize("machine", resources.STATE_MACHINES, ids=lambda m: m.id)
def test_every_state_machine_role_may_invoke_only_its_functions(stack, machine):
    role = stack.role_of(stack.logical_id(machine), "RoleArn")
    assert stack.trusted_services(role) == {"states.amazonaws.com"}
    assert not stack.managed_policies(role)
    grants = stack.grants(role)
    service = grants.pop("*", set())
    assert service <= STATE_MACHINE_SERVICE_ACTIONS, service - STATE_MACHINE_SERVICE_ACTIONS
    assert grants == {"${%s.Arn}" % function_id(stack, fn): {"lambda:InvokeFunction"} for fn in machine.functions.values()}


# -- functions ---------------------------------------------------------------------------


def test_the_packaged_functions_are_exactly_the_declared_ones(stack):
    assert {function_id(stack, name) for name in FUNCTION_NAMES} == set(stack.of_type("AWS::Serverless::Function"))


def test_every_function_has_its_own_lambda_role(stack):
    roles = [stack.role_of(function_id(stack, name)) for name in FUNCTION_NAMES]
    assert len(set(roles)) == len(roles)
    for name, role in zip(FUNCTION_NAMES, roles):
        assert stack.trusted_services(role) == {"lambda.amazonaws.com"}, name
        assert stack.managed_policies(role) == {LAMBDA_BASIC_EXECUTION}, name
        props = stack.props(function_id(stack, name))
        assert "Policies" not in props and props["Tracing"] == "Active", name


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_each_function_role_grants_exactly_what_the_function_uses(stack, name):
    fn = resources.function(name)
    assert stack.grants(stack.role_of(function_id(stack, name))) == expected_grants(stack, fn)


def test_only_xray_is_granted_on_every_resource(stack):
    for name in FUNCTION_NAMES:
        for statement in stack.statements(stack.role_of(function_id(stack, name))):
            if "*" in [render(r) for r in as_list(statement["Resource"])]:
                assert set(as_list(statement["Action"])) <= XRAY_WRITE, (name, statement)


def test_an_extra_grant_fails_the_check(stack):
    """The grant check sees a statement added to a role, and a policy attached to it."""
    fn = next(fn for fn in resources.FUNCTIONS if Access.READ in fn.uses.values())
    rid = next(rid for rid, access in fn.uses.items() if access is Access.READ)
    role = stack.role_of(function_id(stack, fn.name))
    extra = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": stack.grant_arns(resources.all_resources()[rid])[0]}

    widened = Synthesized(copy.deepcopy(stack.template), stack.stage)
    widened.props(role)["Policies"][0]["PolicyDocument"]["Statement"].append(extra)
    assert widened.grants(role) != expected_grants(widened, fn)

    attached = Synthesized(copy.deepcopy(stack.template), stack.stage)
    attached.resources["Extra"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyName": "extra", "Roles": [{"Ref": role}], "PolicyDocument": {"Statement": [{**extra, "Resource": "*"}]}},
    }
    assert attached.grants(role) != expected_grants(attached, fn)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_each_function_gets_exactly_its_resources_variables_and_the_common_ones(stack, name):
    fn = resources.function(name)
    variables = stack.props(function_id(stack, name))["Environment"]["Variables"]
    assert set(variables) == set(resources.env_for(fn)) | set(resources.COMMON_ENV)
    assert set(variables) <= resources.all_env_names()
    for rid in fn.uses:
        declared = resources.all_resources()[rid]
        assert render(variables[declared.env]) == stack.env_value(declared), declared.env
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    common = {**config["environment_variables"], **config["stages"][stack.stage].get("environment_variables", {})}
    assert {n: variables[n] for n in resources.COMMON_ENV} == {**common, "STAGE": stack.stage}


def test_outputs_name_the_api_tables_buckets_and_state_machines(stack):
    outputs = {render(o["Value"]) for o in stack.template["Outputs"].values()}
    assert "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/" in outputs
    for table in resources.TABLES:
        assert "${%s}" % stack.logical_id(table) in outputs
    for machine in resources.STATE_MACHINES:
        assert "${%s.Arn}" % stack.logical_id(machine) in outputs
    for bucket in resources.BUCKETS:
        assert "${%s}" % stack.logical_id(bucket) in outputs


@pytest.mark.parametrize("template", ["template_path", "provisioned_template_path"], ids=["on-demand", "provisioned"])
def test_cfn_lint_reports_no_errors(request, template):
    from cfnlint.api import lint_file

    matches = lint_file(request.getfixturevalue(template))
    errors = [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches if m.rule.severity == "error"]
    assert not errors, "\n".join(errors)


def test_every_function_logs_to_a_group_kept_a_year(stack):
    groups = [stack.props(lid) for lid in stack.of_type("AWS::Logs::LogGroup")]
    for name in FUNCTION_NAMES:
        fid = function_id(stack, name)
        owned = [g for g in groups if fid in json.dumps(g["LogGroupName"]) and "/aws/lambda/" in json.dumps(g["LogGroupName"])]
        assert len(owned) == 1 and owned[0]["RetentionInDays"] == 365, name


def test_api_gateway_s_own_errors_are_contract_shaped(stack):
    responses = {stack.props(lid)["ResponseType"]: stack.props(lid) for lid in stack.of_type("AWS::ApiGateway::GatewayResponse")}
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for props in responses.values():
        assert render(props["RestApiId"]) == "${RestAPI}"
        body = props["ResponseTemplates"]["application/json"]
        assert '"code": "$context.error.responseType"' in body and '"details": []' in body


def test_api_gateway_authorises_nothing_itself_the_app_checks_every_caller(stack):
    """Partners by their signature, operators by their Cognito id token: both in the app, on AWS as locally."""
    api = stack.props("RestAPI")["DefinitionBody"]
    for path, methods in api["paths"].items():
        for method, operation in methods.items():
            assert not operation.get("security"), (path, method)
    assert not api.get("securityDefinitions")


# -- the operators' identity and the console ------------------------------------------------


def test_the_operators_pool_has_a_group_per_role_and_per_branch_and_no_sign_up(stack):
    pool = stack.logical_id(resources.OPERATOR_POOL)
    props = stack.props(pool)
    assert props["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}
    assert props["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert {"Name": "name", "Mutable": True, "Required": True} in props["Schema"]
    assert stack.resources[pool]["DeletionPolicy"] == "Retain"
    branches = [raw["branch_code"] for raw in json.loads((ROOT / "config" / "sample" / "branches.json").read_text(encoding="utf-8"))]
    groups = {stack.props(lid)["GroupName"] for lid, r in stack.of_type("AWS::Cognito::UserPoolGroup").items() if render(r["Properties"]["UserPoolId"]) == "${%s}" % pool}
    assert groups == set(role_groups()) | {branch_group(code) for code in branches}


def test_the_console_client_has_no_secret_and_signs_in_by_password_with_refresh(stack):
    client = resources.CONSOLE_CLIENT
    props = stack.props(stack.logical_id(client))
    assert render(props["UserPoolId"]) == "${%s}" % stack.logical_id(resources.OPERATOR_POOL)
    assert props["GenerateSecret"] is False
    assert set(props["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert props["AllowedOAuthFlowsUserPoolClient"] is False
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert (props["IdTokenValidity"], props["TokenValidityUnits"]["IdToken"]) == (client.id_token_minutes, "minutes")
    assert props["ReadAttributes"] == list(client.read_attributes)


def test_the_console_is_a_private_bucket_behind_cloudfront_sharing_its_origin_with_the_back_office_api(stack):
    [(lid, distribution)] = stack.of_type("AWS::CloudFront::Distribution").items()
    config = distribution["Properties"]["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    site = origins[config["DefaultCacheBehavior"]["TargetOriginId"]]
    [bucket] = [b for b in stack.of_type("AWS::S3::Bucket") if render(site["DomainName"]) == "${%s.RegionalDomainName}" % b]
    assert render(site["OriginAccessControlId"]).endswith(".Id}") and site["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert stack.props(bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    readers = [s for s in stack.bucket_policy(bucket) if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in readers] == [{"Service": "cloudfront.amazonaws.com"}]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"

    [api] = config["CacheBehaviors"]
    assert api["PathPattern"] == "/backoffice/*" and api["ViewerProtocolPolicy"] == "https-only"
    assert {"POST", "PUT", "DELETE"} <= set(api["AllowedMethods"])
    api_origin = origins[api["TargetOriginId"]]
    assert render(api_origin["DomainName"]) == "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    assert api_origin["OriginPath"] == "/api" and api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    cache = stack.props(render(api["CachePolicyId"])[2:-1])["CachePolicyConfig"]
    assert (cache["MinTTL"], cache["DefaultTTL"], cache["MaxTTL"]) == (0, 0, 1)
    assert cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Authorization"]}

    [deployment] = stack.of_type("Custom::CDKBucketDeployment").values()
    assert render(deployment["Properties"]["DestinationBucketName"]) == "${%s}" % bucket
    assert render(deployment["Properties"]["DistributionId"]) == "${%s}" % lid
    assert len(deployment["Properties"]["SourceObjectKeys"]) == 2  # console/ and its config.json
    outputs = {render(o["Value"]) for o in stack.template["Outputs"].values()}
    assert "https://${%s.DomainName}/" % lid in outputs


def test_the_console_s_config_is_nothing_secret():
    from infrastructure.stack import console_config

    config = console_config("dev", ["BR_DONGCHENG"])
    assert config["apiBase"] == ""  # the console's own origin: CloudFront sends /backoffice/* to the API
    assert not {key for key in config if any(word in key.lower() for word in ("secret", "password", "token", "key"))}


@pytest.mark.parametrize("bucket", [b for b in resources.BUCKETS if b.expire], ids=lambda b: b.id)
def test_a_bucket_s_expiring_prefixes_have_their_lifecycle_rules(stack, bucket):
    rules = stack.props(stack.logical_id(bucket))["LifecycleConfiguration"]["Rules"]
    assert {(r["Prefix"], r["ExpirationInDays"], r["Status"]) for r in rules} == {(p, d, "Enabled") for p, d in bucket.expire}
    assert all(r["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1 for r in rules)


# -- provisioned DynamoDB capacity (-c dynamodb_capacity=provisioned) -----------------------

PROVISIONED_MIN, PROVISIONED_MAX = 10, 20_000
TARGET_UTILIZATION = 70
UTILIZATION_METRICS = {"Read": "DynamoDBReadCapacityUtilization", "Write": "DynamoDBWriteCapacityUtilization"}


@pytest.fixture(scope="module")
def provisioned_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app synthesized as a deployment would ask for it: the mode from DYNAMODB_CAPACITY, the
    bounds from context (the CDK CLI hands ``-c`` to the app as CDK_CONTEXT_JSON)."""
    context = {"dynamodb_min_capacity": str(PROVISIONED_MIN), "dynamodb_max_capacity": str(PROVISIONED_MAX)}
    return synthesize(tmp_path_factory.mktemp("synth-provisioned"), "dev", CDK_CONTEXT_JSON=json.dumps(context), DYNAMODB_CAPACITY="provisioned")


@pytest.fixture(scope="module")
def provisioned(provisioned_template_path: Path) -> Synthesized:
    return Synthesized(json.loads(provisioned_template_path.read_text(encoding="utf-8")), "dev")


def expected_scaled(stack: Synthesized, table: Table) -> set[tuple[str, str]]:
    """(ResourceId, ScalableDimension) of every capacity auto scaling must manage for ``table``."""
    resource_id = "table/${%s}" % stack.logical_id(table)
    scaled = {(resource_id, f"dynamodb:table:{kind}CapacityUnits") for kind in UTILIZATION_METRICS}
    for index in table.indexes:
        scaled |= {(f"{resource_id}/index/{index.name}", f"dynamodb:index:{kind}CapacityUnits") for kind in UTILIZATION_METRICS}
    return scaled


@pytest.mark.parametrize("table", resources.TABLES, ids=lambda t: t.id)
def test_provisioned_tables_keep_their_keys_indexes_and_ttl_and_start_at_the_minimum(provisioned, table):
    assert_table(provisioned, table, provisioned_units=PROVISIONED_MIN)


def test_provisioned_reads_and_writes_of_every_table_and_index_scale_to_70_percent_utilization(provisioned):
    targets = provisioned.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    scaled = {(render(t["Properties"]["ResourceId"]), t["Properties"]["ScalableDimension"]): lid for lid, t in targets.items()}
    assert len(scaled) == len(targets), "one target per capacity"
    assert set(scaled) == set().union(*(expected_scaled(provisioned, table) for table in resources.TABLES))
    assert any("/index/" in resource_id for resource_id, _ in scaled), "the declarations have indexes"
    for lid, target in targets.items():
        props = target["Properties"]
        assert props["ServiceNamespace"] == "dynamodb"
        assert (props["MinCapacity"], props["MaxCapacity"]) == (PROVISIONED_MIN, PROVISIONED_MAX), lid

    policies = provisioned.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    by_target = {render(p["Properties"]["ScalingTargetId"]): p["Properties"] for p in policies}
    assert len(by_target) == len(policies) and set(by_target) == {"${%s}" % lid for lid in targets}, "one policy per target"
    for lid, target in targets.items():
        policy = by_target["${%s}" % lid]
        kind = "Read" if target["Properties"]["ScalableDimension"].endswith(":ReadCapacityUnits") else "Write"
        assert policy["PolicyType"] == "TargetTrackingScaling"
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        assert config["TargetValue"] == TARGET_UTILIZATION
        assert config["PredefinedMetricSpecification"] == {"PredefinedMetricType": UTILIZATION_METRICS[kind]}


def test_provisioned_capacity_adds_only_auto_scaling_to_the_stack(stack, provisioned):
    added = set(provisioned.resources) - set(stack.resources)
    assert set(stack.resources) <= set(provisioned.resources)
    assert {provisioned.resources[lid]["Type"] for lid in added} == {
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
    }


def _capacity(context: dict[str, object], environ: dict[str, str]):
    import aws_cdk as cdk

    from infrastructure.stack import dynamodb_capacity

    return dynamodb_capacity(cdk.App(context=context), environ)


def test_dynamodb_capacity_is_read_from_context_then_environment_then_defaults():
    from infrastructure.stack import TableCapacity

    assert _capacity({}, {}) == TableCapacity("on_demand", 5, 40_000)
    assert not _capacity({}, {}).provisioned
    assert _capacity({"dynamodb_capacity": "provisioned"}, {}) == TableCapacity("provisioned", 5, 40_000)
    assert _capacity({}, {"DYNAMODB_CAPACITY": "provisioned", "DYNAMODB_MAX_CAPACITY": "1000"}) == TableCapacity("provisioned", 5, 1000)
    given = {"dynamodb_capacity": "on_demand", "dynamodb_min_capacity": "20"}
    environ = {"DYNAMODB_CAPACITY": "provisioned", "DYNAMODB_MIN_CAPACITY": "50"}
    assert _capacity(given, environ) == TableCapacity("on_demand", 20, 40_000), "context wins"


@pytest.mark.parametrize(
    "context",
    [
        {"dynamodb_capacity": "reserved"},
        {"dynamodb_min_capacity": "0"},
        {"dynamodb_min_capacity": "-5"},
        {"dynamodb_min_capacity": "2.5"},
        {"dynamodb_min_capacity": "100", "dynamodb_max_capacity": "10"},
    ],
    ids=["unknown-mode", "zero", "negative", "fraction", "min-above-max"],
)
def test_a_dynamodb_capacity_setting_it_does_not_understand_fails_the_synth(context):
    with pytest.raises(ValueError):
        _capacity({"dynamodb_capacity": "provisioned", **context}, {})


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_each_function_reserves_its_declared_concurrency(stack, name):
    """A flood on one role (a partner's campaign, a day end) cannot take the concurrency of another."""
    assert stack.props(function_id(stack, name))["ReservedConcurrentExecutions"] == resources.function(name).concurrency


def _concurrency(context: dict[str, object], environ: dict[str, str]):
    import aws_cdk as cdk

    from infrastructure.stack import reserved_concurrency

    return reserved_concurrency(cdk.App(context=context), environ)


def test_reserved_concurrency_is_the_declared_one_unless_the_context_or_environment_says_otherwise():
    declared = {fn.name: fn.concurrency for fn in resources.FUNCTIONS}
    assert _concurrency({}, {}) == declared
    assert sum(declared.values()) <= 900  # an account's default 1,000 less the 100 Lambda keeps unreserved
    assert _concurrency({"reserved_concurrency_api_handler": "380"}, {}) == {**declared, "api_handler": 380}
    assert _concurrency({}, {"RESERVED_CONCURRENCY_API_HANDLER": "300"})["api_handler"] == 300
    assert set(_concurrency({"reserved_concurrency": "off"}, {}).values()) == {None}
    assert set(_concurrency({}, {"RESERVED_CONCURRENCY": "OFF"}).values()) == {None}


@pytest.mark.parametrize(
    "context",
    [
        {"reserved_concurrency": "maybe"},
        {"reserved_concurrency_api_handler": "0"},
        {"reserved_concurrency_api_handler": "1.5"},
        {"reserved_concurrency_api_handler": "800"},  # 1,317 of 1,000
        {"lambda_account_concurrency": "10"},  # a new account's quota: reserve nothing there
    ],
    ids=["unknown-switch", "zero", "fraction", "over-the-quota", "small-account"],
)
def test_a_concurrency_setting_it_does_not_understand_or_cannot_deploy_fails_the_synth(context):
    with pytest.raises(ValueError):
        _concurrency(context, {})


# -- one function per role: what each role may do, written down apart from resources.py -----------------

ROLE_PERMISSIONS = Path(__file__).with_name("role_permissions.json")


def role_permissions(stack: Synthesized, name: str) -> dict[str, list[str]]:
    """A function's role as ``resource id (or *) -> actions``, read from the synthesized template."""
    names = {}
    for declared in resources.all_resources().values():
        if isinstance(declared, (resources.UserPool, resources.UserPoolClient)):
            continue
        for arn in stack.grant_arns(declared):
            names[arn] = declared.id + arn[len(stack.grant_arns(declared)[0]):]
    found: dict[str, set[str]] = {}
    for arn, actions in stack.grants(stack.role_of(function_id(stack, name))).items():
        found.setdefault(names.get(arn, arn), set()).update(actions)
    return {resource: sorted(actions) for resource, actions in sorted(found.items())}


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_each_role_allows_exactly_its_written_down_permissions(stack, name):
    """A permission a role gains (through resources.py or the stack) fails here until it is written in
    role_permissions.json too, where a reviewer sees it, role by role."""
    written = json.loads(ROLE_PERMISSIONS.read_text(encoding="utf-8"))
    assert set(written) == set(FUNCTION_NAMES)
    assert role_permissions(stack, name) == written[name]


def test_the_partner_api_cannot_change_configuration_use_the_ca_key_or_write_contracts(stack):
    partner_api = role_permissions(stack, "api_handler")
    assert not [a for a in partner_api.get("config", []) if not a.startswith(("dynamodb:Get", "dynamodb:Query", "dynamodb:BatchGet", "dynamodb:Scan", "dynamodb:Describe", "dynamodb:ConditionCheck"))]
    assert "signing_credentials" not in partner_api  # the bank's CA key and certificate: the signing step's only
    assert not [a for a in partner_api.get("archive/*", []) + partner_api.get("archive", []) if not a.startswith(("s3:Get", "s3:List"))]
    assert not [a for a in partner_api.get("archive_key", []) if a != "kms:Decrypt"]
    assert "quotas" in partner_api and not [a for a in partner_api["quotas"] if "Write" in a or a.endswith(("PutItem", "UpdateItem", "DeleteItem"))]


def test_the_back_office_routes_are_served_by_the_back_office_function_and_the_partners_by_the_partner_api(stack):
    from infrastructure.stack import chalice_logical_id

    paths = stack.props("RestAPI")["DefinitionBody"]["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            uri = json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
            owner = resources.BACK_OFFICE_FUNCTION if path.startswith("/backoffice") else "api_handler"
            assert "${%s.Arn}" % chalice_logical_id(owner) in uri, (method, path)
    permissions = [props for props in map(stack.props, stack.of_type("AWS::Lambda::Permission")) if props.get("Principal") == "apigateway.amazonaws.com"]
    assert sorted(render(p["FunctionName"]) for p in permissions) == sorted("${%s}" % chalice_logical_id(n) for n in ("api_handler", resources.BACK_OFFICE_FUNCTION))
