"""Every path of the app, in one place."""

from __future__ import annotations

from urllib.parse import quote_plus, urlencode

HOME = "/"
LOGIN = "/connexion"
WORKSPACE = "/espace"
# After signing in, an agent of several organisations picks one, grouped by territory (admin-domain.md 4.9).
ORGANISATION_CHOOSER = "/organisations"
ACCOUNT = "/mon-compte"
INVITATION = "/invitation"  # ?jeton=: an invited agent (or the first super admin) sets name and password
CRENEAUX = "/trouver-un-rdv"
# "Élargir la recherche": booking by prescription in the territory's organisations (`?usager=` for an usager).
PRESCRIPTION = "/trouver-un-rdv/prescription"
AGENDA = "/agenda"
# An RDV's page; the argument's name is the dynamic var the page's state reads (`rdv_page_id`).
RDV_PAGE = "/agenda/rdv/[rdv_page_id]"
RDV_NEW = "/agenda/nouveau-rdv"  # planning an RDV; its choices ride in the query (see `rdv_new`)
# "Vos usagers" (`?recherche=` opens it searched) and an usager's page (argument read as `usager_page_id`).
USAGERS = "/usagers"
USAGER_PAGE = "/usagers/[usager_page_id]"
# "Fusionner deux usagers": the two usagers may ride in the query (`usagers_merge`), checked by the server.
USAGERS_MERGE = "/usagers/fusionner"
USAGERS_DUPLICATES = "/usagers/doublons"  # "Doublons probables" of the organisation
# "Liste des RDV": its filters ride in the query (see `rdv_list`); "Vos exports" of the signed-in agent.
RDV_LIST = "/rdvs"
EXPORTS = "/mes-exports"
# "Statistiques" of the organisation, the agent's own, and the public page (`?territoire=<id>`).
STATS = "/statistiques"
STATS_PERSONAL = "/statistiques/personnelles"
PUBLIC_STATS = "/stats"
PUBLIC_STATS_NOTIFICATIONS = "/stats/notifications"  # the notifications of each day (`?territoire=<id>`)
PLAGES = "/planning/plages"
ABSENCES = "/planning/indisponibilites"
ADMIN_WEBHOOKS = "/admin/webhooks"
ADMIN_MOTIFS = "/admin/motifs"
ADMIN_TERRITORY_MOTIFS = "/admin/territoire/motifs"
ADMIN_TERRITORY_ORGANISATIONS = "/admin/territoire/organisations"
ADMIN_TERRITORY_AGENTS = "/admin/territoire/agents"
ADMIN_TERRITORY_TEAMS = "/admin/territoire/equipes"
ADMIN_SECURITY_LOG = "/admin/territoire/journal-de-securite"
ADMIN_TERRITORY_USAGER_FIELDS = "/admin/territoire/fiches-usagers"  # "Fiches usagers": fields the records show
USAGER_NEW = "/usagers/nouveau"
# Editing an usager's record; the argument's name is the dynamic var the form's state reads.
USAGER_EDIT = "/usagers/modifier/[usager_edit_id]"
ADMIN_LIEUX = "/admin/lieux"
ADMIN_ORGANISATION = "/admin/organisation"
ADMIN_ONLINE_BOOKING = "/admin/reservation-en-ligne"
ADMIN_AGENTS = "/admin/agents"
SUPER_ADMIN = "/super-admin"  # the instance's territories (super admins)
SUPER_ADMIN_HEALTH = "/super-admin/sante"  # "Santé du service" (super admins)
NOT_FOUND = "404"

