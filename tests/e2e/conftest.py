"""The local stack as a user starts it (``python -m local.serve``), driven over HTTP."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from local.serve import READY, read_banner
from local.stack import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    api_url: str
    aws_endpoint: str
    secrets: dict[str, str]
    resources: dict[str, str]  # the resources' environment variables, as the stack's functions get them
    process: subprocess.Popen
    output: list[str]  # everything the stack printed, appended as it prints

    def printed(self, text: str, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self.output)):
                return True
            time.sleep(0.05)
        return False


@pytest.fixture(scope="session")
def local_stack() -> Iterator[RunningStack]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"PORT": str(port), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while READY not in output:
        line = process.stdout.readline()
        if not line and process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the local stack did not start:\n" + "".join(output))
        output.append(line.rstrip("\n"))
    shown = read_banner("\n".join(output))
    stack = RunningStack(api_url=shown.api_url, aws_endpoint=shown.aws_endpoint, secrets=shown.secrets, resources=shown.resources, process=process, output=output)
    threading.Thread(target=lambda: [output.append(line.rstrip("\n")) for line in process.stdout], daemon=True).start()
    yield stack
    process.send_signal(signal.SIGINT)
    try:
        assert process.wait(timeout=20) == 0, "the local stack did not stop cleanly on Ctrl-C"
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)  # local.serve dumps every thread's stack on SIGUSR1
        time.sleep(2)
        process.kill()
        pytest.fail("the local stack did not stop within 20 s of Ctrl-C; its last output:\n" + "\n".join(output[-80:]))
