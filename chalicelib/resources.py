"""The one declaration of every AWS resource the platform uses.

The CDK stack (``infrastructure/``), the local stack (``local/``) and the tests
all read these declarations. Deployed code reaches a resource only through the
environment variable declared here (see ``settings.py``), and every Lambda
function lists what it uses, which is exactly what the stack grants it.

This module is pure data: it imports no AWS SDK.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

APP_NAME = "zhudai"


class Access(str, Enum):
    """What a function may do with a resource."""

    READ = "read"
    READ_WRITE = "read_write"
    ENCRYPT = "encrypt"  # make data keys for envelope encryption
    DECRYPT = "decrypt"
    ENCRYPT_DECRYPT = "encrypt_decrypt"
    MAC = "mac"  # keyed hashes with an HMAC key
    START = "start"  # start executions of a state machine
    START_AND_CALLBACK = "start_and_callback"  # also answer its task tokens (SendTaskSuccess/Failure)
    CALLBACK = "callback"  # only answer task tokens of its executions
    # Sign users in (InitiateAuth with a public app client) and check their tokens (the pool's
    # published JWKS): public Cognito APIs, so no IAM action; only the pool's and client's ids.
    SIGN_IN = "sign_in"

    def covers(self, needed: "Access") -> bool:
        """Whether this grant allows what ``needed`` names."""
        return needed is self or needed in _COVERS.get(self, ())


_COVERS: dict[Access, tuple[Access, ...]] = {
    Access.READ_WRITE: (Access.READ,),
    Access.ENCRYPT_DECRYPT: (Access.ENCRYPT, Access.DECRYPT),
    Access.START_AND_CALLBACK: (Access.START, Access.CALLBACK),
}


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None
    projection: str = "ALL"  # or "KEYS_ONLY": the index is written only when its keys change


@dataclass(frozen=True)
class Table:
    id: str
    env: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Key:
    """A KMS customer managed key."""

    id: str
    env: str
    description: str = ""
    spec: str = "SYMMETRIC_DEFAULT"  # or "HMAC_256"
    usage: str = "ENCRYPT_DECRYPT"  # or "GENERATE_VERIFY_MAC"

    def alias(self, stage: str) -> str:
        """Per stage, so that two stages can share an account."""
        return f"alias/{APP_NAME}-{stage}-{self.id}"


@dataclass(frozen=True)
class ParameterTree:
    """A path in SSM Parameter Store holding SecureString parameters."""

    id: str
    env: str
    path: str  # without the stage prefix; the stack prefixes "/{app}/{stage}"
    key: str  # the Key.id that encrypts the parameters
    description: str = ""


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket: versioned, encrypted with ``key`` (SSE-KMS), public access blocked; with
    ``object_lock`` every object version is kept (compliance mode) for the configured retention."""

    id: str
    env: str
    key: str  # the Key.id that encrypts its objects
    object_lock: bool = False
    description: str = ""
    # (key prefix, function name): an object created under the prefix invokes the function (S3 event)
    notifications: tuple[tuple[str, str], ...] = ()
    # (key prefix, days): objects under the prefix, every version, are deleted that long after they were written
    expire: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class StateMachine:
    id: str
    env: str
    definition: str  # file name in statemachines/
    type: str  # "STANDARD" or "EXPRESS"
    # placeholder in the definition ("${AdvanceBusinessDateFunctionArn}") -> function name
    functions: dict[str, str] = field(default_factory=dict)
    description: str = ""
    # what its executions log to CloudWatch Logs: "ALL" (every event) or "ERROR" (failures only)
    log_level: str = "ALL"


@dataclass(frozen=True)
class UserPool:
    """A Cognito user pool: the people who sign in. Their groups carry each one's role and branch
    (the names are defined in ``chalicelib/domain/operator.py``); there is no self sign-up."""

    id: str
    env: str  # the pool's id ("<region>_<...>")
    description: str = ""


@dataclass(frozen=True)
class UserPoolClient:
    """An app client of a user pool: no secret (a browser or the API signs in with it),
    USER_PASSWORD_AUTH and refresh tokens; its id is the ``aud`` of the id tokens it gets."""

    id: str
    env: str  # the client's id
    pool: str  # the UserPool.id
    id_token_minutes: int = 60
    refresh_token_hours: int = 12
    read_attributes: tuple[str, ...] = ("name",)  # the claims its id tokens carry besides the groups
    description: str = ""


