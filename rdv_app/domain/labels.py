"""French labels of the domain's vocabularies."""

from rdv_app.domain.enums import AccessLevel, RdvStatus

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
