"""A request's status changes (pending, resolved, reopened, closed), with the event and, for a
complaint, a notice to the customer through their channel (with the complaint reference)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from omnidesk.config_file import DeskConfig
from omnidesk.models import Direction, Message, Request, RequestStatus, utcnow
from omnidesk.services import events, surveys, templates
from omnidesk.services.pipeline import SEND, Task
from omnidesk.services.respond import queue_reply

EVENT_KINDS = {
    RequestStatus.OPEN: "reopened",
    RequestStatus.PENDING: "pending",
    RequestStatus.RESOLVED: "resolved",
    RequestStatus.CLOSED: "closed",
}
STATUS_WORDS = {
    "zh": {"open": "处理中", "pending": "等待您的回复", "resolved": "已解决", "closed": "已关闭"},
    "en": {
        "open": "being handled",
        "pending": "waiting for your reply",
        "resolved": "resolved",
        "closed": "closed",
    },
}


def set_status(
    session: Session,
    request_id: int,
    status: RequestStatus,
    actor: str,
    config: DeskConfig,
    note: str | None = None,
) -> list[Task]:
    """Move the request to `status`; returns the notices to send (after commit)."""
    request = session.get(Request, request_id)
    if request is None:
        raise LookupError(f"no request #{request_id}")
    if status == RequestStatus.NEW:
        raise ValueError("a request cannot be set back to new")
    if request.status == status:
        return []
    previous = request.status
    request.status = status
    request.updated_at = utcnow()
    if status == RequestStatus.RESOLVED:
        request.resolved_at = request.updated_at
    elif status == RequestStatus.OPEN:
        request.resolved_at = None
    session.add(request)
    events.record(
        session,
        EVENT_KINDS[status],
        request_id=request_id,
        actor=actor,
        previous=str(previous),
        note=note,
    )
    resolved = status == RequestStatus.RESOLVED
    tasks = surveys.on_resolved(session, request, config) if resolved else []
    if request.complaint_ref and status != RequestStatus.CLOSED:
        return _notify_complaint(session, request, config) + tasks
    return tasks


def _notify_complaint(session: Session, request: Request, config: DeskConfig) -> list[Task]:
    last = session.exec(
        select(Message)
        .where(Message.request_id == request.id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id).desc())
    ).first()
    if last is None:
        return []
    language = request.language if request.language in ("zh", "en") else "zh"
    text = templates.render(
        "complaint_status",
        language,
        request.channel,
        {
            "complaint_ref": request.complaint_ref,
            "request_id": request.id,
            "status": STATUS_WORDS[language][str(request.status)],
            "desk_name": config.desk.name_en if language == "en" else config.desk.name,
        },
        config.path.parent / "templates" if config.path else None,
        config.templates,
    )
    notice = queue_reply(session, request, last, text, kind="complaint_notice", author="system")
    return [Task(SEND, notice.id)]  # type: ignore[arg-type]