@dataclass(frozen=True)
class Function:
    """A deployed Lambda function and the resources it uses."""

    name: str  # the Chalice function name ("api_handler" for the REST API)
    uses: dict[str, Access] = field(default_factory=dict)
    description: str = ""
    timeout: int = 60  # seconds (Lambda's limit: 900)
    memory: int = 128  # MiB (also the CPU share); 60 s and 128 MiB are Chalice's defaults
    # Reserved concurrent executions: what this role may use at most and always has, so that a flood on
    # one role (a partner's campaign, a day end) cannot starve the others. Overridden at deploy time
    # (infrastructure/stack.py, ``reserved_concurrency``); the defaults add up to 717 of an account's 1,000.
    concurrency: int = 10


CONFIG_TABLE = Table(
    id="config",
    env="CONFIG_TABLE_NAME",
    partition_key="pk",
    sort_key="sk",
    description="Partners, products, branches and the business date, as data.",
)

GUARD_TABLE = Table(
    id="partner_guard",
    env="PARTNER_GUARD_TABLE_NAME",
    partition_key="pk",
    ttl_attribute="expires_at",
    description="Partner nonces (15 minutes) and rate-limit windows, expired by TTL.",
)

APPLICATIONS_TABLE = Table(
    id="applications",
    env="APPLICATIONS_TABLE_NAME",
    partition_key="pk",
    indexes=(
        Index(name="by_branch_status", partition_key="branch_status", sort_key="updated_at", projection="KEYS_ONLY"),
        Index(name="by_branch_day", partition_key="branch_day", sort_key="application_id", projection="KEYS_ONLY"),
        Index(name="by_due", partition_key="due_branch", sort_key="waits_until", projection="KEYS_ONLY"),
    ),
    description="Applications, one idempotency item per partner application number, the back office's "
    "counters of each branch and day, and each application's review and routing trails, written once as items of "
    "their own (see persistence/applications.py). by_branch_status: a branch's applications "
    "in one status, keys only (the manual review queue, the expiry sweep; an entry is rewritten at each change of "
    "status, a few dozen bytes, not the whole application); by_branch_day: a branch's applications received on one business day, "
    "newest first (the back office's search); keys only, written once when an application is stored. by_due: "
    "sparse, keys only: a branch's applications waiting for a person (a manual review, an offer) by deadline, "
    "for the origination watch.",
)

CREDIT_REPORTS_TABLE = Table(
    id="credit_reports",
    env="CREDIT_REPORTS_TABLE_NAME",
    partition_key="pk",
    ttl_attribute="expires_at",
    description="Credit-bureau reports, sealed, per person and querying branch, kept for their validity period.",
)

FRAUD_SIGNALS_TABLE = Table(
    id="fraud_signals",
    env="FRAUD_SIGNALS_TABLE_NAME",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_at",
    description="Who used which mobile or card, and who applied when (keyed hashes only), for velocity checks.",
)

CUSTOMERS_TABLE = Table(
    id="customers",
    env="CUSTOMERS_TABLE_NAME",
    partition_key="pk",
    description="ECIF: one customer per person, found by a keyed hash of the ID number.",
)

SECRETS_KEY = Key(
    id="secrets",
    env="SECRETS_KEY_ID",
    description="Encrypts partner secrets in Parameter Store.",
)

PII_KEY = Key(
    id="pii",
    env="PII_KEY_ID",
    description="Envelope encryption of names, ID, mobile and card numbers at rest.",
)

PII_HASH_KEY = Key(
    id="pii_hash",
    env="PII_HASH_KEY_ID",
    description="HMAC key: the keyed hash of an ID number that finds its customer.",
    spec="HMAC_256",
    usage="GENERATE_VERIFY_MAC",
)

ARCHIVE_KEY = Key(
    id="archive_key",
    env="ARCHIVE_KEY_ID",
    description="Encrypts the archive's documents (SSE-KMS): signed contracts and authorisation letters.",
)

ARCHIVE_BUCKET = Bucket(
    id="archive",
    env="ARCHIVE_BUCKET_NAME",
    key="archive_key",
    object_lock=True,
    description="The image platform (影像平台): signed contracts and credit-inquiry authorisations, "
    "keyed by branch and application; versioned, Object Lock in compliance mode for the configured retention.",
)

SIGNING_CREDENTIALS = ParameterTree(
    id="signing_credentials",
    env="SIGNING_CREDENTIALS_PATH",
    path="/signing",
    key="secrets",
    description="Each branch's document-signing key and certificate chain (PEM): {path}/branches/{branch}/key "
    "and {path}/branches/{branch}/certificate; the CA's certificate, the trust root: {path}/trust-root; "
    "with CA_SIGNING_MODE=http the CA service's client: {path}/ca-client/client_id and {path}/ca-client/client_secret.",
)

