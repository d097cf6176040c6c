""""Santé du service" (super admins, issue 27): the notification queues, the last delivery errors, the workers,
the daily jobs, the webhook endpoints disabled, the database's size and the disk; "Relancer" for the
messages given up."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.service_health import ServiceHealthState as H


def _table(label: str, headers: tuple[str, ...], body: rx.Component) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers])),
        body, variant="surface", width="100%", aria_label=label,
    )


def _section(heading_id: str, title: str, *children: rx.Component) -> rx.Component:
    """A titled section of the page, named by its heading."""
    return rx.el.section(rx.heading(title, as_="h2", size="5", id=heading_id), *children, width="100%",
                         aria_labelledby=heading_id)


def queues_section() -> rx.Component:
    return _section("files-titre", "Files d'envoi",
        rx.text("Messages en attente, en cours d'envoi et en échec définitif, et depuis combien de temps le plus "
                "ancien message dû attend. « Relancer » remet les messages en échec définitif dans la file, avec "
                "de nouveaux essais.", color=styles.TEXT_MUTED),
        status_region(H.health_message),
        form_alert(H.health_error),
        _table("Files d'envoi par canal", ("Canal", "En attente", "En cours", "En échec définitif",
                                           "Plus ancien message dû", "Action"),
               rx.table.body(rx.foreach(H.queues, lambda q: rx.table.row(
                   rx.table.row_header_cell(q.label), rx.table.cell(q.pending), rx.table.cell(q.sending),
                   rx.table.cell(q.failed), rx.table.cell(q.oldest),
                   rx.table.cell(rx.cond(
                       q.can_requeue,
                       rx.button("Relancer", variant="outline", size="2", on_click=H.requeue(q.channel),
                                 loading=H.requeuing == q.channel, aria_label="Relancer les messages en échec : " + q.label),
                       rx.text("—"),
                   )),
               )))))


def errors_section() -> rx.Component:
    return _section("erreurs-titre", "Dernières erreurs d'envoi",
        rx.cond(
            H.errors.length() > 0,
            _table("Dernières erreurs d'envoi", ("Date", "Canal", "Événement", "Erreur"),
                   rx.table.body(rx.foreach(H.errors, lambda e: rx.table.row(
                       rx.table.row_header_cell(e.at), rx.table.cell(e.channel), rx.table.cell(e.event),
                       rx.table.cell(e.kind))))),
            rx.text("Aucune erreur d'envoi."),
        ))


def workers_section() -> rx.Component:
    return _section("workers-titre", "Workers de notification",
        rx.cond(
            H.workers.length() > 0,
            _table("Workers de notification", ("Worker", "Démarré", "Dernier signe de vie", "État"),
                   rx.table.body(rx.foreach(H.workers, lambda w: rx.table.row(
                       rx.table.row_header_cell(w.name), rx.table.cell(w.started), rx.table.cell(w.heartbeat),
                       rx.table.cell(w.status))))),
            rx.el.p("Aucun worker en marche : les SMS, emails et webhooks ne partent pas.", role="alert",
                    class_name="form-alert"),
        ))


def jobs_section() -> rx.Component:
    return _section("taches-titre", "Tâches quotidiennes",
        _table("Tâches quotidiennes", ("Tâche", "Dernière exécution réussie", "État"),
               rx.table.body(rx.foreach(H.jobs, lambda j: rx.table.row(
                   rx.table.row_header_cell(j.job), rx.table.cell(j.last_success), rx.table.cell(j.status))))))


def webhooks_and_storage_section() -> rx.Component:
    return _section("stockage-titre", "Webhooks et stockage",
        rx.el.dl(
            rx.el.dt("Points de terminaison en échec (encore actifs)"), rx.el.dd(H.failing_endpoints),
            rx.el.dt("Taille de la base de données"), rx.el.dd(H.database_size),
            rx.el.dt("Espace disque libre (serveur de l'application)"), rx.el.dd(H.disk_free),
        ),
        rx.cond(
            H.disabled_endpoints.length() > 0,
            _table("Points de terminaison désactivés", ("Organisation", "Serveur", "Désactivé le"),
                   rx.table.body(rx.foreach(H.disabled_endpoints, lambda e: rx.table.row(
                       rx.table.row_header_cell(e.organisation), rx.table.cell(e.host), rx.table.cell(e.disabled_at))))),
            rx.text("Aucun point de terminaison de webhook désactivé."),
        ))


@agent_page(routes.SUPER_ADMIN_HEALTH, "Santé du service", load=H.load_health)
def service_health() -> rx.Component:
    return rx.vstack(
        rx.link("Retour à la super administration", href=routes.SUPER_ADMIN, class_name="back-link"),
        rx.heading("Santé du service", as_="h1", size="7"),
        rx.cond(
            H.health_loading,
            loading_block("Chargement de l'état du service…"),
            rx.cond(
                H.health_denied != "",
                form_alert(H.health_denied),
                rx.fragment(
                    rx.hstack(
                        rx.text("État au ", H.checked_at, color=styles.TEXT_MUTED),
                        rx.button("Actualiser", variant="outline", size="2", on_click=H.refresh),
                        align="center", spacing="3", wrap="wrap",
                    ),
                    queues_section(),
                    errors_section(),
                    workers_section(),
                    jobs_section(),
                    webhooks_and_storage_section(),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
