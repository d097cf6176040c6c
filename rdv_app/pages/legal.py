"""The legal pages every French public site has, linked from the DSFR footer: accessibility statement,
mentions légales, personal data, cookies. Who runs the deployment (operator, contact, DPO, host) comes from
the RDV_* settings (`rdv_app.config`); what is kept and for how long, from the purges themselves
(`rdv_app.services.retention.RETENTION_TABLE`)."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes
from rdv_app.components import dsfr
from rdv_app.config import settings
from rdv_app.domain.sessions import USAGER_SESSION_LIFETIME
from rdv_app.domain.usager_link import ACCESS_LIFETIME, VERIFIED_LIFETIME
from rdv_app.pages.template import template
from rdv_app.services.retention import RETENTION_TABLE

PRODUCT = settings.product_name

# name, purpose, lifetime: every cookie the app sets, all strictly necessary to the service.
COOKIES = (
    (routes.USAGER_SESSION_COOKIE, "garde l'usager connecté à son compte (« Mes rendez-vous »)",
     f"{USAGER_SESSION_LIFETIME.days} jours"),
    (routes.USAGER_ACCESS_COOKIE, "ouvre la page « Infos et annulation » depuis le lien reçu par SMS",
     f"{int(ACCESS_LIFETIME.total_seconds() // 60)} minutes"),
    (routes.USAGER_VERIFIED_COOKIE, "retient que les initiales du nom ont été vérifiées sur cette page",
     f"{int(VERIFIED_LIFETIME.total_seconds() // 60)} minutes"),
    (routes.USAGER_DEVICE_COOKIE, "limite le nombre de comptes créés depuis un même navigateur (sécurité)", "1 an"),
    (routes.FRANCECONNECT_FLOW_COOKIE, "protège la connexion avec FranceConnect le temps de l'aller-retour",
     "15 minutes"),
    (routes.AGENT_SESSION_COOKIE, "garde un agent connecté à son espace", f"{settings.agent_session_hours} heures"),
    (routes.AGENT_SIGN_IN_BINDING_COOKIE, "lie la connexion d'un agent au navigateur qui l'a demandée",
     "le temps de la connexion"),
    (routes.OUTLOOK_FLOW_COOKIE, "protège la connexion d'un agent à son agenda Outlook", "15 minutes"),
)


def _breadcrumb(current: str) -> rx.Component:
    return dsfr.breadcrumb([("Accueil", routes.HOME)], current)


def _table(caption: str, headers: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> rx.Component:
    return rx.el.div(
        rx.el.table(
            rx.el.caption(caption),
            rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in headers])),
            rx.el.tbody(*[rx.el.tr(*[rx.el.td(cell) for cell in row]) for row in rows]),
        ),
        class_name="legal-table", tab_index=0, role="region", aria_label=caption,
    )


def _page(title: str, *content: rx.Component) -> rx.Component:
    return rx.el.div(_breadcrumb(title), rx.el.h1(title), *content, class_name="legal-page")


@template(routes.ACCESSIBILITY, "Déclaration d'accessibilité",
          description="Déclaration d'accessibilité du service de prise de rendez-vous : conformité RGAA et contact.")
def accessibility() -> rx.Component:
    return _page(
        "Déclaration d'accessibilité",
        rx.el.p(f"{settings.operator_name} s'engage à rendre ses services numériques accessibles, conformément à "
                "l'article 47 de la loi n° 2005-102 du 11 février 2005. Cette déclaration s'applique à "
                f"{PRODUCT} ({settings.public_url})."),
        rx.el.h2("État de conformité"),
        rx.el.p(f"{PRODUCT} est {routes.ACCESSIBILITY_CONFORMITY} avec le référentiel général d'amélioration de l'accessibilité "
                "(RGAA), version 4.1."),
        rx.el.h2("Résultats des tests"),
        rx.el.p("Chaque page et chaque fenêtre des parcours usager et agent est contrôlée automatiquement avec "
                "axe-core (règles WCAG 2.2 niveaux A et AA) à chaque modification du logiciel, sur téléphone et "
                "sur ordinateur : aucune erreur n'est tolérée. Les parcours sont aussi vérifiés au clavier. Le "
                "détail des critères contrôlés par les tests et à la main figure dans le document « "
                "accessibilite.md » du code source du logiciel."),
        rx.el.h2("Contenus non accessibles"),
        rx.el.ul(
            rx.el.li("L'agenda des agents (bibliothèque FullCalendar) : certaines cellules de la vue mensuelle ont "
                     "des libellés qui ne correspondent pas à leur contenu."),
            rx.el.li("Aucun audit complet du RGAA par un organisme tiers n'a encore été réalisé."),
        ),
        rx.el.h2("Technologies utilisées"),
        rx.el.p("HTML, CSS, JavaScript (React), le Système de Design de l'État (DSFR)."),
        rx.el.h2("Retour d'information et contact"),
        rx.el.p("Si vous n'arrivez pas à accéder à un contenu ou à un service, vous pouvez nous écrire à ",
                rx.el.a(settings.contact_email, href=f"mailto:{settings.contact_email}"),
                " pour être orienté vers une alternative accessible ou obtenir le contenu sous une autre forme."),
        rx.el.h2("Voies de recours"),
        rx.el.p("Si vous nous avez signalé un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à un "
                "service et que vous n'avez pas obtenu de réponse satisfaisante, vous pouvez écrire au Défenseur "
                "des droits, contacter son délégué dans votre région, ou lui écrire par courrier gratuit : "
                "Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07."),
    )


@template(routes.LEGAL_NOTICE, "Mentions légales",
          description="Mentions légales du service de prise de rendez-vous : éditeur, directeur de publication, hébergeur.")
def legal_notice() -> rx.Component:
    return _page(
        "Mentions légales",
        rx.el.h2("Éditeur"),
        rx.el.p(f"{PRODUCT} est édité par {settings.operator_name}, {settings.operator_address}."),
        rx.el.p("Contact : ", rx.el.a(settings.contact_email, href=f"mailto:{settings.contact_email}")),
        rx.el.h2("Directeur ou directrice de la publication"),
        rx.el.p(settings.publication_director),
        rx.el.h2("Hébergement"),
        rx.el.p(settings.hosting_provider),
        rx.el.h2("Logiciel"),
        rx.el.p(f"{PRODUCT} est un logiciel libre, publié sous licence AGPL-3.0 ou ultérieure."),
        rx.el.h2("Accessibilité"),
        rx.el.p("Voir la ", rx.el.a("déclaration d'accessibilité", href=routes.ACCESSIBILITY), "."),
    )


@template(routes.PERSONAL_DATA, "Données personnelles",
          description="Les données personnelles que garde le service de prise de rendez-vous, et pour combien de temps.")
def personal_data() -> rx.Component:
    return _page(
        "Données personnelles",
        rx.el.h2("Responsable du traitement"),
        rx.el.p(f"{settings.operator_name}, {settings.operator_address}. Les services qui vous reçoivent en "
                "rendez-vous sont responsables des données qu'ils saisissent sur leurs usagers."),
        rx.el.h2("Données traitées et finalité"),
        rx.el.p("Pour prendre, rappeler et gérer vos rendez-vous : votre identité (nom, prénom), vos coordonnées "
                "(email, téléphone, adresse si le service la demande), vos rendez-vous et ceux de vos proches, "
                "les SMS et emails qui vous sont envoyés. La base légale est l'exécution d'une mission de service "
                "public."),
        rx.el.h2("Durées de conservation"),
        rx.el.p("Les données sont supprimées automatiquement chaque jour aux échéances suivantes :"),
        _table("Durées de conservation des données", ("Données", "Durée de conservation"), RETENTION_TABLE),
        rx.el.h2("Destinataires"),
        rx.el.p("Les agents des services où vous prenez rendez-vous, et nos sous-traitants techniques : "
                f"l'hébergeur ({settings.hosting_provider}) et le prestataire d'envoi des SMS."),
        rx.el.h2("Vos droits"),
        rx.el.p("Vous disposez d'un droit d'accès, de rectification, d'effacement, de limitation et d'opposition. "
                "Pour les exercer, écrivez au délégué à la protection des données : ",
                rx.el.a(settings.dpo_contact, href=f"mailto:{settings.dpo_contact}"),
                ". Vous pouvez aussi adresser une réclamation à la CNIL."),
        rx.el.h2("Cookies"),
        rx.el.p("Voir la page ", rx.el.a("Gestion des cookies", href=routes.COOKIES), "."),
    )


@template(routes.COOKIES, "Gestion des cookies",
          description="Les cookies du service de prise de rendez-vous : uniquement ceux strictement nécessaires.")
def cookies() -> rx.Component:
    return _page(
        "Gestion des cookies",
        rx.el.p(f"{PRODUCT} ne dépose que des cookies strictement nécessaires à son fonctionnement : ni mesure "
                "d'audience, ni publicité, ni réseau social. Ces cookies sont exemptés de consentement (article 82 "
                "de la loi Informatique et Libertés) : aucun bandeau ne vous le demande donc."),
        _table("Cookies déposés par le service", ("Nom", "Utilité", "Durée"), COOKIES),
        rx.el.p("Votre choix de thème (« Paramètres d'affichage » : clair, sombre ou système) est gardé dans votre "
                "navigateur et n'est jamais transmis au serveur."),
    )