PARTNER_SECRETS = ParameterTree(
    id="partner_secrets",
    env="PARTNER_SECRETS_PATH",
    path="/partners",
    key="secrets",
    description="One SecureString per partner: {path}/{partner_id}/secret.",
)

BUREAU_CREDENTIALS = ParameterTree(
    id="bureau_credentials",
    env="BUREAU_CREDENTIALS_PATH",
    path="/credit-bureau",
    key="secrets",
    description="The credit-bureau gateway's client: {path}/client_id and {path}/client_secret.",
)

DAY_END_MACHINE = StateMachine(
    id="day_end",
    env="DAY_END_STATE_MACHINE_ARN",
    definition="day_end.asl.json",
    type="STANDARD",
    functions={
        "CloseLoansFunctionArn": "day_end_close_loans",
        "CreditReportFunctionArn": "day_end_credit_report",
        "ReconcileFunctionArn": "day_end_reconcile",
        "AdvanceBusinessDateFunctionArn": "advance_business_date",
    },
    description="Closes business day T (every active loan accrued, its days past due and class, warnings and "
    "collection cases, in parallel segments) and opens T+1.",
)

ORIGINATION_MACHINE = StateMachine(
    id="origination",
    env="ORIGINATION_STATE_MACHINE_ARN",
    definition="origination.asl.json",
    type="EXPRESS",
    functions={
        "QueryBureauFunctionArn": "review_query_bureau",
        "DecideFunctionArn": "review_decide",
        "AwaitManualReviewFunctionArn": "review_await_manual",
        "CloseReviewFunctionArn": "review_close",
        "RouteFunctionArn": "route_application",
        "CloseOfferFunctionArn": "offer_close",
        "SignContractFunctionArn": "sign_contract",
        "DisburseFunctionArn": "disburse_loan",
    },
    description="Carries an application from RECEIVED through review, routing, the borrower's answer, the signed contract and "
    "the disbursement, in legs that end where a person is awaited (Express: priced per request and duration, not per transition).",
    # An Express execution's history lives only in its logs: failures are logged in full; a success is told by the
    # application's own status history and trail (at level ALL the logs would cost more than the workflow).
    log_level="ERROR",
)

QUOTAS_TABLE = Table(
    id="quotas",
    env="QUOTAS_TABLE_NAME",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_at",
    description="Lending quotas (额度) of branches, funders and customers, and each reservation against them.",
)

LOANS_TABLE = Table(
    id="loans",
    env="LOANS_TABLE_NAME",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_at",
    indexes=(Index(name="by_branch_status", partition_key="branch_status", sort_key="loan_id", projection="KEYS_ONLY"),),
    description="Loan accounts (贷款分户账) with their schedules, each repayment once per partner number, "
    "and the partners' event feed (expired by TTL). by_branch_status: a branch's loans in one status (the day end); "
    "keys only, so that a repayment (which rewrites the loan's schedule) does not write the index too.",
)

LEDGER_TABLE = Table(
    id="ledger",
    env="LEDGER_TABLE_NAME",
    partition_key="pk",
    sort_key="sk",
    indexes=(
        Index(name="by_branch_day", partition_key="branch_day", sort_key="posting_id"),
        Index(name="by_partner_day", partition_key="partner_day", sort_key="posting_id"),
        Index(name="by_loan", partition_key="loan_id", sort_key="posted_at"),
    ),
    description="The branches' double-entry ledger: immutable postings (one per business event) and each "
    "account's debit and credit totals. by_branch_day: a branch's postings of one business day; by_partner_day "
    "(sparse): a partner's disbursements, their reversals and repayments of one day (T+1 reconciliation); "
    "by_loan (sparse: postings only): a loan's postings in time order (the back office's loan detail).",
)

RISK_TABLE = Table(
    id="risk",
    env="RISK_TABLE_NAME",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_at",
    indexes=(Index(name="by_queue", partition_key="queue", sort_key="opened_on", projection="ALL"),),
    description="Post-loan risk (贷后): warnings per branch and day (once per id), collection cases per loan, and "
    "the day's overdue marks per customer (expired by TTL). by_queue: a branch's open collection cases.",
)

