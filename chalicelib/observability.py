"""Powertools Logger, Metrics and Tracer, registered once for the whole app.

The service name and namespace are fixed here rather than read from the
environment at import: Chalice's test client sets the environment only during
a call, and one name everywhere keeps dashboards simple.

The Tracer is made on the first invocation, not at import: creating the X-Ray
recorder builds botocore clients for centralised sampling (about 190 ms), and
import time is paid by every cold start whether tracing is on or not. With
``POWERTOOLS_TRACE_DISABLED=true`` (local runs, tests) the X-Ray SDK is never
loaded at all.
"""
from __future__ import annotations

import functools
import logging
import warnings
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from chalicelib.domain.masking import scrub
from chalicelib.resources import APP_NAME

SERVICE = APP_NAME
NAMESPACE = "Zhudai"

# A request that records no metric (a health check) is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

class ScrubbingFormatter(LambdaPowertoolsFormatter):
    """The last line of defence: no log line carries a raw ID, mobile or card number.

    Code never logs personal data on purpose; this masks whatever slips
    through (an exception message quoting an input, a library's debug line).
    """

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


logger = Logger(service=SERVICE, logger_formatter=ScrubbingFormatter())
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


@functools.cache
def tracer() -> Any:
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def capture_lambda_handler(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``Tracer.capture_lambda_handler`` for Chalice's ConvertToMiddleware, with the Tracer made on first use."""

    def traced(event: Any, context: Any) -> Any:
        return tracer().capture_lambda_handler(handler)(event, context)

    return traced
