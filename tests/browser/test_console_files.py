"""The console's files without a browser: the static site's path handling, the dictionaries."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from local import console_site

CONSOLE = Path(console_site.ROOT)


@pytest.mark.parametrize(
    "path",
    ["/console/../app.py", "/console/%2e%2e/app.py", "/console/js/%2E%2E/%2E%2E/app.py", "/console/..%2fapp.py",
     "/console/..\\app.py", "/console/%5c..%5capp.py", "/console/js/", "/console/i18n", "/console/missing.js",
     "/console/%00index.html", "/console/%ff.js", "/consolex/index.html", "/console/README.md.bak"],
)
def test_nothing_outside_the_console_folder_and_no_listings(path):
    answer = console_site.answer("GET", path)
    assert answer.status == 404, (path, answer.status)


def test_a_symlink_out_of_the_folder_is_not_followed(tmp_path):
    site = tmp_path / "console"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html>")
    (tmp_path / "secret.txt").write_text("secret")
    (site / "leak.txt").symlink_to(tmp_path / "secret.txt")
    assert console_site.answer("GET", "/console/leak.txt", root=site).status == 404
    assert console_site.answer("GET", "/console/", root=site).status == 200


def test_files_redirect_methods_and_content_types():
    assert console_site.answer("GET", "/console").status == 301
    assert console_site.answer("GET", "/console").headers["Location"] == "/console/"
    index = console_site.answer("GET", "/console/")
    assert index.status == 200 and index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert console_site.answer("GET", "/console/index.html?x=1#y").body == index.body
    assert console_site.answer("GET", "/console/js/main.js").headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert console_site.answer("PUT", "/console/index.html").status == 405
    assert console_site.handles("/console") and console_site.handles("/console/x") and not console_site.handles("/consolex")
    assert not console_site.handles("/backoffice/reviews")


def test_the_deployed_app_never_serves_the_console():
    import app

    assert not [path for path in app.app.routes if path.startswith("/console")]


def test_both_dictionaries_have_every_label_the_code_asks_for():
    zh = json.loads((CONSOLE / "i18n" / "zh-CN.json").read_text(encoding="utf-8"))
    en = json.loads((CONSOLE / "i18n" / "en.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en), {"only in zh-CN": sorted(set(zh) - set(en)), "only in en": sorted(set(en) - set(zh))}
    used = set()
    for script in (CONSOLE / "js").rglob("*.js"):
        used |= set(re.findall(r"\bt\('([a-zA-Z0-9_.]+)'", script.read_text(encoding="utf-8")))
    missing = sorted(key for key in used if key not in zh)
    assert not missing, missing
    # Every status and class of the domain is translated.
    from chalicelib.domain.application_status import ApplicationStatus
    from chalicelib.domain.classification import LoanClass
    from chalicelib.domain.loan import LoanStatus
    from chalicelib.domain.operator import Role

    for prefix, values in (("status", ApplicationStatus), ("class", LoanClass), ("loanStatus", LoanStatus), ("role", Role)):
        assert not [v.value for v in values if f"{prefix}.{v.value}" not in zh], prefix


def test_the_vendored_chart_js_is_named_with_its_version_and_licence():
    vendor = CONSOLE / "vendor"
    header = (vendor / "chart.umd.min.js").read_text(encoding="utf-8")[:200]
    version = re.search(r"Chart\.js v(\d+\.\d+\.\d+)", header).group(1)
    readme = (vendor / "README.md").read_text(encoding="utf-8")
    assert f"| {version} |" in readme and (vendor / "chart.js.LICENSE.md").is_file()
    html = (CONSOLE / "index.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # no CDN
