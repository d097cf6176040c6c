"""French labels of the domain's vocabularies."""

from rdv_app.domain.enums import (
    AccessLevel,
    BookableBy,
    CaisseAffiliation,
    FamilySituation,
    LocationType,
    Logement,
    RdvStatus,
    SectorisationLevel,
    SecurityEventKind,
    UsagerKind,
    VisibilityType,
)

ACCESS_LEVEL_LABELS = {
    AccessLevel.BASIC: "Agent",
    AccessLevel.ADMIN: "Administrateur",
    AccessLevel.INTERVENANT: "Intervenant",
}

RDV_STATUS_LABELS = {
    RdvStatus.UNKNOWN: "À venir",
    RdvStatus.SEEN: "Rendez-vous honoré",
    RdvStatus.EXCUSED: "Annulé (excusé)",
    RdvStatus.REVOKED: "Annulé (par le service)",
    RdvStatus.NOSHOW: "Absence non excusée",
}

# Where an RDV takes place when it has no lieu (no personal data: never the usager's address).
LOCATION_TYPE_LABELS = {
    LocationType.PUBLIC_OFFICE: "Sur place",
    LocationType.PHONE: "Par téléphone",
    LocationType.HOME: "À domicile",
    LocationType.VISIO: "Par visioconférence",
}

BOOKABLE_BY_LABELS = {
    BookableBy.AGENTS: "Agents uniquement",
    BookableBy.AGENTS_AND_PRESCRIPTEURS: "Ouvert aux prescripteurs",
    BookableBy.AGENTS_AND_PRESCRIPTEURS_AND_INVITED_USERS: "Agents, prescripteurs et usagers invités",
    BookableBy.EVERYONE: "Ouvert aux agents et aux usagers",
}

VISIBILITY_TYPE_LABELS = {
    VisibilityType.VISIBLE_AND_NOTIFIED: "Visible et notifié : l'usager voit le RDV et reçoit les notifications",
    VisibilityType.VISIBLE_AND_NOT_NOTIFIED: "Visible mais non notifié : l'usager voit le RDV, sans notification",
    VisibilityType.INVISIBLE: "Invisible : le RDV n'apparaît pas à l'usager et ne lui est pas notifié",
}

SECTORISATION_LEVEL_LABELS = {
    SectorisationLevel.DEPARTEMENT: "Tout le département (pas de sectorisation)",
    SectorisationLevel.ORGANISATION: "Les organisations du secteur de l'usager",
    SectorisationLevel.AGENT: "Les agents du secteur de l'usager",
}

SECURITY_EVENT_LABELS = {
    SecurityEventKind.SIGN_IN_FAILED: "Échec de connexion (mot de passe)",
    SecurityEventKind.SECOND_FACTOR_FAILED: "Échec de connexion (code de double authentification)",
    SecurityEventKind.ACCOUNT_LOCKED: "Compte bloqué après plusieurs échecs",
    SecurityEventKind.PASSWORD_CHANGED: "Mot de passe modifié",
    SecurityEventKind.MFA_ENABLED: "Double authentification activée",
    SecurityEventKind.MFA_DISABLED: "Double authentification désactivée",
    SecurityEventKind.RECOVERY_CODE_USED: "Code de secours utilisé",
    SecurityEventKind.USAGER_INITIALS_FAILED: "Lien usager : mauvaises trois lettres",
    SecurityEventKind.USAGER_LINK_LOCKED: "Lien usager bloqué après plusieurs erreurs",
}

# An usager's record (admin-domain.md 1.1), in the order the form lists them.
USAGER_KIND_LABELS = {UsagerKind.RESPONSIBLE: "Responsable", UsagerKind.RELATIVE: "Proche"}

CAISSE_AFFILIATION_LABELS = {
    CaisseAffiliation.AUCUNE: "Aucune",
    CaisseAffiliation.CAF: "CAF",
    CaisseAffiliation.MSA: "MSA",
}

FAMILY_SITUATION_LABELS = {
    FamilySituation.SINGLE: "Célibataire",
    FamilySituation.IN_A_RELATIONSHIP: "En couple",
    FamilySituation.DIVORCED: "Divorcé",
}

LOGEMENT_LABELS = {
    Logement.SDF: "Sans domicile fixe",
    Logement.HEBERGE: "Hébergé",
    Logement.LOCATAIRE: "Locataire",
    Logement.EN_ACCESSION_PROPRIETE: "En accession à la propriété",
    Logement.PROPRIETAIRE: "Propriétaire",
    Logement.AUTRE: "Autre",
}


_KIND_OF_PLACE = {
    LocationType.HOME.value: "À domicile",
    LocationType.PHONE.value: "Par téléphone",
    LocationType.VISIO.value: "Par visioconférence",
}


def impersonal_place(location_type: str, lieu_name: str | None, lieu_address: str | None,
                     single_use: bool = False) -> str:
    """Where an RDV takes place, without personal information (agents' webcal feeds and Outlook calendars,
    domain.md section 1): the lieu as "Name (address)", followed by " (Lieu ponctuel)" for a place typed for
    this RDV alone; otherwise the kind of place ("À domicile", never the usager's address)."""
    if location_type == LocationType.PUBLIC_OFFICE.value and lieu_name:
        full = f"{lieu_name} ({lieu_address})" if lieu_address else lieu_name
        return full + (" (Lieu ponctuel)" if single_use else "")
    return _KIND_OF_PLACE.get(location_type, "")


def french_number(value: int) -> str:
    """12 345, as French writes it (a no-break space between thousands)."""
    return f"{value:,}".replace(",", "\u00a0")
