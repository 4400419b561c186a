"""/api/v1/customers: one person across every channel, and merging two who are one."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlmodel import Session

from omnidesk.api.deps import CurrentAgent, Principal, SessionDep
from omnidesk.api.schemas import PROBLEMS, CustomerDetail, MergeIn
from omnidesk.services import inbox, merge

router = APIRouter(prefix="/customers", tags=["customers"], responses=PROBLEMS)


def _visible(session: Session, customer_id: int, me: Principal) -> dict[str, object]:
    page = inbox.customer_page(session, customer_id)
    if page is None:
        raise HTTPException(404, f"no customer {customer_id}")
    if not inbox.customer_visible(session, me.viewer, customer_id):
        raise HTTPException(403, "not_your_teams_customer")
    return page


@router.get("/{customer_id}")
def show_customer(customer_id: int, me: CurrentAgent, session: SessionDep) -> CustomerDetail:
    """A customer with every identity (email, phone, WeChat, Weibo…) and every request."""
    return CustomerDetail.model_validate(_visible(session, customer_id, me))


@router.post("/{customer_id}/merge")
def merge_customers(
    customer_id: int, body: MergeIn, me: CurrentAgent, session: SessionDep
) -> CustomerDetail:
    """Merge this customer into another: identities and requests move; returns the one kept."""
    _visible(session, customer_id, me)
    _visible(session, body.into, me)
    merge.merge_customers(session, customer_id, body.into, me.username)
    session.flush()
    return CustomerDetail.model_validate(inbox.customer_page(session, body.into))
