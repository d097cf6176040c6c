"""What the replay scripts share: the server they drive, a browser, the demo's logins, the data they set up
through the services or the database (time travel: an RDV "in 5 hours" is written, not waited for), and the
table of results they print.

The server: `RDV_DEMO=1 RDV_SMTP_HOST= RDV_BAN_URL=http://127.0.0.1:3199 REFLEX_DB_URL=sqlite:////tmp/replay/rdv.db
.venv/bin/python -m rdv_app.cli serve --port 3100`, with `tests/replay/ban_for_replay.py` running (the fake
Base Adresse Nationale). Override with REPLAY_URL and REPLAY_DB_URL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlmodel import col, select

from rdv_app import wiring
from rdv_app.db.models import Agent, Lieu, Motif, Organisation, OutboxMessage, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.off_days import holidays_between

wiring.configure()

BASE = os.environ.get("REPLAY_URL", "http://localhost:3100")
DB = os.environ.get("REPLAY_DB_URL", "sqlite:////tmp/replay/rdv.db")
PASSWORD = "RdvDemo-2026!"
PARIS = ZoneInfo("Europe/Paris")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}  # the agents' navigation unfolds from 1440 px
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]

PASSE, ECHOUE, NA = "passe", "échoue", "non applicable"


@dataclass
class Step:
    key: str
    spec: str
    intent: str
    did: str
    result: str = ""
    observed: str = ""


@dataclass
class Run:
    steps: list[Step] = field(default_factory=list)

    def record(self, step: Step) -> None:
        self.steps.append(step)
        print(f"[{step.result}] {step.key} {step.spec}: {step.observed}", flush=True)


SCENARIOS: dict[str, Callable[[Browser, Run], None]] = {}


def scenario(key: str) -> Callable[[Callable[[Browser, Run], None]], Callable[[Browser, Run], None]]:
    def register(function: Callable[[Browser, Run], None]) -> Callable[[Browser, Run], None]:
        SCENARIOS[key] = function
        return function
    return register


@contextlib.contextmanager
def step(run: Run, key: str, spec: str, intent: str, did: str) -> Iterator[Step]:
    """One step group: passes unless what it checks fails (the exception's first line is the observation)."""
    current = Step(key, spec, intent, did)
    try:
        yield current
        current.result = current.result or PASSE
    except Exception as error:  # noqa: BLE001 - a failed check is the step's result, the replay goes on
        current.result = ECHOUE
        current.observed = current.observed or (str(error).strip() or repr(error)).splitlines()[0][:400]
        traceback.print_exc(limit=3)
    run.record(current)


@contextlib.contextmanager
def new_page(browser: Browser, phone: bool = False) -> Iterator[Page]:
    context = browser.new_context(**(PHONE if phone else DESKTOP), locale="fr-FR", timezone_id="Europe/Paris")
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in_agent(page: Page, email: str, organisation: str | None = None) -> None:
    page.goto(f"{BASE}/connexion")
    page.get_by_label("Adresse email").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    chooser = page.locator("main li button")
    expect(page.get_by_role("heading", name=re.compile(r"^Bonjour")).or_(chooser.first).first).to_be_visible()
    if "/organisations" in page.url:
        (chooser.filter(has_text=organisation).first if organisation else chooser.first).click()
    page.wait_for_url(f"{BASE}/espace**")


def last_link(email: str) -> str:
    with UnitOfWork(DB) as uow:
        payloads = uow.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "mail")
                                    .order_by(col(OutboxMessage.id))).all()
    texts = [p["text"] for p in payloads if p.get("to") == email and "/_auth/usager/lien" in p.get("text", "")]
    assert texts, f"aucun email de connexion à {email}"
    found = re.search(r"https?://\S+/_auth/usager/lien\?jeton=\S+", texts[-1])
    assert found
    return found.group(0)


def sign_in_usager(page: Page, email: str) -> None:
    """From /mes-rdv: the sign-in link by email (read in the outbox, as the demo mailbox shows it)."""
    page.goto(f"{BASE}/mes-rdv")
    page.get_by_label("Adresse email de votre compte").fill(email)
    page.get_by_role("button", name="Recevoir un lien de connexion").click()
    expect(page.get_by_role("status").filter(has_text="un email vient de lui être envoyé")).to_be_visible()
    page.goto(last_link(email))
    page.get_by_role("button", name="Me connecter et voir mes rendez-vous").click()
    page.wait_for_url(re.compile(r"/mes-rdv"))


