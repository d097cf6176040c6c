"""Fusionner deux usagers (admin-domain.md sections 2.2 and 2.3): two records of one person become one,
in one transaction. The pure rules (the fields compared, which record is kept, FranceConnect, the status
of a participation kept) are in rdv_app.domain.usager_merge.

Who may: an agent of the organisation who sees both usagers in full (rights.visible_usagers: a profile
in the organisation, or in the territory when it makes usagers visible throughout), neither deleted, and
two different records. Refusals are French; nothing is written.

What moves, from the merged record to the kept one. The organisations concerned (the *scope*) are those
whose usagers the agent sees in full (rights.usager_organisations): the organisation, or the whole
territory in "visible throughout" mode.
- the fields the agent chose from the merged record (never its email: the kept record keeps its own);
  a FranceConnect identity's first name, birth name and birth date, and its FranceConnect link;
- its participations in the RDVs of the scope; when both records take part in one RDV, one participation
  remains, with the most informative status of the two, and the RDV's status and count follow;
- its relatives followed in the scope get the kept record as responsible; a kept record that would
  become its own responsible, or part of a cycle of responsibles, gets none;
- its agents référents who are agents of the scope (one assignation per agent);
- its profiles in the scope (the kept record gets those it lacks: the union).
Then the merged record leaves the scope. With no organisation left, it is anonymised as when the last
organisation removes an usager (admin-domain.md 1.5): names "Usager supprimé", every other personal field
emptied, sessions and sign-in links deleted, its receipts' addresses and texts erased, `deleted_at`
stamped; whatever still pointed at it (participations and relatives outside the scope, which only a
record unknown to every organisation can have) moves to the kept record, and its other referent
assignations are deleted.

RDV Service Public bugs #3429 and #3584 (a merge "succeeded" and both records remained, with the merged
one keeping RDVs): the merge never reaches into organisations the agent cannot see. A merged record that
other organisations follow stays alive there, with its RDVs, relatives and referents of those
organisations, and the merge screen says so before the agent confirms (`MergeSide.stays_elsewhere`):
moving them would hand this organisation's record (and the choices made on it) to organisations that never
saw it, and their agents would find their usager changed under them. A record nobody else follows is
always fully merged: no record survives with RDVs and no organisation.

Side effects: history on both records (and on each relative moved); webhooks `user` updated (kept
record, relatives, the merged record when it survives) or destroyed (anonymised), `user_profile`
created/destroyed, `referent_assignation` updated/destroyed, `rdv` updated for each RDV whose
participants changed. No message is sent to the usager: a merge is the service's housekeeping.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    Motif,
    Organisation,
    Participation,
    Rdv,
    ReferentAssignation,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import CANCELLED_STATUSES, RdvStatus, WebhookSubscription
from rdv_app.domain.events import Change, RecordChanged
from rdv_app.domain.labels import CAISSE_AFFILIATION_LABELS, FAMILY_SITUATION_LABELS, LOGEMENT_LABELS
from rdv_app.domain.masking import reverse_full_name
from rdv_app.domain.rdv_status import cancelled_at_after, rdv_status_from_participations
from rdv_app.domain.usager_merge import (
    DECIDING_FIELD,
    FIELDS_BY_NAME,
    FRANCECONNECT_FIELDS,
    TOGGLES,
    MergeField,
    RowKind,
    Side,
    forced_side,
    kept_side,
    missing_choices,
    most_informative,
    row_kind,
    shown_fields,
)
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError
from rdv_app.services.retention import forget_identity
from rdv_app.services.rights import agent_scope, usager_organisations, visible_usagers

_RESPONSIBLE_CHAIN_LIMIT = 10_000

# The coded fields as the merge screen shows them.
VALUE_LABELS: dict[str, dict[Any, str]] = {"caisse_affiliation": dict(CAISSE_AFFILIATION_LABELS),
                                           "family_situation": dict(FAMILY_SITUATION_LABELS),
                                           "logement": dict(LOGEMENT_LABELS)}


@dataclass(frozen=True, slots=True)
class MergeSide:
    id: int
    name: str  # "DUPONT Jeanne"
    birth_date: str  # "14/07/1985" or ""
    is_relative: bool
    franceconnect: bool
    rdv_count: int  # the RDVs that move if this record is merged
    upcoming_count: int
    referents: tuple[str, ...]  # agents référents of the scope
    relatives: tuple[str, ...]  # relatives followed in the scope
    # Other organisations follow it: merged, it stays there with their RDVs (which are not counted here:
    # what other organisations do with an usager is theirs).
    stays_elsewhere: bool


@dataclass(frozen=True, slots=True)
class MergeRow:
    field: str
    label: str
    value_a: str
    value_b: str
    kind: str  # RowKind
    forced: int | None  # the side a FranceConnect identity imposes (Side), None: the agent chooses


@dataclass(frozen=True, slots=True)
class MergePreview:
    a: MergeSide
    b: MergeSide
    rows: tuple[MergeRow, ...]

    @property
    def choices_needed(self) -> tuple[str, ...]:
        return tuple(r.field for r in self.rows if r.kind == RowKind.DIFFERENT and r.forced is None)


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    kept_usager_id: int
    merged_usager_id: int
    moved_participations: int
    anonymised: bool


@dataclass(frozen=True)
class _Pair:
    organisation_id: int
    scope: frozenset[int]  # organisations whose usagers the agent sees in full
    a: Usager
    b: Usager
    fields: tuple[MergeField, ...]


# --------------------------------------------------------------------------- reading the pair


def _franceconnect(usager: Usager) -> bool:
    return usager.franceconnect_sub is not None or usager.logged_once_with_franceconnect


def _pair(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int, other_usager_id: int, *,
          lock: bool) -> _Pair:
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    if usager_id == other_usager_id:
        raise DomainError("Vous ne pouvez pas fusionner un usager avec lui-même : choisissez deux usagers "
                          "différents.", "other_usager_id")
    pair_ids = (usager_id, other_usager_id)
    if lock:
        # Two agents merging the same records: the second waits here, then the checks below find one of
        # them gone (PostgreSQL; SQLite's write lock is already held).
        uow.session.exec(select(Usager.id).where(col(Usager.id).in_(pair_ids)).order_by(col(Usager.id))
                         .with_for_update()).all()
    visible_usagers(uow, scope, pair_ids)
    rows = {require_id(u): u for u in uow.session.exec(select(Usager).where(col(Usager.id).in_(pair_ids))
                                                       .execution_options(populate_existing=True)).all()}
    a, b = rows[usager_id], rows[other_usager_id]
    if a.franceconnect_sub is not None and b.franceconnect_sub is not None:
        raise DomainError("Ces deux usagers sont chacun liés à un compte FranceConnect : ce sont deux personnes "
                          "différentes, ils ne peuvent pas être fusionnés.")
    territory = uow.session.exec(select(Territory).join(Organisation, col(Organisation.territory_id) == Territory.id)
                                 .where(Organisation.id == organisation_id)).one()
    toggles = frozenset(name for name in TOGGLES if getattr(territory, name))
    fields = shown_fields(any_relative=a.responsible_id is not None or b.responsible_id is not None, toggles=toggles)
    return _Pair(organisation_id, usager_organisations(uow, scope), a, b, fields)


def _compared(usager: Usager, field: MergeField) -> Any:
    if field.name == "phone_number":
        return usager.phone_number_formatted or usager.phone_number
    values = tuple(getattr(usager, column) for column in field.written)
    return values[0] if len(values) == 1 else (None if all(v in (None, "") for v in values) else values)


def _shown(uow: UnitOfWork, usager: Usager, field: MergeField) -> str:
    value = getattr(usager, field.name)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if field.name == "responsible_id":
        responsible = uow.session.get(Usager, value)
        return reverse_full_name(responsible.first_name, responsible.last_name) if responsible else ""
    if field.name == "address":
        town = " ".join(part for part in (usager.post_code, usager.city_name) if part)
        return value if not town or town in value else f"{value}, {town}"
    return VALUE_LABELS.get(field.name, {}).get(value, str(value))


def _rows(uow: UnitOfWork, pair: _Pair) -> tuple[MergeRow, ...]:
    fc_a, fc_b = _franceconnect(pair.a), _franceconnect(pair.b)
    rows = []
    for field in pair.fields:
        forced = forced_side(field.name, franceconnect_a=fc_a, franceconnect_b=fc_b)
        kind = row_kind(_compared(pair.a, field), _compared(pair.b, field))
        rows.append(MergeRow(field.name, field.label, _shown(uow, pair.a, field), _shown(uow, pair.b, field),
                             kind.value, int(forced) if forced is not None and kind == RowKind.DIFFERENT else None))
    return tuple(rows)


def _side(uow: UnitOfWork, pair: _Pair, usager: Usager, now: datetime) -> MergeSide:
    usager_id = require_id(usager)
    rdvs = uow.session.exec(
        select(Rdv.organisation_id, Rdv.starts_at, Participation.status)
        .join(Participation, col(Participation.rdv_id) == Rdv.id).where(Participation.usager_id == usager_id)).all()
    elsewhere = uow.session.exec(select(UsagerProfile.id).where(
        UsagerProfile.usager_id == usager_id, col(UsagerProfile.organisation_id).not_in(pair.scope))).first()
    # The RDVs that move if this record is merged: those of the scope, or all when nobody else follows it.
    moving = [(starts_at, status) for organisation_id, starts_at, status in rdvs
              if organisation_id in pair.scope or elsewhere is None]
    referents = uow.session.exec(
        select(Agent).join(ReferentAssignation, col(ReferentAssignation.agent_id) == Agent.id)
        .where(ReferentAssignation.usager_id == usager_id, col(Agent.id).in_(_scope_agents(pair.scope)))).all()
    relatives = uow.session.exec(select(Usager).where(
        Usager.responsible_id == usager_id, col(Usager.deleted_at).is_(None),
        col(Usager.id).in_(_followed_in(pair.scope))).order_by(col(Usager.birth_date), col(Usager.id))).all()
    return MergeSide(
        id=usager_id, name=reverse_full_name(usager.first_name, usager.last_name),
        birth_date=usager.birth_date.strftime("%d/%m/%Y") if usager.birth_date else "",
        is_relative=usager.responsible_id is not None, franceconnect=_franceconnect(usager),
        rdv_count=len(moving),
        upcoming_count=sum(1 for starts_at, status in moving if starts_at >= now and status not in CANCELLED_STATUSES),
        referents=tuple(sorted(a.full_name for a in referents)),
        relatives=tuple(reverse_full_name(r.first_name, r.last_name) for r in relatives),
        stays_elsewhere=elsewhere is not None)


def _scope_agents(scope: Collection[int]) -> Any:
    return select(AgentRole.agent_id).where(col(AgentRole.organisation_id).in_(list(scope)))


def _followed_in(scope: Collection[int]) -> Any:
    return select(UsagerProfile.usager_id).where(col(UsagerProfile.organisation_id).in_(list(scope)))


@boundary
def merge_preview(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int,
                  other_usager_id: int) -> MergePreview:
    """The two columns of "Fusionner deux usagers": each record, its RDVs, referents and relatives, and a
    row per field."""
    pair = _pair(uow, actor_agent_id, organisation_id, usager_id, other_usager_id, lock=False)
    now = clock.now()
    return MergePreview(_side(uow, pair, pair.a, now), _side(uow, pair, pair.b, now), _rows(uow, pair))


# --------------------------------------------------------------------------- merging


def _chosen(pair: _Pair, rows: tuple[MergeRow, ...], choices: Mapping[str, int]) -> dict[str, Side]:
    """The side kept for each row that differs; French refusals for a missing or foreign choice."""
    unknown = set(choices) - {row.field for row in rows}
    if unknown:
        raise DomainError("Un des champs choisis ne peut pas être fusionné : rechargez la page.", "choices")
    chosen = {}
    missing = []
    for row in rows:
        if row.kind != RowKind.DIFFERENT:
            continue
        if row.forced is not None:
            if row.field in choices and choices[row.field] != row.forced:
                raise DomainError(f"« {row.label} » ne peut pas être modifié(e) car un des usagers utilise "
                                  "FranceConnect.", row.field)
            chosen[row.field] = Side(row.forced)
            continue
        value = choices.get(row.field)
        if value not in (Side.A, Side.B):
            missing.append(row)
            continue
        chosen[row.field] = Side(value)
    if missing:
        raise DomainError(missing_choices([row.label for row in missing]), missing[0].field)
    return chosen


@boundary
def merge_usagers(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int,
                  other_usager_id: int, choices: dict[str, int]) -> MergeOutcome:
    """Merges the two records (`usager_id` is column A, `other_usager_id` column B); `choices` gives, for
    each field that differs, the side whose value is kept (1: A, 2: B)."""
    pair = _pair(uow, actor_agent_id, organisation_id, usager_id, other_usager_id, lock=True)
    chosen = _chosen(pair, _rows(uow, pair), choices)
    kept = kept_side(a_is_relative=pair.a.responsible_id is not None, b_is_relative=pair.b.responsible_id is not None,
                     email_choice=chosen.get(DECIDING_FIELD, Side.A))
    target, merged = (pair.a, pair.b) if kept == Side.A else (pair.b, pair.a)
    return _Merge(uow, pair, actor_agent_id, target, merged).run(
        {name: side for name, side in chosen.items() if side != kept and name != DECIDING_FIELD})


class _Merge:
    """One merge's steps, in the order they run: what is deleted is first described to the webhooks
    (their payloads read the rows), then every row is written, then what changed is described."""

    def __init__(self, uow: UnitOfWork, pair: _Pair, actor_agent_id: int, target: Usager, merged: Usager) -> None:
        self.uow, self.session, self.pair, self.actor = uow, uow.session, pair, actor_agent_id
        self.target, self.merged = target, merged
        self.target_id, self.merged_id = require_id(target), require_id(merged)
        self.now = clock.now()
        profiles = self.session.exec(select(UsagerProfile).where(UsagerProfile.usager_id == self.merged_id)).all()
        self.profiles_in_scope = [p for p in profiles if p.organisation_id in pair.scope]
        # Nobody else follows the merged record: it goes, and nothing may stay attached to it.
        self.anonymise = len(self.profiles_in_scope) == len(profiles)

    def _event(self, model: WebhookSubscription, record_id: int, change: Change) -> None:
        self.uow.record(RecordChanged(model=model, record_id=record_id, change=change, occurred_at=self.now))

    def run(self, copied: Mapping[str, Side]) -> MergeOutcome:
        before = _values(self.target)
        referents_moved, referents_dropped = self._referents()
        for profile in self.profiles_in_scope:
            self._event(WebhookSubscription.USER_PROFILE, require_id(profile), Change.DELETED)
        for assignation in referents_dropped:
            self._event(WebhookSubscription.REFERENT_ASSIGNATION, require_id(assignation), Change.DELETED)
        if self.anonymise:
            self._event(WebhookSubscription.USER, self.merged_id, Change.DELETED)
        self.uow.publish()

        self._copy_fields(copied)
        moved, rdv_ids = self._participations()
        relatives = self._relatives()
        for assignation in referents_dropped:
            self.session.delete(assignation)
        for assignation in referents_moved:
            assignation.usager_id = self.target_id
            self.session.add(assignation)
        new_profiles = self._profiles()
        self.session.flush()
        self._untangle_responsible()
        if self.anonymise:
            self._anonymise()
        self.target.updated_at = self.now
        self.session.add(self.target)
        self.session.flush()

        self._record(before, moved, relatives, new_profiles, referents_moved, rdv_ids)
        self.uow.commit()
        return MergeOutcome(self.target_id, self.merged_id, moved, self.anonymise)

    # ------------------------------------------------------------------- steps

    def _copy_fields(self, copied: Mapping[str, Side]) -> None:
        for name in copied:
            for column in FIELDS_BY_NAME[name].written:
                setattr(self.target, column, getattr(self.merged, column))
        if _franceconnect(self.merged):
            for column in FRANCECONNECT_FIELDS:
                setattr(self.target, column, getattr(self.merged, column))
            sub = self.merged.franceconnect_sub
            self.merged.franceconnect_sub = None
            self.session.add(self.merged)
            self.session.flush()  # the FranceConnect link is unique: it leaves before it arrives
            self.target.franceconnect_sub = sub
            self.target.logged_once_with_franceconnect = True
        if self.target.responsible_id in (self.target_id, self.merged_id):
            self.target.responsible_id = None
        self.session.add(self.target)

    def _participations(self) -> tuple[int, set[int]]:
        """Moves the merged record's participations (of the scope, or all when it is anonymised);
        returns how many moved and the RDVs whose participants changed."""
        query = select(Participation).where(Participation.usager_id == self.merged_id)
        if not self.anonymise:
            query = query.where(col(Participation.rdv_id).in_(
                select(Rdv.id).where(col(Rdv.organisation_id).in_(list(self.pair.scope)))))
        moving = self.session.exec(query.order_by(col(Participation.id))).all()
        if not moving:
            return 0, set()
        rdv_ids = {p.rdv_id for p in moving}
        already = {p.rdv_id: p for p in self.session.exec(select(Participation).where(
            Participation.usager_id == self.target_id, col(Participation.rdv_id).in_(rdv_ids))).all()}
        for participation in moving:
            kept = already.get(participation.rdv_id)
            if kept is None:
                participation.usager_id = self.target_id
                self.session.add(participation)
                continue
            kept.status = most_informative(kept.status, participation.status)
            kept.send_lifecycle_notifications = (kept.send_lifecycle_notifications
                                                 or participation.send_lifecycle_notifications)
            kept.send_reminder_notification = kept.send_reminder_notification or participation.send_reminder_notification
            self.session.add(kept)
            self.session.delete(participation)
        self.session.flush()
        for rdv_id in sorted(set(already)):
            self._follow_participations(rdv_id)
        return len(moving), rdv_ids

    def _follow_participations(self, rdv_id: int) -> None:
        """An RDV that lost a participation: its count and status follow the ones left."""
        rdv, collectif = self.session.exec(select(Rdv, Motif.collectif).join(Motif, col(Motif.id) == Rdv.motif_id)
                                           .where(Rdv.id == rdv_id)).one()
        statuses = {p.id: RdvStatus(p.status) for p in self.session.exec(
            select(Participation).where(Participation.rdv_id == rdv_id)).all()}
        old = RdvStatus(rdv.status)
        new = rdv_status_from_participations(old, statuses, collectif=collectif, is_past=rdv.starts_at <= self.now)
        rdv.status = new.value
        rdv.cancelled_at = cancelled_at_after(old, rdv.cancelled_at, new, self.now)
        rdv.users_count = sum(1 for s in statuses.values() if s not in CANCELLED_STATUSES)
        rdv.updated_at = self.now
        self.session.add(rdv)

    def _relatives(self) -> list[int]:
        query = select(Usager).where(Usager.responsible_id == self.merged_id, Usager.id != self.target_id)
        if not self.anonymise:
            query = query.where(col(Usager.id).in_(_followed_in(self.pair.scope)))
        relatives = self.session.exec(query.order_by(col(Usager.id))).all()
        for relative in relatives:
            relative.responsible_id = self.target_id
            relative.updated_at = self.now
            self.session.add(relative)
            audit.record(self.session, action="responsible_changed", entity_type="usager",
                         entity_id=require_id(relative), changes={"responsible_id": [self.merged_id, self.target_id]},
                         organisation_id=self.pair.organisation_id, actor_agent_id=self.actor)
        return [require_id(r) for r in relatives]

    def _referents(self) -> tuple[list[ReferentAssignation], list[ReferentAssignation]]:
        """The merged record's assignations that move to the kept one, and those deleted (the kept record
        already has that agent; or, when the merged record goes, those of agents outside the scope)."""
        assignations = self.session.exec(select(ReferentAssignation).where(
            ReferentAssignation.usager_id == self.merged_id).order_by(col(ReferentAssignation.id))).all()
        in_scope = set(self.session.exec(_scope_agents(self.pair.scope)).all())
        present = set(self.session.exec(select(ReferentAssignation.agent_id).where(
            ReferentAssignation.usager_id == self.target_id)).all())
        moved, dropped = [], []
        for assignation in assignations:
            if assignation.agent_id in in_scope and assignation.agent_id not in present:
                moved.append(assignation)
            elif assignation.agent_id in in_scope or self.anonymise:
                dropped.append(assignation)
        return moved, dropped

    def _profiles(self) -> list[UsagerProfile]:
        """The kept record joins the organisations of the scope that followed the merged one; the merged
        record leaves them."""
        present = {p.organisation_id: p for p in self.session.exec(select(UsagerProfile).where(
            UsagerProfile.usager_id == self.target_id)).all()}
        created = []
        for profile in self.profiles_in_scope:
            mine = present.get(profile.organisation_id)
            if mine is None:
                mine = UsagerProfile(organisation_id=profile.organisation_id, usager_id=self.target_id,
                                     notes=profile.notes)
                created.append(mine)
            elif not mine.notes:
                mine.notes = profile.notes
            self.session.delete(profile)
            self.session.flush()
            self.session.add(mine)
        return created

    def _untangle_responsible(self) -> None:
        """No responsible cycle: if following the kept record's responsibles leads back to it, it gets none."""
        seen = {self.target_id}
        current = self.target.responsible_id
        while current is not None and len(seen) < _RESPONSIBLE_CHAIN_LIMIT:
            if current in seen:
                self.target.responsible_id = None
                self.session.add(self.target)
                self.session.flush()
                return
            seen.add(current)
            current = self.session.exec(select(Usager.responsible_id).where(Usager.id == current)).one()

    def _anonymise(self) -> None:
        forget_identity(self.session, self.merged, self.now)

    def _record(self, before: dict[str, Any], moved: int, relatives: list[int], new_profiles: list[UsagerProfile],
                referents_moved: list[ReferentAssignation], rdv_ids: set[int]) -> None:
        org, actor = self.pair.organisation_id, self.actor
        changes: dict[str, Any] = audit.diff(before, _values(self.target))
        changes.update(merged_usager_id=[None, self.merged_id], participations_moved=[None, moved])
        audit.record(self.session, action="merged", entity_type="usager", entity_id=self.target_id, changes=changes,
                     organisation_id=org, actor_agent_id=actor)
        audit.record(self.session, action="merged_into", entity_type="usager", entity_id=self.merged_id,
                     changes={"kept_usager_id": [None, self.target_id], "anonymised": [False, self.anonymise]},
                     organisation_id=org, actor_agent_id=actor)
        self._event(WebhookSubscription.USER, self.target_id, Change.UPDATED)
        if not self.anonymise:
            self._event(WebhookSubscription.USER, self.merged_id, Change.UPDATED)
        for relative_id in relatives:
            self._event(WebhookSubscription.USER, relative_id, Change.UPDATED)
        for profile in new_profiles:
            self._event(WebhookSubscription.USER_PROFILE, require_id(profile), Change.CREATED)
        for assignation in referents_moved:
            self._event(WebhookSubscription.REFERENT_ASSIGNATION, require_id(assignation), Change.UPDATED)
        for rdv_id in sorted(rdv_ids):
            self._event(WebhookSubscription.RDV, rdv_id, Change.UPDATED)


def _values(usager: Usager) -> dict[str, Any]:
    # The FranceConnect link itself is not history: whether the record has one is.
    return {column: getattr(usager, column) for field in FIELDS_BY_NAME.values() for column in field.written} | {
        "logged_once_with_franceconnect": usager.logged_once_with_franceconnect}