# Plain HTTP routes (Starlette, mounted next to the Reflex app).
HEALTH = "/_health"
READY = "/_ready"
METRICS = "/metrics"  # Prometheus, with RDV_METRICS_TOKEN (rdv_app.api.metrics)
AUTH_OPEN_SESSION = "/_auth/session"  # POST only (rdv_app.auth.session_forms)
AUTH_CLEAR_SESSION = "/_auth/sortie"  # POST only
WEBCAL_FEED = "/calendrier/{calendar_uid}.ics"  # rdv_app.services.webcal builds the addresses
PAGES_SCRIPT = "/_pages/formulaires.js"  # the one script of the server-rendered pages (no inline script)
DEMO_MAILBOX = "/dev/boite-mail"  # only without SMTP (rdv_app/api/demo_mailbox.py)
# The usager's "Infos et annulation" link (server-rendered pages, rdv_app/api/usager_link.py).
USAGER_LINK = "/r"
USAGER_LINK_OPEN = "/r/{rdv_id:int}/{token}"
USAGER_LINK_PAGE = "/r/{rdv_id:int}"
USAGER_LINK_INITIALS = "/r/{rdv_id:int}/lettres"
USAGER_LINK_CANCEL = "/r/{rdv_id:int}/annulation"
USAGER_LINK_ICS = "/r/{rdv_id:int}/rdv.ics"
USAGER_LINK_MOVE = "/r/{rdv_id:int}/changer-la-date"  # GET: the week (?semaine=), or the confirmation (?creneau=)
# Public booking (issue 5): where an usager books again.
PUBLIC_BOOKING = "/prendre_rdv"
# The organisation's link `/org/<id>/<slug>` (rdv_app/services/public_links.py) and its short form.
PUBLIC_ORGANISATION = "/org/[booking_org]"
PUBLIC_ORGANISATION_SLUG = "/org/[booking_org]/[booking_org_slug]"
PUBLIC_CONFIRMATION = "/prendre_rdv/confirmation"
USAGER_RDVS = "/mes-rdv"  # "Mes rendez-vous" of a signed-in usager
USAGER_RDV_MOVE = "/mes-rdv/changer-la-date"  # "Changer la date" of one of them (`usager_rdv_move`)
USAGER_EMAIL_LINK = "/_auth/usager/lien"  # GET shows a button, POST signs in (no state-changing GET)
USAGER_SIGN_OUT = "/_auth/usager/sortie"
USAGER_RDV_ICS = "/_auth/usager/rdv/{rdv_id:int}.ics"  # a signed-in usager's RDV for their calendar
FRANCECONNECT_START = "/_auth/franceconnect"
FRANCECONNECT_CALLBACK = "/_auth/franceconnect/retour"
# The editor API that the ANTS hub calls (rdv_app/api/ants.py).
ANTS_MEETING_POINTS = "/api/ants/getManagedMeetingPoints"
ANTS_TIME_SLOTS = "/api/ants/availableTimeSlots"
ANTS_APPLICATION_IDS = "/api/ants/searchApplicationIds"
# The public links read by the Conseillers Numériques map, and the short link by external id (rdv_app/api/public_links.py).
PUBLIC_LINKS_API = "/api/v1/public_links"
PUBLIC_LINKS_LEGACY = "/public_api/public_links"
ORGANISATION_BY_EXTERNAL_ID = "/org/ext/{territory}/{external_id}"
ORGANISATION_BY_EXTERNAL_ID_SLUG = "/org/ext/{territory}/{external_id}/{slug}"
LIEUX_MEDIATION = "/api/v1/lieux_mediation_numerique.{format:str}"  # csv or json ("Lieux de médiation numérique")
RESIN = "/resin/{external_ids}"  # the Rés'In network's link: "Accompagnement individuel" of these structures
# "S'identifier avec Microsoft" (Outlook sync, rdv_app/api/outlook_http.py): start and return of the sign-in.
OUTLOOK_START = "/_auth/outlook"
OUTLOOK_CALLBACK = "/_auth/outlook/retour"
OUTLOOK_FLOW_COOKIE = "rdv_outlook"
USAGER_SESSION_COOKIE = "rdv_usager_session"
FRANCECONNECT_FLOW_COOKIE = "rdv_franceconnect"

AGENT_SESSION_COOKIE = "rdv_agent_session"
AGENT_SIGN_IN_BINDING_COOKIE = "rdv_connexion"  # ties a sign-in ticket to the browser that asked for it
USAGER_ACCESS_COOKIE = "rdv_lien"
USAGER_VERIFIED_COOKIE = "rdv_lettres"
USAGER_DEVICE_COOKIE = "rdv_appareil"  # a random id of the browser, for the sign-up limits (issue 26)


