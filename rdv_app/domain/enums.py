"""Closed vocabularies of the domain, stored as plain strings guarded by CHECK constraints."""

from enum import StrEnum


class AccessLevel(StrEnum):
    BASIC = "basic"
    ADMIN = "admin"
    INTERVENANT = "intervenant"


class RdvNotificationLevel(StrEnum):
    ALL = "all"
    OTHERS = "others"
    SOON = "soon"
    NONE = "none"


class NoticeLevel(StrEnum):
    ALL = "all"
    NONE = "none"


class LieuAvailability(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    SINGLE_USE = "single_use"


class LocationType(StrEnum):
    PUBLIC_OFFICE = "public_office"
    PHONE = "phone"
    HOME = "home"
    VISIO = "visio"


class BookableBy(StrEnum):
    AGENTS = "agents"
    AGENTS_AND_PRESCRIPTEURS = "agents_and_prescripteurs"
    AGENTS_AND_PRESCRIPTEURS_AND_INVITED_USERS = "agents_and_prescripteurs_and_invited_users"
    EVERYONE = "everyone"


class VisibilityType(StrEnum):
    VISIBLE_AND_NOTIFIED = "visible_and_notified"
    VISIBLE_AND_NOT_NOTIFIED = "visible_and_not_notified"
    INVISIBLE = "invisible"


class SectorisationLevel(StrEnum):
    DEPARTEMENT = "departement"
    ORGANISATION = "organisation"
    AGENT = "agent"


class ZoneLevel(StrEnum):
    """What a sector's zone covers: a whole commune, or one street of it (Base Adresse Nationale ids)."""

    CITY = "city"
    STREET = "street"


class AttributionLevel(StrEnum):
    """A sector is attributed to an organisation, or to one agent of an organisation."""

    ORGANISATION = "organisation"
    AGENT = "agent"


class RdvStatus(StrEnum):
    UNKNOWN = "unknown"
    SEEN = "seen"
    EXCUSED = "excused"
    REVOKED = "revoked"
    NOSHOW = "noshow"


CANCELLED_STATUSES = frozenset({RdvStatus.EXCUSED, RdvStatus.REVOKED})


class AuthorType(StrEnum):
    AGENT = "agent"
    USAGER = "usager"
    PRESCRIPTEUR = "prescripteur"
    SYSTEM = "system"


class CreatedThrough(StrEnum):
    AGENT_CREATION = "agent_creation"
    USER_SIGN_UP = "user_sign_up"
    FRANCECONNECT_SIGN_UP = "franceconnect_sign_up"
    USER_RELATIVE_CREATION = "user_relative_creation"
    PRESCRIPTEUR = "prescripteur"
    SEED = "seed"


class NotificationEvent(StrEnum):
    RDV_CREATED = "rdv_created"
    RDV_UPDATED = "rdv_updated"
    RDV_CANCELLED = "rdv_cancelled"
    RDV_UPCOMING_REMINDER = "rdv_upcoming_reminder"
    PLAGE_NOTICE = "plage_ouverture_notice"
    ABSENCE_NOTICE = "absence_notice"
    WEBHOOK = "webhook"
    ACCOUNT = "account"
    OUTLOOK_SYNC = "outlook_sync"  # one agent's Outlook event of one RDV brought up to date
    OUTLOOK_DISCONNECT = "outlook_disconnect"  # every Outlook event of an agent removed, then the tokens


class Channel(StrEnum):
    SMS = "sms"
    MAIL = "mail"
    WEBHOOK = "webhook"
    ANTS = "ants"  # a call to the ANTS coordination API (rdv_app.notify.ants)
    OUTLOOK = "outlook"  # Microsoft Graph calls on an agent's calendar (rdv_app.notify.outlook)


class ReceiptResult(StrEnum):
    PROCESSED = "processed"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILURE = "failure"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ExportType(StrEnum):
    RDV_EXPORT = "rdv_export"
    PARTICIPATIONS_EXPORT = "participations_export"


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class ExportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    AVAILABLE = "available"
    FAILED = "failed"


class WebhookSubscription(StrEnum):
    RDV = "rdv"
    ABSENCE = "absence"
    PLAGE_OUVERTURE = "plage_ouverture"
    USER = "user"
    USER_PROFILE = "user_profile"
    ORGANISATION = "organisation"
    MOTIF = "motif"
    LIEU = "lieu"
    AGENT = "agent"
    AGENT_ROLE = "agent_role"
    REFERENT_ASSIGNATION = "referent_assignation"


def sql_in(column: str, enum: type[StrEnum]) -> str:
    """SQL text of a CHECK constraint keeping `column` inside the enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class SecurityEventKind(StrEnum):
    """What the security event log records (rdv_app.services.security_log)."""

    SIGN_IN_FAILED = "sign_in_failed"
    SECOND_FACTOR_FAILED = "second_factor_failed"
    ACCOUNT_LOCKED = "account_locked"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event's name, not a password
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    RECOVERY_CODE_USED = "recovery_code_used"
    USAGER_INITIALS_FAILED = "usager_initials_failed"
    USAGER_LINK_LOCKED = "usager_link_locked"


class SignInStep(StrEnum):
    """What a sign-in still needs after the password (the pending step of its ticket)."""

    CODE = "code"  # the TOTP code or a recovery code
    ENROLMENT = "enrolment"  # setting up the second factor, which the agent's role requires


class UsagerKind(StrEnum):
    """"Type d'usager": a responsible (their own record) or a relative (in the care of a responsible)."""

    RESPONSIBLE = "responsable"
    RELATIVE = "proche"


class CaisseAffiliation(StrEnum):
    AUCUNE = "aucune"
    CAF = "caf"
    MSA = "msa"


class FamilySituation(StrEnum):
    SINGLE = "single"
    IN_A_RELATIONSHIP = "in_a_relationship"
    DIVORCED = "divorced"


class Logement(StrEnum):
    SDF = "sdf"
    HEBERGE = "heberge"
    EN_ACCESSION_PROPRIETE = "en_accession_propriete"
    PROPRIETAIRE = "proprietaire"
    AUTRE = "autre"
    LOCATAIRE = "locataire"
