"""The usager's "Infos et annulation" pages, rendered on the server as plain HTML in the shell of
`rdv_app.api.html_page` (why not Reflex pages: see there)."""

from __future__ import annotations

from rdv_app import routes
from rdv_app.api.html_page import e as _e
from rdv_app.api.html_page import page
from rdv_app.config import settings
from rdv_app.domain import datefmt
from rdv_app.domain.enums import LocationType
from rdv_app.domain.usager_link import CancelRefusal
from rdv_app.services.online_booking.public_search import PublicWeek
from rdv_app.services.usagers.usager_link import CancelledNotice, MoveChoice, RdvSummary

INITIALS_LABEL = "Saisissez les trois premières lettres de votre nom de famille"
AGAIN = "Pour votre sécurité, saisissez à nouveau les trois premières lettres de votre nom."


def invalid_link() -> str:
    return page("Lien invalide ou expiré", (
        "<h1>Ce lien n'est plus valide</h1>"
        '<p class="lead">Pour protéger vos informations, seul le lien du dernier SMS ou email reçu fonctionne, '
        "pendant une durée limitée.</p>"
        "<p>Ouvrez le lien le plus récent que vous avez reçu, ou contactez le service qui vous a donné "
        "rendez-vous.</p>"
        f'<div class="actions"><a class="button button-primary" href="{settings.frontend_url(routes.PUBLIC_BOOKING)}">'
        "Prendre un nouveau rendez-vous</a></div>"
    ))


def link_help() -> str:
    return page("Infos et annulation", (
        "<h1>Infos et annulation de votre rendez-vous</h1>"
        "<p>Ouvrez le lien « Infos et annulation » du dernier SMS ou email reçu pour votre rendez-vous : "
        "vous y verrez son récapitulatif et pourrez l'annuler.</p>"
        f'<div class="actions"><a class="button button-primary" href="{settings.frontend_url(routes.PUBLIC_BOOKING)}">'
        "Prendre un nouveau rendez-vous</a></div>"
    ))


def too_many_attempts(message: str) -> str:
    return page("Trop de tentatives", f'<h1>Trop de tentatives</h1><p class="alert" role="alert">{_e(message)}</p>')


def cancelled_rdv(notice: CancelledNotice) -> str:
    """An earlier link of a cancelled RDV: what became of it, whom to contact, how to book again."""
    cancelled = f"Ce rendez-vous a été annulé le {_e(notice.cancelled_on)}." if notice.cancelled_on \
        else "Ce rendez-vous a été annulé."
    return page("Rendez-vous annulé", (
        "<h1>Rendez-vous annulé</h1>"
        f'<p class="info" role="status">{cancelled}</p>'
        f'<section class="card" aria-label="Rendez-vous annulé"><dl class="facts">'
        f'<dt>Date prévue</dt><dd class="when">{_e(notice.when)}</dd></dl></section>'
        f"<h2>Contact</h2>{_contact_lines(notice.organisation_name, notice.contact_phone, notice.contact_email)}"
        f'<div class="actions"><a class="button button-primary" href="{_e(notice.book_again_url)}">'
        "Prendre un nouveau rendez-vous</a></div>"
    ))


