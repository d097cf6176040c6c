""""Mes rendez-vous": the signed-in usager's RDVs and their relatives', and cancelling one of them.

Rules and rights live in rdv_app.services.usager_rdvs; the session is the usager's HttpOnly cookie, read
from the request's headers as on the booking pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.usager_link import CancelRefusal
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.usagers import usager_auth, usager_rdvs
from rdv_app.services.usagers.usager_rdvs import UsagerRdv
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.public_booking import UsagerSessionChecked, resolve_usager, session_token_from
from rdv_app.state.session_guard import USAGER_SESSION_ENDED, revocations, says_session_ended
from rdv_app.state.typed_event import event

CANCELLED = "Votre rendez-vous est annulé. Le service est prévenu et vous recevez une confirmation par email."


@dataclass
class RdvCard:
    participation_id: int
    title: str
    when: str
    status: str  # "" or "Annulé"
    participant: str  # "" for the usager's own RDVs
    place: str
    place_detail: str
    map_url: str
    organisation: str
    contact_phone: str
    contact_phone_href: str
    contact_email: str
    instructions: str
    can_cancel: bool
    cancel_notice: str  # why it cannot be cancelled online, and whom to call
    cancel_warning: str
    move_href: str  # "Changer la date", when the RDV's date may be changed online
    edit_notice: str  # otherwise, while it is to come: why not and whom to contact
    participant_id: int = 0
    can_change_participant: bool = False  # to come, not cancelled, and the usager has relatives


def _card(item: UsagerRdv, *, past: bool, family: bool = False) -> RdvCard:
    s = item.summary
    if s.location_type == "phone":
        place, detail = "Par téléphone", f"Vous serez appelé(e) au {s.phone_number_called}" if s.phone_number_called else ""
    elif s.location_type == "home":
        place, detail = "À domicile", s.home_address or ""
    else:
        place, detail = s.lieu_name or "", s.lieu_address or ""
    refusal = CancelRefusal(s.cancel_refusal) if s.cancel_refusal else None
    reach = f"au {s.contact_phone}" if s.contact_phone else (f"par email à {s.contact_email}" if s.contact_email
                                                               else f"{s.organisation_name}")
    notice = ""
    if not past and refusal == CancelRefusal.TOO_LATE:
        notice = f"Ce rendez-vous a lieu dans moins de 4 heures. Pour l'annuler, contactez {s.organisation_name} {reach}."
    elif not past and refusal == CancelRefusal.MOTIF:
        notice = f"Ce rendez-vous ne peut pas être annulé en ligne. Pour l'annuler, contactez {s.organisation_name} {reach}."
    return RdvCard(
        participation_id=item.participation_id, title=s.title, when=s.when, status="Annulé" if s.cancelled else "",
        participant=s.participants[0] if s.participants else "", place=place, place_detail=detail,
        map_url=s.map_url or "", organisation=s.organisation_name, contact_phone=s.contact_phone or "",
        contact_phone_href="tel:" + "".join(c for c in (s.contact_phone or "") if c.isdigit() or c == "+"),
        contact_email=s.contact_email or "", instructions="" if past or s.cancelled else (s.instructions or ""),
        can_cancel=not past and s.can_cancel, cancel_notice=notice, cancel_warning=s.cancel_warning,
        move_href=routes.usager_rdv_move(item.participation_id) if s.can_edit and not past else "",
        edit_notice="" if past else s.edit_notice, participant_id=item.participant_id,
        can_change_participant=family and not past and not s.cancelled)


class UsagerRdvsState(UsagerSessionChecked, rx.State):
    loading: rx.Field[bool] = rx.field(True)
    signed_in: rx.Field[bool] = rx.field(False)
    upcoming: rx.Field[list[RdvCard]] = rx.field(default_factory=list)
    past: rx.Field[list[RdvCard]] = rx.field(default_factory=list)
    page_error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")

    link_sent: rx.Field[str] = rx.field("")
    email_error: rx.Field[str] = rx.field("")
    sending: rx.Field[bool] = rx.field(False)

    dialog_open: rx.Field[bool] = rx.field(False)
    to_cancel_id: rx.Field[int] = rx.field(0)
    to_cancel_label: rx.Field[str] = rx.field("")  # "Consultation, lundi 7 décembre 2026 à 09h00"
    to_cancel_warning: rx.Field[str] = rx.field("")
    cancel_error: rx.Field[str] = rx.field("")
    cancelling: rx.Field[bool] = rx.field(False)

    # "Changer de participant": the usager and their relatives, and the RDV being changed.
    people: rx.Field[list[Option]] = rx.field(default_factory=list)
    change_open: rx.Field[bool] = rx.field(False)
    change_id: rx.Field[int] = rx.field(0)
    change_label: rx.Field[str] = rx.field("")
    change_choice: rx.Field[str] = rx.field("")
    change_error: rx.Field[str] = rx.field("")
    changing: rx.Field[bool] = rx.field(False)

    _usager_id: int | None = None
    _session_checked_at: float = 0.0
    _revocations_seen: int = 0

    def _cookie_header(self) -> str:
        return self.router.headers.cookie

    def _page_without_session(self) -> str:
        return routes.USAGER_RDVS

    @event
    async def load(self):
        self.loading = True
        yield
        self.page_error = self.notice = self.link_sent = self.email_error = self.cancel_error = ""
        self.dialog_open, self.to_cancel_id = False, 0
        self.change_open, self.change_id, self.change_error = False, 0, ""
        self._usager_id = await resolve_usager(session_token_from(self.router.headers.cookie))
        self._session_checked_at, self._revocations_seen = clock.timestamp(), revocations()
        self.signed_in = self._usager_id is not None
        if not self.signed_in and says_session_ended(self.router.url.query_parameters):
            self.page_error = USAGER_SESSION_ENDED
        await self._refresh()
        self.loading = False

    async def _refresh(self) -> None:
        self.upcoming, self.past = [], []
        usager_id = self._usager_id
        if usager_id is None:
            return
        def read(uow: UnitOfWork) -> tuple[usager_rdvs.UsagerRdvs, list[usager_rdvs.Person]]:
            return usager_rdvs.list_rdvs(uow, usager_id), usager_rdvs.people(uow, usager_id)

        try:
            found, people = await within(UnitOfWork(read_only=True), read)
        except NotFound as exc:
            self.signed_in, self.page_error = False, exc.message
            return
        self.people = [Option(str(p.usager_id), f"Vous-même ({p.name})" if p.usager_id == usager_id else p.name)
                       for p in people]
        self.upcoming = [_card(item, past=False, family=len(people) > 1) for item in found.upcoming]
        self.past = [_card(item, past=True) for item in found.past]

    @event
    async def send_sign_in_link(self, form: dict[str, str]):
        self.link_sent, self.email_error = "", ""
        email, ip, uow = str(form.get("email", "")), self.router.session.client_ip or "inconnue", UnitOfWork()
        try:
            await within(uow, lambda uow: usager_auth.request_sign_in_link(
                uow, email=email, next_path=routes.USAGER_RDVS, ip=ip))
        except DomainError as exc:
            self.email_error = exc.message
            return None
        self.link_sent = ("Si un compte utilise cette adresse, un email vient de lui être envoyé. Ouvrez le lien "
                          "qu'il contient pour voir vos rendez-vous.")
        return deliver_after_commit(uow)

    @event
    def ask_cancel(self, participation_id: int):
        self.cancel_error = ""
        card = next((c for c in self.upcoming if c.participation_id == participation_id and c.can_cancel), None)
        if card is None:
            return
        self.to_cancel_id, self.to_cancel_warning = card.participation_id, card.cancel_warning
        self.to_cancel_label = f"{card.title}, {card.when}" + (f" (pour {card.participant})" if card.participant else "")
        self.dialog_open = True

    @event
    def set_dialog_open(self, value: bool):
        if not self.cancelling:
            self.dialog_open = value

    @event
    async def confirm_cancel(self):
        if self.cancelling or not self.to_cancel_id:
            return
        usager_id, participation_id = self._usager_id, self.to_cancel_id
        if usager_id is None:
            self.dialog_open, self.signed_in = False, False
            return
        self.cancelling, self.cancel_error = True, ""
        yield
        uow = UnitOfWork()
        try:
            await within(uow, lambda uow: usager_rdvs.cancel(uow, usager_id, participation_id))
        except DomainError as exc:
            self.cancelling, self.cancel_error = False, exc.message
            await self._refresh()
            return
        self.cancelling, self.dialog_open, self.to_cancel_id = False, False, 0
        self.notice = CANCELLED
        await self._refresh()
        yield deliver_after_commit(uow)

    @event
    def ask_change(self, participation_id: int):
        self.change_error = ""
        card = next((c for c in self.upcoming
                     if c.participation_id == participation_id and c.can_change_participant), None)
        if card is None:
            return
        self.change_id, self.change_choice = card.participation_id, str(card.participant_id)
        self.change_label = f"{card.title}, {card.when}"
        self.change_open = True

    @event
    def set_change_open(self, value: bool):
        if not self.changing:
            self.change_open = value

    @event
    def set_change_choice(self, value: str):
        self.change_choice, self.change_error = value, ""

    @event
    async def confirm_change(self):
        if self.changing or not self.change_id:
            return
        usager_id, participation_id, choice = self._usager_id, self.change_id, self.change_choice
        if usager_id is None:
            self.change_open, self.signed_in = False, False
            return
        if not choice.isdigit():
            self.change_error = "Choisissez la personne concernée."
            return
        self.changing, self.change_error = True, ""
        yield
        uow = UnitOfWork()
        try:
            await within(uow, lambda uow: usager_rdvs.change_participant(uow, usager_id, participation_id,
                                                                         int(choice)))
        except DomainError as exc:
            self.changing, self.change_error = False, exc.message
            await self._refresh()
            return
        name = next((p.label for p in self.people if p.value == choice), "")
        self.changing, self.change_open, self.change_id = False, False, 0
        self.notice = f"Ce rendez-vous est maintenant pour : {name}."
        await self._refresh()
        yield deliver_after_commit(uow)