@contextlib.contextmanager
def writing() -> Iterator[UnitOfWork]:
    """A short transaction that takes SQLite's write lock first (the server writes to the same file)."""
    with UnitOfWork(DB) as uow:
        if DB.startswith("sqlite"):
            uow.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield uow


def ids(uow: UnitOfWork) -> dict[str, Any]:
    """The demo's ids the scenarios use."""
    s = uow.session
    org = dict(s.exec(select(Organisation.slug, Organisation.id)).all())
    agents = dict(s.exec(select(Agent.email, Agent.id).where(col(Agent.email).is_not(None))).all())
    motifs = {(m.organisation_id, m.name): m.id for m in s.exec(select(Motif))}
    lieux = {name: lieu_id for name, lieu_id in s.exec(select(Lieu.name, Lieu.id))}
    return {"org": org, "agent": agents, "motif": motifs, "lieu": lieux}


def new_usager(organisation_id: int, first_name: str, last_name: str, *, email: bool = True,
               child: str | None = None) -> tuple[int, str, int | None]:
    """An adult usager of the organisation (an email address of their own), with a child if asked."""
    address = f"rejeu-{uuid.uuid4().hex[:8]}@exemple.fr" if email else ""
    with writing() as uow:
        s = uow.session
        usager = Usager(first_name=first_name, last_name=last_name, email=address or None,
                        phone_number="06 11 22 33 44")
        s.add(usager)
        s.flush()
        child_id = None
        s.add(UsagerProfile(organisation_id=organisation_id, usager_id=usager.id))  # type: ignore[arg-type]
        if child:
            kid = Usager(first_name=child, last_name=last_name, responsible_id=usager.id)
            s.add(kid)
            s.flush()
            s.add(UsagerProfile(organisation_id=organisation_id, usager_id=kid.id))  # type: ignore[arg-type]
            child_id = kid.id
        uow.commit()
        return usager.id, address, child_id  # type: ignore[return-value]


def working_day(days_ahead: int, weekday: int | None = None) -> date:
    """The first working day (no weekend, no public holiday) at least `days_ahead` days from today, on
    `weekday` if given."""
    day = datetime.now(PARIS).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or (weekday is not None and day.weekday() != weekday) or holidays_between("62", day, day):
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PARIS).astimezone(UTC)


def outbox(**where: Any) -> list[OutboxMessage]:
    with UnitOfWork(DB) as uow:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        rows = list(uow.session.exec(query).all())
        for row in rows:
            uow.session.expunge(row)
        return rows


def subjects_to(messages: list[OutboxMessage], address: str) -> list[str]:
    return [m.payload.get("subject", "") for m in messages if m.channel == "mail" and m.payload.get("to") == address]


def markdown(run: Run) -> str:
    """The table of docs/replay-rdvsp.md: one row per step group."""
    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    rows = ["| # | Spec RDV-SP | Intention | Ce qui a été fait | Résultat | Observé |", "|---|---|---|---|---|---|"]
    rows += [f"| {s.key} | {cell(s.spec)} | {cell(s.intent)} | {cell(s.did)} | {s.result} | {cell(s.observed)} |"
             for s in run.steps]
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    """`python tests/replay/replay_rdvsp.py [scenario ...]`: runs the scenarios (all by default), prints
    each step's result, then the totals; writes them as JSON to /tmp/replay/results-<keys>.json."""
    keys = argv or list(SCENARIOS)
    run = Run()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                                             args=CHROMIUM_ARGS)
        expect.set_options(timeout=15_000)
        for key in keys:
            try:
                SCENARIOS[key](browser, run)
            except Exception as error:  # noqa: BLE001 - a scenario's set-up failing is reported, the rest runs
                traceback.print_exc()
                run.record(Step(key, "(mise en place)", "", "", ECHOUE, (str(error).strip() or repr(error)).splitlines()[0][:300]))
        browser.close()
    totals = {label: sum(1 for s in run.steps if s.result == label) for label in (PASSE, ECHOUE, NA)}
    print(json.dumps(totals, ensure_ascii=False))
    os.makedirs("/tmp/replay", exist_ok=True)
    with open(f"/tmp/replay/results-{'-'.join(keys)[:80]}.json", "w") as out:
        json.dump([s.__dict__ for s in run.steps], out, ensure_ascii=False, indent=1)
    with open(f"/tmp/replay/results-{'-'.join(keys)[:80]}.md", "w") as out:
        out.write(markdown(run))
    return 0 if not totals[ECHOUE] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
