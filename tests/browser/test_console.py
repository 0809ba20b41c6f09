"""The back-office console in Chromium against the real local stack: the review queue decided by the
branch's reviewer, another branch that sees nothing of it, a routing rule edited by the platform
operator with its audit entry; a full-page screenshot of each page (test-output/screenshots/).

The tests run in this order (the queue is looked at by the other branch before it is decided).
"""
from __future__ import annotations

import re

import pytest
import requests

from tests.browser.conftest import Console, Scenario, api_token, password

pytestmark = pytest.mark.browser


def expect_text(console: Console, selector: str, pattern: str) -> None:
    console.page.wait_for_function(
        "([selector, pattern]) => { const el = document.querySelector(selector); return !!el && new RegExp(pattern).test(el.textContent); }",
        arg=[selector, pattern],
    )


def test_the_local_stack_serves_the_console_and_nothing_outside_it(local_stack):
    base = local_stack.api_url
    moved = requests.get(f"{base}/console?x=1", allow_redirects=False, timeout=10)
    assert moved.status_code == 301 and moved.headers["Location"] == "/console/?x=1"
    index = requests.get(f"{base}/console/", timeout=10)
    assert index.status_code == 200 and index.headers["Content-Type"] == "text/html; charset=utf-8" and "<title>" in index.text
    kinds = {
        "/console/js/main.js": "text/javascript; charset=utf-8",
        "/console/css/console.css": "text/css; charset=utf-8",
        "/console/i18n/zh-CN.json": "application/json; charset=utf-8",
        "/console/vendor/chart.umd.min.js": "text/javascript; charset=utf-8",
        "/console/favicon.svg": "image/svg+xml",
    }
    for path, content_type in kinds.items():
        answer = requests.get(base + path, timeout=10)
        assert (answer.status_code, answer.headers["Content-Type"]) == (200, content_type), path
    for escape in ("/console/../app.py", "/console/%2e%2e/app.py", "/console/js/..%2f..%2fapp.py", "/console/..%5capp.py",
                   "/console/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/console/js/", "/console/vendor", "/console/nothing.js"):
        # A raw request line: an HTTP client would normalise the dots away before sending.
        import http.client
        from urllib.parse import urlsplit

        where = urlsplit(base)
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        connection.request("GET", escape)
        answer = connection.getresponse()
        body = answer.read()
        connection.close()
        assert answer.status == 404, (escape, answer.status, body[:200])
        assert b"chalice" not in body.lower() and b"import" not in body
    assert requests.post(f"{base}/console/index.html", data=b"x", timeout=10).status_code == 405
    assert requests.get(f"{base}/health", timeout=10).json() == {"status": "ok"}  # the API is untouched


def test_amounts_are_formatted_from_their_strings_never_through_a_float(console: Console):
    console.page.goto(f"{console.base_url}/console/")
    shown = console.page.evaluate(
        """async () => {
            const f = await import('./js/format.js');
            return [f.yuan('1234567.80'), f.yuan('0.5'), f.yuan('-12.00'), f.yuan('9007199254740993.01'), f.yuan(null),
                    f.percent('0.7500'), f.percent('0.1800'), f.sumDecimals(['0.10', '0.20', '9007199254740993.00'])];
        }"""
    )
    assert shown == ["¥1,234,567.80", "¥0.50", "-¥12.00", "¥9,007,199,254,740,993.01", "—", "75.00%", "18.00%", "9007199254740993.30"]


