"""The whole schema: plain SQLModel tables (see ../shared/product/domain.md, section 1).

Conventions: instants are `UTCDateTime` (aware UTC); times of day (`time`) and days (`date`) are local
wall-clock values in the organisation's IANA time zone; closed vocabularies are strings guarded by CHECK
constraints built from `rdv_app.domain.enums`; tokens and secrets are stored as SHA-256 hashes; free texts
are bounded by CHECK constraints on their length with the numbers of `rdv_app.domain.limits` (SQLite
ignores the length of a VARCHAR, it enforces a CHECK).
"""

from __future__ import annotations

import uuid as uuid_lib
from datetime import date, datetime, time
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from rdv_app.db import search_index
from rdv_app.db.rows import table_of
from rdv_app.db.types import UTCDateTime
from rdv_app.domain import clock, enums, limits, names, usager_search
from rdv_app.domain.enums import sql_in
from rdv_app.domain.recurrence import Recurrence

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _fk(target: str, *, nullable: bool = False, ondelete: Literal["CASCADE", "SET NULL", "RESTRICT"] = "CASCADE",
        index: bool = True) -> Any:
    return Field(default=None if nullable else ..., foreign_key=target, ondelete=ondelete, index=index,
                 nullable=nullable)


def _instant(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _created() -> Any:
    return Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


def _max_lengths(**columns: int) -> tuple[sa.CheckConstraint, ...]:
    """`length(column) <= maximum` for each free-text column, named ck_<table>_<column>_length."""
    return tuple(sa.CheckConstraint(f"length({column}) <= {maximum}", name=f"{column}_length")
                 for column, maximum in columns.items())


def _json(default_factory: Any = None, *, nullable: bool = True) -> Any:
    if default_factory is None:
        # none_as_null: Python None is SQL NULL, not the JSON value 'null' (CHECKs and IS NULL rely on it).
        return Field(default=None, sa_type=sa.JSON(none_as_null=True), nullable=nullable)
    return Field(default_factory=default_factory, sa_type=sa.JSON, nullable=nullable)


# --------------------------------------------------------------------------- territories, organisations


class Territory(SQLModel, table=True):
    __tablename__ = "territory"
    __table_args__ = _max_lengths(name=limits.LABEL, phone_number=limits.PHONE)
    id: int | None = Field(default=None, primary_key=True)
    departement_number: str = Field(max_length=3, unique=True)
    name: str
    timezone: str = "Europe/Paris"
    phone_number: str | None = None
    sms_provider: str = "ovh"
    sms_sender: str | None = None
    sms_configuration: str | None = None
    has_own_sms_provider: bool = False
    visible_users_throughout_the_territory: bool = False
    enable_context_field: bool = False
    enable_notes_field: bool = False
    # The optional fields of usagers' records (admin-domain.md 1.2): hiding one never deletes its data.
    enable_logement_field: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    enable_caisse_affiliation_field: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    enable_affiliation_number_field: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    enable_family_situation_field: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    enable_number_of_children_field: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    enable_case_number: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    enable_address_details: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = _created()


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (
        sa.UniqueConstraint("territory_id", "name", name="uq_organisation_territory_name"),
        sa.UniqueConstraint("territory_id", "external_id", name="uq_organisation_territory_external_id"),
        *_max_lengths(name=limits.LABEL, phone_number=limits.PHONE, email=limits.EMAIL, website=limits.URL,
                      horaires=limits.NOTE),
    )
    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = _fk("territory.id", ondelete="RESTRICT")
    name: str
    slug: str
    phone_number: str | None = None
    email: str | None = None
    website: str | None = None
    horaires: str | None = None
    external_id: str | None = None
    # IANA time zone; left empty, it is the territory's (filled in before insert).
    timezone: str | None = Field(default=None, nullable=False)
    verticale: str = "rdv_solidarites"
    created_at: datetime = _created()
    updated_at: datetime = _created()

    @property
    def time_zone(self) -> str:
        """The IANA time zone of a saved organisation (the column is NOT NULL)."""
        assert self.timezone is not None, "an organisation gets its time zone when it is saved"
        return self.timezone


class Service(SQLModel, table=True):
    __tablename__ = "service"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    short_name: str = Field(unique=True)
    is_secretariat: bool = False
    is_social: bool = False


class TerritoryService(SQLModel, table=True):
    __tablename__ = "territory_service"
    territory_id: int = Field(foreign_key="territory.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="CASCADE")


# --------------------------------------------------------------------------- agents and rights


class Agent(SQLModel, table=True):
    __tablename__ = "agent"
    __table_args__ = (
        sa.CheckConstraint(sql_in("rdv_notifications_level", enums.RdvNotificationLevel), name="rdv_level"),
        sa.CheckConstraint(sql_in("plage_ouverture_notification_level", enums.NoticeLevel), name="po_level"),
        sa.CheckConstraint(sql_in("absence_notification_level", enums.NoticeLevel), name="absence_level"),
        *_max_lengths(email=limits.EMAIL, first_name=limits.NAME, last_name=limits.NAME, agenda_colour=7),
    )
    id: int | None = Field(default=None, primary_key=True)
    email: str | None = Field(default=None, unique=True)
    first_name: str | None = None
    last_name: str
    password_hash: str | None = None
    password_changed_at: datetime | None = _instant()
    rdv_notifications_level: str = enums.RdvNotificationLevel.OTHERS.value
    plage_ouverture_notification_level: str = enums.NoticeLevel.ALL.value
    absence_notification_level: str = enums.NoticeLevel.ALL.value
    display_saturdays: bool = False
    display_cancelled_rdv: bool = True
    # The colour of the agent's events in a team agenda, chosen in "Mon compte" (rdv_app.domain.colours);
    # None: one of the palette, by id.
    agenda_colour: str | None = None
    # The webcal feed's secret (rdv_app.services.agents.webcal), never in clear: its SHA-256 finds the
    # agent, and the secret sealed with RDV_SECRET_KEY shows the agent their address again.
    calendar_uid_hash: str | None = Field(default=None, unique=True)
    calendar_uid_sealed: str | None = None
    last_sign_in_at: datetime | None = _instant()
    # RGPD: when the agent was told their inactive account would be deleted (rdv_app.services.retention).
    inactivity_warned_at: datetime | None = _instant()
    # The instance's operators: the account made by `python -m rdv_app.cli bootstrap` and those it invites.
    super_admin: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The agent's id in another system: "conseiller-numerique-<ID conseiller>" for a Conseiller Numérique
    # (rdv_app.services.integrations.conseillers_numeriques), which finds them again when their email changed.
    external_id: str | None = Field(default=None, unique=True)
    # Second factor (rdv_app.services.agents.agent_mfa): the TOTP secret sealed with the app key
    # (rdv_app.auth.sealed), and the last time step accepted, so that a code works once.
    totp_secret_sealed: str | None = None
    totp_enabled_at: datetime | None = _instant()
    totp_last_counter: int | None = Field(default=None, sa_type=sa.BigInteger)
    # Escalating lockout (rdv_app.domain.sign_in): wrong passwords or codes in a row, lockouts since the
    # last sign-in, and the end of the current one.
    failed_sign_ins: int = 0
    lockouts: int = 0
    locked_until: datetime | None = _instant()
    deleted_at: datetime | None = _instant()
    created_at: datetime = _created()
    updated_at: datetime = _created()

    @property
    def full_name(self) -> str:
        return names.agent_name(self.first_name, self.last_name)

    @property
    def sort_key(self) -> tuple[str, str]:
        return names.sort_key(self.first_name, self.last_name)


class AgentService(SQLModel, table=True):
    __tablename__ = "agent_service"
    agent_id: int = Field(foreign_key="agent.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="RESTRICT", index=True)


class AgentRole(SQLModel, table=True):
    __tablename__ = "agent_role"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "organisation_id", name="uq_agent_role_agent_organisation"),
        sa.CheckConstraint(sql_in("access_level", enums.AccessLevel), name="access_level"),
    )
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id")
    organisation_id: int = _fk("organisation.id")
    access_level: str = enums.AccessLevel.BASIC.value
    created_at: datetime = _created()


class AgentTerritorialRole(SQLModel, table=True):
    """Territorial admin of a territory."""

    __tablename__ = "agent_territorial_role"
    __table_args__ = (sa.UniqueConstraint("agent_id", "territory_id", name="uq_agent_territorial_role"),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id")
    territory_id: int = _fk("territory.id")


class AgentRecoveryCode(SQLModel, table=True):
    """Single-use recovery codes of an agent's second factor, shown once and kept as SHA-256."""

    __tablename__ = "agent_recovery_code"
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id")
    code_hash: str
    used_at: datetime | None = _instant()
    created_at: datetime = _created()


class SecurityEvent(SQLModel, table=True):
    """The security event log (rdv_app.services.security_log): an agent's account, or a usager's link
    in an organisation; no personal data beyond the agent and the address it came from."""

    __tablename__ = "security_event"
    __table_args__ = (sa.CheckConstraint(sql_in("kind", enums.SecurityEventKind), name="kind"), *_max_lengths(ip=64))
    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False, index=True)
    kind: str
    agent_id: int | None = _fk("agent.id", nullable=True)
    organisation_id: int | None = _fk("organisation.id", nullable=True)
    ip: str | None = None


class AgentTerritorialAccessRight(SQLModel, table=True):
    __tablename__ = "agent_territorial_access_right"
    __table_args__ = (sa.UniqueConstraint("agent_id", "territory_id", name="uq_agent_territorial_access_right"),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id")
    territory_id: int = _fk("territory.id")
    allow_to_manage_teams: bool = False
    allow_to_manage_access_rights: bool = False
    allow_to_invite_agents: bool = False


class Team(SQLModel, table=True):
    __tablename__ = "team"
    __table_args__ = (sa.UniqueConstraint("territory_id", "name", name="uq_team_territory_name"),
                      *_max_lengths(name=limits.LABEL))
    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = _fk("territory.id")
    name: str


class AgentTeam(SQLModel, table=True):
    __tablename__ = "agent_team"
    agent_id: int = Field(foreign_key="agent.id", primary_key=True, ondelete="CASCADE")
    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE", index=True)


# --------------------------------------------------------------------------- lieux and motifs


class Lieu(SQLModel, table=True):
    __tablename__ = "lieu"
    __table_args__ = (
        sa.CheckConstraint(sql_in("availability", enums.LieuAvailability), name="availability"),
        sa.CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        sa.CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        *_max_lengths(name=limits.LABEL, address=limits.ADDRESS, phone_number=limits.PHONE),
    )
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = _fk("organisation.id")
    name: str
    address: str
    phone_number: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    availability: str = enums.LieuAvailability.ENABLED.value
    created_at: datetime = _created()


class MotifCategory(SQLModel, table=True):
    __tablename__ = "motif_category"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    short_name: str = Field(unique=True)


class Motif(SQLModel, table=True):
    __tablename__ = "motif"
    __table_args__ = (
        sa.CheckConstraint(sql_in("location_type", enums.LocationType), name="location_type"),
        sa.CheckConstraint(sql_in("bookable_by", enums.BookableBy), name="bookable_by"),
        sa.CheckConstraint(sql_in("visibility_type", enums.VisibilityType), name="visibility_type"),
        sa.CheckConstraint(sql_in("sectorisation_level", enums.SectorisationLevel), name="sectorisation"),
        sa.CheckConstraint("default_duration_in_min > 0", name="duration"),
        sa.CheckConstraint("NOT collectif OR location_type = 'public_office'", name="collectif_on_site"),
        sa.CheckConstraint("NOT (for_secretariat AND follow_up)", name="secretariat_xor_follow_up"),
        sa.CheckConstraint(
            "(min_public_booking_delay = 0 AND max_public_booking_delay = 0) OR "
            "(min_public_booking_delay >= 0 AND max_public_booking_delay > min_public_booking_delay)",
            name="delays",
        ),
        sa.Index(
            "uq_motif_active_name",
            "organisation_id", "location_type", "service_id", "name",
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        ),
        *_max_lengths(name=limits.LABEL, color=limits.CODE, restriction_for_rdv=limits.INSTRUCTIONS,
                      instruction_for_rdv=limits.INSTRUCTIONS, custom_cancel_warning_message=limits.INSTRUCTIONS),
    )
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = _fk("organisation.id")
    service_id: int = _fk("service.id", ondelete="RESTRICT")
    motif_category_id: int | None = _fk("motif_category.id", nullable=True, ondelete="SET NULL")
    name: str
    color: str = "#1f6feb"
    default_duration_in_min: int = 30
    location_type: str = enums.LocationType.PUBLIC_OFFICE.value
    collectif: bool = False
    bookable_by: str = enums.BookableBy.AGENTS.value
    min_public_booking_delay: int = 1800
    max_public_booking_delay: int = 7_889_238
    visibility_type: str = enums.VisibilityType.VISIBLE_AND_NOTIFIED.value
    sectorisation_level: str = enums.SectorisationLevel.DEPARTEMENT.value
    for_secretariat: bool = False
    follow_up: bool = False
    rdvs_editable_by_user: bool = True
    rdvs_cancellable_by_user: bool = True
    restriction_for_rdv: str | None = None
    instruction_for_rdv: str | None = None
    custom_cancel_warning_message: str | None = None
    deleted_at: datetime | None = _instant()
    created_at: datetime = _created()
    updated_at: datetime = _created()


# --------------------------------------------------------------------------- sectorisation


class Sector(SQLModel, table=True):
    """A geographic sector of a territory (domain.md section 10): zones of communes or streets."""

    __tablename__ = "sector"
    __table_args__ = (sa.UniqueConstraint("territory_id", "human_id", name="uq_sector_territory_human_id"),
                      *_max_lengths(name=limits.LABEL, human_id=limits.CODE))
    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = _fk("territory.id")
    name: str
    human_id: str
    created_at: datetime = _created()


class SectorZone(SQLModel, table=True):
    """A commune (INSEE code) or one street of it (its Base Adresse Nationale id, "<city_code>_<4 chars>");
    `street_ban_id` is empty for a commune, so that one unique constraint covers both levels."""

    __tablename__ = "sector_zone"
    __table_args__ = (
        sa.CheckConstraint(sql_in("level", enums.ZoneLevel), name="level"),
        sa.CheckConstraint("(level = 'city') = (street_ban_id = '')", name="street_of_level"),
        sa.UniqueConstraint("sector_id", "level", "city_code", "street_ban_id", name="uq_sector_zone_place"),
        sa.Index("ix_sector_zone_city_street", "city_code", "street_ban_id"),
        *_max_lengths(city_name=limits.LABEL, city_code=limits.CODE, street_name=limits.LABEL,
                      street_ban_id=limits.CODE),
    )
    id: int | None = Field(default=None, primary_key=True)
    sector_id: int = _fk("sector.id")
    level: str
    city_code: str
    city_name: str
    street_ban_id: str = ""
    street_name: str = ""


class SectorAttribution(SQLModel, table=True):
    """A sector attributed to an organisation, or to one of its agents (level agent)."""

    __tablename__ = "sector_attribution"
    __table_args__ = (
        sa.CheckConstraint(sql_in("level", enums.AttributionLevel), name="level"),
        sa.CheckConstraint("(level = 'agent') = (agent_id IS NOT NULL)", name="agent_of_level"),
    )
    id: int | None = Field(default=None, primary_key=True)
    sector_id: int = _fk("sector.id")
    organisation_id: int = _fk("organisation.id")
    agent_id: int | None = _fk("agent.id", nullable=True)
    level: str


# --------------------------------------------------------------------------- availability


class PlageOuverture(SQLModel, table=True):
    """An agent's availability window for some motifs; `recurrence` as in rdv_app.domain.recurrence."""

    __tablename__ = "plage_ouverture"
    __table_args__ = (
        sa.CheckConstraint("end_time > start_time", name="times"),
        sa.CheckConstraint("recurrence_until IS NULL OR recurrence_until >= first_day", name="until"),
        sa.Index("ix_plage_ouverture_agent_range", "agent_id", "first_day", "recurrence_until"),
        sa.Index("ix_plage_ouverture_organisation_range", "organisation_id", "first_day", "recurrence_until"),
        *_max_lengths(title=limits.LABEL),
    )
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id", index=False)
    organisation_id: int = _fk("organisation.id", index=False)
    lieu_id: int | None = _fk("lieu.id", nullable=True, ondelete="RESTRICT")
    title: str
    first_day: date
    start_time: time
    end_time: time
    recurrence: dict[str, Any] | None = _json()
    recurrence_until: date | None = None
    created_at: datetime = _created()
    updated_at: datetime = _created()


class PlageOuvertureMotif(SQLModel, table=True):
    __tablename__ = "plage_ouverture_motif"
    plage_ouverture_id: int = Field(foreign_key="plage_ouverture.id", primary_key=True, ondelete="CASCADE")
    motif_id: int = Field(foreign_key="motif.id", primary_key=True, ondelete="CASCADE", index=True)


class Absence(SQLModel, table=True):
    """An indisponibilité: it belongs to the agent, not to an organisation, and blocks them everywhere."""

    __tablename__ = "absence"
    __table_args__ = (
        sa.CheckConstraint(
            "end_day > first_day OR (end_day = first_day AND end_time > start_time)", name="interval"
        ),
        sa.CheckConstraint("recurrence IS NULL OR end_day = first_day", name="recurring_single_day"),
        sa.CheckConstraint("recurrence_until IS NULL OR recurrence_until >= first_day", name="until"),
        sa.Index("ix_absence_agent_range", "agent_id", "first_day", "end_day", "recurrence_until"),
        *_max_lengths(title=limits.LABEL),
    )
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id", index=False)
    title: str
    first_day: date
    start_time: time
    end_day: date
    end_time: time
    recurrence: dict[str, Any] | None = _json()
    recurrence_until: date | None = None
    created_at: datetime = _created()
    updated_at: datetime = _created()


# --------------------------------------------------------------------------- usagers


class Usager(SQLModel, table=True):
    __tablename__ = "usager"
    __table_args__ = (
        sa.CheckConstraint("responsible_id IS NULL OR responsible_id <> id", name="not_own_responsible"),
        sa.CheckConstraint(sql_in("created_through", enums.CreatedThrough), name="created_through"),
        sa.CheckConstraint(sql_in("caisse_affiliation", enums.CaisseAffiliation), name="caisse_affiliation"),
        sa.CheckConstraint(sql_in("family_situation", enums.FamilySituation), name="family_situation"),
        sa.CheckConstraint(sql_in("logement", enums.Logement), name="logement"),
        sa.CheckConstraint("number_of_children >= 0", name="number_of_children"),
        sa.Index("ix_usager_names", "last_name", "first_name"),
        # The usager search (rdv_app.domain.usager_search) on PostgreSQL: a GIN index of the folded words
        # (`to_tsvector('simple', search_terms)`, rdv_app.db.search_index) and email prefixes; SQLite has the
        # FTS5 table `usager_search` instead (migration 0011).
        sa.Index("ix_usager_search_terms", search_index.POSTGRESQL_WORDS, postgresql_using="gin")
        .ddl_if(dialect="postgresql"),
        sa.Index("ix_usager_email_prefix", "email", postgresql_ops={"email": "varchar_pattern_ops"})
        .ddl_if(dialect="postgresql"),
        *_max_lengths(first_name=limits.NAME, last_name=limits.NAME, birth_name=limits.NAME, email=limits.EMAIL,
                      phone_number=limits.PHONE, phone_number_formatted=limits.PHONE, address=limits.ADDRESS,
                      address_details=limits.ADDRESS, post_code=limits.CODE, city_name=limits.LABEL,
                      city_code=limits.CODE, case_number=limits.CODE, notes=limits.NOTE,
                      affiliation_number=limits.CODE),
    )
    id: int | None = Field(default=None, primary_key=True)
    first_name: str
    last_name: str
    birth_name: str | None = None
    birth_date: date | None = None
    email: str | None = Field(default=None, unique=True)
    email_verified_at: datetime | None = _instant()
    phone_number: str | None = None
    phone_number_formatted: str | None = None
    address: str | None = None
    address_details: str | None = None
    post_code: str | None = None
    city_name: str | None = None
    city_code: str | None = None
    responsible_id: int | None = _fk("usager.id", nullable=True, ondelete="SET NULL")
    notify_by_sms: bool = True
    notify_by_email: bool = True
    franceconnect_sub: str | None = Field(default=None, unique=True)
    logged_once_with_franceconnect: bool = False
    created_through: str = enums.CreatedThrough.AGENT_CREATION.value
    case_number: str | None = None
    notes: str | None = None
    # Social information, each behind its territory toggle (NULL when never given).
    caisse_affiliation: str | None = None
    affiliation_number: str | None = None
    family_situation: str | None = None
    number_of_children: int | None = None
    logement: str | None = None
    # Upper-cased (rdv_app.domain.ants); declared to ANTS with the RDVs of its motifs' categories.
    ants_pre_demande_number: str | None = Field(default=None, max_length=10)
    deleted_at: datetime | None = _instant()
    created_at: datetime = _created()
    updated_at: datetime = _created()
    # Derived on every write (`_usager_search_terms` below): never set it by hand. No default on the
    # Python side, so that a Core insert which does not name it leaves it to the database.
    search_terms: str = Field(default="", sa_column=sa.Column(sa.String(), nullable=False, server_default=""))
    # The organisations of the usager's profiles, " 3  12 " (each id between spaces), kept by the database's
    # triggers on `usager_profile` (rdv_app.db.search_index): read by the searches, which check it within
    # the row rather than looking up a profile per usager found. Never set it in Python.
    profile_organisations: str = Field(default="", sa_column=sa.Column(sa.String(), nullable=False,
                                                                        server_default=""))


class UsagerProfile(SQLModel, table=True):
    """Membership of an usager in an organisation: the basis of usager visibility."""

    __tablename__ = "usager_profile"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "usager_id", name="uq_usager_profile"),
                      *_max_lengths(notes=limits.NOTE))
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = _fk("organisation.id", index=False)
    usager_id: int = _fk("usager.id")
    notes: str | None = None
    created_at: datetime = _created()


