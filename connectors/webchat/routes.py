"""The widget's HTTP routes under /webchat/{name}/: script, demo page, session, contact, images."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from connectors.webchat import frames, images
from connectors.webchat.contact import ContactError, ContactIn, checked
from connectors.webchat.context import ChatContext
from connectors.webchat.token import Visitor, new_visitor, user_verified
from omnidesk.web.attachments import UNTRUSTED_HEADERS, stored_path

STATIC = Path(__file__).parent / "static"
UPLOAD_CHUNK = 64 * 1024


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    visitor_token: str | None = Field(default=None, max_length=1024)
    user_id: str | None = Field(default=None, max_length=128)
    user_hash: str | None = Field(default=None, max_length=128)
    language: Literal["zh", "en"] | None = None
    page_url: str | None = Field(default=None, max_length=2048)
    page_title: str | None = Field(default=None, max_length=300)


def static_routes(chat: ChatContext) -> APIRouter:
    """widget.js and the demo shop page: no origin check, any page may load them."""
    router = APIRouter()

    @router.get("/widget.js")
    def widget(request: Request) -> Response:
        body, etag = _static(STATIC / "widget.js")
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300, must-revalidate"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        media = "application/javascript; charset=utf-8"
        return Response(body, headers=headers | {"Content-Type": media})

    @router.get("/demo")
    def demo(lang: str = "zh") -> HTMLResponse:
        html = (STATIC / "demo.html").read_text(encoding="utf-8")
        language = lang if lang in ("zh", "en") else "zh"
        html = html.replace("{{WIDGET_SRC}}", f"{chat.base_url}/widget.js")
        return HTMLResponse(html.replace("{{LANG}}", language))

    return router


def visitor_routes(chat: ChatContext) -> APIRouter:
    router = APIRouter()

    @router.post("/session")
    async def session(body: SessionIn, request: Request) -> dict[str, Any]:
        """Start or continue a visitor's chat: their token, history and state."""
        chat.check_origin(request)
        await _limit(chat, "session_ip", _ip(request), chat.config.ip_sessions_per_minute, 60)
        visitor = await _session_visitor(chat, body)
        token = chat.tokens.issue(visitor)
        page = {k: v for k, v in _page(body).items() if v}
        await chat.save_page(visitor.address, page)
        history = await run_in_threadpool(chat.book.history, chat.name, visitor.address)
        state = await run_in_threadpool(chat.book.state, chat.name, visitor.address)
        return {
            "visitor_token": token,
            "visitor_id": visitor.address,
            "ws_url": f"/webchat/{chat.name}/ws",
            "history": [
                frames.message(line, lambda m: chat.file_url(m, visitor, token)) for line in history
            ],
            **frames.state_fields(state),
            "pre_chat_form": chat.config.pre_chat_form,
            "bot_name": chat.config.bot_name,
            "limits": {
                "max_message_chars": chat.config.max_message_chars,
                "max_image_bytes": chat.config.max_image_bytes,
                "image_types": list(images.IMAGE_TYPES),
            },
        }

    @router.post("/contact")
    async def contact(body: ContactIn, request: Request) -> Response:
        """The visitor's name and email or phone, so the desk can go on if they leave."""
        chat.check_origin(request)
        visitor = chat.visitor(body.visitor_token)
        await _limit(chat, "contact", visitor.address, 10, 3600)
        try:
            name, email, phone = checked(body)
        except ContactError as exc:
            return JSONResponse({"detail": exc.detail, "errors": exc.errors}, status_code=422)
        await run_in_threadpool(
            chat.book.add_contact, chat.name, visitor.address, name, email, phone
        )
        return JSONResponse({"saved": True})

    @router.post("/upload")
    async def upload(
        request: Request, file: UploadFile = File(...), visitor_token: str = Form(...)
    ) -> dict[str, Any]:
        """An image for the visitor's next message: checked by its bytes, kept by digest."""
        chat.check_origin(request)
        visitor = chat.visitor(visitor_token)
        await _limit(chat, "upload", visitor.address, chat.config.uploads_per_hour, 3600)
        data = await _read_capped(file, chat.config.max_image_bytes)
        content_type = images.sniff(data)
        if content_type is None:
            raise HTTPException(415, "only PNG, JPEG, GIF and WebP images can be sent")
        root = chat.env.data_dir / "attachments"
        key = await run_in_threadpool(images.store, root, data)
        name = images.safe_filename(file.filename, content_type)
        upload = images.Upload(key, content_type, len(data), visitor.address, name)
        attachment_id = chat.attachment_ids.issue(upload)
        meta = {"storage_key": key, "content_type": content_type, "size": len(data)}
        return {
            "attachment_id": attachment_id,
            "content_type": content_type,
            "size": len(data),
            "url": chat.file_url(meta | {"filename": name}, visitor, visitor_token),
        }

    @router.get("/files/{attachment_id}")
    def image(attachment_id: str, request: Request, token: str | None = None) -> FileResponse:
        """An image of the visitor's chat, for that visitor only (their token in the query)."""
        chat.check_origin(request)
        visitor = chat.visitor(token)
        upload = chat.attachment_ids.read(attachment_id)
        if upload is None or upload.owner != visitor.address:
            raise HTTPException(404, "no such image")
        path = stored_path(chat.env.data_dir, upload.storage_key)
        if path is None:
            raise HTTPException(404, "no such image")
        return FileResponse(path, media_type=upload.content_type, headers=UNTRUSTED_HEADERS)

    return router


async def _session_visitor(chat: ChatContext, body: SessionIn) -> Visitor:
    """Who this session is for: the token's visitor, the proven shop user, or someone new."""
    known = chat.tokens.read(body.visitor_token)
    if body.user_id is None:
        # A token of a signed-in customer without their proof now: they signed out (maybe on a
        # shared computer), so this page gets a fresh anonymous chat, not theirs.
        return known if known is not None and known.user_id is None else new_visitor()
    secret = chat.config.identity_secret
    if not user_verified(
        secret.get_secret_value() if secret else None, body.user_id, body.user_hash
    ):
        raise HTTPException(403, "identity not verified")
    user = Visitor(known.visitor_id if known else new_visitor().visitor_id, body.user_id)
    if known is not None and known.user_id is None:
        await run_in_threadpool(chat.book.link, known.address, user.address)
    return user


def _page(body: SessionIn) -> dict[str, str]:
    return {
        "page_url": body.page_url or "",
        "page_title": body.page_title or "",
        "language": body.language or "",
    }


async def _limit(chat: ChatContext, kind: str, who: str, limit: int, window: int) -> None:
    wait = await chat.limiter.hit(kind, who, limit, window)
    if wait is not None:
        raise HTTPException(429, "too many requests", headers={"Retry-After": str(wait)})


async def _read_capped(file: UploadFile, limit: int) -> bytes:
    data = bytearray()
    while chunk := await file.read(UPLOAD_CHUNK):
        data += chunk
        if len(data) > limit:
            raise HTTPException(413, f"an image may be at most {limit} bytes")
    return bytes(data)


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_static_cache: dict[Path, tuple[float, bytes, str]] = {}


def _static(path: Path) -> tuple[bytes, str]:
    """A static file's bytes and strong ETag, read again only when the file changes."""
    mtime = path.stat().st_mtime
    cached = _static_cache.get(path)
    if cached is None or cached[0] != mtime:
        body = path.read_bytes()
        cached = (mtime, body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        _static_cache[path] = cached
    return cached[1], cached[2]
