"""CDK app: ``python app.py`` (the CDK CLI runs it through cdk.json).

The stage comes from context (``cdk synth -c stage=prod``) or DEPLOY_STAGE, default
"dev" (not STAGE: that is the functions' own variable, which the local stack exports).
``chalice package`` runs during synth and needs a region for service principals:
CDK_DEFAULT_REGION (set by the CDK CLI), AWS_REGION or AWS_DEFAULT_REGION.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # chalicelib

import aws_cdk as cdk  # noqa: E402

from chalicelib.resources import APP_NAME  # noqa: E402
from stack import PlatformStack  # noqa: E402


def main() -> None:
    app = cdk.App()
    stage = app.node.try_get_context("stage") or os.environ.get("DEPLOY_STAGE") or "dev"
    if not re.fullmatch(r"[a-z][a-z0-9]*", stage):
        sys.exit(f"stage {stage!r}: use lowercase letters and digits")
    region = os.environ.get("CDK_DEFAULT_REGION") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        sys.exit("set AWS_DEFAULT_REGION (or CDK_DEFAULT_REGION): chalice package needs a region")
    os.environ["AWS_DEFAULT_REGION"] = region
    PlatformStack(app, f"{APP_NAME}-{stage}", stage=stage, description=f"{APP_NAME} loan platform, stage {stage}")
    app.synth()


if __name__ == "__main__":
    main()