class ReferentAssignation(SQLModel, table=True):
    __tablename__ = "referent_assignation"
    __table_args__ = (sa.UniqueConstraint("usager_id", "agent_id", name="uq_referent_assignation"),)
    id: int | None = Field(default=None, primary_key=True)
    usager_id: int = _fk("usager.id", index=False)
    agent_id: int = _fk("agent.id")


class Prescripteur(SQLModel, table=True):
    __tablename__ = "prescripteur"
    __table_args__ = _max_lengths(first_name=limits.NAME, last_name=limits.NAME, email=limits.EMAIL,
                                  phone_number=limits.PHONE)
    id: int | None = Field(default=None, primary_key=True)
    first_name: str
    last_name: str
    email: str
    phone_number: str | None = None
    created_at: datetime = _created()


# --------------------------------------------------------------------------- rendez-vous


class Rdv(SQLModel, table=True):
    __tablename__ = "rdv"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="interval"),
        sa.CheckConstraint(sql_in("status", enums.RdvStatus), name="status"),
        sa.CheckConstraint(sql_in("created_by_type", enums.AuthorType), name="created_by_type"),
        sa.CheckConstraint("max_participants_count IS NULL OR max_participants_count > 0", name="capacity"),
        sa.CheckConstraint(
            "(status IN ('excused', 'revoked', 'noshow')) = (cancelled_at IS NOT NULL)", name="cancelled_at"
        ),
        sa.Index("ix_rdv_organisation_starts_at", "organisation_id", "starts_at"),
        # Agendas look for RDVs ending after the shown range starts: mostly today's and later ones.
        sa.Index("ix_rdv_organisation_ends_at", "organisation_id", "ends_at"),
        sa.Index("ix_rdv_starts_at_ends_at", "starts_at", "ends_at"),
        # Statistics (covering): "RDV créés" by week of creation, origin and motif (and the id a basic agent's
        # visibility rule reads); counters by status.
        sa.Index("ix_rdv_organisation_created_at", "organisation_id", "created_at", "created_by_type", "motif_id",
                 "id"),
        sa.Index("ix_rdv_organisation_starts_at_status", "organisation_id", "starts_at", "status", "motif_id"),
        # "Liste des RDV" and its exports count and page an organisation's RDVs by start, filtered by period,
        # motif (a basic agent's services), status and lieu: all of it in the index.
        sa.Index("ix_rdv_list", "organisation_id", "starts_at", "id", "ends_at", "motif_id", "status", "lieu_id"),
        *_max_lengths(context=limits.NOTE, name=limits.LABEL),
    )
    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=lambda: str(uuid_lib.uuid4()), unique=True)
    organisation_id: int = _fk("organisation.id", index=False, ondelete="RESTRICT")
    motif_id: int = _fk("motif.id", ondelete="RESTRICT")
    lieu_id: int | None = _fk("lieu.id", nullable=True, ondelete="RESTRICT")
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: str = enums.RdvStatus.UNKNOWN.value
    cancelled_at: datetime | None = _instant()
    context: str | None = None
    name: str | None = None
    max_participants_count: int | None = None
    users_count: int = 0
    created_by_type: str = enums.AuthorType.AGENT.value
    created_by_agent_id: int | None = _fk("agent.id", nullable=True, ondelete="SET NULL", index=False)
    created_by_usager_id: int | None = _fk("usager.id", nullable=True, ondelete="SET NULL", index=False)
    created_by_prescripteur_id: int | None = _fk("prescripteur.id", nullable=True, ondelete="SET NULL",
                                                 index=False)
    ics_sequence: int = 0
    # Online booking: SHA-256 of (usager, client-generated key), so a resubmitted confirmation finds its RDV.
    booking_key_hash: str | None = Field(default=None, unique=True, index=True)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class RdvAgent(SQLModel, table=True):
    """An agent of an RDV. `slot_starts_at` and `slot_ends_at` hold the slot an usager booked online while
    it stands (cleared when the RDV is cancelled or an agent moves it): on PostgreSQL an exclusion
    constraint refuses two such slots of one agent that overlap, the last line of defence behind the
    booking lock (domain.md decision 3). Agents' own RDVs never claim a slot, so an agent may still
    overbook deliberately ("Confirmer quand même")."""

    __tablename__ = "rdv_agent"
    __table_args__ = (
        postgresql.ExcludeConstraint(
            ("agent_id", "="), (sa.text("tstzrange(slot_starts_at, slot_ends_at)"), "&&"),
            name="rdv_agent_online_slots_do_not_overlap", using="gist",
            where=sa.text("slot_starts_at IS NOT NULL")).ddl_if(dialect="postgresql"),
        # An agent's RDVs (a basic agent's visibility rule, the RDV list's agent filter) from the index alone.
        sa.Index("ix_rdv_agent_agent_id_rdv_id", "agent_id", "rdv_id"),
    )
    rdv_id: int = Field(foreign_key="rdv.id", primary_key=True, ondelete="CASCADE")
    agent_id: int = Field(foreign_key="agent.id", primary_key=True, ondelete="RESTRICT")
    slot_starts_at: datetime | None = _instant()
    slot_ends_at: datetime | None = _instant()


