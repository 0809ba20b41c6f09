"""Contract throughput: contracts generated AND signed per second, and the size of what is archived.

Pure (no AWS, no network), on one core where the OS allows pinning. A local CA
and one branch certificate (EC P-256) sign in-process (``KeySigner``), as the
"keys" mode does on Lambda. Synthetic loans (amount, rate, method, 12 or 36
months, joint or not) are prepared first with a fixed seed (not timed); then
each is rendered (reportlab) and sealed (pyHanko, PAdES B-B), then the credit-
inquiry authorisation letter the same way, then a sample is verified. Prints
rates and sizes; never asserts on time: the machine may be shared.

    python bench/contracts.py [--count 200] [--seed 20261123]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from one_core import pin_to_one_core  # noqa: E402
from report_kit import add_report_dir, bar_figure, image, md_table, save_figure, write_section  # noqa: E402
from chalicelib.documents.authorisation_pdf import render_authorisation  # noqa: E402
from chalicelib.documents.contract_pdf import render_contract  # noqa: E402
from chalicelib.documents.verification import verify_pdf  # noqa: E402
from chalicelib.domain.contract import Borrower, ContractTemplate, ContractTerms, FunderShare, contract_no  # noqa: E402
from chalicelib.domain.schedule import RepaymentMethod  # noqa: E402
from chalicelib.ports.ca import KeySigner  # noqa: E402
from local.ca import issue_branch_certificate, make_ca  # noqa: E402

TEMPLATE = ROOT / "config" / "sample" / "contract_templates" / "CONSUMER_STD.json"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="contracts to generate and sign")
    parser.add_argument("--seed", type=int, default=20261123)
    add_report_dir(parser)
    return parser.parse_args()


def loan(rng: random.Random, index: int, term_months: int | None = None) -> ContractTerms:
    amount = Decimal(rng.randrange(1_000_00, 300_000_00, 100)).scaleb(-2)
    joint = rng.random() < 0.3
    if joint:
        lead = (amount * Decimal("0.7")).quantize(Decimal("0.01"))
        funders = (
            FunderShare("BR_DONGCHENG", "东城农村商业银行", lead, Decimal("0.7"), True),
            FunderShare("PB_HUAXIA_JOINT", "华夏联合贷参与行", amount - lead, Decimal("0.3"), False),
        )
    else:
        funders = (FunderShare("BR_DONGCHENG", "东城农村商业银行", amount, Decimal("1"), True),)
    application_id = f"AP20261123-{index:06d}-{rng.getrandbits(40):010x}"
    accepted = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(86_400))
    return ContractTerms(
        contract_no=contract_no(application_id),
        kind="LOAN",
        application_id=application_id,
        credit_line_id=None,
        product_code="CONSUMER_STD",
        product_name="个人消费贷款(标准版)",
        branch_code="BR_DONGCHENG",
        branch_name="东城农村商业银行",
        borrower=Borrower(
            rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2]))),
            f"110101{rng.randrange(1960, 2005)}0307{rng.randrange(1000, 9999)}",
            f"138{rng.randrange(10**8):08d}",
            f"622202{rng.randrange(10**13):013d}",
            "中国工商银行",
        ),
        funders=funders,
        amount=amount,
        annual_rate=Decimal(rng.randrange(300, 2400)).scaleb(-4),
        term_months=term_months or rng.choice([12, 36]),
        repayment_method=rng.choice(list(RepaymentMethod)),
        start_date=date(2026, 11, 23) + timedelta(days=rng.randrange(30)),
        accepted_at=accepted,
    )


def kib(size: float) -> str:
    return f"{size / 1024:.1f} KiB"


def main() -> None:
    args = arguments()
    pin_to_one_core()
    rng = random.Random(args.seed)
    template = ContractTemplate.model_validate_json(TEMPLATE.read_text(encoding="utf-8"))
    ca = make_ca()
    branch = issue_branch_certificate(ca, "BR_DONGCHENG", "东城农村商业银行")
    signer = KeySigner(branch.key_pem, branch.chain_pem)
    loans = [loan(rng, index) for index in range(args.count)]
    # warm up (font registration, imports) before timing
    signer.sign(render_contract(loans[0], template), reason="warm-up", location="北京")

    started = time.perf_counter()
    rendered = [render_contract(terms, template) for terms in loans]
    render_seconds = time.perf_counter() - started

    started = time.perf_counter()
    signed = [signer.sign(pdf, reason="借款合同电子签章", location="北京") for pdf in rendered]
    sign_seconds = time.perf_counter() - started

    started = time.perf_counter()
    letters = [signer.sign(render_authorisation(terms, template), reason="征信查询授权书签章", location="北京") for terms in loans]
    letter_seconds = time.perf_counter() - started

    sample = signed[: min(50, len(signed))]
    started = time.perf_counter()
    assert all(verify_pdf(pdf, [ca.certificate_pem]).valid for pdf in sample)
    verify_seconds = time.perf_counter() - started

    twelve = loan(random.Random(1), 1, 12)
    thirty_six = loan(random.Random(1), 1, 36)
    sizes = {"12-month loan": render_contract(twelve, template), "36-month loan": render_contract(thirty_six, template)}
    letter = render_authorisation(twelve, template)
    both = render_seconds + sign_seconds

    print(f"contracts: {args.count} synthetic loans (seed {args.seed}; 12 or 36 months, 30% joint), EC P-256 KeySigner, one core")
    print(f"render only:            {args.count / render_seconds:8,.1f} contracts/s ({1000 * render_seconds / args.count:.1f} ms each)")
    print(f"sign only (PAdES B-B):  {args.count / sign_seconds:8,.1f} contracts/s ({1000 * sign_seconds / args.count:.1f} ms each)")
    print(f"render + sign:          {args.count / both:8,.1f} contracts/s ({1000 * both / args.count:.1f} ms each)")
    print(f"authorisation + sign:   {args.count / letter_seconds:8,.1f} letters/s ({1000 * letter_seconds / args.count:.1f} ms each)")
    print(f"verify:                 {len(sample) / verify_seconds:8,.1f} signed contracts/s ({len(sample)} verified)")
    signed_sizes = {}
    for name, pdf in sizes.items():
        signed_size = len(signer.sign(pdf, reason="借款合同电子签章", location="北京"))
        signed_sizes[name] = signed_size
        print(f"size, {name}:    {kib(len(pdf))} unsigned, {kib(signed_size)} signed")
    letter_signed = len(signer.sign(letter, reason='r', location='l'))
    print(f"size, authorisation:    {kib(len(letter))} unsigned, {kib(letter_signed)} signed")
    median_contract, median_letter = statistics.median(len(p) for p in signed), statistics.median(len(p) for p in letters)
    print(f"size, all signed:       median {kib(median_contract)} per contract, median {kib(median_letter)} per letter")
    if args.report_dir is not None:
        timed = {
            "render only": (args.count, render_seconds, "contracts"),
            "sign only (PAdES B-B)": (args.count, sign_seconds, "contracts"),
            "render + sign": (args.count, both, "contracts"),
            "authorisation letter + sign": (args.count, letter_seconds, "letters"),
            "verify": (len(sample), verify_seconds, "signed contracts"),
        }
        archived = [(name, kib(len(pdf)), kib(signed_sizes[name])) for name, pdf in sizes.items()]
        archived += [("authorisation letter", kib(len(letter)), kib(letter_signed)),
                     (f"median of the {args.count} signed contracts", "", kib(median_contract)),
                     (f"median of the {args.count} signed letters", "", kib(median_letter))]
        report(args.report_dir, args.count, args.seed, timed, archived)


def report(report_dir: Path, count: int, seed: int, timed: dict[str, tuple[int, float, str]], archived: list[tuple[str, str, str]]) -> None:
    """The section of bench/REPORT.md: each step's rate and time, and the sizes archived."""
    rows = [(name, f"{n / seconds:,.1f} {what}/s", f"{1000 * seconds / n:.1f}", n) for name, (n, seconds, what) in timed.items()]
    chart = bar_figure(list(timed), [n / seconds for n, seconds, _ in timed.values()], "per second, one core",
                       "contracts: render, sign, verify", fmt="{:,.1f}/s")
    plot = save_figure(chart, report_dir, "contracts", "rates")
    write_section(report_dir, "contracts", "\n".join([
        "## Contracts",
        "",
        f"{count} synthetic loans (seed {seed}; 12 or 36 months, 30% joint) rendered to PDF (reportlab) and sealed (pyHanko, PAdES B-B, "
        "EC P-256 in-process), then the credit-inquiry authorisation letter the same way, then a sample verified; pure, one core. "
        "The rates are this machine's (their ratios compare across machines); the sizes are what is archived, on any machine.",
        "",
        md_table(["step", "rate", "ms each", "documents"], rows),
        md_table(["document", "unsigned", "signed"], archived),
        image(plot, "render, sign and verify rates"),
    ]))

if __name__ == "__main__":
    main()