def test_a_wrong_password_is_refused_and_a_dead_token_goes_back_to_login(console: Console, scenario: Scenario):
    console.page.goto(f"{console.base_url}/console/")
    console.page.get_by_test_id("username").fill("reviewer.dongcheng")
    console.page.get_by_test_id("password").fill("not-the-password")
    console.page.get_by_test_id("login-submit").click()
    expect_text(console, '[data-testid="login-error"]', "用户名或密码错误")
    console.screenshot("login")
    console.login("reviewer.dongcheng", password("reviewer.dongcheng"))
    console.page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('console.session'));
                                     s.id_token = 'expired-or-forged'; sessionStorage.setItem('console.session', JSON.stringify(s)); }""")
    console.page.goto(f"{console.base_url}/console/#/applications")
    console.page.get_by_test_id("login-submit").wait_for()
    assert "#/login" in console.page.url
    assert console.page.evaluate("sessionStorage.getItem('console.session')") is None


def test_another_branch_sees_nothing_of_the_application(console: Console, scenario: Scenario):
    # The application is waiting in BR_DONGCHENG's queue now (the API says so) ...
    dongcheng = api_token(console.base_url, "reviewer.dongcheng")
    queue = requests.get(f"{console.base_url}/backoffice/reviews", headers=dongcheng, timeout=10).json()
    assert scenario.review_id in [item["application_id"] for item in queue["items"]]
    # ... and BR_XICHENG's branch operator sees it neither in the queue nor in a search nor by its id.
    console.login("operator.xicheng", password("operator.xicheng"))
    expect_text(console, '[data-testid="operator-branch"]', "BR_XICHENG")
    console.open("reviews")
    assert console.page.locator(f'[data-application-id="{scenario.review_id}"]').count() == 0
    console.page.get_by_test_id("review-queue-empty").wait_for()
    console.screenshot("other-branch-review-queue")
    console.open(f"applications?q={scenario.review_id}")
    console.page.wait_for_selector('.paged .empty, [data-testid="applications-table"]')
    assert scenario.review_id not in console.page.inner_text("#page")
    console.open("applications")
    console.page.wait_for_selector('.paged .empty, [data-testid="applications-table"]')
    assert scenario.review_id not in console.page.inner_text("#page")
    console.open(f"applications/{scenario.review_id}")  # the detail page renders its error
    expect_text(console, "#page .error", "未找到|404")
    console.screenshot("other-branch-application")


def test_the_branch_reviewer_approves_from_the_queue_and_sees_the_status_change(console: Console, scenario: Scenario):
    console.login("reviewer.dongcheng", password("reviewer.dongcheng"))
    expect_text(console, '[data-testid="operator-name"]', "东城审核员")
    expect_text(console, '[data-testid="operator-role"]', "审核员")
    expect_text(console, '[data-testid="operator-branch"]', "BR_DONGCHENG")
    console.page.wait_for_selector('[data-testid="chart-status"]')
    console.screenshot("dashboard-branch")

    console.open("reviews")
    item = console.page.locator(f'[data-testid="review-item"][data-application-id="{scenario.review_id}"]')
    item.wait_for()
    assert "多头借贷" in item.inner_text()  # the fired rule, translated
    assert "110101********9200" in item.inner_text()  # the applicant, masked
    console.screenshot("review-queue")
    item.get_by_test_id("review-comment").fill("电核通过:本人确认借款用途")
    item.get_by_test_id("review-approve").click()
    status = item.locator('[data-testid="review-result-status"]')
    status.wait_for(timeout=30_000)
    now = status.get_attribute("data-status")
    assert now and now != "MANUAL_REVIEW", now
    console.screenshot("review-decided")

    console.page.get_by_role("link", name="查看详情").click()
    console.wait_ready("applications/:id")
    shown = console.page.get_by_test_id("application-status").get_attribute("data-status")
    assert shown in {"ROUTING", "OFFERED"}, shown
    timeline = console.page.get_by_test_id("timeline")
    assert "电核通过" in timeline.inner_text() and "人工审核" in timeline.inner_text()
    console.screenshot("application-detail")

    console.open("loans")
    row = console.page.locator(f'[data-testid="loans-table"] tr[data-key="{scenario.loan_id}"]')
    row.wait_for()
    assert "¥12,000.00" in row.inner_text()
    console.screenshot("loans")
    row.click()
    console.wait_ready("loans/:id")
    console.page.get_by_test_id("schedule").wait_for()
    assert "¥12,000.00" in console.page.inner_text("#page")
    console.screenshot("loan-detail")


def test_the_platform_operator_edits_a_routing_rule_and_sees_it_in_the_history(console: Console, scenario: Scenario):
    console.login("admin", password("admin"))
    expect_text(console, '[data-testid="operator-role"]', "平台管理员")
    console.page.wait_for_selector('[data-testid="chart-quota"]')
    drawn = console.page.evaluate("() => [...document.querySelectorAll('canvas')].map((c) => !!window.Chart.getChart(c))")
    assert drawn and all(drawn), drawn  # every chart is Chart.js's
    assert re.search(r"¥\d{1,3}(,\d{3})*\.\d{2}", console.page.get_by_test_id("disbursed-total").inner_text())
    console.screenshot("dashboard")

    console.open("config?tab=funding&code=CONSUMER_STD")
    editor = console.page.get_by_test_id("editor-funding")
    editor.wait_for()
    version = int(console.page.get_by_test_id("config-version").get_attribute("data-version"))
    # A bad ratio first: the 400's field path puts the message next to that field.
    ratio = editor.locator('[name="channels[0].shares[0].ratio"]')
    ratio.fill("1.5")
    editor.get_by_test_id("editor-save").click()
    editor.locator('[data-error-for="channels[0].shares[0].ratio"]').wait_for()
    assert ratio.get_attribute("aria-invalid") == "true"
    console.screenshot("configuration-invalid")
    ratio.fill("1")
    # The routing rules in a new order: fee_rate first.
    rules = editor.locator('[data-path="routing_rules"] > .list-item')
    names = [rules.nth(i).locator("input").input_value() for i in range(rules.count())]
    assert "fee_rate" in names, names
    for _ in range(names.index("fee_rate")):
        current = [rules.nth(i).locator("input").input_value() for i in range(rules.count())]
        rules.nth(current.index("fee_rate")).get_by_test_id("item-up").click()
    assert rules.nth(0).locator("input").input_value() == "fee_rate"
    editor.get_by_test_id("editor-save").click()
    console.page.get_by_test_id("saved").wait_for()
    assert int(console.page.get_by_test_id("config-version").get_attribute("data-version")) == version + 1
    console.screenshot("configuration")

    console.page.get_by_test_id("saved-history").click()
    console.wait_ready("config/history")
    entry = console.page.locator('[data-testid="history-entry"]').first
    entry.wait_for()
    assert entry.get_attribute("data-version") == str(version + 1)
    assert entry.get_by_test_id("history-who").inner_text() == "admin"
    diff = entry.get_by_test_id("history-diff").inner_text()
    assert "routing_rules" in diff and "fee_rate" in diff
    console.screenshot("history")

    console.open("reconciliation")
    row = console.page.locator('[data-testid="reconciliation-table"] tbody tr').first
    row.wait_for()
    assert scenario.business_date in row.inner_text() and "不平" in row.inner_text()
    console.screenshot("reconciliation")
    row.click()
    console.wait_ready("reconciliation/:partner/:day")
    assert "银行缺失" in console.page.get_by_test_id("reconciliation-rows").inner_text()  # the repayment the bank never had
    console.screenshot("reconciliation-day")

    console.open("collections")
    console.page.wait_for_selector('.paged .empty, [data-testid="collections-table"]')
    console.screenshot("collections")
    console.open("warnings")
    console.page.wait_for_selector('.paged .empty, [data-testid="warnings-table"]')
    console.screenshot("warnings")

    # English on demand: the labels come from the other dictionary, the statuses too.
    console.open("applications")
    console.page.get_by_test_id("language-toggle").click()
    expect_text(console, '[data-testid="nav-applications"]', "^Applications$")
    console.page.wait_for_selector('[data-testid="applications-table"]')
    assert "Disbursed" in console.page.inner_text("#page")
    console.screenshot("applications-english")
    console.page.get_by_test_id("language-toggle").click()
    expect_text(console, '[data-testid="nav-applications"]', "进件查询")
