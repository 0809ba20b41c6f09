"""Reading a synthesized template: declared resources by logical id, intrinsics as text, role grants.

Intrinsics are rendered to text: ``{"Ref": "X"}`` is ``${X}``, ``{"Fn::GetAtt": ["X", "Arn"]}``
is ``${X.Arn}``, ``Fn::Join`` joins its rendered parts and ``Fn::Sub`` of a string is that
string. An intrinsic it does not know raises, so a test cannot pass by not understanding
what the template says.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from chalicelib.resources import APP_NAME, USER_POOLS, Bucket, Key, ParameterTree, StateMachine, Table, UserPool, UserPoolClient
from local.provision import bucket_name, physical_name

ARN_PREFIX = "arn:${AWS::Partition}"
STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource"}


def render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        [(name, arg)] = value.items()
        if name == "Ref":
            return "${%s}" % arg
        if name == "Fn::GetAtt":
            return "${%s}" % (arg if isinstance(arg, str) else ".".join(arg))
        if name == "Fn::Sub" and isinstance(arg, str):
            return arg
        if name == "Fn::Join":
            separator, parts = arg
            return separator.join(render(part) for part in parts)
    raise ValueError(f"cannot render {value!r}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Synthesized:
    template: dict[str, Any]
    stage: str

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == type_}

    def props(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties", {})

    def _only(self, type_: str, prop: str, value: Any) -> str:
        found = [lid for lid, r in self.of_type(type_).items() if r["Properties"].get(prop) == value]
        assert len(found) == 1, f"{len(found)} {type_} with {prop}={value!r}"
        return found[0]

    # -- declared resources -> logical ids -----------------------------------------------

    def logical_id(self, declared: Table | Key | StateMachine | Bucket | UserPool | UserPoolClient) -> str:
        if isinstance(declared, Table):
            return self._only("AWS::DynamoDB::Table", "TableName", physical_name(self.stage, declared.id))
        if isinstance(declared, Key):
            alias = self._only("AWS::KMS::Alias", "AliasName", declared.alias(self.stage))
            key = render(self.props(alias)["TargetKeyId"])
            assert key.startswith("${") and key.endswith(".Arn}"), key
            return key[2:-5]
        if isinstance(declared, StateMachine):
            return self._only("AWS::StepFunctions::StateMachine", "StateMachineName", physical_name(self.stage, declared.id))
        if isinstance(declared, Bucket):
            name = bucket_name(self.stage, declared.id, "${AWS::AccountId}", "${AWS::Region}")
            found = [lid for lid, r in self.of_type("AWS::S3::Bucket").items() if render(r["Properties"].get("BucketName", "")) == name]
            assert len(found) == 1, f"{len(found)} AWS::S3::Bucket named {name}"
            return found[0]
        if isinstance(declared, UserPool):
            return self._only("AWS::Cognito::UserPool", "UserPoolName", physical_name(self.stage, declared.id))
        if isinstance(declared, UserPoolClient):
            return self._only("AWS::Cognito::UserPoolClient", "ClientName", physical_name(self.stage, declared.id))
        raise TypeError(declared)

    def function_logical_id(self, handler: str) -> str:
        """The function whose Handler is ``handler`` (``app.app`` for the REST API)."""
        return self._only("AWS::Serverless::Function", "Handler", handler)

    def parameter_path(self, tree: ParameterTree) -> str:
        return f"/{APP_NAME}/{self.stage}{tree.path}"

    # -- what a function is given ------------------------------------------------------

    def env_value(self, declared: Table | Key | ParameterTree | StateMachine | Bucket) -> str:
        """The rendered value a function's variable for ``declared`` must have."""
        if isinstance(declared, ParameterTree):
            return self.parameter_path(declared)
        if isinstance(declared, StateMachine):
            return "${%s.Arn}" % self.logical_id(declared)
        return "${%s}" % self.logical_id(declared)  # a table's or a bucket's name, a key's, a user pool's or client's id

    def grant_arns(self, declared: Table | Key | ParameterTree | StateMachine | Bucket) -> list[str]:
        """The rendered resources a grant on ``declared`` must name, no more."""
        if isinstance(declared, Table):
            arn = "${%s.Arn}" % self.logical_id(declared)
            return [arn] + ([f"{arn}/index/*"] if declared.indexes else [])
        if isinstance(declared, (Key, StateMachine)):
            return ["${%s.Arn}" % self.logical_id(declared)]
        if isinstance(declared, Bucket):  # the bucket (ListBucket) and its objects
            arn = "${%s.Arn}" % self.logical_id(declared)
            return [arn, f"{arn}/*"]
        if isinstance(declared, (UserPool, UserPoolClient)):  # the pool (no grant names it yet: signing in needs none)
            pool = declared if isinstance(declared, UserPool) else next(p for p in USER_POOLS if p.id == declared.pool)
            return ["${%s.Arn}" % self.logical_id(pool)]
        arn = f"{ARN_PREFIX}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{self.parameter_path(declared)}"
        return [arn, f"{arn}/*"]

    # -- roles ---------------------------------------------------------------------------

    def role_of(self, logical_id: str, prop: str = "Role") -> str:
        role = render(self.props(logical_id)[prop])
        assert role.startswith("${") and role.endswith(".Arn}"), f"{logical_id} has role {role}"
        role_id = role[2:-5]
        assert self.resources[role_id]["Type"] == "AWS::IAM::Role"
        return role_id

    def trusted_services(self, role_id: str) -> set[str]:
        services = set()
        for statement in self.props(role_id)["AssumeRolePolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
            assert set(statement["Principal"]) == {"Service"}
            services |= set(as_list(statement["Principal"]["Service"]))
        return services

    def statements(self, role_id: str) -> list[dict[str, Any]]:
        """Every statement granted to the role: its inline policies and any policy attached to it."""
        found = [s for p in self.props(role_id).get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
        for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for policy in self.of_type(type_).values():
                if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                    found += policy["Properties"]["PolicyDocument"]["Statement"]
        return found

    def grants(self, role_id: str) -> dict[str, set[str]]:
        """Rendered resource -> the actions the role is allowed on it."""
        granted: dict[str, set[str]] = defaultdict(set)
        for statement in self.statements(role_id):
            assert set(statement) <= STATEMENT_KEYS, f"unexpected statement form {statement}"
            assert statement["Effect"] == "Allow", statement
            for resource in as_list(statement["Resource"]):
                granted[render(resource)] |= set(as_list(statement["Action"]))
        return dict(granted)

    def managed_policies(self, role_id: str) -> set[str]:
        return {render(arn) for arn in self.props(role_id).get("ManagedPolicyArns", [])}

    def bucket_policy(self, bucket_id: str) -> list[dict[str, Any]]:
        """The statements of the bucket policy of the bucket with logical id ``bucket_id``."""
        found = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in self.of_type("AWS::S3::BucketPolicy").values()
            if render(p["Properties"]["Bucket"]) == "${%s}" % bucket_id
        ]
        assert len(found) == 1, f"{len(found)} policies on {bucket_id}"
        return found[0]


