"""``make serve``: the local stack in the foreground until Ctrl-C.

Prints the API address, the AWS endpoint (for ``aws --endpoint-url``) and the
local partner secret, logs each request and each state transition.
"""
from __future__ import annotations

import logging
import signal
import sys
import threading

from local.stack import LocalStack


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def operators() -> dict[str, str]:
    import json

    from local.seed import SAMPLE, operator_token

    return {o["operator_id"]: operator_token(o["operator_id"]) for o in json.loads((SAMPLE / "operators.json").read_text(encoding="utf-8"))}


def banner(stack: LocalStack) -> str:
    lines = [
        "zhudai local stack is up (no AWS account used).",
        f"  Partner API:   {stack.api_url}   (try GET {stack.api_url}/health)",
        f"  AWS endpoint:  {stack.moto_url}   (aws --endpoint-url {stack.moto_url} dynamodb list-tables)",
        "  Partners (local secrets, never use them anywhere else):",
        *[f"    {partner}  secret={secret}" for partner, secret in stack.secrets.items()],
        "  Back-office operators (local login: Authorization: Bearer <token>):",
        *[f"    {operator:22s} token={token}" for operator, token in operators().items()],
        "  Resources:",
        *[f"    {name}={value}" for name, value in sorted(stack.env.items())],
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


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
