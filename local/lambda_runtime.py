"""Run the app's own Lambda handlers in-process when moto invokes a function.

Moto's Lambda backend without Docker only echoes its input. This replaces its
``invoke`` with a dispatcher: the function name (or ARN) is mapped to the
Chalice handler registered under that name, the handler runs with the event,
and an exception becomes a Lambda *function error* (``errorType`` is the
exception's class name), so that a state machine's Retry and Catch see it just
as they would on AWS.
"""
from __future__ import annotations

import json
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from moto.awslambda_simple.models import LambdaSimpleBackend

from local.provision import short_function_name

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """What a handler may read of its context (the Powertools logger reads these)."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class Invocation:
    function: str
    event: Any
    error: str | None


class InProcessLambda:
    """The dispatcher; ``invocations`` records every call for tests and the local log."""

    def __init__(self, handlers: dict[str, Handler], stage: str, on_invoke: Callable[[Invocation], None] | None = None):
        self.handlers = handlers
        self.stage = stage
        self.on_invoke = on_invoke
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._original: Any = None
        self._original_function: Any = None

    @classmethod
    def for_app(cls, app_module: Any, stage: str, **kwargs: Any) -> "InProcessLambda":
        """Every ``@app.lambda_function`` and ``@app.schedule`` handler of a Chalice app module."""
        app = app_module.app
        handlers: dict[str, Handler] = {}
        for registered in [*app.pure_lambda_functions, *app.event_sources]:
            handlers[registered.name] = getattr(app_module, registered.handler_string.rsplit(".", 1)[-1])
        return cls(handlers, stage, **kwargs)

    def invoke(self, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        name = short_function_name(self.stage, function_name)
        handler = self.handlers.get(name)
        event = json.loads(body) if body else {}
        if handler is None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return self._record(name, event, "ResourceNotFoundException", f"no handler named {name}")
        try:
            result = handler(event, LambdaContext(function_name=name))
        except Exception as exc:  # noqa: BLE001 - becomes a Lambda function error, as on AWS
            response_headers["x-amz-function-error"] = "Unhandled"
            return self._record(name, event, type(exc).__name__, str(exc), traceback.format_exception(exc))
        self._record(name, event, None, None)
        return json.dumps(result, default=str).encode("utf-8")

    def _record(self, name: str, event: Any, error_type: str | None, message: str | None, trace: list[str] | None = None) -> bytes:
        invocation = Invocation(name, event, error_type)
        with self._lock:
            self.invocations.append(invocation)
        if self.on_invoke:
            self.on_invoke(invocation)
        if error_type is None:
            return b""
        return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": trace or []}).encode("utf-8")

    def install(self) -> "InProcessLambda":
        runtime = self
        self._original = LambdaSimpleBackend.invoke

        def invoke(backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
            return runtime.invoke(function_name, body, response_headers)

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
        # S3 event notifications invoke the function object itself, not the backend
        from moto.awslambda.models import LambdaFunction

        self._original_function = LambdaFunction.invoke

        def invoke_function(function: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
            return runtime.invoke(function.function_name, body, response_headers)

        LambdaFunction.invoke = invoke_function  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            from moto.awslambda.models import LambdaFunction

            LambdaSimpleBackend.invoke = self._original  # type: ignore[method-assign]
            LambdaFunction.invoke = self._original_function  # type: ignore[method-assign]
            self._original = None
