"""``make serve``: the local stack in the foreground until Ctrl-C.

Prints the API address, the AWS endpoint (for ``aws --endpoint-url``), the
local partner secrets, the back-office console's address and the operators'
local usernames and passwords; logs each request and each state transition.
"""
from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from dataclasses import dataclass

from local.stack import LocalStack


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def operators() -> list[tuple[str, str, str]]:
    """(username, password, role and branch) of each sample operator: local passwords, never used elsewhere."""
    from local.seed import operator_password, sample_operators

    return [(o.operator_id, operator_password(o.operator_id), f"{o.role.value} {o.branch_code or '(every branch)'}") for o in sample_operators()]


def banner(stack: LocalStack) -> str:
    lines = [
        "zhudai local stack is up (no AWS account used).",
        f"  Partner API:   {stack.api_url}   (try GET {stack.api_url}/health)",
        f"  AWS endpoint:  {stack.moto_url}   (aws --endpoint-url {stack.moto_url} dynamodb list-tables)",
        "  Partners (local secrets, never use them anywhere else):",
        *[f"    {partner}  secret={secret}" for partner, secret in stack.secrets.items()],
        f"  Back-office console: {stack.api_url}/console/",
        "  Back-office operators (local passwords, never use them anywhere else; sign in at the console,",
        '  or POST /backoffice/session {"username", "password"} and send "Authorization: Bearer <id_token>"):',
        *[f"    {username:20s} password={password:34s} {what}" for username, password, what in operators()],
        "  Resources:",
        *[f"    {name}={value}" for name, value in sorted(stack.env.items())],
        READY,
    ]
    return "\n".join(lines)


READY = "Press Ctrl-C to stop."  # the banner's last line: the stack is up


@dataclass(frozen=True)
class Banner:
    """What a program that started ``python -m local.serve`` reads from its banner (the tests, the load run)."""

    api_url: str
    aws_endpoint: str
    secrets: dict[str, str]  # partner id -> its local secret
    resources: dict[str, str]  # the resources' environment variables


def read_banner(text: str) -> Banner:
    """The banner ``banner`` printed, read back."""
    return Banner(
        api_url=re.search(r"Partner API:\s+(\S+)", text).group(1),
        aws_endpoint=re.search(r"AWS endpoint:\s+(\S+)", text).group(1),
        secrets=dict(re.findall(r"^\s+(P_\w+)\s+secret=(\S+)", text, re.M)),
        resources=dict(re.findall(r"^\s{4}([A-Z][A-Z0-9_]+)=(\S+)$", text, re.M)),
    )


def main() -> int:
    import faulthandler

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: where every thread is
    configure_logging()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    stack = LocalStack()
    try:
        stack.start()
        stack.wait_until_ready()
        print(banner(stack), flush=True)  # noqa: T201 - a console program
        # A timed wait: a signal may be delivered to any of the stack's threads, and only a main
        # thread that wakes up now and then runs Python's handler (an untimed wait may never).
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping the local stack ...", flush=True)  # noqa: T201
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
