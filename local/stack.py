"""The local stack: moto on loopback, the declared resources, the app's handlers, the API.

Everything runs in one process with no AWS account and no Docker:
- moto's ThreadedMotoServer on 127.0.0.1 (the AWS CLI can inspect it with
  ``--endpoint-url``; presigned S3 links work with path-style addressing);
- the tables, keys, parameters, functions and state machines of
  ``chalicelib/resources.py``, created by ``local.provision``;
- Step Functions executed by moto's interpreter, whose Task states run the
  app's own handlers in-process (``local.lambda_runtime``);
- the Chalice API on 127.0.0.1:8000 (``PORT`` overrides).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

log = logging.getLogger("local")

REGION = "us-east-1"
STAGE = "local"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_environment(moto_port: int) -> dict[str, str]:
    """The process environment of the local stack (fake credentials, moto's endpoint).

    Metrics stay on: they print as EMF lines, as CloudWatch would receive them.
    (Powertools with POWERTOOLS_METRICS_DISABLED keeps every metric in memory
    without ever clearing it, which a long-running local server must not do.)
    """
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "MOTO_PORT": str(moto_port),
        "STAGE": STAGE,
        "POWERTOOLS_SERVICE_NAME": "zhudai",
        "POWERTOOLS_METRICS_NAMESPACE": "Zhudai",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "CONFIG_CACHE_SECONDS": "0",
        "CREDIT_BUREAU_MODE": "simulator",
        "CREDIT_BUREAU_URL": "https://credit-gateway.invalid",
        "CREDIT_REPORT_VALIDITY_DAYS": "30",
        "FUNDER_GATEWAY_MODE": "simulator",
        "ARCHIVE_RETENTION_DAYS": "1",  # the local archive keeps object versions a day under Object Lock
        "CONTRACT_LINK_SECONDS": "600",
        "CA_SIGNING_MODE": "keys",
        "CA_SIGNING_URL": "https://ca-signing.invalid",
        "PAYMENT_GATEWAY_MODE": "simulator",
        "PAYMENT_GATEWAY_URL": "https://payment-gateway.invalid",
        "PAYMENT_QUERY_SECONDS": "1",  # the local stack re-queries an unknown payment outcome after a second
        "PAYMENT_QUERY_ATTEMPTS": "5",
        "PAYMENT_QUERIES_IN_LEG": "5",  # locally every query within the leg (a second apart)
        "EVENT_RETENTION_DAYS": "30",
        "EVENT_SETTLE_SECONDS": "1",  # the local feed shows an event a second after its write
        "DAY_END_SEGMENTS": "2",
        "DAY_END_LOANS_PER_CALL": "20",  # small, so the local day end closes its segments in several chunks
    }


@dataclass
class LocalStack:
    api_port: int = field(default_factory=lambda: int(os.environ.get("PORT", "8000")))
    moto_port: int = field(default_factory=free_port)
    business_date: date | None = None
    watch_executions: bool = True
    watch_seconds: float = field(default_factory=lambda: float(os.environ.get("LOCAL_WATCH_SECONDS", "30")))
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    _moto: Any = None
    _api: Any = None
    _runtime: Any = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    def start(self) -> "LocalStack":
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        os.environ.update(local_environment(self.moto_port))
        for service, options in MOTO_CONFIG.items():
            default_user_config.setdefault(service, {}).update(options)  # type: ignore[misc]
        from local import moto_atomicity

        moto_atomicity.install()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._moto.start()

        import app as app_module
        from local.lambda_runtime import InProcessLambda
        from local.provision import provision
        from local.seed import seed

        provisioned = provision(STAGE, REGION)
        self.env = provisioned.env
        os.environ.update(self.env)
        self._runtime = InProcessLambda.for_app(app_module, STAGE).install()
        self.secrets = seed(self.business_date)
        self._serve_api(app_module.app)
        if self.watch_executions:
            self._spawn(self._log_state_transitions, provisioned.state_machine_arns)
        if self.watch_seconds:
            self._spawn(self._run_origination_watch, app_module)
        return self

    def _run_origination_watch(self, app_module: Any) -> None:
        """The origination watch's schedule, locally: a round every ``watch_seconds`` (offers and
        manual reviews past their deadline expired, stalled legs started again)."""
        from local.lambda_runtime import LambdaContext

        event = json.loads((Path(app_module.__file__).parent / "events" / "schedule_origination_watch.json").read_text(encoding="utf-8"))
        while not self._stop.wait(self.watch_seconds):
            try:
                app_module.origination_watch(event, LambdaContext(function_name="origination_watch"))
            except Exception:  # noqa: BLE001 - a failed round is logged; the next one runs
                log.warning("the origination watch's round failed", exc_info=True)

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _serve_api(self, chalice_app: Any) -> None:
        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, LocalDevServer

        from local import api_gateway

        api_gateway.install()  # the function gets API Gateway's event: path parameters and query decoded once

        class Handler(ChaliceRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                """Request lines go to the ``local.api`` logger (INFO), not straight to stderr."""
                logging.getLogger("local.api").info(format, *args)

            def _generic_handle(self) -> None:
                """``/console/...``: the back-office console's static files (local only; see local/console_site.py)."""
                from local import console_site

                if not console_site.serve(self):
                    super()._generic_handle()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle  # the base class binds its own

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                """What the HTTP server refuses itself (a method it has no handler for, such as TRACE; a
                malformed request line) answers in the contract's error shape, not an HTML page."""
                from local import api_gateway

                status, headers, body = api_gateway.refusal(chalice_app.routes, getattr(self, "command", None), getattr(self, "path", None), code, message)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if getattr(self, "command", None) != "HEAD":
                    self.wfile.write(body)
                self.close_connection = True

        config = Config.create(chalice_stage=STAGE, app_name=chalice_app.app_name, environment_variables=self.env)
        # One request a thread, as each Lambda serves one at a time: the app's ``current_request`` kept per
        # thread (what ``chalice.local.create_local_server`` does), else concurrent requests read each
        # other's headers and bodies (a signature checked against another request's nonce).
        from chalice.local import CustomLocalChalice, LocalChalice

        if not isinstance(chalice_app, LocalChalice):
            CustomLocalChalice.__bases__ = (LocalChalice, type(chalice_app))
            chalice_app.__class__ = CustomLocalChalice
        self._api = LocalDevServer(chalice_app, config, host="127.0.0.1", port=self.api_port, handler_cls=Handler)
        self._spawn(self._api.server.serve_forever)

    def _log_state_transitions(self, machines: dict[str, str]) -> None:
        """Log every new state transition of every execution (polls moto's histories)."""
        import boto3

        sfn = boto3.client("stepfunctions", region_name=REGION)
        seen: dict[str, int] = {}
        finished: set[str] = set()  # ended and read to the end: not read again (the stack stays as fast after many)
        while not self._stop.wait(0.5):
            try:
                for arn in machines.values():
                    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
                        if execution["executionArn"] in finished:
                            continue
                        if execution["status"] != "RUNNING":
                            finished.add(execution["executionArn"])  # read once more below, to its last event
                        events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
                        for event in events[seen.get(execution["executionArn"], 0):]:
                            details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
                            log.info("workflow %s: %s %s", execution["name"], event["type"], details.get("name", ""))
                        seen[execution["executionArn"]] = len(events)
            except Exception:  # noqa: BLE001 - logging must never take the stack down
                log.debug("could not read execution histories", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._api is not None:
            self._api.server.shutdown()
            self._api.server.server_close()
        if self._runtime is not None:
            self._runtime.uninstall()
        if self._moto is not None:
            self._moto.stop()

    def wait_until_ready(self, timeout: float = 10.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def __enter__(self) -> "LocalStack":
        self.start()
        self.wait_until_ready()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
