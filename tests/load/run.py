"""`make load`: the load test, on loopback, bounded in time. For each set-up (`embedded`: `make run`'s one
process on SQLite, states in memory; `production`: two app processes on PostgreSQL and Redis, the
users spread over both), it starts the servers with the demo, then runs Locust (tests/load/locustfile.py)
headless with 10, 50, 100, 200 and 400 usagers paging booking weeks, and prints per step p50 / p95 per
event, events per second, errors and the CPU time per event of the app processes and of Locust (robust to
whatever else the machine runs); the app processes' memory (RSS) after the 200-usager step and once
the load has stopped; then 20 usagers book 20 distinct slots at the same moment, and the database must
hold 20 new RDVs.

    .venv/bin/python tests/load/run.py [--setups embedded,production] [--users 10,50,100,200,400]
                                       [--seconds 30] [--settle 300]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import psutil  # noqa: E402
from app_server import ROOT, running_app, server_master  # noqa: E402
from pg import free_port, start_cluster  # noqa: E402
from redis_server import running_redis  # noqa: E402
from sqlmodel import col, func, select  # noqa: E402

from rdv_app import wiring  # noqa: E402
from rdv_app.db.models import Lieu, Motif, Organisation, OutboxMessage, Participation, Usager  # noqa: E402
from rdv_app.db.uow import UnitOfWork  # noqa: E402
from rdv_app.domain import clock  # noqa: E402
from rdv_app.services.online_booking import public_search  # noqa: E402
from rdv_app.services.usagers import usager_auth  # noqa: E402

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
MOTIF, ORGANISATION = "Pesée et conseils de puériculture", "pmi-arras"
BOOKINGS = 20
MIB = 1024 * 1024


@dataclass
class Step:
    users: int
    rows: list[dict[str, str]]
    rss_mib: list[list[float]] | None = None
    server_cpu: float = 0.0  # CPU seconds of the app processes during the step
    locust_cpu: float = 0.0  # CPU seconds of Locust itself (the simulated browsers)

    @property
    def events(self) -> int:
        return sum(int(row["Request Count"]) for row in self.rows if row["Name"] != "Aggregated")

    def cpu_per_event(self) -> str:
        """Milliseconds of CPU per event handled: robust to whatever else the machine runs."""
        if not self.events:
            return "aucun événement"
        return (f"CPU par événement : serveur {1000 * self.server_cpu / self.events:.1f} ms, "
                f"Locust {1000 * self.locust_cpu / self.events:.1f} ms ({self.events} événements)")


@contextmanager
def embedded(work: Path) -> Iterator[tuple[list[str], str, list[int]]]:
    database_url = f"sqlite:///{work / 'rdv.db'}"
    port = free_port()
    with running_app(database_url, work, port, RDV_DEMO="1", RDV_SMTP_HOST="") as url:
        yield [url], database_url, [port]


@contextmanager
def production(work: Path) -> Iterator[tuple[list[str], str, list[int]]]:
    cluster = start_cluster()
    try:
        database_url = cluster.create_database("rdv_load")
        ports = [free_port(), free_port()]
        with running_redis(work) as redis_url, ExitStack() as servers:
            environment = {"RDV_DEMO": "1", "RDV_SMTP_HOST": "", "REFLEX_REDIS_URL": redis_url,
                           "RDV_PUBLIC_URL": f"http://localhost:{ports[0]}", "RDV_SECRET_KEY": "l" * 40}
            # Both processes accept the same public origin (the balancer's): each user sends it.
            urls = [servers.enter_context(running_app(database_url, work, port, **environment)) for port in ports]
            yield urls, database_url, ports
    finally:
        cluster.stop()


def week_path(database_url: str) -> tuple[str, int, int]:
    """The booking week of the motif at its first lieu, from the first week that offers times; its motif
    and lieu."""
    with UnitOfWork(database_url, read_only=True) as uow:
        s = uow.session
        motif_id = s.exec(select(Motif.id).join(Organisation).where(Organisation.slug == ORGANISATION,
                                                                    Motif.name == MOTIF)).one()
        lieux = s.exec(select(Lieu.id).join(Organisation).where(Organisation.slug == ORGANISATION,
                                                                Lieu.availability == "enabled")
                       .order_by(col(Lieu.id))).all()
    for lieu_id in lieux:
        day = None
        for _ in range(8):
            with UnitOfWork(database_url, read_only=True) as uow:
                shown = public_search.week(uow, motif_id, lieu_id, day)
            if not shown.is_empty:
                query = {"departement": "62", "motif": motif_id, "lieu": lieu_id,
                         "semaine": shown.first_day.isoformat()}
                return f"/prendre_rdv?{urlencode(query)}", motif_id, lieu_id
            day = shown.first_day + timedelta(days=7)
    raise SystemExit(f"no lieu of {ORGANISATION} offers « {MOTIF} » in the next eight weeks")


def prepare_bookings(database_url: str, motif_id: int, lieu_id: int) -> list[dict[str, str]]:
    """`BOOKINGS` signed-in usagers (an account each, opened through its email link) and as many distinct
    free slots: the recap page of each, with its session."""
    slots: list[str] = []
    day = None
    while len(slots) < BOOKINGS:
        with UnitOfWork(database_url, read_only=True) as uow:
            shown = public_search.week(uow, motif_id, lieu_id, day)
        slots += [iso for d in shown.days for iso, _label in d.times]
        if not shown.has_next:
            break
        day = shown.first_day + timedelta(days=7)
    if len(slots) < BOOKINGS:
        raise SystemExit(f"only {len(slots)} free slots for {BOOKINGS} bookings")
    bookings = []
    run = secrets.token_hex(3)
    for index, slot in enumerate(slots[:BOOKINGS]):
        email = f"charge-{run}-{index}@exemple.fr"
        with UnitOfWork(database_url) as uow:
            usager_auth.request_account(uow, first_name="Usager", last_name=f"Charge {index}", email=email,
                                        phone_number=None, next_path="/prendre_rdv", ip=f"10.9.{index}.1")
        with UnitOfWork(database_url, read_only=True) as uow:
            texts = [p["text"] for p in uow.session.exec(select(OutboxMessage.payload)
                                                         .where(OutboxMessage.channel == "mail")).all()
                     if p.get("to") == email]
        token = re.search(r"jeton=([\w-]+)", texts[-1]).group(1)  # type: ignore[union-attr]
        with UnitOfWork(database_url) as uow:
            opened = usager_auth.open_email_link(uow, token)
        assert opened is not None
        query = {"departement": "62", "motif": motif_id, "lieu": lieu_id, "creneau": slot,
                 "pour": opened.usager_id, "etape": "recap", "cle": secrets.token_urlsafe(12)}
        bookings.append({"path": f"/prendre_rdv?{urlencode(query)}", "session": opened.token, "email": email})
    return bookings


def booked(database_url: str, emails: list[str]) -> int:
    with UnitOfWork(database_url, read_only=True) as uow:
        return uow.session.exec(select(func.count()).select_from(Participation).join(Usager)
                                .where(col(Usager.email).in_(emails))).one()


def locust(user_class: str, users: int, seconds: int, urls: list[str], work: Path,
           **environment: str) -> tuple[list[dict[str, str]], float]:
    """Locust's statistics rows and the CPU seconds Locust itself used."""
    prefix = work / f"{user_class}-{users}"
    # Every process accepts the one public origin (the balancer's, here the first process's address).
    env = {"LOAD_TARGETS": ",".join(urls), "LOAD_ORIGIN": urls[0], "LOAD_FRONTEND": frontend_boot(), **environment}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), user_class, "--headless",  # noqa: S603
                    "-u", str(users), "-r", str(max(users // 5, 1)), "-t", f"{seconds}s", "--stop-timeout", "5",
                    "--only-summary", "--csv", str(prefix), "--host", urls[0], "--loglevel", "WARNING"],
                   cwd=ROOT, env={**_environ(), **env}, check=False, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    with open(f"{prefix}_stats.csv", newline="") as stats:
        return list(csv.DictReader(stats)), cpu


def frontend_boot() -> str:
    """What the built frontend (`.web`, built by the server's start) sends in its first event: its state
    schema and the hashes of its compiled initial state (JSON for the locustfile's LOAD_FRONTEND)."""
    context = (ROOT / ".web" / "utils" / "context.jsx").read_text()
    hashes = re.search(r"export const initialStateHashes = (\[.*?\])", context)
    schema = re.search(r'export const stateSchema = "(\w+)"', context)
    if hashes is None or schema is None:
        raise SystemExit("the built frontend (.web/utils/context.jsx) names no initial state hashes")
    return json.dumps({"hashes": json.loads(hashes.group(1)), "state_schema": schema.group(1)})


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def app_processes(ports: list[int]) -> list[list[psutil.Process]]:
    """For each port, the app server's process tree (rdv_app.serve_built's master and its worker)."""
    trees = []
    for port in ports:
        root = server_master(port)
        trees.append([root, *sorted(root.children(recursive=True), key=lambda p: p.create_time())])
    return trees


def rss_mib(ports: list[int]) -> list[list[float]]:
    """The resident memory (MiB) of each process of the app servers serving `ports`, from the root of each
    tree down: the server's master and the worker that serves the pages (the last one); the frontend was
    built by a process that has exited (rdv_app.serve_built)."""
    return [[p.memory_info().rss / MIB for p in tree] for tree in app_processes(ports)]


def cpu_seconds(ports: list[int]) -> float:
    """CPU seconds (user + system) used so far by the app processes serving `ports`."""
    total = 0.0
    for tree in app_processes(ports):
        for process in tree:
            with suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
    return total


def _memory(reading: list[list[float]]) -> str:
    return " ; ".join(" / ".join(f"{size:.0f}" for size in tree) for tree in reading)


def table(setup: str, steps: list[Step]) -> str:
    lines = [f"\n## {setup}\n", "| usagers | événement | requêtes | erreurs | p50 ms | p95 ms | événements/s "
                                   "| ko reçus |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for step in steps:
        for row in step.rows:
            lines.append(f"| {step.users} | {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
                         f"{row['50%']} | {row['95%']} | {float(row['Requests/s']):.1f} | "
                         f"{float(row['Average Content Size']) / 1000:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", default="embedded,production")
    parser.add_argument("--users", default="10,50,100,200,400")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--settle", type=int, default=0, help="seconds to wait after the load before the "
                                                              "last memory reading (the issue asks 300)")
    args = parser.parse_args()
    # Stopped by a signal (`timeout`, `kill`) as by Ctrl-C: the set-up's servers, PostgreSQL and Redis are
    # stopped on the way out instead of left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wiring.configure()  # this process opens the booking users' accounts through the services
    started = datetime.now().astimezone()
    print(f"# make load, {started:%Y-%m-%d %H:%M}, {psutil.cpu_count()} cœurs, horloge de l'app {clock.now():%Y-%m-%d}")
    for setup in args.setups.split(","):
        with tempfile.TemporaryDirectory() as tmp, (embedded if setup == "embedded" else production)(Path(tmp)) \
                as (urls, database_url, ports):
            work = Path(tmp)
            week, motif_id, lieu_id = week_path(database_url)
            start_rss = rss_mib(ports)
            steps = []
            for users in [int(n) for n in args.users.split(",")]:
                server_before = cpu_seconds(ports)
                rows, locust_cpu = locust("WeekPagingUsager", users, args.seconds, urls, work, LOAD_WEEK=week)
                step = Step(users, rows, server_cpu=cpu_seconds(ports) - server_before, locust_cpu=locust_cpu)
                if users == 200:
                    step.rss_mib = rss_mib(ports)
                steps.append(step)
                print(table(f"{setup}, {users} usagers", [step]), flush=True)
                print(step.cpu_per_event(), flush=True)
            bookings = prepare_bookings(database_url, motif_id, lieu_id)
            rows, _ = locust("BookingUsager", BOOKINGS, 30, urls, work, LOAD_BOOKINGS=json.dumps(bookings))
            made = booked(database_url, [b["email"] for b in bookings])
            time.sleep(args.settle)
            print(table(setup, [*steps, Step(BOOKINGS, rows)]))
            for step in steps:
                print(f"{step.users} usagers : {step.cpu_per_event()}")
            after_200 = next((s.rss_mib for s in steps if s.rss_mib is not None), None)
            print(f"\nRDV pris par {BOOKINGS} usagers en même temps sur {BOOKINGS} créneaux distincts : {made}")
            print(f"Mémoire des processus de l'app (RSS, MiB, le dernier de chaque serveur sert les pages) : "
                  f"au départ {_memory(start_rss)}"
                  + (f", après 200 usagers {_memory(after_200)}" if after_200 else "")
                  + f", {args.settle} s après la charge {_memory(rss_mib(ports))} ({len(ports)} processus "
                  f"servant {', '.join(urlsplit(u).netloc for u in urls)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