TABLES: tuple[Table, ...] = (
    CONFIG_TABLE,
    GUARD_TABLE,
    APPLICATIONS_TABLE,
    CUSTOMERS_TABLE,
    CREDIT_REPORTS_TABLE,
    FRAUD_SIGNALS_TABLE,
    QUOTAS_TABLE,
    LOANS_TABLE,
    LEDGER_TABLE,
    RISK_TABLE,
)
KEYS: tuple[Key, ...] = (SECRETS_KEY, PII_KEY, PII_HASH_KEY, ARCHIVE_KEY)
PAYMENT_CREDENTIALS = ParameterTree(
    id="payment_credentials",
    env="PAYMENT_CREDENTIALS_PATH",
    path="/payment-gateway",
    key="secrets",
    description="The payment gateway's client credentials (with PAYMENT_GATEWAY_MODE=http): {path}/client_id, {path}/client_secret.",
)

REPORTS_BUCKET = Bucket(
    id="reports",
    env="REPORTS_BUCKET_NAME",
    key="archive_key",
    description="Day-end files: each branch's credit-bureau file (sealed), the partners' reconciliation files "
    "(uploaded under reconciliation/inbound/) and the reconciliation reports; versioned.",
    notifications=(("reconciliation/inbound/", "reconcile_partner_file"),),
    expire=(("credit-reports/parts/", 7),),  # the day end's parts of the credit-bureau files, once assembled
)

OPERATOR_POOL = UserPool(
    id="operators",
    env="OPERATOR_USER_POOL_ID",
    description="Back-office operators: one role group (role-PLATFORM, role-REVIEWER, ...) and, but for platform "
    "operators, one branch group (branch-BR_DONGCHENG, ...) each. Administrators create the users; nobody signs up.",
)

CONSOLE_CLIENT = UserPoolClient(
    id="console",
    env="OPERATOR_USER_POOL_CLIENT_ID",
    pool="operators",
    description="The back-office console's sign-in (POST /backoffice/session): no secret, USER_PASSWORD_AUTH and refresh.",
)

USER_POOLS: tuple[UserPool, ...] = (OPERATOR_POOL,)
USER_POOL_CLIENTS: tuple[UserPoolClient, ...] = (CONSOLE_CLIENT,)

PARAMETER_TREES: tuple[ParameterTree, ...] = (PARTNER_SECRETS, BUREAU_CREDENTIALS, SIGNING_CREDENTIALS, PAYMENT_CREDENTIALS)
BUCKETS: tuple[Bucket, ...] = (ARCHIVE_BUCKET, REPORTS_BUCKET)
STATE_MACHINES: tuple[StateMachine, ...] = (DAY_END_MACHINE, ORIGINATION_MACHINE)

