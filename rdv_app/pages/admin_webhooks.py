"""Admin page "Webhooks": endpoints of the organisation, their secret (shown once), their delivery log."""

from __future__ import annotations

import reflex as rx
from reflex.vars.object import ObjectVar

from rdv_app import routes
from rdv_app.components.fields import field_error
from rdv_app.components.forms import form_alert, loaded_fieldset
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import badge, delete_dialog, info_box, status_region
from rdv_app.pages.template import agent_page
from rdv_app.services.integrations.webhooks import subscription_choices
from rdv_app.state.admin_webhooks import SUBSCRIPTION_FIELD_PREFIX, AdminWebhooksState
from rdv_app.state.agent import AgentState

S = AdminWebhooksState


def _error_for(field: str) -> rx.Var:
    return rx.cond(S.form_field == field, S.form_error, "")


def _subscription_box(value: str, label: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=SUBSCRIPTION_FIELD_PREFIX + value,
                    default_checked=S.form_subscriptions.contains(value), key=S.form_key),
        label,
        class_name="checkbox-label",
    )


def endpoint_form() -> rx.Component:
    url_error = _error_for("target_url")
    other_error = rx.cond((S.form_field == "target_url") | (S.form_field == "subscriptions"), "", S.form_error)
    return rx.form(loaded_fieldset(
        rx.vstack(
            rx.heading(rx.cond(S.editing == "new", "Nouveau webhook", "Modifier le webhook"), as_="h2", size="5",
                       id="webhook-formulaire"),
            rx.box(
                rx.el.label("Adresse de réception", html_for="webhook-url", class_name="field-label"),
                rx.text("Une adresse https de votre logiciel, qui accepte des requêtes POST en JSON.",
                        id="webhook-url-aide", class_name="field-hint"),
                rx.el.input(id="webhook-url", name="target_url", type="url", default_value=S.form_url, key=S.form_key,
                            required=True, auto_complete="url", class_name="text-input",
                            placeholder="https://", aria_describedby="webhook-url-aide webhook-url-erreur",
                            aria_invalid=rx.cond(url_error != "", "true", "false")),
                field_error("webhook-url", url_error),
                width="100%",
            ),
            rx.el.fieldset(
                rx.el.legend("Objets envoyés (créations, modifications, suppressions)", class_name="field-label"),
                rx.el.div(*[_subscription_box(value, label) for value, label in subscription_choices()],
                          class_name="choice-row"),
                field_error("webhook-abonnements", _error_for("subscriptions")),
                aria_describedby="webhook-abonnements-erreur",
                class_name="agents-fieldset",
            ),
            rx.cond(
                S.editing != "new",
                rx.el.label(
                    rx.el.input(type="checkbox", name="enabled", default_checked=S.form_enabled, key=S.form_key),
                    "Actif (décocher pour suspendre les envois)",
                    class_name="checkbox-label",
                ),
            ),
            form_alert(other_error),
            rx.flex(
                rx.button("Enregistrer", type="submit", size="3", loading=S.saving),
                rx.button("Annuler", type="button", variant="outline", size="3", on_click=S.close_form),
                gap="0.75rem", wrap="wrap",
            ),
            spacing="3", width="100%",
        ),
        loaded_for=S.loaded_for),
        no_validate=True, on_submit=S.save,
        aria_labelledby="webhook-formulaire",
        class_name="inline-panel",
        width="100%",
    )


def new_secret_box() -> rx.Component:
    return rx.cond(
        S.new_secret != "",
        rx.el.div(
            rx.el.p(rx.el.strong("Secret du webhook : copiez-le maintenant, il ne sera plus affiché. "),
                    "Votre logiciel s'en sert pour vérifier les signatures (X-Lapin-Signature et webhook-signature)."),
            rx.el.label("Secret", html_for="webhook-secret", class_name="field-label"),
            rx.el.input(id="webhook-secret", value=S.new_secret, read_only=True, class_name="text-input",
                        font_family="monospace"),
            rx.flex(
                rx.button(rx.icon("copy", size=16), "Copier le secret", type="button", size="3",
                          on_click=[rx.set_clipboard(S.new_secret), S.secret_copied]),
                rx.button("J'ai copié le secret", type="button", variant="outline", size="3", on_click=S.hide_secret),
                gap="0.75rem", wrap="wrap",
            ),
            class_name="warning-box",
        ),
    )


