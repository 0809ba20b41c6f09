"""The back-office console's static files (``console/``) served by the local stack under ``/console/``.

Local only: on AWS the console is a static site (S3 + CloudFront, ``/backoffice/*`` routed to
the API), and the deployed Chalice app never serves it. Here the local stack's HTTP server
answers ``/console`` (a redirect to ``/console/``) and ``/console/<file>`` from this module
before the Chalice routes: GET and HEAD only, ``index.html`` for the folder itself, no
directory listings, and nothing outside ``console/`` (``..``, encoded or not, a backslash, a NUL
or a symlink out of the folder answer 404).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent / "console"
PREFIX = "/console"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def handles(raw_path: str) -> bool:
    """Whether a request target (path and query) is the console's."""
    path = urlsplit(raw_path).path
    return path == PREFIX or path.startswith(PREFIX + "/")


def _not_found() -> Answer:
    return Answer(404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n")


def resolve(raw_path: str, root: Path = ROOT) -> Path | None:
    """The file under ``root`` that a ``/console/...`` path names, or None (never anything outside ``root``)."""
    path = urlsplit(raw_path).path
    if not path.startswith(PREFIX + "/"):
        return None
    relative = unquote(path[len(PREFIX) + 1 :], errors="strict")
    if "\x00" in relative or "\\" in relative:
        return None
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None
    base = root.resolve()
    target = (base.joinpath(*parts) if parts else base).resolve()
    if target != base and base not in target.parents:
        return None  # e.g. a symlink that points out of the folder
    if target.is_dir():
        target = target / "index.html" if target == base else Path("/nonexistent")  # no listings
    return target if target.is_file() else None


def answer(method: str, raw_path: str, root: Path = ROOT) -> Answer:
    """The answer to a request for the console (``handles(raw_path)`` is true)."""
    split = urlsplit(raw_path)
    if method not in ("GET", "HEAD"):
        return Answer(405, {"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"}, b"method not allowed\n")
    if split.path == PREFIX:
        return Answer(301, {"Location": PREFIX + "/" + (f"?{split.query}" if split.query else "")})
    try:
        target = resolve(raw_path, root)
    except (UnicodeDecodeError, ValueError, OSError):
        target = None
    if target is None:
        return _not_found()
    content_type = CONTENT_TYPES.get(target.suffix.lower())
    if content_type is None:
        return _not_found()
    body = target.read_bytes()
    headers = {
        "Content-Type": content_type,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    return Answer(200, headers, body)


def serve(handler: Any) -> bool:
    """Answer ``handler``'s request (an ``http.server.BaseHTTPRequestHandler``) if it is the console's."""
    if not handles(handler.path):
        return False
    length = int(handler.headers.get("content-length") or 0)
    if length:
        handler.rfile.read(length)  # keep the connection usable
    result = answer(handler.command, handler.path)
    handler.send_response(result.status)
    for name, value in result.headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(result.body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(result.body)
    return True