# The back office's routes are in app.py with the partners', and deployed on a function of their own
# (infrastructure/stack.py, ``give_the_back_office_its_function``) with its own role.
BACK_OFFICE_FUNCTION = "backoffice_api"

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="api_handler",
        uses={
            "config": Access.READ,  # partners, products, branches, the business date
            "quotas": Access.READ,  # a declined offer answered again: whether its reservation was released
            "partner_secrets": Access.READ,
            "secrets": Access.DECRYPT,
            "partner_guard": Access.READ_WRITE,
            "applications": Access.READ_WRITE,
            "customers": Access.READ_WRITE,
            "pii": Access.ENCRYPT,
            "pii_hash": Access.MAC,
            "origination": Access.START,
            "archive": Access.READ,  # presigned links to signed contracts
            "archive_key": Access.DECRYPT,  # ... which S3 decrypts with the signer's permissions
            "loans": Access.READ_WRITE,  # repayments, loan and schedule views, the partners' event feed
            "ledger": Access.READ_WRITE,  # ... each repayment's posting
            "reports": Access.READ_WRITE,  # presigned uploads of partners' reconciliation files
        },
        description="The partner REST API (/v1/...): what the internet's partners reach.",
        concurrency=200,  # the partners' traffic; beyond it API Gateway answers 429
    ),
    Function(
        name="backoffice_api",
        uses={
            "config": Access.READ_WRITE,  # the back office edits funders, products' funding, branches' quotas
            "quotas": Access.READ_WRITE,  # ... and sets the TOTAL quota limits that follow them
            "applications": Access.READ_WRITE,  # manual review decisions, application search and history
            "origination": Access.START,  # ... a decided application's workflow resumed
            "loans": Access.READ,  # loan inquiries
            "ledger": Access.READ,  # ... and their postings
            "risk": Access.READ,  # collection cases and warnings
            "reports": Access.READ,  # reconciliation reports
            "operators": Access.SIGN_IN,  # operators signed in and their id tokens checked
            "console": Access.SIGN_IN,
        },
        description="The back-office REST API (/backoffice/...): the bank's operators, behind Cognito sign-in.",
        concurrency=20,
    ),
    Function(
        name="review_query_bureau",
        uses={
            "config": Access.READ,
            "applications": Access.READ_WRITE,
            "credit_reports": Access.READ_WRITE,
            "pii": Access.ENCRYPT_DECRYPT,
            "bureau_credentials": Access.READ,
            "secrets": Access.DECRYPT,
        },
        description="Review step: the credit-bureau report, reused while valid, else queried with consent.",
        concurrency=50,
    ),
    Function(
        name="review_decide",
        uses={
            "config": Access.READ,
            "applications": Access.READ_WRITE,
            "credit_reports": Access.READ,
            "fraud_signals": Access.READ_WRITE,
            "pii": Access.DECRYPT,
            "pii_hash": Access.MAC,
        },
        description="Review step: anti-fraud, rules, scorecard and the decision, with its trail.",
        concurrency=50,
    ),
    Function(
        name="review_await_manual",
        uses={"applications": Access.READ_WRITE},
        description="Review step: puts the application in its branch's manual review queue until its deadline.",
        concurrency=50,
    ),
    Function(
        name="route_application",
        uses={"config": Access.READ, "applications": Access.READ_WRITE, "quotas": Access.READ_WRITE, "customers": Access.READ},
        description="Origination step: fund routing within quotas; the offer or NO_FUNDER (or, failed, releases).",
        concurrency=50,
    ),
    Function(
        name="review_close",
        uses={"applications": Access.READ_WRITE},
        description="Review step: records the review's end (approved for routing, rejected, expired, failed).",
        concurrency=50,
    ),
    Function(
        name="offer_close",
        uses={"applications": Access.READ_WRITE, "quotas": Access.READ_WRITE},
        description="Origination step: an offer expired, declined or not signed; releases its reservation, closes its line.",
        concurrency=50,
    ),
    Function(
        name="sign_contract",
        uses={
            "config": Access.READ,
            "applications": Access.READ_WRITE,
            "pii": Access.DECRYPT,
            "signing_credentials": Access.READ,
            "secrets": Access.DECRYPT,
            "archive": Access.READ_WRITE,
            "archive_key": Access.ENCRYPT_DECRYPT,
        },
        description="Origination step: the contract and authorisation as PDFs, sealed by the branch (PAdES), archived.",
        concurrency=50,
    ),
    Function(
        name="disburse_loan",
        uses={
            "config": Access.READ,
            "applications": Access.READ_WRITE,
            "loans": Access.READ_WRITE,
            "ledger": Access.READ_WRITE,
            "quotas": Access.READ_WRITE,
            "customers": Access.READ_WRITE,  # the funders each customer has borrowed from
            "pii": Access.DECRYPT,
            "payment_credentials": Access.READ,
            "secrets": Access.DECRYPT,
        },
        description="Origination step: the card checked, the loan booked, paid through the gateway; on failure reversed (冲正).",
        concurrency=50,
    ),
    Function(
        name="day_end_close_loans",
        uses={
            "config": Access.READ,
            "loans": Access.READ_WRITE,
            "ledger": Access.READ_WRITE,
            "risk": Access.READ_WRITE,
            "applications": Access.READ,  # the borrower of a loan booked without its own sealed copy
            "pii": Access.ENCRYPT_DECRYPT,  # the borrower unsealed for the credit-bureau record, the part sealed
            "reports": Access.READ_WRITE,
            "archive_key": Access.ENCRYPT_DECRYPT,
        },
        timeout=900,
        memory=1024,
        description="Day-end step, one chunk of a segment of the loans: accrual posted, days past due and class, "
        "warnings, collection cases, the credit-bureau records (a part file per branch).",
        concurrency=64,  # the day end's Map runs 64 segments at once
    ),
    Function(
        name="day_end_credit_report",
        uses={
            "config": Access.READ,
            "pii": Access.ENCRYPT_DECRYPT,  # the parts unsealed, the file sealed
            "reports": Access.READ_WRITE,
            "archive_key": Access.ENCRYPT_DECRYPT,
        },
        timeout=900,
        memory=2048,
        description="Day-end step: one branch's credit-bureau file of the day (征信报送) assembled from the parts, sealed, in S3.",
        concurrency=10,
    ),
    Function(
        name="day_end_reconcile",
        uses={"config": Access.READ, "loans": Access.READ, "ledger": Access.READ, "risk": Access.READ_WRITE, "reports": Access.READ_WRITE, "archive_key": Access.ENCRYPT_DECRYPT},
        description="Day-end step: a partner's file of the day before reconciled with the ledger (T+1 对账), its report in S3.",
        concurrency=10,
    ),
    Function(
        name="reconcile_partner_file",
        uses={"config": Access.READ, "loans": Access.READ, "ledger": Access.READ, "risk": Access.READ_WRITE, "reports": Access.READ_WRITE, "archive_key": Access.ENCRYPT_DECRYPT},
        description="S3 event: a partner's reconciliation file uploaded after its day end (late) is reconciled on arrival.",
        concurrency=10,
    ),
    Function(
        name="advance_business_date",
        uses={"config": Access.READ_WRITE},
        description="Day-end step: advances the business date by one day.",
        concurrency=1,  # one at a time
    ),
    Function(
        name="start_day_end",
        uses={"config": Access.READ, "day_end": Access.START},
        description="Scheduled: starts the day-end state machine.",
        concurrency=1,  # one at a time
    ),
    Function(
        name="origination_watch",
        uses={
            "config": Access.READ,
            "applications": Access.READ_WRITE,
            "quotas": Access.READ_WRITE,  # an expired offer's reservation released, its line closed
            "loans": Access.READ,  # whether a payment still being queried is IN_DOUBT
            "origination": Access.START,
        },
        description="Scheduled (every 5 minutes): manual reviews and offers past their deadline expired; "
        "stalled origination legs started again.",
        concurrency=1,  # one sweep at a time
    ),
)

