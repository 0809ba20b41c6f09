"""CDK app: ``python app.py`` from anywhere, or the CDK CLI through cdk.json.

The stage comes from context (``cdk synth -c stage=prod``) or DEPLOY_STAGE, default
"dev" (not STAGE: that is the functions' own variable, which the local stack exports).
DynamoDB capacity is read the same way, by the stack (``stack.dynamodb_capacity``):
``-c dynamodb_capacity=provisioned`` or DYNAMODB_CAPACITY, default "on_demand".
The template goes to CDK_OUTDIR (the CLI sets it), else to infrastructure/cdk.out.
The Chalice construct packages the app into ./chalice.out (a 20 MB copy per synth);
app.py runs it in a scratch directory, since cdk.out keeps the asset it needs.

``chalice package`` runs during synth and wants a region, only to look up service
principals: the template itself is region-agnostic (the same for us-east-1 and
cn-north-1), so without CDK_DEFAULT_REGION, AWS_REGION or AWS_DEFAULT_REGION it
packages with us-east-1.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # chalicelib

import aws_cdk as cdk  # noqa: E402

from chalicelib.resources import APP_NAME  # noqa: E402
from stack import PlatformStack  # noqa: E402


def main() -> None:
    app = cdk.App(outdir=str(Path(os.environ.get("CDK_OUTDIR") or HERE / "cdk.out").resolve()))
    stage = app.node.try_get_context("stage") or os.environ.get("DEPLOY_STAGE") or "dev"
    if not re.fullmatch(r"[a-z][a-z0-9]*", stage):
        sys.exit(f"stage {stage!r}: use lowercase letters and digits")
    os.environ["AWS_DEFAULT_REGION"] = (
        os.environ.get("CDK_DEFAULT_REGION") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    )
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="chalice-") as scratch:
        os.chdir(scratch)
        try:
            PlatformStack(app, f"{APP_NAME}-{stage}", stage=stage, description=f"{APP_NAME} loan platform, stage {stage}")
            app.synth()
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    main()
