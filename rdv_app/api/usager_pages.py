"""The usager's "Infos et annulation" pages, rendered on the server as plain HTML.

Why not Reflex pages: the person arrives from an SMS on a phone, often on a slow connection, and must
see their RDV at once. Plain HTML shows at the first response, works without JavaScript and without
a websocket, and its forms are real POSTs that carry the HttpOnly cookies; the small script only marks
buttons busy while a form is sent. The look follows the app's (same header, colours and fonts); the
CSS is inline so that the page needs a single request.
"""

from __future__ import annotations

from html import escape

from rdv_app import routes
from rdv_app.config import settings
from rdv_app.domain.enums import LocationType
from rdv_app.domain.usager_link import CancelRefusal
from rdv_app.services.usagers.usager_link import RdvSummary

APP_NAME = "RDV Services Publics"
INITIALS_LABEL = "Saisissez les trois premières lettres de votre nom de famille"

_CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:#161616;background:#fff;font-family:Marianne,'Helvetica Neue',Arial,sans-serif;
 font-size:1rem;line-height:1.5}
a{color:#000091}
a:focus-visible,button:focus-visible,input:focus-visible{outline:2px solid #000091;outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;
 clip:rect(0,0,0,0);white-space:nowrap;border:0}
.skip-link{position:absolute;left:-999px;top:0;padding:.5rem 1rem;background:#000091;color:#fff;z-index:100}
.skip-link:focus{left:.5rem;top:.5rem}
.site-header{border-bottom:1px solid #ddd;background:#fff}
.header-inner{max-width:40rem;margin:0 auto;padding:.75rem 1rem}
.brand{display:inline-flex;align-items:center;gap:.5rem;text-decoration:none;font-weight:700}
.brand-mark{background:#000091;color:#fff;padding:.15rem .4rem;border-radius:4px;font-size:.85rem;letter-spacing:.05em}
.brand-name{color:#000091;font-size:1.05rem}
.site-main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem;min-height:60vh;outline:none}
.site-footer{max-width:40rem;margin:0 auto;padding:1.5rem 1rem;border-top:1px solid #ddd;color:#3a3a3a;font-size:.875rem}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
p{margin:0 0 1rem}
.lead{color:#3a3a3a}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem;margin:0 0 1rem}
.facts{margin:0;display:grid;grid-template-columns:1fr;gap:.15rem}
.facts dt{font-weight:700;margin-top:.6rem}
.facts dt:first-child{margin-top:0}
.facts dd{margin:0}
.when::first-letter{text-transform:uppercase}
.pre{white-space:pre-line}
.alert{border-left:4px solid #ce0500;background:#fff4f3;padding:.75rem 1rem;margin:0 0 1rem}
.info{border-left:4px solid #000091;background:#f5f5fe;padding:.75rem 1rem;margin:0 0 1rem}
.success{border-left:4px solid #18753c;background:#f3fbf6;padding:.75rem 1rem;margin:0 0 1rem}
.badge{display:inline-block;border-radius:4px;padding:.1rem .5rem;font-weight:700;font-size:.9rem;
 background:#ffe9e9;color:#ce0500;margin:0 0 1rem}
.field{display:flex;flex-direction:column;gap:.35rem;margin:0 0 1rem}
.field label{font-weight:700}
.hint{font-size:.875rem;color:#3a3a3a}
.text-input{width:100%;max-width:12rem;padding:.6rem .75rem;font-size:1.25rem;letter-spacing:.2em;
 text-transform:uppercase;border:1px solid #666;border-radius:4px;background:#fff;color:#161616}
.text-input[aria-invalid="true"]{border-color:#ce0500}
.field-error{color:#ce0500;font-size:.9rem;margin:0}
.actions{display:flex;flex-direction:column;gap:.75rem;margin:1.5rem 0 0}
.button{display:flex;align-items:center;justify-content:center;min-height:48px;padding:.6rem 1rem;border-radius:6px;
 font-size:1rem;font-weight:700;text-decoration:none;cursor:pointer;border:2px solid #000091;width:100%}
.button-primary{background:#000091;color:#fff}
.button-secondary{background:#fff;color:#000091}
.button-danger{background:#ce0500;border-color:#ce0500;color:#fff}
.button[disabled]{opacity:.7;cursor:progress}
@media (min-width:40rem){.actions{flex-direction:row;flex-wrap:wrap}.button{width:auto}}
"""

# Busy state while a form is sent: the button says so and cannot be pressed twice.
# Served at routes.PAGES_SCRIPT: the pages' Content-Security-Policy allows no inline script.
SCRIPT = """
document.querySelectorAll("form[data-busy]").forEach(function (form) {
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; button.textContent = form.dataset.busy; }
    form.setAttribute("aria-busy", "true");
  });
});
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{_e(title)} – {APP_NAME}</title><style>{_CSS}</style></head><body>"
        '<a class="skip-link" href="#contenu">Aller au contenu</a>'
        '<header class="site-header"><div class="header-inner">'
        f'<a class="brand" href="{settings.frontend_url(routes.HOME)}"><span class="brand-mark" aria-hidden="true">RDV</span>'
        f'<span class="brand-name">{APP_NAME}</span></a></div></header>'
        f'<main id="contenu" tabindex="-1" class="site-main">{body}</main>'
        '<footer class="site-footer"><p>Service de prise de rendez-vous des services publics. Logiciel libre.</p>'
        f'</footer><script src="{routes.PAGES_SCRIPT}" defer></script></body></html>'
    )


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


def initials_form(rdv_id: int, csrf: str, *, error: str | None = None, locked: str | None = None) -> str:
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
    return page("Vérification de votre identité", (
        "<h1>Vérification de votre identité</h1>"
        '<p class="lead">Pour voir votre rendez-vous, confirmez qu\'il s\'agit bien de vous.</p>'
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
    lines = [f"<p>{_e(summary.organisation_name)}"]
    if summary.contact_phone:
        tel = "".join(c for c in summary.contact_phone if c.isdigit() or c == "+")
        lines.append(f'<br>Téléphone : <a href="tel:{_e(tel)}">{_e(summary.contact_phone)}</a>')
    if summary.contact_email:
        lines.append(f'<br>Email : <a href="mailto:{_e(summary.contact_email)}">{_e(summary.contact_email)}</a>')
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


def rdv_summary(summary: RdvSummary, *, just_cancelled: bool = False, error: str | None = None) -> str:
    header = ""
    if error:
        header += f'<p class="alert" role="alert">{_e(error)}</p>'
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