# Environment variables every function gets, that name no resource.
COMMON_ENV: tuple[str, ...] = (
    "STAGE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "CONFIG_CACHE_SECONDS",
    "CREDIT_BUREAU_MODE",  # "simulator" (sandboxes, the local stack) or "http"
    "CREDIT_BUREAU_URL",
    "CREDIT_REPORT_VALIDITY_DAYS",
    "FUNDER_GATEWAY_MODE",  # "simulator" (sandboxes, the local stack) or "http"
    "ARCHIVE_RETENTION_DAYS",  # how long an archived document is kept under Object Lock
    "CONTRACT_LINK_SECONDS",  # how long a contract's download link works
    "CA_SIGNING_MODE",  # "keys" (each branch's key from Parameter Store) or "http" (the CA's signing service)
    "CA_SIGNING_URL",
    "PAYMENT_GATEWAY_MODE",  # "simulator" (sandboxes, the local stack) or "http"
    "PAYMENT_GATEWAY_URL",
    "PAYMENT_QUERY_SECONDS",  # how long the workflow waits between queries of a payment whose outcome is unknown
    "PAYMENT_QUERIES_IN_LEG",  # queries the workflow's leg waits for; later ones are the origination watch's
    "ORIGINATION_STALL_SECONDS",  # an origination leg this long without a change is started again by the watch
    "ORIGINATION_MAX_RESTARTS",  # legs the watch starts again before one that stalls once more is closed as failed
    "PAYMENT_QUERY_ATTEMPTS",  # queries before a payment is left IN_DOUBT for the operators
    "EVENT_RETENTION_DAYS",  # how long the partners' event feed keeps an event
    "EVENT_SETTLE_SECONDS",  # the feed serves an event once it is this old (no cursor passes one still committing)
    "DAY_END_SEGMENTS",  # how many parallel segments the day end splits the loans into
    "DAY_END_LOANS_PER_CALL",  # at most this many loans in one call of a segment (0: as many as the time allows)
)


Resource = Table | Key | ParameterTree | StateMachine | Bucket | UserPool | UserPoolClient


def all_resources() -> dict[str, Resource]:
    found: dict[str, Resource] = {}
    for group in (TABLES, KEYS, PARAMETER_TREES, STATE_MACHINES, BUCKETS, USER_POOLS, USER_POOL_CLIENTS):
        for resource in group:
            if resource.id in found:
                raise ValueError(f"resource id {resource.id!r} declared twice")
            found[resource.id] = resource
    return found


def function(name: str) -> Function:
    for fn in FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(name)


def env_for(fn: Function) -> tuple[str, ...]:
    """The resource environment variables a function receives: one per resource it uses."""
    resources = all_resources()
    return tuple(sorted(resources[rid].env for rid in fn.uses))


def all_env_names() -> frozenset[str]:
    return frozenset(COMMON_ENV) | {r.env for r in all_resources().values()}
