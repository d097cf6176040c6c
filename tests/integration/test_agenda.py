"""What the agenda shows, on SQLite and PostgreSQL, with the demo data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import select

from rdv_app.db.models import Agent, Organisation, Rdv, RdvAgent
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import seed_demo
from rdv_app.services.agents import agent_account
from rdv_app.services.availability import agenda
from rdv_app.services.errors import PermissionDenied

TODAY = date(2026, 3, 18)
NOW = datetime(2026, 3, 18, 8, 0, tzinfo=UTC)
WEEK = (date(2026, 3, 23), date(2026, 3, 29))


def _ids(uow: UnitOfWork, email: str, organisation: str) -> tuple[int, int]:
    agent_id = uow.session.exec(select(Agent.id).where(Agent.email == email)).one()
    org_id = uow.session.exec(select(Organisation.id).where(Organisation.name == organisation)).one()
    return agent_id, org_id


def test_a_week_has_rdvs_in_local_time_plages_in_background_and_absences(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    julien, pmi = _ids(uow, "julien.petit@demo.test", "PMI Arras")
    week = agenda.agenda(uow, julien, pmi, [julien], *WEEK, now=NOW)
    kinds = {e.kind for e in week.events}
    assert {"rdv", "plage"} <= kinds
    rdv_events = [e for e in week.events if e.kind == "rdv"]
    # Julien works from 9:00 to 17:00 local time; shown in UTC, his 9:00 RDVs would read 08:00.
    assert rdv_events and all("09:00" <= e.start[11:16] < "17:00" for e in rdv_events)
    assert any(e.start[11:16] == "09:00" for e in rdv_events)
    assert all(e.start[:10] >= "2026-03-23" and e.start[:10] <= "2026-03-29" for e in week.events)
    plages = [e for e in week.events if e.kind == "plage"]
    assert plages and all(e.start.endswith(("09:00", "13:30", "14:00")) for e in plages)
    assert week.now == "2026-03-18T09:00"  # 08:00 UTC is 09:00 in Paris


def test_other_organisations_rdvs_are_grey_blocks_without_detail(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    karim, pmi = _ids(uow, "karim.haddad@demo.test", "PMI Arras")
    days = (TODAY, TODAY + timedelta(days=60))
    events = agenda.agenda(uow, karim, pmi, [karim], *days, now=NOW).events
    busy = [e for e in events if e.kind == "busy"]
    assert busy, "Karim's RDVs at MDS Lens must block his PMI agenda"
    assert all(e.title == "Occupé" and e.rdv_id is None and not e.id.startswith("rdv-") for e in busy)


def test_cancelled_rdvs_follow_the_agents_preference(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    julien, pmi = _ids(uow, "julien.petit@demo.test", "PMI Arras")
    days = (TODAY - timedelta(days=30), TODAY + timedelta(days=30))
    paris = ZoneInfo("Europe/Paris")
    start = datetime.combine(days[0], time(0), paris)
    end = datetime.combine(days[1] + timedelta(days=1), time(0), paris)
    cancelled = uow.session.exec(
        select(sa.func.count()).select_from(Rdv).join(RdvAgent, RdvAgent.rdv_id == Rdv.id)
        .where(RdvAgent.agent_id == julien, Rdv.organisation_id == pmi, Rdv.status.in_(["excused", "revoked"]),
               Rdv.starts_at >= start, Rdv.starts_at < end)
    ).one()
    assert cancelled > 0
    shown = agenda.agenda(uow, julien, pmi, [julien], *days, now=NOW).events
    assert sum(e.cancelled for e in shown) == cancelled
    uow.session.execute(sa.update(Agent).where(Agent.id == julien).values(display_cancelled_rdv=False))
    uow.commit()
    hidden = agenda.agenda(uow, julien, pmi, [julien], *days, now=NOW).events
    assert not any(e.cancelled for e in hidden)


def test_a_basic_agent_cannot_open_another_services_agenda(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    julien, pmi = _ids(uow, "julien.petit@demo.test", "PMI Arras")
    karim, _ = _ids(uow, "karim.haddad@demo.test", "PMI Arras")
    assert karim not in {a.id for a in agenda.visible_agents(uow, julien, pmi)}
    with pytest.raises(PermissionDenied):
        agenda.agenda(uow, julien, pmi, [karim], *WEEK, now=NOW)
    camille, _ = _ids(uow, "camille.martin@demo.test", "PMI Arras")
    assert karim in {a.id for a in agenda.visible_agents(uow, camille, pmi)}


def test_a_saturday_rdv_shows_its_saturday_even_when_saturdays_are_hidden(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    julien, pmi = _ids(uow, "julien.petit@demo.test", "PMI Arras")
    uow.session.execute(sa.update(Agent).where(Agent.id == julien).values(display_saturdays=False))
    uow.commit()
    weeks = [(WEEK[0] + timedelta(days=7 * n), WEEK[1] + timedelta(days=7 * n)) for n in range(8)]
    week = next(w for w in weeks if agenda.agenda(uow, julien, pmi, [julien], *w, now=NOW).hidden_days == [0, 6])
    moved = uow.session.exec(select(Rdv).join(RdvAgent, RdvAgent.rdv_id == Rdv.id)
                             .where(RdvAgent.agent_id == julien, Rdv.organisation_id == pmi,
                                    Rdv.status == "unknown", Rdv.starts_at >= NOW)).first()
    saturday = datetime.combine(week[0] + timedelta(days=5), time(10, 0), ZoneInfo("Europe/Paris"))
    uow.session.execute(sa.update(Rdv).where(Rdv.id == moved.id).values(
        starts_at=saturday.astimezone(UTC), ends_at=(saturday + (moved.ends_at - moved.starts_at)).astimezone(UTC)))
    uow.commit()
    shown = agenda.agenda(uow, julien, pmi, [julien], *week, now=NOW)
    assert shown.hidden_days == [0]
    assert any(e.rdv_id == moved.id and e.start == f"{saturday:%Y-%m-%d}T10:00" for e in shown.events)



def test_the_agenda_opened_on_a_hidden_saturday_shows_the_week_to_come_unless_an_rdv_is_that_day(
        uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    julien, pmi = _ids(uow, "julien.petit@demo.test", "PMI Arras")
    uow.session.execute(sa.update(Agent).where(Agent.id == julien).values(display_saturdays=False))
    uow.commit()
    weeks = [(WEEK[0] + timedelta(days=7 * n), WEEK[1] + timedelta(days=7 * n)) for n in range(8)]
    week = next(w for w in weeks if agenda.agenda(uow, julien, pmi, [julien], *w, now=NOW).hidden_days == [0, 6])
    saturday, sunday, monday = (week[0] + timedelta(days=n) for n in (5, 6, 7))

    def opening(day: date) -> date:
        return agenda.opening_day(day, agenda.agenda(uow, julien, pmi, [julien], day, day, now=NOW).hidden_days)

    assert (opening(saturday), opening(sunday), opening(week[0])) == (monday, monday, week[0])
    moved = uow.session.exec(select(Rdv).join(RdvAgent, RdvAgent.rdv_id == Rdv.id)
                             .where(RdvAgent.agent_id == julien, Rdv.organisation_id == pmi,
                                    Rdv.status == "unknown", Rdv.starts_at >= NOW)).first()
    starts = datetime.combine(saturday, time(10, 0), ZoneInfo("Europe/Paris"))
    uow.session.execute(sa.update(Rdv).where(Rdv.id == moved.id).values(
        starts_at=starts.astimezone(UTC), ends_at=(starts + (moved.ends_at - moved.starts_at)).astimezone(UTC)))
    uow.commit()
    assert opening(saturday) == saturday

def test_the_colour_an_agent_chose_marks_their_events_and_the_legend(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    camille, pmi = _ids(uow, "camille.martin@demo.test", "PMI Arras")
    julien, _ = _ids(uow, "julien.petit@demo.test", "PMI Arras")
    agent_account.update_agenda_colour(uow, julien, "#5D4037")

    legend = {a.id: a.colour for a in agenda.visible_agents(uow, camille, pmi)}
    team = agenda.agenda(uow, camille, pmi, [camille, julien], *WEEK, now=NOW)
    assert legend[julien] == "#5d4037"
    assert legend[camille] != "#5d4037"
    julien_rdvs = [e for e in team.events if e.kind == "rdv" and "Julien" in e.description]
    assert julien_rdvs and all(e.agent_colour == "#5d4037" for e in julien_rdvs)
