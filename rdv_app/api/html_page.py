"""The one HTML shell of the pages the server renders itself: the usager's "Infos et annulation" link
(`usager_pages`), the email sign-in and FranceConnect pages (`usager_auth_http`), the demo mailbox.

Why not Reflex pages: these open from an SMS or an email on a phone, often on a slow connection, and must
show at the first response, without JavaScript and without a websocket; their forms are real POSTs that
carry the HttpOnly cookies, and the small script only marks a button busy while its form is sent. The
look is the app's, the State design system's (DSFR) header and footer drawn with the tokens of
`rdv_app.styles` as the same custom properties as `assets/styles.css` (the "Marque État" block only for a
State service, the footer's links to the legal pages); the CSS is inline, and the script is one small file cached by the
browser (`routes.PAGES_SCRIPT`: the pages' Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

from html import escape

from rdv_app import routes, styles
from rdv_app.config import settings

APP_NAME = settings.product_name

_CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--rdv-text);background:var(--rdv-background);font-family:var(--rdv-font);
 font-size:1rem;line-height:1.5}
a{color:var(--rdv-blue)}
a:focus-visible,button:focus-visible,input:focus-visible{outline:2px solid var(--rdv-blue);outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;
 clip:rect(0,0,0,0);white-space:nowrap;border:0}
.skip-link{position:absolute;left:-999px;top:0;padding:.5rem 1rem;background:var(--rdv-blue);
 color:var(--rdv-on-colour);z-index:100}
.skip-link:focus{left:.5rem;top:.5rem}
.site-header{background:var(--rdv-background);box-shadow:0 8px 8px -8px rgba(0,0,18,.16)}
.header-inner{max-width:40rem;margin:0 auto;padding:.75rem 1rem}
.marque{margin:0 0 .5rem;font-weight:700;text-transform:uppercase;line-height:1.05;letter-spacing:-.01em;
 font-size:1.05rem}
.brand{text-decoration:none;font-weight:700;color:var(--rdv-text)}
.brand-name{font-size:1.25rem}
.tagline{margin:0;font-size:.875rem;color:var(--rdv-text-muted)}
.site-main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem;min-height:60vh;outline:none}
.site-footer{border-top:2px solid var(--rdv-blue);color:var(--rdv-text-muted);font-size:.875rem}
.footer-inner{max-width:40rem;margin:0 auto;padding:1.5rem 1rem}
.footer-links{list-style:none;margin:0;padding:.75rem 0 0;border-top:1px solid var(--rdv-border);display:flex;
 flex-wrap:wrap;gap:.25rem 1rem}
.footer-links a{color:var(--rdv-text-muted);display:inline-flex;align-items:center;min-height:24px}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
p{margin:0 0 1rem}
.lead{color:var(--rdv-text-muted)}
.card{border:1px solid var(--rdv-border);border-radius:8px;padding:1rem;margin:0 0 1rem}
.facts{margin:0;display:grid;grid-template-columns:1fr;gap:.15rem}
.facts dt{font-weight:700;margin-top:.6rem}
.facts dt:first-child{margin-top:0}
.facts dd{margin:0}
.when::first-letter{text-transform:uppercase}
.pre{white-space:pre-line}
.alert{border-left:4px solid var(--rdv-error);background:var(--rdv-error-surface);padding:.75rem 1rem;margin:0 0 1rem}
.info{border-left:4px solid var(--rdv-blue);background:var(--rdv-info-surface);padding:.75rem 1rem;margin:0 0 1rem}
.success{border-left:4px solid var(--rdv-success);background:var(--rdv-success-surface);padding:.75rem 1rem;
 margin:0 0 1rem}
.badge{display:inline-block;border-radius:4px;padding:.1rem .5rem;font-weight:700;font-size:.9rem;
 background:var(--rdv-error-surface);color:var(--rdv-error);margin:0 0 1rem}
.field{display:flex;flex-direction:column;gap:.35rem;margin:0 0 1rem}
.field label{font-weight:700}
.hint{font-size:.875rem;color:var(--rdv-text-muted)}
.text-input{width:100%;max-width:12rem;padding:.6rem .75rem;font-size:1.25rem;letter-spacing:.2em;
 text-transform:uppercase;border:1px solid var(--rdv-input-border);border-radius:4px;background:var(--rdv-background);
 color:var(--rdv-text)}
.text-input[aria-invalid="true"]{border-color:var(--rdv-error)}
.field-error{color:var(--rdv-error);font-size:.9rem;margin:0}
.actions{display:flex;flex-direction:column;gap:.75rem;margin:1.5rem 0 0}
.button{display:flex;align-items:center;justify-content:center;min-height:48px;padding:.6rem 1rem;border-radius:0;
 font-size:1rem;font-weight:700;text-decoration:none;cursor:pointer;border:2px solid var(--rdv-blue);width:100%}
.button-primary{background:var(--rdv-blue);color:var(--rdv-on-colour)}
.button-secondary{background:var(--rdv-background);color:var(--rdv-blue)}
.button-danger{background:var(--rdv-error);border-color:var(--rdv-error);color:var(--rdv-on-colour)}
.button[disabled]{opacity:.7;cursor:progress}
.contact-link{display:inline-flex;align-items:center;min-height:44px;min-width:44px}
@media (min-width:40rem){.actions{flex-direction:row;flex-wrap:wrap}.button{width:auto}}
.week-nav{display:flex;justify-content:space-between;gap:1rem;margin:0 0 .5rem}
.week-nav a{display:inline-flex;align-items:center;min-height:44px}
.slot-day{padding:.75rem 0;border-bottom:1px solid var(--rdv-border)}
.slot-day h3{font-size:1rem;margin:0}
.slot-times{list-style:none;padding:0;margin:.5rem 0 0;display:flex;flex-wrap:wrap;gap:.5rem}
.slot-times .button{width:auto;min-width:4.5rem}
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


def e(text: object) -> str:
    """Text escaped for HTML, quotes included (safe in attributes too)."""
    return escape(str(text), quote=True)


def _legal_links() -> str:
    return "".join(f'<li><a href="{e(settings.frontend_url(path))}">{e(label)}</a></li>'
                   for label, path in routes.LEGAL_LINKS)


def page(title: str, body: str) -> str:
    """A whole page: `body` (which starts with the page's h1) in the app's header, main and footer."""
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{e(title)} – {APP_NAME}</title>"
        f"<style>{styles.css_custom_properties()}{_CSS}</style></head><body>"
        '<nav aria-label="Accès rapide"><a class="skip-link" href="#contenu">Aller au contenu</a></nav>'
        '<header class="site-header"><div class="header-inner">'
        + ('<p class="marque">République<br>Française</p>' if settings.marque_etat else "")
        + f'<a class="brand" href="{settings.frontend_url(routes.HOME)}"><span class="brand-name">{APP_NAME}</span></a>'
        '<p class="tagline">Prendre rendez-vous avec vos services publics</p></div></header>'
        f'<main id="contenu" tabindex="-1" class="site-main">{body}</main>'
        '<footer class="site-footer"><div class="footer-inner">'
        "<p>Service de prise de rendez-vous des services publics. Logiciel libre.</p>"
        f'<ul class="footer-links">{_legal_links()}</ul></div>'
        f'</footer><script src="{routes.PAGES_SCRIPT}" defer></script></body></html>'
    )
