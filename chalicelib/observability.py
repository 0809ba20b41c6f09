"""Powertools Logger, Metrics and Tracer, created once for the whole app.

The service name and namespace are fixed here rather than read from the
environment at import: Chalice's test client sets the environment only during
a call, and one name everywhere keeps dashboards simple.
"""
from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

from chalicelib.resources import APP_NAME

SERVICE = APP_NAME
NAMESPACE = "Zhudai"

# A request that records no metric (a health check) is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
tracer = Tracer(service=SERVICE)