def endpoint_row(row: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.heading(row["url"], as_="h3", size="3", word_break="break-all"),
            rx.text("Objets : " + row["subscriptions"]),
            rx.text("Secret : ", rx.el.code(row["secret"])),
            badge(row["state"]),
            spacing="1", flex="1", min_width="0",
        ),
        rx.flex(
            rx.button(rx.icon("list", size=16), "Journal", variant="outline", size="3",
                      on_click=S.show_log(row["id"], row["url"]), aria_label="Journal des envois vers " + row["url"]),
            rx.button(rx.icon("pencil", size=16), "Modifier", variant="outline", size="3",
                      on_click=S.open_edit(row["id"]), aria_label="Modifier le webhook " + row["url"]),
            rx.button(rx.icon("trash-2", size=16), "Supprimer", variant="outline", color_scheme="red", size="3",
                      on_click=S.ask_delete(row["id"], row["url"]), aria_label="Supprimer le webhook " + row["url"]),
            gap="0.5rem", wrap="wrap",
        ),
        class_name="planning-row",
    )


def delivery_row(row: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["when"]),
        rx.table.cell(row["what"]),
        rx.table.cell(row["attempt"]),
        rx.table.cell(rx.cond(row["succeeded"] != "", badge(row["result"]),
                              rx.el.span(row["result"], class_name="status-badge failed-badge"))),
        rx.table.cell(row["latency"]),
        rx.table.cell(rx.el.code(row["response"], word_break="break-all")),
        rx.table.cell(rx.cond(
            row["resendable"] != "",
            rx.button("Renvoyer", size="2", variant="outline", loading=S.resending_id == row["message_id"],
                      on_click=S.resend(row["message_id"]),
                      aria_label="Renvoyer le message " + row["what"] + " du " + row["when"]),
        )),
    )


def delivery_log() -> rx.Component:
    return rx.cond(
        S.log_endpoint_id != "",
        rx.el.section(
            rx.flex(
                rx.heading("Journal des envois", as_="h2", size="5", id="webhook-journal"),
                rx.button("Fermer le journal", type="button", variant="outline", size="2", on_click=S.close_log),
                justify="between", align="center", wrap="wrap", gap="0.5rem", width="100%",
            ),
            rx.text(S.log_url, word_break="break-all"),
            rx.cond(
                S.log_loading,
                loading_block("Chargement du journal…"),
                rx.cond(
                    S.log.length() > 0,
                    rx.box(
                        rx.table.root(
                            rx.table.header(rx.table.row(*[
                                rx.table.column_header_cell(h, scope="col")
                                for h in ("Date", "Objet", "Tentative", "Résultat", "Durée", "Réponse", "Action")])),
                            rx.table.body(rx.foreach(S.log, delivery_row)),
                            variant="surface", width="100%",
                        ),
                        overflow_x="auto", width="100%",
                    ),
                    rx.text("Aucun envoi pour l'instant."),
                ),
            ),
            class_name="planning-section",
            aria_labelledby="webhook-journal",
        ),
    )


def webhooks_content() -> rx.Component:
    return rx.vstack(
        info_box("Les webhooks envoient à un logiciel de votre organisation chaque création, modification et "
                 "suppression des objets choisis, au format JSON de RDV Service Public. Chaque message est signé "
                 "(en-têtes X-Lapin-Signature et Standard Webhooks). Un webhook en échec depuis 3 jours est "
                 "désactivé et les administrateurs sont prévenus par email."),
        status_region(S.message),
        form_alert(S.action_error),
        new_secret_box(),
        rx.cond(
            S.editing != "",
            endpoint_form(),
            rx.button(rx.icon("plus", size=16), "Ajouter un webhook", size="3", on_click=S.open_new),
        ),
        rx.heading("Webhooks de l'organisation", as_="h2", size="5"),
        rx.cond(
            S.endpoints.length() > 0,
            rx.el.ul(rx.foreach(S.endpoints, endpoint_row), class_name="planning-list"),
            rx.text("Aucun webhook configuré."),
        ),
        delivery_log(),
        delete_dialog("Supprimer ce webhook ?",
                      "Les messages en attente pour " + S.deleting_url + " ne seront pas envoyés et son journal "
                      "sera effacé.",
                      is_open=S.deleting_id != "", on_open_change=S.delete_dialog_changed,
                      on_confirm=S.confirm_delete, busy=S.deleting),
        spacing="4", width="100%",
    )


@agent_page(routes.ADMIN_WEBHOOKS, "Webhooks", load=AdminWebhooksState.load)
def admin_webhooks() -> rx.Component:
    return rx.vstack(
        rx.heading("Webhooks", as_="h1", size="7"),
        rx.text(AgentState.current_org_name),
        rx.cond(
            S.loading,
            loading_block("Chargement des webhooks…"),
            rx.cond(S.denied == "", webhooks_content(), form_alert(S.denied)),
        ),
        spacing="4", width="100%",
    )
