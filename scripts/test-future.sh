#!/usr/bin/env bash
# `make test-future`: the unit and integration rings (SQLite and PostgreSQL) with the wall clock of every
# Python process moved (tests/clock_shift/sitecustomize.py): 400 days ahead, across the spring DST change
# in Paris, and across New Year's Eve. A test that passes today must pass on those days too.
set -euo pipefail
cd "$(dirname "$0")/.."

# Seconds from now to each moment to start at: 400 days ahead; 01:58 in Paris on the coming last Sunday
# of March (two minutes later the clocks jump from 02:00 to 03:00 while the tests run); 23:59 in Paris on
# the coming 31 December (the year changes a minute into the run).
read -r ahead dst_offset dst_label eve_offset eve_label < <(.venv/bin/python - <<'PY'
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

paris = ZoneInfo("Europe/Paris")
now = datetime.now(UTC)
today = now.astimezone(paris).date()

def last_sunday_of_march(year):
    day = datetime(year, 3, 31, 1, 58, tzinfo=paris)
    return day - timedelta(days=(day.weekday() + 1) % 7)

dst = last_sunday_of_march(today.year)
if dst <= now:
    dst = last_sunday_of_march(today.year + 1)
eve = datetime(today.year, 12, 31, 23, 59, tzinfo=paris)
if eve <= now:
    eve = datetime(today.year + 1, 12, 31, 23, 59, tzinfo=paris)
print(400 * 86400, int((dst - now).total_seconds()), dst.strftime("%Y-%m-%dT%H:%M"),
      int((eve - now).total_seconds()), eve.strftime("%Y-%m-%dT%H:%M"))
PY
)

run() {
  local label=$1 offset=$2 selection=$3; shift 3
  echo "=== $label ==="
  # time-machine is imported before pytest could rewrite its asserts: a harmless warning, silenced.
  env PYTHONPATH=tests/clock_shift RDV_TEST_CLOCK_OFFSET="$offset" "$@" \
    .venv/bin/pytest -q -W ignore::pytest.PytestAssertRewriteWarning -n "${PYTEST_WORKERS:-2}" --dist loadfile \
    -k "$selection" tests/unit tests/integration
}

# The rights matrix (tests/integration/test_rights_matrix.py: who may do what, not when; its world is built
# from clock.now()) stays out of these runs, which it would lengthen by a third.
run "400 jours plus tard" "$ahead" "not test_rights_matrix"
# Dates and times are computed in Python on both databases (nothing reads the database server's clock), and
# the year-ahead run covers both: the two runs on a given day take SQLite's side only, to keep CI short.
# The process's own time zone is Paris too, so that a local time mistaken for an instant shows.
on_a_given_day="not postgresql and not test_rights_matrix"
run "changement d'heure, $dst_label Europe/Paris" "$dst_offset" "$on_a_given_day" TZ=Europe/Paris
run "réveillon, $eve_label Europe/Paris" "$eve_offset" "$on_a_given_day" TZ=Europe/Paris