def initials_form(rdv_id: int, csrf: str, *, error: str | None = None, locked: str | None = None,
                  again: bool = False) -> str:
    action = routes.usager_link(rdv_id, "lettres")
    if locked:
        return page("Lien bloqué temporairement", (
            "<h1>Vérification de votre identité</h1>"
            f'<p class="alert" role="alert">{_e(locked)}</p>'
            f'<div class="actions"><a class="button button-secondary" href="{routes.usager_link(rdv_id)}">'
            "Réessayer</a></div>"
        ))
    described = "lettres-aide lettres-erreur" if error else "lettres-aide"
    error_html = f'<p class="field-error" id="lettres-erreur" role="alert">{_e(error)}</p>' if error else ""
    intro = (f'<p class="info" role="status">{AGAIN}</p>' if again
             else '<p class="lead">Pour voir votre rendez-vous, confirmez qu\'il s\'agit bien de vous.</p>')
    return page("Vérification de votre identité", (
        "<h1>Vérification de votre identité</h1>"
        f"{intro}"
        f'<form method="post" action="{action}" data-busy="Vérification…" novalidate>'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        '<div class="field">'
        f'<label for="lettres">{INITIALS_LABEL}</label>'
        '<span class="hint" id="lettres-aide">Par exemple « DUP » pour DUPONT. Les espaces et les accents '
        "ne comptent pas ; un nom de moins de trois lettres se saisit en entier.</span>"
        f"{error_html}"
        '<input class="text-input" id="lettres" name="lettres" type="text" inputmode="text" maxlength="6" '
        'autocomplete="off" autocapitalize="characters" spellcheck="false" required '
        f'aria-describedby="{described}"' + (' aria-invalid="true" autofocus' if error else "") + ">"
        "</div>"
        '<div class="actions"><button class="button button-primary" type="submit">Valider</button></div>'
        "</form>"
    ))


def _place(summary: RdvSummary) -> str:
    location = LocationType(summary.location_type)
    if location == LocationType.PHONE:
        called = (f"Un agent vous appellera au {_e(summary.phone_number_called)}."
                  if summary.phone_number_called else "Un agent vous appellera.")
        return f"<dt>Lieu</dt><dd>Rendez-vous par téléphone. {called}</dd>"
    if location == LocationType.HOME:
        address = f" : {_e(summary.home_address)}" if summary.home_address else ""
        return f"<dt>Lieu</dt><dd>À votre domicile{address}</dd>"
    if location == LocationType.VISIO:
        return "<dt>Lieu</dt><dd>Par visioconférence</dd>"
    if not summary.lieu_name:
        return ""
    map_link = ""
    if summary.map_url:
        map_link = (f'<br><a href="{_e(summary.map_url)}" target="_blank" rel="noopener noreferrer">'
                    "Voir sur une carte<span class=\"visually-hidden\"> (nouvelle fenêtre)</span></a>")
    return (f"<dt>Lieu</dt><dd>{_e(summary.lieu_name)}<br>{_e(summary.lieu_address or '')}{map_link}</dd>")


def _contact(summary: RdvSummary) -> str:
    return _contact_lines(summary.organisation_name, summary.contact_phone, summary.contact_email)


def _contact_lines(organisation_name: str, phone: str | None, email: str | None) -> str:
    lines = [f"<p>{_e(organisation_name)}"]
    if phone:
        tel = "".join(c for c in phone if c.isdigit() or c == "+")
        lines.append(f'<br>Téléphone : <a class="contact-link" href="tel:{_e(tel)}">{_e(phone)}</a>')
    if email:
        lines.append(f'<br>Email : <a class="contact-link" href="mailto:{_e(email)}">{_e(email)}</a>')
    lines.append("</p>")
    return "".join(lines)


def _how_to_reach(summary: RdvSummary) -> str:
    ways = []
    if summary.contact_phone:
        ways.append(f"au {_e(summary.contact_phone)}")
    if summary.contact_email:
        ways.append(f"par email à {_e(summary.contact_email)}")
    return f"{_e(summary.organisation_name)} " + " ou ".join(ways) if ways else _e(summary.organisation_name)


def _cancel_block(summary: RdvSummary) -> str:
    if summary.cancelled:
        return (f'<div class="actions"><a class="button button-primary" href="{_e(summary.book_again_url)}">'
                "Reprendre rendez-vous</a></div>")
    ics = (f'<a class="button button-secondary" href="{routes.usager_link(summary.rdv_id, "rdv.ics")}" download>'
           "Ajouter à mon agenda</a>") if not summary.past else ""
    if summary.can_cancel:
        return (f'<div class="actions">{ics}<a class="button button-danger" '
                f'href="{routes.usager_link(summary.rdv_id, "annulation")}">Annuler le rendez-vous</a></div>')
    refusal = CancelRefusal(summary.cancel_refusal) if summary.cancel_refusal else None
    notice = ""
    if refusal == CancelRefusal.TOO_LATE:
        notice = ('<p class="info">Ce rendez-vous a lieu dans moins de 4 heures : il ne peut plus être annulé '
                  f"en ligne. Pour l'annuler, contactez {_how_to_reach(summary)}.</p>")
    elif refusal == CancelRefusal.MOTIF:
        notice = ('<p class="info">Ce rendez-vous ne peut pas être annulé en ligne. Pour l\'annuler, contactez '
                  f"{_how_to_reach(summary)}.</p>")
    actions = f'<div class="actions">{ics}</div>' if ics else ""
    return notice + actions


