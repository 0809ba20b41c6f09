"""Synthesize the CDK app once per session, as ``python infrastructure/app.py`` runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.resources import APP_NAME
from tests.infrastructure.cfn import Synthesized

ROOT = Path(__file__).resolve().parents[2]
STAGE = "dev"


def synthesize(work: Path, stage: str = STAGE, **environment: str) -> Path:
    """Run ``python infrastructure/app.py`` in ``work`` as a deployment would (``environment``: what
    the CDK CLI would hand it, e.g. ``CDK_CONTEXT_JSON`` for ``-c``); the template's path. A
    developer's own exported CDK, DynamoDB and stage options are left out."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CDK_", "DYNAMODB_", "RESERVED_CONCURRENCY", "LAMBDA_ACCOUNT_CONCURRENCY", "DEPLOY_STAGE"))}
    env.update(
        CDK_OUTDIR=str(work / "cdk.out"),
        CDK_DEFAULT_REGION="us-east-1",
        DEPLOY_STAGE=stage,
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        **environment,
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "infrastructure" / "app.py")],
        cwd=work, env=env, capture_output=True, text=True, timeout=900,
    )
    if done.returncode:
        pytest.fail(f"synth failed ({done.returncode}):\n{done.stdout}\n{done.stderr}", pytrace=False)
    return work / "cdk.out" / f"{APP_NAME}-{stage}.template.json"


@pytest.fixture(scope="session")
def template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthesized template; chalice.out/ and cdk.out/ go to a temporary directory."""
    return synthesize(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session")
def stack(template_path: Path) -> Synthesized:
    return Synthesized(json.loads(template_path.read_text(encoding="utf-8")), STAGE)
