"""Usager identification on SQLite and PostgreSQL, over the real HTTP routes: email links delivered by the
worker to a loopback SMTP server, and FranceConnect against a loopback OpenID provider."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

import httpx
import pytest
import uvicorn
from fakes.oidc_provider import FakeFranceConnect
from fakes.smtp_server import SmtpServer
from pg import free_port
from reflex.config import reload_config
from sqlmodel import select

from rdv_app import routes
from rdv_app.api.http import http_routes
from rdv_app.auth import rate_limit
from rdv_app.auth.franceconnect import FranceConnectClient
from rdv_app.config import settings
from rdv_app.db.models import OutboxMessage, Usager, UsagerEmailToken, UsagerSession
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.worker import Worker
from rdv_app.services.errors import DomainError, FieldErrors
from rdv_app.services.usagers import usager_auth

STEP = "/prendre_rdv?departement=62&service=1&motif=public_office%3AConsultation&etape=informations"
CALLBACK = f"{settings.public_url}{routes.FRANCECONNECT_CALLBACK}"


@pytest.fixture
def app_db(db_url: str) -> Iterator[str]:
    """The HTTP routes open their own units of work on the configured database: point it at this one."""
    previous = os.environ.get("REFLEX_DB_URL")
    os.environ["REFLEX_DB_URL"] = db_url
    reload_config()
    rate_limit.reset_all()
    yield db_url
    rate_limit.reset_all()
    if previous is None:
        os.environ.pop("REFLEX_DB_URL", None)
    else:
        os.environ["REFLEX_DB_URL"] = previous
    reload_config()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def server(app_db: str) -> Iterator[str]:
    """Our HTTP routes served by uvicorn on loopback."""
    port = free_port()
    served = uvicorn.Server(uvicorn.Config(http_routes, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not served.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(server: str) -> Iterator[Callable[[], httpx.Client]]:
    """New cookie jars against the server, as separate browsers would have."""
    opened: list[httpx.Client] = []

    def new() -> httpx.Client:
        # Generous: on a loaded machine the callback waits on the provider; nothing here measures time.
        opened.append(httpx.Client(base_url=server, follow_redirects=False, headers={"Origin": server}, timeout=30))
        return opened[-1]

    yield new
    for one in opened:
        one.close()


@pytest.fixture
def client(browser: Callable[[], httpx.Client]) -> httpx.Client:
    return browser()


@pytest.fixture
def fc(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFranceConnect]:
    with FakeFranceConnect(redirect_uris=(CALLBACK,)) as provider:
        for name, value in provider.environment().items():
            monkeypatch.setenv(name, value)
        yield provider


def _deliver(db_url: str, smtp: SmtpServer, ids: tuple[int, ...]) -> str:
    """Sends the queued email through the worker and returns the link it carries."""
    assert Worker(db_url, smtp=smtp.settings()).deliver(ids) == len(ids) == 1
    _, message = smtp.messages[-1]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"https?://\S+" + re.escape(routes.USAGER_EMAIL_LINK) + r"\?jeton=\S+", text)
    assert found, text
    return found.group(0)


def _path(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}" if parsed.query else parsed.path


def _sign_in_with_link(client: httpx.Client, link: str) -> httpx.Response:
    page = client.get(_path(link))
    assert page.status_code == 200
    assert "Me connecter et reprendre ma réservation" in page.text
    token = re.search(r'name="jeton" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post(routes.USAGER_EMAIL_LINK, data={"jeton": token})


def _action(html: str) -> tuple[str, str]:
    """The address and the words of the page's button link."""
    found = re.search(r'<div class="actions"><a class="button button-primary" href="([^"]+)">\s*([^<]+?)\s*</a>', html)
    assert found, html
    return found.group(1), found.group(2)


def _session_usager(db_url: str, client: httpx.Client) -> int | None:
    with UnitOfWork(db_url) as uow:
        return usager_auth.resolve_session(uow, client.cookies.get(routes.USAGER_SESSION_COOKIE))


