"""The web UI's pages and files: one HTML shell for every screen, and the static ES modules.

No build step and nothing from a CDN: the files under `static/` are served as they are. Only
files that exist when the app starts are served (no path from the URL ever reaches the disk),
and the strict Content-Security-Policy allows scripts from this origin only, so even text that
slipped into the page as markup could not run.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, RedirectResponse, Response

STATIC = Path(__file__).parent / "static"
PAGES = ("/login", "/inbox", "/requests/{request_id}", "/dashboard", "/admin", "/admin/{section}")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: https: http:; media-src 'self' https: http:; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

router = APIRouter(include_in_schema=False)


def _files() -> dict[str, Path]:
    """Every servable file by its URL path under /ui/, fixed at start."""
    return {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}


FILES = _files()


def shell() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=SECURITY_HEADERS)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/inbox", status_code=307)


for _path in PAGES:
    router.add_api_route(_path, shell, methods=["GET"])


@router.get("/ui/{path:path}")
def static_file(path: str) -> FileResponse:
    found = FILES.get(path)
    if found is None:
        raise HTTPException(404)
    media_type = TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0]
    return FileResponse(found, media_type=media_type, headers=SECURITY_HEADERS)