def _move_block(summary: RdvSummary) -> str:
    """"Changer la date" when `editable_by_user?` holds; otherwise why not, while the RDV is to come."""
    if summary.can_edit:
        return (f'<div class="actions"><a class="button button-secondary" '
                f'href="{_e(routes.usager_link_move(summary.rdv_id))}">Changer la date</a></div>')
    return f'<p class="info">{_e(summary.edit_notice)}</p>' if summary.edit_notice else ""


def rdv_summary(summary: RdvSummary, *, just_cancelled: bool = False, just_moved: bool = False,
                error: str | None = None) -> str:
    header = ""
    if error:
        header += f'<p class="alert" role="alert">{_e(error)}</p>'
    if just_moved and not summary.cancelled:
        header += (f'<p class="success" role="status">Votre rendez-vous est déplacé au {_e(summary.when)}. Le '
                   "service en est informé et vous recevez une confirmation.</p>")
    if summary.cancelled and just_cancelled:
        header += ('<p class="success" role="status">Votre rendez-vous est annulé. Le service en est informé'
                   " et vous recevrez une confirmation par email si vous nous avez donné votre adresse.</p>")
    elif summary.cancelled:
        header += '<p class="badge">Rendez-vous annulé</p>'
    elif summary.past:
        header += '<p class="info">Ce rendez-vous est passé.</p>'
    participants = ""
    if summary.participants:
        participants = f"<dt>Pour</dt><dd>{_e(', '.join(summary.participants))}</dd>"
    instructions = ""
    if summary.instructions and not summary.cancelled:
        instructions = f'<h2>À savoir avant votre rendez-vous</h2><p class="pre">{_e(summary.instructions)}</p>'
    body = (
        "<h1>Votre rendez-vous</h1>"
        f"{header}"
        '<section class="card" aria-label="Récapitulatif"><dl class="facts">'
        f"<dt>Motif</dt><dd>{_e(summary.title)}</dd>"
        f'<dt>Date</dt><dd class="when">{_e(summary.when)}</dd>'
        f"<dt>Durée</dt><dd>{summary.duration_in_min} minutes</dd>"
        f"{participants}{_place(summary)}"
        "</dl></section>"
        f"{instructions}"
        f"<h2>Contact</h2>{_contact(summary)}"
        f"{'' if summary.cancelled or summary.past else _move_block(summary)}"
        f"{_cancel_block(summary)}"
    )
    return page("Votre rendez-vous", body)


def confirm_cancel(summary: RdvSummary, csrf: str) -> str:
    action = routes.usager_link(summary.rdv_id, "annulation")
    return page("Annuler le rendez-vous", (
        "<h1>Annuler le rendez-vous</h1>"
        f'<p class="when">{_e(summary.when)} – {_e(summary.title)}</p>'
        f'<p class="info pre">{_e(summary.cancel_warning)}</p>'
        f'<form method="post" action="{action}" data-busy="Annulation en cours…">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        '<div class="actions">'
        '<button class="button button-danger" type="submit">Oui, annuler le rendez-vous</button>'
        f'<a class="button button-secondary" href="{routes.usager_link(summary.rdv_id)}">'
        "Non, garder mon rendez-vous</a></div></form>"
    ))


def _current(choice: MoveChoice) -> str:
    place = f"<dt>Lieu</dt><dd>{_e(choice.place)}</dd>" if choice.place else ""
    return ('<section class="card" aria-label="Votre rendez-vous"><dl class="facts">'
            f"<dt>Motif</dt><dd>{_e(choice.title)}</dd>"
            f'<dt>Date actuelle</dt><dd class="when">{_e(choice.current_when)}</dd>{place}</dl></section>')