def login(next_path: str | None = None) -> str:
    return f"{LOGIN}?{urlencode({'suivant': next_path})}" if next_path else LOGIN


def rdv_page(rdv_id: int) -> str:
    """The agents' page of one RDV (agenda, ICS and webcal links)."""
    return f"{AGENDA}/rdv/{rdv_id}"


def rdv_new(*, motif_id: int | str, start: str = "", agent_ids: list[str] | None = None, lieu_id: int | str = "",
            duration: int | str = "", usager_ids: list[str] | None = None) -> str:
    """Planning an RDV with these choices: a reload or a shared link keeps them. `start` is the
    organisation's local wall-clock time, "2026-12-07T09:30"."""
    query = {"motif": motif_id, "debut": start, "agents": ",".join(agent_ids or []), "lieu": lieu_id,
             "duree": duration, "usagers": ",".join(usager_ids or [])}
    return f"{RDV_NEW}?{urlencode({key: value for key, value in query.items() if value not in ('', None)})}"


# "Statut" filter of the RDV list: the RDV statuses, with "unknown" split by time (admin-domain.md 9.1).
RDV_LIST_STATUSES = ("seen", "excused", "revoked", "noshow", "unknown_past", "unknown_future")


def rdv_list(*, organisation_ids: list[int] | None = None, agent_id: int | None = None,
             usager_id: int | None = None, lieu_ids: list[int] | None = None, motif_ids: list[int] | None = None,
             status: str = "", start: str = "", end: str = "") -> str:
    """"Liste des RDV" with these filters; `status` is one of `RDV_LIST_STATUSES`, `start` and `end` local
    days ("2026-12-07"). A reload or a shared link keeps them."""
    query = {"organisations": ",".join(map(str, organisation_ids or [])), "agent": agent_id, "usager": usager_id,
             "lieux": ",".join(map(str, lieu_ids or [])), "motifs": ",".join(map(str, motif_ids or [])),
             "statut": status, "du": start, "au": end}
    query = {key: value for key, value in query.items() if value not in ("", None)}
    return f"{RDV_LIST}?{urlencode(query)}" if query else RDV_LIST


def stats(*, start: str = "", end: str = "", personal: bool = False) -> str:
    """"Statistiques" of the organisation (or the agent's own, `personal`) over the local days `start` to
    `end` ("2026-12-07"): a reload or a shared link keeps the period."""
    path = STATS_PERSONAL if personal else STATS
    query = urlencode({key: value for key, value in (("du", start), ("au", end)) if value})
    return f"{path}?{query}" if query else path


def usagers_merge(usager_id: int | str | None = None, other_usager_id: int | str | None = None) -> str:
    """The merge screen with these usagers chosen in its columns A and B."""
    query = urlencode({key: value for key, value in (("a", usager_id), ("b", other_usager_id)) if value})
    return f"{USAGERS_MERGE}?{query}" if query else USAGERS_MERGE


def usagers(search: str = "") -> str:
    """"Vos usagers", searched for `search` (an E.164 phone number from an usager's page, for one)."""
    return f"{USAGERS}?{urlencode({'recherche': search})}" if search else USAGERS


def creneaux(usager_id: int | None = None) -> str:
    """"Trouver un RDV", for an usager: the slots it shows plan the RDV with them."""
    return f"{CRENEAUX}?{urlencode({'usager': usager_id})}" if usager_id is not None else CRENEAUX


def agenda(*, day: str = "", created_rdv_id: int | None = None) -> str:
    """The agenda opened on a local day ("2026-12-07"), saying which RDV was just created."""
    query = urlencode({key: value for key, value in {"jour": day, "rdv-cree": created_rdv_id}.items() if value})
    return f"{AGENDA}?{query}" if query else AGENDA


def after_organisation_switch(path: str) -> str:
    """Where an agent lands after picking another organisation in the header while on `path`: the same
    page, reloaded for that organisation, except an RDV's page, which belongs to the RDV's own
    organisation: the chosen organisation's agenda opens instead."""
    return AGENDA if path.startswith(f"{AGENDA}/rdv/") else path


