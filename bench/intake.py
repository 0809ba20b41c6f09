"""Intake throughput and AWS calls per application, in-process on moto.

Signed ``POST /v1/applications`` through Chalice's test client, each a new
person, timed from the signed request to the 202; every AWS call is counted
with a botocore ``before-call`` event hook, split into the API request's own
calls and those of the workflow it starts (which runs in other threads).
Prints rates and counts, never gates CI: the machine may be shared.
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from report_kit import add_report_dir, image, md_table, pyplot, save_figure, write_section  # noqa: E402


AWS_SECONDS = [0.0]  # time the API thread spent inside AWS calls (moto, here)


def count_calls(counts: dict[str, collections.Counter], api_thread: int) -> None:
    """Register before-call/after-call hooks on every botocore client made from now on."""
    import botocore.session

    create = botocore.session.Session.create_client

    def counted(self, *args, **kwargs):
        client = create(self, *args, **kwargs)

        started: dict[int, float] = {}

        def before(model, **_):
            side = "api" if threading.get_ident() == api_thread else "workflow"
            counts[side][f"{model.service_model.service_name}.{model.name}"] += 1
            started[threading.get_ident()] = time.perf_counter()

        def after(model, **_):
            if threading.get_ident() == api_thread:
                AWS_SECONDS[0] += time.perf_counter() - started.pop(api_thread, time.perf_counter())

        client.meta.events.register("before-call", before)
        client.meta.events.register("after-call", after)
        return client

    botocore.session.Session.create_client = counted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=300)
    parser.add_argument("--profile", help="write a cProfile of the timed requests to this file")
    add_report_dir(parser)
    args = parser.parse_args()

    from local.stack import MOTO_CONFIG, REGION, STAGE, local_environment

    env = local_environment(0)
    for name in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
        env.pop(name)
    # As deployed: configuration cached for 30 s (the local stack turns the cache off for editing by hand).
    os.environ.update(env | {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true", "CONFIG_CACHE_SECONDS": "30"})
    counts: dict[str, collections.Counter] = {"api": collections.Counter(), "workflow": collections.Counter()}
    count_calls(counts, threading.get_ident())

    from chalice.test import Client
    from moto import mock_aws

    import app
    from chalicelib.domain.identity import check_character
    from chalicelib.domain.signing import sign_target
    from local.lambda_runtime import InProcessLambda
    from local.provision import provision
    from local.seed import SAMPLE, seed

    standard = json.loads((SAMPLE / "standard_application.json").read_text(encoding="utf-8"))
    with mock_aws(config={**MOTO_CONFIG, "core": {"reset_boto3_session": False}}):
        os.environ.update(provision(STAGE, REGION).env)
        runtime = InProcessLambda.for_app(app, STAGE).install()
        secret = seed()["P_DEMO"]
        with Client(app.app, stage_name="dev") as client:  # the deployed configuration (the local stage turns caching off)

            def submit(i: int) -> int:
                first17 = f"110101{1970 + i % 30}0{1 + i % 9}1{i % 10}{i % 1000:03d}"
                body = dict(standard, partner_application_no=f"B{i:08d}", applicant=dict(standard["applicant"], id_number=first17 + check_character(first17)))
                raw = json.dumps(body, ensure_ascii=False).encode()
                ts, nonce = str(int(time.time())), f"bench{i:027d}"
                headers = {"content-type": "application/json", "x-partner-id": "P_DEMO", "x-timestamp": ts, "x-nonce": nonce,
                           "x-signature": sign_target(secret, "POST", "/v1/applications", ts, nonce, raw)}
                return client.http.post("/v1/applications", headers=headers, body=raw).status_code

            assert submit(args.applications) == 202  # warm: first clients, first data key, caches
            for side in counts.values():
                side.clear()
            AWS_SECONDS[0] = 0.0
            profile = cProfile.Profile() if args.profile else None
            started = time.perf_counter()
            if profile:
                profile.enable()
            statuses = collections.Counter(submit(i) for i in range(args.applications))
            elapsed = time.perf_counter() - started
            if profile:
                profile.disable()
                profile.dump_stats(args.profile)
        time.sleep(1.0)  # let the started workflows finish before counting their calls
        runtime.uninstall()

    n = args.applications
    counts = {side: collections.Counter(seen) for side, seen in counts.items()}  # the workflows' threads may still count: one snapshot for what is shown
    print(f"intake, in-process on moto: {n} applications, each a new person")
    print(f"  statuses: {dict(statuses)}")
    own = elapsed - AWS_SECONDS[0]
    print(f"  throughput: {n / elapsed:.1f} applications/s (signed request to 202, one thread; moto included)")
    print(f"  time inside AWS calls (moto): {AWS_SECONDS[0] / elapsed:.0%} of it; the app's own time: {own / n * 1000:.1f} ms per application ({n / own:.0f}/s)")
    for side, label in (("api", "API request"), ("workflow", "origination workflow (acknowledge step)")):
        total = sum(counts[side].values())
        print(f"  AWS calls per application, {label}: {total / n:.2f}")
        for name, count in sorted(counts[side].items()):
            print(f"    {name:40s} {count / n:6.2f}")
    if args.report_dir is not None:
        report(args.report_dir, n, dict(statuses), elapsed, AWS_SECONDS[0], counts)
    return 0


def report(report_dir: Path, n: int, statuses: dict[int, int], elapsed: float, aws_seconds: float, counts: dict[str, collections.Counter]) -> None:
    """The section of bench/REPORT.md: throughput, the share spent in moto, AWS calls per application."""
    own = elapsed - aws_seconds
    figures = [
        ("applications (each a new person)", f"{n:,}"),
        ("statuses", ", ".join(f"{status}: {count:,}" for status, count in sorted(statuses.items()))),
        ("throughput, signed request to 202 (one thread, moto included)", f"{n / elapsed:.1f} applications/s"),
        ("time inside AWS calls (moto)", f"{aws_seconds / elapsed:.0%}"),
        ("the app's own time", f"{own / n * 1000:.1f} ms per application ({n / own:.0f}/s)"),
    ]
    sides = (("api", "API request"), ("workflow", "origination workflow (acknowledge step)"))
    calls = [(label, "**all**", f"**{sum(counts[side].values()) / n:.2f}**") for side, label in sides]
    calls += [(label, f"`{name}`", f"{count / n:.2f}") for side, label in sides for name, count in sorted(counts[side].items())]
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 0.32 * sum(len(counts[side]) for side, _ in sides) + 1.6))
    labels, values, colours = [], [], []
    for (side, label), colour in zip(sides, ("#4c72b0", "#dd8452")):
        for name, count in sorted(counts[side].items()):
            labels.append(f"{name} ({side})")
            values.append(count / n)
            colours.append(colour)
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=colours)
    axes.set_yticks(positions, labels, fontsize=8)
    axes.set_xlabel("AWS calls per application")
    axes.set_title(f"intake, AWS calls per application: {sum(counts['api'].values()) / n:.2f} in the API request (blue),\n"
                   f"{sum(counts['workflow'].values()) / n:.2f} in the origination workflow (orange)", fontsize=10)
    plot = save_figure(figure, report_dir, "intake", "aws-calls")
    write_section(report_dir, "intake", "\n".join([
        "## Intake",
        "",
        "Signed `POST /v1/applications` through Chalice's test client on moto, in-process, timed from the signed request to the 202, "
        "every AWS call counted. The AWS calls per application are what compare across machines (they are what is billed); "
        "the rates are this machine's and moto's, not AWS's.",
        "",
        md_table(["figure", "value"], figures, "lr"),
        md_table(["where", "AWS call", "per application"], calls, "llr"),
        image(plot, "AWS calls per application"),
    ]))


if __name__ == "__main__":
    sys.exit(main())