def move_week(rdv_id: int, choice: MoveChoice, week: PublicWeek, *, notice: str | None = None) -> str:
    """"Changer la date": the week of slots of the same motif and lieu, each start a link to its
    confirmation (the same week as online booking's, rdv_app.components.slot_week)."""
    def href(**query: str) -> str:
        return _e(routes.usager_link_move(rdv_id, **query))

    first = week.first_day.isoformat()
    nav = []
    if week.previous_first_day:
        nav.append(f'<a href="{href(week=week.previous_first_day.isoformat())}">← Semaine précédente</a>')
    if week.next_first_day:
        nav.append(f'<a href="{href(week=week.next_first_day.isoformat())}">Semaine suivante →</a>')
    days = []
    for day in week.days:
        label = day.label[:1].upper() + day.label[1:]
        if day.closed:
            content = '<p class="hint">Fermé à la réservation en ligne</p>'
        elif day.times:
            content = '<ul class="slot-times">' + "".join(
                f'<li><a class="button button-primary" href="{href(week=first, slot=iso)}" '
                f'aria-label="{_e(day.label)} à {_e(hour)}">{_e(hour)}</a></li>' for iso, hour in day.times) + "</ul>"
        else:
            content = '<p class="hint">Aucun créneau disponible</p>'
        days.append(f'<section class="slot-day"><h3>{_e(label)}</h3>{content}</section>')
    empty = ""
    if week.is_empty:
        following = week.next_availability
        if following is not None and week.following_day is not None:
            more = (f'<a href="{href(week=week.following_day.isoformat())}">Prochaine disponibilité le '
                    f'{_e(following.label)}</a>')
        else:
            more = ("Pas d'autre créneau ouvert à la réservation en ligne : consultez les semaines précédentes ou "
                    "contactez l'organisation.")
        empty = f'<div role="status"><p>Aucun créneau disponible cette semaine.</p><p>{more}</p></div>'
    alert = f'<p class="alert" role="alert">{_e(notice)}</p>' if notice else ""
    return page("Changer la date", (
        "<h1>Changer la date</h1>"
        f"{_current(choice)}{alert}"
        "<h2>Choisissez un nouvel horaire</h2>"
        f"<h3>Semaine du {_e(datefmt.long_date(week.first_day))}</h3>"
        f'<nav class="week-nav" aria-label="Semaines">{"".join(nav)}</nav>'
        f"{empty}{''.join(days)}"
        f'<div class="actions"><a class="button button-secondary" href="{routes.usager_link(rdv_id)}">'
        "Garder mon rendez-vous</a></div>"
    ))


def confirm_move(rdv_id: int, choice: MoveChoice, slot: str, week: str, csrf: str, *,
                 error: str | None = None) -> str:
    """The confirmation of the new date: a form that moves the RDV (its current start rides along, so that
    a resubmission moves it once)."""
    alert = f'<p class="alert" role="alert">{_e(error)}</p>' if error else ""
    return page("Confirmer le nouvel horaire", (
        "<h1>Confirmez le nouvel horaire</h1>"
        f"{_current(choice)}{alert}"
        f'<p class="when">Nouvelle date : {_e(choice.new_when or "")}</p>'
        "<p>Votre ancien horaire sera libéré. Le service est prévenu et vous recevez une confirmation.</p>"
        f'<form method="post" action="{_e(routes.usager_link_move(rdv_id))}" data-busy="Enregistrement en cours…">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        f'<input type="hidden" name="creneau" value="{_e(slot)}">'
        f'<input type="hidden" name="depuis" value="{_e(choice.current_starts_at.isoformat())}">'
        '<div class="actions"><button class="button button-primary" type="submit">Confirmer le nouvel horaire</button>'
        f'<a class="button button-secondary" href="{_e(routes.usager_link_move(rdv_id, week=week))}">'
        "Choisir un autre horaire</a></div></form>"
    ))
