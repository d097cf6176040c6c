"""Moves the wall clock of every Python process of `make test-future` (scripts/test-future.sh puts this
folder on PYTHONPATH): the test processes and the servers and workers they start.

`RDV_TEST_CLOCK_OFFSET` (seconds, computed once by the script) is added to the real time with time-machine,
which patches `datetime.now`, `date.today`, `time.time` and their kin at the C level, and lets the clock
tick on. Processes started later by the tests get the same offset, hence the same "now". Monotonic time,
which measures durations, stays real.

Debian's libfaketime (0.9.10), the usual tool, cannot run this suite: with the monotonic clock faked, every
lock or event timeout of Python 3.11 waits for years (`sem_clockwait` is not intercepted); with it real,
`time.sleep` fails with EINVAL (wolfcw/libfaketime#426); and its `pthread_cond_timedwait` wrapper calls
`getenv` while test threads write `os.environ`, which crashed the suite with a segmentation fault.
"""

import os

_offset = os.environ.get("RDV_TEST_CLOCK_OFFSET")
if _offset:
    from datetime import UTC, datetime, timedelta

    import time_machine

    _travel = time_machine.travel(datetime.now(UTC) + timedelta(seconds=float(_offset)), tick=True)
    _travel.start()
