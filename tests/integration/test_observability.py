"""Metrics are flushed (and cleared) at the end of every invocation, as on Lambda."""
from __future__ import annotations

import app
from chalicelib.observability import metrics
from local.lambda_runtime import LambdaContext
from tests.infrastructure.test_resource_usage import signed_sample


def test_each_invocation_flushes_its_metrics(aws, capsys):
    for _ in range(2):
        response = app.app(signed_sample(aws.secrets["P_DEMO"], "api_quote_request.json"), LambdaContext("api_handler"))
        assert response["statusCode"] == 200
        assert not metrics.metric_set
    emf = [line for line in capsys.readouterr().out.splitlines() if '"CloudWatchMetrics"' in line]
    assert len(emf) == 2 and all('"QuotesComputed":[1.0]' in line for line in emf)


def test_log_lines_carry_the_request_s_correlation_id(aws, app_log):
    event = signed_sample(aws.secrets["P_DEMO"], "api_quote_request.json")
    event["headers"]["X-Signature"] = "0" * 64
    app.app(event, LambdaContext("api_handler"))
    refused = [line for line in app_log.getvalue().splitlines() if "authentication refused" in line]
    assert refused and '"correlation_id":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"' in refused[0]
