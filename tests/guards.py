"""The write-transaction guard, on for the whole suite (DESIGN.md, durability contract §6).

Product code must not call out (HTTP through httpx, the triage model, knowledge retrieval) while
one of its write transactions is open, nor hold one longer than a small budget: on SQLite a
write transaction is the whole desk's one write lock, on PostgreSQL row locks and a connection.
A test fails, with the stack of each offence, when the desk's code does either during it.

Only transactions the desk opens are watched: a test may open its own (`unit_of_work` in a test
body, to arrange rows) and call what it likes inside. Read-only sessions (`read_session`) are
never write transactions. The budget is generous for a loaded two-core CI machine
(`OMNIDESK_TEST_WRITE_BUDGET_MS`, default 2000): it catches a slow dependency inside a
transaction (an order system taking seconds), not a slow disk.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import Session

import omnidesk.db
from omnidesk.db import READ_ONLY

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
BUDGET = float(os.environ.get("OMNIDESK_TEST_WRITE_BUDGET_MS", "2000")) / 1000
_SKIP = (
    str(Path(omnidesk.db.__file__).resolve()),
    str(Path(functools.__file__).resolve().parent / "contextlib.py"),
    __file__,
)


@dataclass
class Offence:
    what: str
    where: str


_offences: list[Offence] = []
_state = threading.local()  # .open: (session id, start) of the desk's open write transaction


class GuardedSession(Session):
    """omnidesk.db's Session, remembering whether the desk or a test opened it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened_by_test = _opened_by_test()


def _opened_by_test() -> bool:
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename in _SKIP:
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(str(TESTS))


def _after_begin(session: Session, _transaction: Any, connection: Any) -> None:
    if getattr(session, "opened_by_test", True):
        return
    if connection.get_execution_options().get(READ_ONLY, False):
        return
    _state.open = (id(session), time.monotonic())


def _after_end(session: Session, *_: Any) -> None:
    opened = getattr(_state, "open", None)
    if opened is None or opened[0] != id(session):
        return
    _state.open = None
    held = time.monotonic() - opened[1]
    if held > BUDGET:
        _offences.append(
            Offence(
                f"held a write transaction {held * 1000:.0f} ms (budget {BUDGET * 1000:.0f})",
                _stack(),
            )
        )


def _stack() -> str:
    frames = [f for f in traceback.extract_stack()[:-2] if f.filename.startswith(str(ROOT))]
    return "".join(traceback.format_list(frames[-12:]))


def _calls_out(what: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if getattr(_state, "open", None) is not None:
            _offences.append(Offence(f"{what} inside a write transaction", _stack()))
        return original(*args, **kwargs)

    return guarded


def _install() -> None:
    omnidesk.db.Session = GuardedSession  # type: ignore[misc]
    event.listen(GuardedSession, "after_begin", _after_begin)
    event.listen(GuardedSession, "after_commit", _after_end)
    event.listen(GuardedSession, "after_rollback", _after_end)
    httpx.Client.send = _calls_out("an HTTP call", httpx.Client.send)  # type: ignore[method-assign]
    httpx.AsyncClient.send = _calls_out("an HTTP call", httpx.AsyncClient.send)  # type: ignore[method-assign]
    from omnidesk.services.classify import TriageLabeller
    from omnidesk.services.knowledge import KnowledgeBase

    TriageLabeller.label = _calls_out("the classifier", TriageLabeller.label)  # type: ignore[method-assign]
    KnowledgeBase.answer = _calls_out("knowledge retrieval", KnowledgeBase.answer)  # type: ignore[method-assign]


_install()


def take() -> list[Offence]:
    """The offences so far in this test, which then no longer fail it (the guard's own tests)."""
    found, _offences[:] = list(_offences), []
    return found


@pytest.fixture(autouse=True)
def write_transactions_are_short() -> Iterator[None]:
    """Fail the test when the desk called out, or held its write lock long, during it."""
    del _offences[:]
    yield
    found = take()
    if found:
        shown = "\n\n".join(f"{o.what}:\n{o.where}" for o in found[:5])
        pytest.fail(
            f"{len(found)} write-transaction offence(s) (tests/guards.py):\n\n{shown}",
            pytrace=False,
        )