def test_a_new_account_gets_an_email_whose_link_signs_in_once_and_comes_back_to_the_step(
        app_db: str, smtp: SmtpServer, client: httpx.Client, browser: Callable[[], httpx.Client]) -> None:
    with UnitOfWork(app_db) as uow:
        requested = usager_auth.request_account(uow, first_name=" Alice ", last_name="Durand",
                                                email="Alice.Durand@Exemple.fr", phone_number="06 12 34 56 78",
                                                next_path=STEP, ip="198.51.100.7")
    link = _deliver(app_db, smtp, requested.outbox_ids)
    recipients, message = smtp.messages[-1]
    assert recipients == ["alice.durand@exemple.fr"]
    assert message["Subject"] == "Confirmez votre adresse email"
    with UnitOfWork(app_db) as uow:
        usager = uow.session.exec(select(Usager)).one()
        usager_id = usager.id
        stored = uow.session.exec(select(UsagerEmailToken)).one()
        assert (usager.first_name, usager.phone_number_formatted, usager.created_through) == (
            "Alice", "+33612345678", "user_sign_up")
        assert usager.email_verified_at is None
        token = link.split("jeton=")[1]
        assert token not in stored.token_hash and len(stored.token_hash) == 64
        assert stored.expires_at - stored.created_at == timedelta(hours=24)

    signed_in = _sign_in_with_link(client, link)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == STEP
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{routes.USAGER_SESSION_COOKIE}=") and "HttpOnly" in cookie
    assert f"Max-Age={30 * 24 * 3600};" in cookie  # the browser forgets it when the session ends
    assert _session_usager(app_db, client) == usager_id
    token, now = client.cookies.get(routes.USAGER_SESSION_COOKIE), datetime.now(UTC)
    for days in (6, 12, 18, 24, 29):  # used every few days: the idle timeout never ends it...
        with UnitOfWork(app_db) as uow:
            assert usager_auth.resolve_session(uow, token, now=now + timedelta(days=days)) == usager_id
    with UnitOfWork(app_db) as uow:  # ...its lifetime does, 30 days after the sign-in
        assert usager_auth.resolve_session(uow, token, now=now + timedelta(days=30, seconds=1)) is None
    with UnitOfWork(app_db) as uow:
        assert uow.session.get(Usager, usager_id).email_verified_at is not None  # type: ignore[union-attr]
        session = uow.session.exec(select(UsagerSession)).one()
        assert session.token_hash != client.cookies.get(routes.USAGER_SESSION_COOKIE)

    again = browser()
    reused = _sign_in_with_link(again, link)
    assert reused.status_code == 400
    assert "Ce lien n'est plus valide" in reused.text
    assert routes.USAGER_SESSION_COOKIE not in again.cookies


def test_a_link_expires_after_24_hours_and_a_foreign_post_changes_nothing(app_db: str, smtp: SmtpServer,
                                                                          client: httpx.Client) -> None:
    with UnitOfWork(app_db) as uow:
        requested = usager_auth.request_account(uow, first_name="Paul", last_name="Martin",
                                                email="paul@exemple.fr", phone_number="", next_path=STEP,
                                                ip="198.51.100.8")
    token = _deliver(app_db, smtp, requested.outbox_ids).split("jeton=")[1]

    forged = client.post(routes.USAGER_EMAIL_LINK, data={"jeton": token}, headers={"Origin": "https://evil.test"})
    assert "Demande refusée" in forged.text
    assert forged.status_code == 403
    with UnitOfWork(app_db) as uow:
        assert usager_auth.open_email_link(uow, token, now=datetime.now(UTC) + timedelta(hours=25)) is None
    with UnitOfWork(app_db) as uow:
        opened = usager_auth.open_email_link(uow, token)
    assert opened is not None and opened.next_path == STEP


