"""The tests' clock: fixed instants that cross midnights, and moving a whole run or a process.

Every test that touches days, hours, SLAs, quiet hours or reports runs at an instant it chooses
(`time_machine.travel`), never at whatever hour the suite happens to run. `--clock` moves the
whole run as well (CI runs the `clock`-marked tests at instants either side of the desk's and of
UTC's midnight, with TZ set to another zone than the desk's): a test that forgot to choose fails
there, not at 16:12 UTC on a clean clone.

`command()` carries the run's clock into an `omnidesk` child process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import time_machine

# The desk is in Asia/Shanghai (UTC+8): its midnight is 16:00 UTC.
BEFORE_DESK_MIDNIGHT = datetime(2026, 12, 7, 15, 59, tzinfo=UTC)  # Mon 23:59 in Beijing
AFTER_DESK_MIDNIGHT = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)  # Tue 00:30 in Beijing
BEFORE_UTC_MIDNIGHT = datetime(2026, 12, 7, 23, 59, tzinfo=UTC)  # Tue 07:59 in Beijing
INSTANTS = (BEFORE_DESK_MIDNIGHT, AFTER_DESK_MIDNIGHT, BEFORE_UTC_MIDNIGHT)


def command(
    argv: Sequence[str], at: datetime | None = None, code: str | None = None
) -> list[str]:
    """`python -m omnidesk ARGV` (or `python -c CODE ARGV`), run at `at` (ticking from there) or
    at this process's now.

    The child starts where this process's clock stands, so a test that travelled (or a run under
    `--clock`) and the command it starts agree on what "today" is and on when things are due.
    """
    moment = at or datetime.now(UTC)
    script = ["-c", code] if code is not None else []
    return [sys.executable, "-m", "tests.clock", moment.isoformat(), *script, *argv]


def _main() -> None:
    """`python -m tests.clock ISO-INSTANT [-c CODE] ARGS...`: the omnidesk CLI (or CODE) with
    its clock at ISO-INSTANT."""
    moment = datetime.fromisoformat(sys.argv[1])
    code = sys.argv[3] if sys.argv[2:3] == ["-c"] else None
    sys.argv = ["omnidesk", *sys.argv[4 if code is not None else 2 :]]
    with time_machine.travel(moment, tick=True):
        if code is not None:
            exec(compile(code, "<tests.clock -c>", "exec"), {"__name__": "__main__"})
            return
        from omnidesk.cli import main

        main()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUTF8", "1")
    _main()