class Participation(SQLModel, table=True):
    __tablename__ = "participation"
    __table_args__ = (
        sa.UniqueConstraint("rdv_id", "usager_id", name="uq_participation_rdv_usager"),
        # An usager's RDVs (the RDV list's usager filter, their page) from the index alone.
        sa.Index("ix_participation_usager_id_rdv_id", "usager_id", "rdv_id"),
        sa.CheckConstraint(sql_in("status", enums.RdvStatus), name="status"),
        sa.CheckConstraint(sql_in("created_by_type", enums.AuthorType), name="created_by_type"),
    )
    id: int | None = Field(default=None, primary_key=True)
    rdv_id: int = _fk("rdv.id", index=False)
    usager_id: int = _fk("usager.id", ondelete="RESTRICT", index=False)
    status: str = enums.RdvStatus.UNKNOWN.value
    send_lifecycle_notifications: bool = True
    send_reminder_notification: bool = True
    access_token_hash: str | None = Field(default=None, unique=True)
    access_token_expires_at: datetime | None = _instant()
    # The link's 3-letter check (issue 7): wrong answers in a row, and the lockout they lead to.
    link_failed_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    link_last_failed_at: datetime | None = _instant()
    link_locked_until: datetime | None = _instant()
    created_by_type: str = enums.AuthorType.AGENT.value
    created_by_agent_id: int | None = _fk("agent.id", nullable=True, ondelete="SET NULL", index=False)
    created_by_agent_prescripteur: bool = False
    prescripteur_id: int | None = _fk("prescripteur.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = _created()


# --------------------------------------------------------------------------- notifications and integrations


class OutboxWorker(SQLModel, table=True):
    """A running outbox worker, known by its heartbeat (rdv_app.notify.worker): the claims of a worker whose
    heartbeat has stopped are handed back at once."""

    __tablename__ = "outbox_worker"
    id: int | None = Field(default=None, primary_key=True)
    name: str  # host and process id, for operators
    started_at: datetime = _created()
    heartbeat_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class OutboxMessage(SQLModel, table=True):
    """A message to deliver (SMS, email, webhook), written in the transaction that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.CheckConstraint(sql_in("channel", enums.Channel), name="channel"),
        sa.CheckConstraint(sql_in("status", enums.OutboxStatus), name="status"),
        sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    channel: str
    event: str
    payload: dict[str, Any] = _json(dict, nullable=False)
    status: str = enums.OutboxStatus.PENDING.value
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    locked_until: datetime | None = _instant()
    claimed_by: int | None = _fk("outbox_worker.id", nullable=True, ondelete="SET NULL")
    # The last attempt that reached its provider call with no known outcome yet: its id (the OVH `tag`),
    # its number and when the call started. Cleared once an outcome is known.
    in_flight_tag: str | None = None
    in_flight_attempt: int | None = None
    in_flight_at: datetime | None = _instant()
    last_error: str | None = None
    organisation_id: int | None = _fk("organisation.id", nullable=True, ondelete="SET NULL", index=False)
    rdv_id: int | None = _fk("rdv.id", nullable=True, ondelete="SET NULL")
    usager_id: int | None = _fk("usager.id", nullable=True, ondelete="SET NULL", index=False)
    agent_id: int | None = _fk("agent.id", nullable=True, ondelete="SET NULL", index=False)
    webhook_endpoint_id: int | None = _fk("webhook_endpoint.id", nullable=True, ondelete="CASCADE")
    rdv_version: int | None = None  # the RDV's ics_sequence the message was written for
    created_at: datetime = _created()
    sent_at: datetime | None = _instant()


class OutlookConnection(SQLModel, table=True):
    """An agent's Microsoft 365 calendar connection (rdv_app.services.agents.outlook): the tokens sealed with
    RDV_SECRET_KEY (rdv_app.auth.sealed), when the refresh token was last issued (its 90 days of validity
    start again then), and a disconnection under way with its progress."""

    __tablename__ = "outlook_connection"
    agent_id: int = Field(foreign_key="agent.id", primary_key=True, ondelete="CASCADE")
    access_token_sealed: str | None = None
    refresh_token_sealed: str | None = None
    access_expires_at: datetime | None = _instant()
    connected_at: datetime = _created()
    refresh_issued_at: datetime | None = _instant()
    # Microsoft refused the refresh token: the agent must connect again; told once by email.
    broken_at: datetime | None = _instant()
    broken_notified_at: datetime | None = _instant()
    disconnect_started_at: datetime | None = _instant()
    disconnect_total: int = 0
    disconnect_done: int = 0


class OutlookEvent(SQLModel, table=True):
    """The Outlook event of one agent for one RDV (rdv_app.notify.outlook). Keyed by the RDV's uuid, which
    outlives the RDV's row: its deletion must still remove the event. `generation` numbers the events made
    for the pair (the Graph `transactionId` holds it); `creating` is the transactionId of a create whose
    answer was not recorded yet (a crash: the event may exist); the lease serialises the deliveries, and
ends early when its worker is found dead."""

    __tablename__ = "outlook_event"
    __table_args__ = (sa.UniqueConstraint("agent_id", "rdv_uuid", name="uq_outlook_event_agent_rdv"),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id", index=False)
    rdv_uuid: str
    rdv_id: int | None = Field(default=None, index=True)  # to find the rows of an RDV; no key: it may go
    outlook_id: str | None = None
    generation: int = 0
    creating: str | None = None
    locked_until: datetime | None = _instant()
    lock_token: str | None = None
    lock_worker_id: int | None = None  # the outbox worker holding the lease (no key: its row goes when it dies)
    updated_at: datetime = _created()


class Receipt(SQLModel, table=True):
    """The audit of every notification attempt's outcome, shown to agents on the RDV page."""

    __tablename__ = "receipt"
    __table_args__ = (
        sa.CheckConstraint(sql_in("channel", enums.Channel), name="channel"),
        sa.CheckConstraint(sql_in("result", enums.ReceiptResult), name="result"),
        sa.Index("ix_receipt_sms_phone_number_created_at", "sms_phone_number", "created_at"),
        sa.Index("ix_receipt_organisation_created_at", "organisation_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    outbox_message_id: int | None = _fk("outbox_message.id", nullable=True, ondelete="SET NULL")
    rdv_id: int | None = _fk("rdv.id", nullable=True, ondelete="SET NULL")
    usager_id: int | None = _fk("usager.id", nullable=True, ondelete="SET NULL", index=False)
    organisation_id: int | None = _fk("organisation.id", nullable=True, ondelete="SET NULL", index=False)
    event: str
    channel: str
    result: str
    error_message: str | None = None
    sms_provider: str | None = None
    sms_count: int | None = None
    provider_message_id: str | None = None
    content: str | None = None
    sms_phone_number: str | None = None
    email_address: str | None = None
    created_at: datetime = _created()


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "target_url", name="uq_webhook_endpoint_url"),
                      *_max_lengths(target_url=limits.URL))
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = _fk("organisation.id", index=False)
    target_url: str
    secret: str
    subscriptions: list[str] = _json(lambda: ["rdv", "absence", "plage_ouverture"], nullable=False)
    enabled: bool = True
    failing_since: datetime | None = _instant()
    disabled_at: datetime | None = _instant()
    created_at: datetime = _created()


class WebhookDelivery(SQLModel, table=True):
    """One delivery attempt of a webhook, for the endpoint's delivery log."""

    __tablename__ = "webhook_delivery"
    id: int | None = Field(default=None, primary_key=True)
    webhook_endpoint_id: int = _fk("webhook_endpoint.id")
    outbox_message_id: int | None = _fk("outbox_message.id", nullable=True, ondelete="SET NULL")
    attempt: int
    status_code: int | None = None
    latency_ms: int | None = None
    response_excerpt: str | None = None
    error: str | None = None
    created_at: datetime = _created()


class Export(SQLModel, table=True):
    """An export of the RDV list, built by the worker (rdv_app.services.rdv.rdv_export): `content` is set
    once, with `available`, when the whole file is written; a worker holds a running export while
    `claimed_by` is its claim and `locked_until` has not passed."""

    __tablename__ = "export"
    __table_args__ = (
        sa.CheckConstraint(sql_in("export_type", enums.ExportType), name="export_type"),
        sa.CheckConstraint(sql_in("status", enums.ExportStatus), name="status"),
        sa.CheckConstraint(sql_in("export_format", enums.ExportFormat), name="export_format"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        sa.Index("ix_export_agent_created_at", "agent_id", "created_at"),
        sa.Index("ix_export_status_locked_until", "status", "locked_until"),
    )
    id: str = Field(default_factory=lambda: str(uuid_lib.uuid4()), primary_key=True)
    export_type: str
    agent_id: int = _fk("agent.id")
    organisation_ids: list[int] = _json(list, nullable=False)
    options: dict[str, Any] = _json(dict, nullable=False)
    status: str = enums.ExportStatus.PENDING.value
    progress: int = 0
    export_format: str = Field(default=enums.ExportFormat.XLSX.value, sa_column_kwargs={"server_default": "xlsx"})
    total: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # rows of the file, once known
    claimed_by: str | None = None
    locked_until: datetime | None = _instant()
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    error: str | None = None  # why it failed, in French, for its creator
    file_name: str | None = None
    content: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    computed_at: datetime | None = _instant()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_at: datetime = _created()


class DailyJobRun(SQLModel, table=True):
    """A daily maintenance job done for a day (rdv_app.notify.daily_jobs): the unique (job, day) lets
    one worker only, among several, run it that day."""

    __tablename__ = "daily_job_run"
    __table_args__ = (sa.UniqueConstraint("job", "day", name="uq_daily_job_run_job_day"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str
    day: date
    ran_at: datetime = _created()


# --------------------------------------------------------------------------- sessions and tokens


class AgentSession(SQLModel, table=True):
    """A signed-in browser of an agent; the cookie holds the token, the table its SHA-256."""

    __tablename__ = "agent_session"
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id")
    token_hash: str = Field(unique=True)
    created_at: datetime = _created()
    last_seen_at: datetime = _created()
    revoked_at: datetime | None = _instant()
    ip: str | None = None
    user_agent: str | None = None


class AgentLoginTicket(SQLModel, table=True):
    """Single-use, short-lived ticket that turns a checked password into an HttpOnly session cookie."""

    __tablename__ = "agent_login_ticket"
    __table_args__ = (sa.CheckConstraint(sql_in("pending_step", enums.SignInStep), name="pending_step"),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id")
    token_hash: str = Field(unique=True)
    next_path: str = "/"
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _instant()
    # A step the sign-in still needs (rdv_app.domain.enums.SignInStep): such a ticket opens no session.
    pending_step: str | None = None


class AgentInvitation(SQLModel, table=True):
    """A one-time link by which an invited agent sets their name and password: random, hashed, expiring."""

    __tablename__ = "agent_invitation"
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = _fk("agent.id")
    token_hash: str = Field(unique=True)
    invited_by_agent_id: int | None = _fk("agent.id", nullable=True, ondelete="SET NULL", index=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _instant()
    created_at: datetime = _created()


class UsagerSession(SQLModel, table=True):
    __tablename__ = "usager_session"
    id: int | None = Field(default=None, primary_key=True)
    usager_id: int = _fk("usager.id")
    token_hash: str = Field(unique=True)
    via_franceconnect: bool = False
    franceconnect_id_token: str | None = None  # sealed (rdv_app.auth.sealed)
    created_at: datetime = _created()
    last_seen_at: datetime = _created()
    revoked_at: datetime | None = _instant()


class UsagerEmailToken(SQLModel, table=True):
    """Email verification / sign-in link: random, hashed, single use, 24 hours."""

    __tablename__ = "usager_email_token"
    id: int | None = Field(default=None, primary_key=True)
    usager_id: int = _fk("usager.id")
    token_hash: str = Field(unique=True)
    next_path: str = "/"
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _instant()
    created_at: datetime = _created()


class AuditLog(SQLModel, table=True):
    """Who changed what, when."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_entity", "entity_type", "entity_id"),
        sa.CheckConstraint(sql_in("actor_type", enums.AuthorType), name="actor_type"),
    )
    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = _created()
    actor_type: str
    actor_agent_id: int | None = _fk("agent.id", nullable=True, ondelete="SET NULL", index=False)
    actor_usager_id: int | None = _fk("usager.id", nullable=True, ondelete="SET NULL", index=False)
    organisation_id: int | None = _fk("organisation.id", nullable=True, ondelete="SET NULL")
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any] = _json(dict, nullable=False)


# --------------------------------------------------------------------------- write-time validation


@sa.event.listens_for(PlageOuverture, "before_insert")
@sa.event.listens_for(PlageOuverture, "before_update")
@sa.event.listens_for(Absence, "before_insert")
@sa.event.listens_for(Absence, "before_update")
def _normalise_recurrence(_mapper: Any, _connection: Any, target: PlageOuverture | Absence) -> None:
    """Every recurrence is validated before it reaches the database; `recurrence_until` is derived."""
    rec = Recurrence.from_json(target.recurrence, target.first_day)
    target.recurrence = rec.to_json() if rec else None
    target.recurrence_until = rec.until if rec else None


@sa.event.listens_for(Usager, "before_insert")
@sa.event.listens_for(Usager, "before_update")
def _usager_search_terms(_mapper: Any, _connection: Any, target: Usager) -> None:
    """The one place the usager search index is kept: every ORM write of an usager (creation, edit,
    merge, anonymisation) derives its words here; PostgreSQL indexes the column, SQLite's triggers copy
    it into the FTS5 table. A Core `insert`/`update` of names, email or phone must set it too
    (`usager_search.search_terms`), as the benchmarks' bulk inserts do."""
    target.search_terms = usager_search.search_terms(
        first_name=target.first_name, last_name=target.last_name, birth_name=target.birth_name,
        email=target.email, phone_number_formatted=target.phone_number_formatted)


@sa.event.listens_for(Organisation, "before_insert")
def _organisation_timezone(_mapper: Any, connection: sa.Connection, target: Organisation) -> None:
    if target.timezone is None:
        target.timezone = connection.execute(
            sa.select(table_of(Territory).c.timezone).where(table_of(Territory).c.id == target.territory_id)
        ).scalar_one()