def test_returning_usagers_get_a_link_and_unknown_addresses_get_nothing(app_db: str, smtp: SmtpServer,
                                                                        client: httpx.Client) -> None:
    with UnitOfWork(app_db) as uow:
        uow.session.add(Usager(first_name="Léa", last_name="Bernard", email="lea@exemple.fr"))
        uow.commit()
    with UnitOfWork(app_db) as uow:
        requested = usager_auth.request_sign_in_link(uow, email=" LEA@exemple.fr", next_path=STEP, ip="203.0.113.1")
    link = _deliver(app_db, smtp, requested.outbox_ids)
    assert smtp.messages[-1][1]["Subject"] == "Votre lien de connexion"
    assert _sign_in_with_link(client, link).headers["location"] == STEP

    with UnitOfWork(app_db) as uow:
        unknown = usager_auth.request_sign_in_link(uow, email="personne@exemple.fr", next_path=STEP, ip="203.0.113.1")
    assert unknown.outbox_ids == ()
    with UnitOfWork(app_db) as uow:
        assert len(uow.session.exec(select(OutboxMessage)).all()) == 1


def test_a_link_asked_from_mes_rendez_vous_says_it_leads_there_and_when_spent_where_to_ask_again(
        app_db: str, smtp: SmtpServer, client: httpx.Client, browser: Callable[[], httpx.Client]) -> None:
    with UnitOfWork(app_db) as uow:
        uow.session.add(Usager(first_name="Léa", last_name="Bernard", email="lea@exemple.fr"))
        uow.commit()
    with UnitOfWork(app_db) as uow:
        requested = usager_auth.request_sign_in_link(uow, email="lea@exemple.fr", next_path=routes.USAGER_RDVS,
                                                     ip="203.0.113.2")
    link = _deliver(app_db, smtp, requested.outbox_ids)
    page = client.get(_path(link))
    assert page.status_code == 200
    assert "Confirmez votre connexion pour retrouver vos rendez-vous." in page.text
    assert ">Me connecter et voir mes rendez-vous</button>" in page.text
    assert "réservation" not in page.text
    token = re.search(r'name="jeton" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    signed_in = client.post(routes.USAGER_EMAIL_LINK, data={"jeton": token})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == routes.USAGER_RDVS

    spent = browser().post(routes.USAGER_EMAIL_LINK, data={"jeton": token})
    assert spent.status_code == 400
    assert "Demandez un nouveau lien depuis « Mes rendez-vous »." in spent.text
    assert _action(spent.text) == (routes.USAGER_RDVS, "Mes rendez-vous")
    unknown = browser().post(routes.USAGER_EMAIL_LINK, data={"jeton": "x" * 43})  # no one was sent this one
    assert unknown.status_code == 400
    assert "Demandez un nouveau lien depuis la page de réservation." in unknown.text
    assert _action(unknown.text) == (routes.PUBLIC_BOOKING, "Prendre rendez-vous")


def test_link_requests_are_rate_limited_per_email_and_bad_input_gets_french_messages(app_db: str) -> None:
    for _ in range(usager_auth.LINKS_PER_EMAIL.amount):
        with UnitOfWork(app_db) as uow:
            usager_auth.request_account(uow, first_name="Eve", last_name="Roux", email="eve@exemple.fr",
                                        phone_number=None, next_path=STEP, ip="192.0.2.10")
    with UnitOfWork(app_db) as uow, pytest.raises(usager_auth.TooManyRequests) as blocked:
        usager_auth.request_sign_in_link(uow, email="eve@exemple.fr", next_path=STEP, ip="192.0.2.11")
    assert blocked.value.message.startswith("Trop de demandes en peu de temps.")
    with UnitOfWork(app_db) as uow:
        assert len(uow.session.exec(select(OutboxMessage)).all()) == usager_auth.LINKS_PER_EMAIL.amount
        assert len(uow.session.exec(select(Usager)).all()) == 1

    for fields, field in (({"email": "pas-une-adresse"}, "email"), ({"first_name": "  "}, "first_name"),
                          ({"phone_number": "12"}, "phone_number")):
        values = {"first_name": "Zoé", "last_name": "Petit", "email": "zoe@exemple.fr", "phone_number": None,
                  **fields}
        with UnitOfWork(app_db) as uow, pytest.raises(DomainError) as bad:
            usager_auth.request_account(uow, next_path=STEP, ip="192.0.2.12", **values)  # type: ignore[arg-type]
        assert bad.value.field == field
    with UnitOfWork(app_db) as uow:
        assert len(uow.session.exec(select(Usager)).all()) == 1


def _franceconnect(client: httpx.Client, next_path: str = STEP) -> httpx.Response:
    """Start at our route, pass through the provider's authorize endpoint, come back to our callback."""
    start = client.get(routes.FRANCECONNECT_START, params={"suivant": next_path})
    assert start.status_code == 303, start.text
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    assert authorize.status_code == 302, authorize.text
    return client.get(_path(authorize.headers["location"]))


def test_franceconnect_creates_the_usager_then_finds_them_by_subject(
        app_db: str, client: httpx.Client, browser: Callable[[], httpx.Client], fc: FakeFranceConnect) -> None:
    back = _franceconnect(client)
    assert back.status_code == 303, back.text
    assert back.headers["location"] == STEP
    request = fc.authorize_requests[-1]
    assert (request["acr_values"], request["prompt"], request["redirect_uri"]) == ("eidas1", "login consent", CALLBACK)
    assert fc.token_requests[-1]["client_secret"] == fc.client_secret
    usager_id = _session_usager(app_db, client)
    with UnitOfWork(app_db) as uow:
        usager = uow.session.get(Usager, usager_id)
        assert usager is not None
        assert (usager.first_name, usager.last_name, usager.birth_name, usager.birth_date, usager.email) == (
            "Marie Claire", "MARTIN", "DUPONT", date(1985, 4, 12), "marie.dupont@franceconnect.test")
        assert (usager.franceconnect_sub, usager.logged_once_with_franceconnect) == ("fc-sub-0001", True)
        session = uow.session.exec(select(UsagerSession)).one()
        assert session.via_franceconnect and session.franceconnect_id_token

    with UnitOfWork(app_db) as uow, pytest.raises(DomainError) as frozen:
        usager_auth.update_informations(uow, usager_id, first_name="Marie", last_name="MARTIN",  # type: ignore[arg-type]
                                        phone_number="0612345678", address=None)
    assert frozen.value.message == usager_auth.FRANCECONNECT_CERTIFIED
    with UnitOfWork(app_db) as uow:
        usager_auth.update_informations(uow, usager_id, first_name="Marie Claire", last_name="MARTIN",  # type: ignore[arg-type]
                                        phone_number="0612345678", address="1 rue de la Paix, 62000 Arras")

    fc.identity = {**fc.identity, "email": "nouvelle.adresse@franceconnect.test"}
    other = browser()
    assert _franceconnect(other).status_code == 303
    assert _session_usager(app_db, other) == usager_id
    with UnitOfWork(app_db) as uow:
        assert len(uow.session.exec(select(Usager)).all()) == 1
        assert uow.session.get(Usager, usager_id).phone_number == "06 12 34 56 78"  # type: ignore[union-attr]


def test_franceconnect_links_an_account_found_by_email(app_db: str, client: httpx.Client,
                                                        fc: FakeFranceConnect) -> None:
    with UnitOfWork(app_db) as uow:
        existing = Usager(first_name="Marie", last_name="Dupont", email="marie.dupont@franceconnect.test",
                          email_verified_at=clock.now() - timedelta(days=3))
        uow.session.add(existing)
        uow.commit()
    assert _franceconnect(client).status_code == 303
    assert _session_usager(app_db, client) == existing.id


def test_franceconnect_never_joins_an_unverified_account_holding_the_same_email(
        app_db: str, client: httpx.Client, browser: Callable[[], httpx.Client], fc: FakeFranceConnect) -> None:
    """Someone creates an account with the victim's email and their own phone, never verified: the
    victim's FranceConnect sign-in must not land in it (their SMS would reach the other phone)."""
    with UnitOfWork(app_db) as uow:
        squatter = usager_auth.request_account(uow, first_name="Intrus", last_name="Malin",
                                               email="marie.dupont@franceconnect.test", phone_number="0611111111",
                                               next_path=STEP, ip="203.0.113.9")
        assert squatter.outbox_ids
        squatter_id = uow.session.exec(select(Usager.id)).one()

    assert _franceconnect(client).status_code == 303
    victim_id = _session_usager(app_db, client)
    assert victim_id is not None and victim_id != squatter_id
    with UnitOfWork(app_db) as uow:
        victim, kept = uow.session.get(Usager, victim_id), uow.session.get(Usager, squatter_id)
        assert (kept.first_name, kept.last_name, kept.phone_number, kept.franceconnect_sub) == (  # type: ignore[union-attr]
            "Intrus", "Malin", "06 11 11 11 11", None)
        assert (victim.first_name, victim.franceconnect_sub, victim.phone_number) == (  # type: ignore[union-attr]
            "Marie Claire", "fc-sub-0001", None)
        assert victim.email is None  # type: ignore[union-attr] # the address is held until the squatter is purged
        uow.session.delete(kept)
        uow.commit()

    again = browser()
    assert _franceconnect(again).status_code == 303
    assert _session_usager(app_db, again) == victim_id
    with UnitOfWork(app_db) as uow:
        victim = uow.session.get(Usager, victim_id)
        assert victim.email == "marie.dupont@franceconnect.test" and victim.email_verified_at  # type: ignore[union-attr]


@pytest.mark.parametrize("tamper", ["wrong nonce", "wrong audience", "wrong issuer", "expired", "foreign key",
                                    "userinfo of someone else", "denied", "replayed state"])
def test_franceconnect_refuses_what_it_cannot_trust(app_db: str, client: httpx.Client,
                                                    browser: Callable[[], httpx.Client], fc: FakeFranceConnect,
                                                    tamper: str) -> None:
    if tamper == "wrong nonce":
        fc.id_token_claims = {"nonce": "x" * 43}
    elif tamper == "wrong audience":
        fc.id_token_claims = {"aud": "another-client"}
    elif tamper == "wrong issuer":
        fc.id_token_claims = {"iss": "https://attacker.test/api/v2"}
    elif tamper == "expired":
        fc.id_token_claims = {"exp": int(datetime.now(UTC).timestamp()) - 3600}
    elif tamper == "foreign key":
        fc.sign_with_foreign_key = True
    elif tamper == "userinfo of someone else":
        fc.userinfo_sub = "fc-sub-9999"
    elif tamper == "denied":
        fc.deny = True

    if tamper == "replayed state":
        # Another browser's callback (its state) reaching this browser, whose own flow has another state.
        victim = browser()
        victim.get(routes.FRANCECONNECT_START, params={"suivant": STEP})
        start = client.get(routes.FRANCECONNECT_START, params={"suivant": STEP})
        callback = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
        back = victim.get(_path(callback))
    else:
        back = _franceconnect(client)

    assert back.status_code == 400
    assert "Connexion impossible" in back.text
    assert ("annulée" in back.text) == (tamper == "denied")
    assert routes.USAGER_SESSION_COOKIE not in client.cookies
    with UnitOfWork(app_db) as uow:
        assert uow.session.exec(select(UsagerSession)).all() == []
        assert uow.session.exec(select(Usager)).all() == []


def test_signing_out_ends_the_session_and_the_franceconnect_session(app_db: str, client: httpx.Client,
                                                                    fc: FakeFranceConnect) -> None:
    assert _franceconnect(client).status_code == 303
    usager_id = _session_usager(app_db, client)
    assert usager_id is not None
    with UnitOfWork(app_db) as uow:
        stored = uow.session.exec(select(UsagerSession.franceconnect_id_token)).one()
        id_token = usager_auth.revoke_session(uow, client.cookies.get(routes.USAGER_SESSION_COOKIE))
    assert id_token
    assert id_token.count(".") == 2 and stored and id_token not in stored and id_token.split(".")[1] not in stored
    assert _session_usager(app_db, client) is None

    back_to = f"{settings.public_url}{routes.USAGER_SIGN_OUT}"
    url = asyncio.run(FranceConnectClient(fc.settings(), CALLBACK).logout_url(id_token, back_to))
    ended = httpx.get(url, follow_redirects=False)
    assert ended.status_code == 302
    assert ended.headers["location"].startswith(f"{back_to}?state=")
    assert fc.logout_requests[-1]["id_token_hint"] == id_token

    cleared = client.get(_path(ended.headers["location"]))
    assert cleared.status_code == 303
    assert f'{routes.USAGER_SESSION_COOKIE}=""' in cleared.headers["set-cookie"]


# --------------------------------------------------------------------------- issue 26: clean input, every error at once


def test_phone_numbers_are_stored_clean_and_trailing_garbage_is_refused(app_db: str) -> None:
    for typed in ("06 12 34 56 78x", "01 23 45 67 89x", "06 12 34 56 78 <b>", "0612345678;"):
        with UnitOfWork(app_db) as uow, pytest.raises(DomainError) as bad:
            usager_auth.request_account(uow, first_name="Zoé", last_name="Petit", email="zoe@exemple.fr",
                                        phone_number=typed, next_path=STEP, ip="192.0.2.20")
        assert bad.value.field == "phone_number", typed
        assert "n'est pas valide" in bad.value.message
    with UnitOfWork(app_db) as uow:
        assert uow.session.exec(select(Usager)).all() == []  # nothing was written

    for typed, shown, e164 in (("06.12.34.56.78", "06 12 34 56 78", "+33612345678"),
                               ("+262 692 12 34 56", "0692 12 34 56", "+262692123456"),
                               ("  0123456789 ", "01 23 45 67 89", "+33123456789")):
        email = f"z{e164[1:]}@exemple.fr"
        with UnitOfWork(app_db) as uow:
            usager_auth.request_account(uow, first_name="Zoé", last_name="Petit", email=email,
                                        phone_number=typed, next_path=STEP, ip="192.0.2.21")
        with UnitOfWork(app_db) as uow:
            usager = uow.session.exec(select(Usager).where(Usager.email == email)).one()
            assert (usager.phone_number, usager.phone_number_formatted) == (shown, e164)
            account = usager_auth.account(uow, usager.id)  # type: ignore[arg-type]
            assert account.phone_number == shown  # the form shows the number formatted back


def test_names_keep_accents_hyphens_and_apostrophes_but_refuse_markup(app_db: str) -> None:
    with UnitOfWork(app_db) as uow:
        usager_auth.request_account(uow, first_name=" Anne-Laure ", last_name="D'Hérouville  Ñúñez",
                                    email="anne@exemple.fr", phone_number=None, next_path=STEP, ip="192.0.2.30")
    with UnitOfWork(app_db) as uow:
        usager = uow.session.exec(select(Usager)).one()
        assert (usager.first_name, usager.last_name) == ("Anne-Laure", "D'Hérouville Ñúñez")
        usager_id = usager.id
    for first, last in (("<script>", "Petit"), ("Zoé", "Pe\u200btit"), ("Zo\x07é", "Petit")):
        with UnitOfWork(app_db) as uow, pytest.raises(DomainError) as bad:
            usager_auth.add_relative(uow, usager_id, first_name=first, last_name=last, birth_date=None)  # type: ignore[arg-type]
        assert "ne sont pas acceptés" in bad.value.message
    with UnitOfWork(app_db) as uow:
        assert len(uow.session.exec(select(Usager)).all()) == 1


def test_every_error_of_a_form_comes_at_once_with_the_relatives_own_words(app_db: str) -> None:
    with UnitOfWork(app_db) as uow, pytest.raises(FieldErrors) as bad:
        usager_auth.request_account(uow, first_name="", last_name=" ", email="pas-une-adresse",
                                    phone_number="06 12 34 56 78x", next_path=STEP, ip="192.0.2.40")
    assert set(bad.value.errors) == {"first_name", "last_name", "email", "phone_number"}
    with UnitOfWork(app_db) as uow:
        usager_auth.request_account(uow, first_name="Léa", last_name="Roux", email="lea@exemple.fr",
                                    phone_number=None, next_path=STEP, ip="192.0.2.40")
    with UnitOfWork(app_db) as uow:
        lea = uow.session.exec(select(Usager)).one().id
    with UnitOfWork(app_db) as uow, pytest.raises(FieldErrors) as bad:
        usager_auth.add_relative(uow, lea, first_name="", last_name="", birth_date=date(1800, 1, 1))  # type: ignore[arg-type]
    assert bad.value.errors == {"relative_first_name": "Indiquez le prénom de votre proche.",
                                "relative_last_name": "Indiquez le nom de votre proche.",
                                "relative_birth_date": "La date de naissance n'est pas valide."}
    with UnitOfWork(app_db) as uow, pytest.raises(FieldErrors) as bad:
        usager_auth.update_informations(uow, lea, first_name="", last_name="Roux", phone_number="",  # type: ignore[arg-type]
                                        address="", phone_required=True, address_required=True)
    assert set(bad.value.errors) == {"first_name", "phone_number", "address"}
    # Each field, checked again as the person fixes it.
    assert usager_auth.field_problem("relative_first_name", "") == "Indiquez le prénom de votre proche."
    assert usager_auth.field_problem("relative_first_name", "Noé") == ""
    assert usager_auth.field_problem("phone_number", "06 12 34 56 78x") != ""
    assert usager_auth.field_problem("phone_number", "", required=True) == "Ce champ est obligatoire."
    assert usager_auth.field_problem("relative_birth_date", "1800-01-01") is None


def test_a_shared_computer_is_limited_per_device_and_email_before_its_ip(app_db: str) -> None:
    """A France Services computer or a carrier's NAT: many people behind one IP each create their account;
    one device creating too many is stopped, and told in French when to retry."""
    people = usager_auth.ACCOUNT_CREATIONS_PER_DEVICE.amount + 5
    for index in range(people):
        with UnitOfWork(app_db) as uow:
            usager_auth.request_account(uow, first_name="Léa", last_name=f"Roux{chr(65 + index)}",
                                        email=f"lea{index}@exemple.fr", phone_number=None, next_path=STEP,
                                        ip="198.51.100.7", device=f"appareil-{index}")
    with UnitOfWork(app_db) as uow:
        assert len(uow.session.exec(select(Usager)).all()) == people  # more than the device's limit, one IP

    for index in range(usager_auth.ACCOUNT_CREATIONS_PER_DEVICE.amount):
        with UnitOfWork(app_db) as uow:
            usager_auth.request_account(uow, first_name="Max", last_name="Petit", email=f"max{index}@exemple.fr",
                                        phone_number=None, next_path=STEP, ip="198.51.100.7", device="le-meme")
    with UnitOfWork(app_db) as uow, pytest.raises(usager_auth.TooManyRequests) as blocked:
        usager_auth.request_account(uow, first_name="Max", last_name="Petit", email="max-encore@exemple.fr",
                                    phone_number=None, next_path=STEP, ip="198.51.100.7", device="le-meme")
    assert re.fullmatch(r"Trop de demandes en peu de temps\. Veuillez réessayer dans \d+ minutes?\.",
                        blocked.value.message)
    with UnitOfWork(app_db) as uow:
        assert uow.session.exec(select(Usager).where(Usager.email == "max-encore@exemple.fr")).first() is None
