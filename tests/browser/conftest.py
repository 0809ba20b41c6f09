"""The back-office console in a real browser: Playwright for Python driving Debian's Chromium headless
against the real local stack (``python -m local.serve``, as the e2e tests start it).

Chromium comes from the system (``apt-get install chromium fonts-noto-cjk``; ``playwright install``'s
download is not used). Without it these tests fail with a message that says how to install it;
``make test-fast`` leaves them out (marker ``browser``).
"""
from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from tests.e2e.conftest import RunningStack, local_stack  # noqa: F401 - the session's local stack, as the e2e tests start it

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
INSTALL_HINT = (
    "the browser tests drive the system's Chromium headless, and there is none on PATH. Install it with\n"
    "    sudo apt-get install -y chromium fonts-noto-cjk      (or: sudo make browser-deps)\n"
    "(Debian's package; Playwright's own browser download is not used), or leave these tests out with\n"
    "    make test-fast      (pytest -m 'not browser')"
)


def chromium_executable() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(INSTALL_HINT, pytrace=False)


# Stopped after the browser tests (package scope): a running Playwright keeps an asyncio loop in
# this thread, and asyncio.run in later tests (pyHanko signing contracts) would fail.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = chromium_executable()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev.txt has it
        pytest.fail("playwright is not installed: `make install` (requirements-dev.txt pins it)", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=["--lang=zh-CN"])
        yield launched
        launched.close()


@dataclass
class Console:
    """A browser page on the console, with what went wrong in it (uncaught errors, failed API calls)."""

    page: Any
    base_url: str
    errors: list[str] = field(default_factory=list)
    failed_calls: list[str] = field(default_factory=list)

    def open(self, route: str = "") -> None:
        self.page.goto(f"{self.base_url}/console/#/{route}")
        self.wait_ready(route.split("?")[0])

    def wait_ready(self, route: str) -> None:
        """Until the page of a route (its pattern, e.g. ``applications/:id``) has rendered."""
        pattern = re.sub(r"^(applications|loans)/[^/]+$", r"\1/:id", route)
        pattern = re.sub(r"^reconciliation/[^/]+/[^/]+$", "reconciliation/:partner/:day", pattern)
        self.page.wait_for_selector(f'#page[data-ready="{pattern}"]')

    def login(self, username: str, password: str) -> None:
        self.page.goto(f"{self.base_url}/console/")
        self.page.get_by_test_id("username").fill(username)
        self.page.get_by_test_id("password").fill(password)
        self.page.get_by_test_id("login-submit").click()
        self.wait_ready("dashboard")

    def logout(self) -> None:
        self.page.get_by_test_id("logout").click()
        self.page.get_by_test_id("login-submit").wait_for()

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def console(browser: Any, local_stack: RunningStack) -> Iterator[Console]:  # noqa: F811 - the imported fixture
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    opened = Console(page, local_stack.api_url)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("response", lambda r: opened.failed_calls.append(f"{r.status} {r.request.method} {r.url}") if "/backoffice/" in r.url and r.status >= 500 else None)
    yield opened
    context.close()
    assert not opened.errors, f"uncaught errors in the console: {opened.errors}"
    assert not opened.failed_calls, f"API calls that failed on the server: {opened.failed_calls}"


def password(operator_id: str) -> str:
    from local.seed import operator_password

    return operator_password(operator_id)


@dataclass
class Scenario:
    """What the partner API made before the browser looks: an application waiting for manual review
    (BR_DONGCHENG), a disbursed loan (BR_DONGCHENG) and a reconciliation of the business day."""

    review_id: str
    loan_application_id: str
    loan_id: str
    business_date: str


def _wait(client: Any, application_id: str, done: set[str], timeout: float = 45.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        shown = client.get(f"/v1/applications/{application_id}").json()
        if shown["status"] in done:
            return shown
        assert time.monotonic() < deadline, f"{application_id} stayed {shown['status']}"
        time.sleep(0.2)


def api_token(base_url: str, operator_id: str) -> dict[str, str]:
    answer = requests.post(f"{base_url}/backoffice/session", json={"username": operator_id, "password": password(operator_id)}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['id_token']}"}


@pytest.fixture(scope="session")
def scenario(local_stack: RunningStack) -> Scenario:  # noqa: F811 - the imported fixture
    from local.partner_client import PartnerClient
    from local.people import person

    partner = PartnerClient(local_stack.api_url, "P_DEMO", local_stack.secrets["P_DEMO"])
    # 920: many recent lender inquiries at the (simulated) bureau -> a REFER rule -> manual review.
    review = partner.post("/v1/applications", person(920, partner_application_no="BROWSER-REVIEW-1"))
    lend = partner.post("/v1/applications", person(467, amount="12000.00", term_months=6, partner_application_no="BROWSER-LOAN-1"))
    assert review.status_code == 202 and lend.status_code == 202, (review.text, lend.text)
    review_id, lend_id = review.json()["application_id"], lend.json()["application_id"]
    assert _wait(partner, review_id, {"MANUAL_REVIEW", "REJECTED", "OFFERED", "NO_FUNDER"})["status"] == "MANUAL_REVIEW"
    assert _wait(partner, lend_id, {"OFFERED", "REJECTED", "NO_FUNDER"})["status"] == "OFFERED"
    accepted = partner.post(f"/v1/applications/{lend_id}/acceptance", {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()})
    assert accepted.status_code == 200, accepted.text
    disbursed = _wait(partner, lend_id, {"DISBURSED", "DISBURSEMENT_FAILED", "CANCELLED"})
    assert disbursed["status"] == "DISBURSED", disbursed
    loan_id = disbursed.get("loan_id") or "LN" + lend_id.removeprefix("AP")

    # The partner's reconciliation file of the business day: the loan, and a repayment the bank never had.
    admin = api_token(local_stack.api_url, "admin")
    day = requests.get(f"{local_stack.api_url}/backoffice/dashboard", headers=admin, timeout=10).json()["business_date"]
    link = partner.post("/v1/reconciliation-files", {"business_date": day})
    assert link.status_code == 200, link.text
    rows = [
        "business_date,txn_ref,txn_type,loan_id,amount,status",
        f"{day},BROWSER-LOAN-1,DISBURSEMENT,{loan_id},12000.00,SUCCESS",
        f"{day},BROWSER-RP-1,REPAYMENT,{loan_id},1000.00,SUCCESS",
    ]
    upload = link.json()["upload"]
    put = requests.put(upload["url"], data=("\n".join(rows) + "\n").encode(), headers=upload.get("headers") or {}, timeout=10)
    assert put.status_code == 200, put.text
    deadline = time.monotonic() + 20
    while not requests.get(f"{local_stack.api_url}/backoffice/reconciliation", headers=admin, params={"partner_id": "P_DEMO"}, timeout=10).json()["items"]:
        assert time.monotonic() < deadline, "the uploaded file was not reconciled"
        time.sleep(0.2)
    return Scenario(review_id=review_id, loan_application_id=lend_id, loan_id=loan_id, business_date=day)
