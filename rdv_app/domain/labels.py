"""French labels of the domain's vocabularies."""

from rdv_app.domain.enums import AccessLevel, LocationType, RdvStatus

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