def usager_page(usager_id: int) -> str:
    """An usager's page for agents."""
    return f"{USAGERS}/{usager_id}"


def usager_edit(usager_id: int) -> str:
    return f"{USAGERS}/modifier/{usager_id}"


def invitation(token: str) -> str:
    return f"{INVITATION}?{urlencode({'jeton': token})}"


def usager_link(rdv_id: int, page: str = "") -> str:
    """The clean address of an RDV's usager page (no token), or one of its sub-pages."""
    return f"{USAGER_LINK}/{rdv_id}/{page}" if page else f"{USAGER_LINK}/{rdv_id}"


def organisation_booking(organisation_id: int) -> str:
    """The organisation's public booking link (issue 5)."""
    return f"/org/{organisation_id}"


def usager_rdv_ics(rdv_id: int) -> str:
    """The .ics of an RDV of the signed-in usager (the confirmation page's "Ajouter à mon agenda")."""
    return USAGER_RDV_ICS.replace("{rdv_id:int}", str(rdv_id))


def prescription(usager_id: int | str | None = None) -> str:
    """"Nouveau RDV par prescription", for an usager when one is given."""
    return f"{PRESCRIPTION}?{urlencode({'usager': usager_id})}" if usager_id else PRESCRIPTION

# "Je suis un prescripteur": an external prescripteur books for a bénéficiaire, without an account.
PUBLIC_PRESCRIPTEUR = "/prescripteur"


# An export's file, for its creator only (rdv_app.api.exports): a plain HTTP route with the agent's session.
EXPORT_DOWNLOAD = "/_exports/{export_id}"


def export_download(export_id: str) -> str:
    return f"/_exports/{export_id}"


def usager_rdv_move(participation_id: int, *, week: str = "", slot: str = "") -> str:
    """"Changer la date" of an RDV in "Mes rendez-vous": its week from the local day `week` ("2026-12-07"),
    or the confirmation of the slot starting at `slot` (ISO 8601)."""
    query = {"rdv": participation_id, "semaine": week, "creneau": slot}
    return f"{USAGER_RDV_MOVE}?{urlencode({key: value for key, value in query.items() if value})}"


def slot_links_base(address: str) -> str:
    """What the links of a week's slots share: the week's `address` (whose query holds nothing after the
    slot) with the slot's parameter `creneau=` opened at its end. A slot's link is this followed by
    `slot_link_value` of its start: the browser joins the two, so that a week sends each slot's value only."""
    return f"{address}{'&' if '?' in address else '?'}creneau="


def slot_link_value(iso: str) -> str:
    """A slot's start (ISO 8601) as `urlencode` writes it in an address."""
    return quote_plus(iso)


def usager_link_move(rdv_id: int, *, week: str = "", slot: str = "") -> str:
    """"Changer la date" from the "Infos et annulation" link, with the same query as `usager_rdv_move`."""
    query = urlencode({key: value for key, value in (("semaine", week), ("creneau", slot)) if value})
    return usager_link(rdv_id, "changer-la-date") + (f"?{query}" if query else "")


# Sectorisation of the territory (territorial admins, issue 28).
ADMIN_TERRITORY_SECTORS = "/admin/territoire/sectorisation"

# "RDV collectifs" (issue 28): the organisation's sessions to come, and creating one.
COLLECTIFS = "/agenda/collectifs"

# The legal pages every French public site has, linked from the footer (rdv_app/pages/legal.py).
ACCESSIBILITY = "/accessibilite"
LEGAL_NOTICE = "/mentions-legales"
PERSONAL_DATA = "/donnees-personnelles"
COOKIES = "/gestion-des-cookies"
# Their links in every public page's footer (the accessibility one says the conformity level of our audit).
ACCESSIBILITY_CONFORMITY = "partiellement conforme"
LEGAL_LINKS = ((f"Accessibilité : {ACCESSIBILITY_CONFORMITY}", ACCESSIBILITY), ("Mentions légales", LEGAL_NOTICE),
               ("Données personnelles", PERSONAL_DATA), ("Gestion des cookies", COOKIES))
