"""Feedback: agents tag a resolved request (resolution, root cause, note); follow-up tasks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from omnidesk.api.deps import CurrentAgent, SessionDep, StaffAgent, desk_of, visible_request
from omnidesk.services import feedback, follow_ups
from omnidesk.services.problems import NotFound, Rejected

router = APIRouter(tags=["feedback"])


class TagIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=100)
    root_cause: str = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class DoneIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


@router.post("/requests/{request_id}/feedback")
def tag_request(
    request_id: int, body: TagIn, me: CurrentAgent, session: SessionDep, request: Request
) -> dict[str, Any]:
    """Tag a resolved request with a resolution and root cause (from `[feedback]` lists)."""
    visible_request(session, request_id, me)
    try:
        event = feedback.tag_request(
            session,
            request_id,
            resolution=body.resolution,
            root_cause=body.root_cause,
            note=body.note,
            actor=me.username,
            config=desk_of(request).config,
        )
    except ValueError as exc:
        field = "base" if "resolved" in str(exc) else "root_cause"
        if "resolution" in str(exc):
            field = "resolution"
        raise Rejected(
            {field: "invalid"}, str(exc), status=409 if field == "base" else 422
        ) from exc
    return {"tagged": event is not None, "tag": feedback.current_tag(session, request_id)}


@router.get("/follow-ups")
def list_follow_ups(
    me: StaffAgent, session: SessionDep, status: str = "open"
) -> list[dict[str, Any]]:
    """Follow-up tasks (low ratings, negative comments, complaints), soonest due first."""
    return follow_ups.list_follow_ups(session, status=status or None, with_conversation=True)


@router.post("/follow-ups/{follow_up_id}/done")
def follow_up_done(
    follow_up_id: int, body: DoneIn, me: StaffAgent, session: SessionDep
) -> dict[str, Any]:
    try:
        done = follow_ups.mark_done(session, follow_up_id, me.username, body.note)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    return done.model_dump(mode="json")
