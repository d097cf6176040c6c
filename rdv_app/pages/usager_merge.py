""""Fusionner deux usagers" (admin-domain.md 2.2) and "Doublons probables" (issue 18)."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, loaded_fieldset, switching_record
from rdv_app.components.layout import loading_block
from rdv_app.pages.template import agent_page
from rdv_app.state.usager_merge import MERGE_BUTTON_ID, FieldRow, FoundUsager, PairRow
from rdv_app.state.usager_merge import UsagerDuplicatesState as Duplicates
from rdv_app.state.usager_merge import UsagerMergeState as State

COMPARISON_HEADING_ID = "comparaison-titre"
DUPLICATES_HEADING_ID = "doublons-titre"


def _page(title: str, intro: str, loading_text: str, denied: rx.Var, loading: rx.Var,
          content: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.heading(title, as_="h1", size="7"),
        rx.cond(loading, loading_block(loading_text),
                rx.cond(denied != "", form_alert(denied),
                        rx.fragment(rx.text(intro, color=styles.TEXT_MUTED), content))),
        spacing="5", width="100%",
    )


# --------------------------------------------------------------------------- merge


def _found(side: str):
    def render(found: FoundUsager) -> rx.Component:
        return rx.el.li(rx.button(
            rx.vstack(rx.text(found.name, weight="bold"), rx.text(found.details, size="2"), spacing="0",
                      align="start"),
            type="button", variant="outline", size="3", on_click=switching_record(State, State.pick(side, found.id)),
            aria_label="Choisir " + found.name + " comme usager " + side.upper(), class_name="result-button"))
    return render


def _picker(side: str) -> rx.Component:
    chosen_name, chosen_birth = getattr(State, f"{side}_name"), getattr(State, f"{side}_birth_date")
    chosen_id = State.a_id if side == "a" else State.b_id
    query = getattr(State, f"query_{side}")
    results = getattr(State, f"results_{side}")
    field_id = f"recherche-usager-{side}"
    return rx.el.section(
        rx.heading(f"Usager {side.upper()}", as_="h2", size="5"),
        rx.cond(
            chosen_id != "",
            rx.vstack(
                rx.text(rx.cond(chosen_name != "", chosen_name, "Usager choisi"), weight="bold"),
                rx.cond(chosen_birth != "", rx.text("Né(e) le " + chosen_birth), rx.fragment()),
                rx.button("Changer d'usager", type="button", variant="outline", size="2", on_click=switching_record(State, State.change(side)),
                          aria_label=f"Changer d'usager {side.upper()}"),
                spacing="2", align="start",
            ),
            rx.box(
                rx.el.label(f"Rechercher l'usager {side.upper()}", html_for=field_id, class_name="field-label"),
                rx.el.input(id=field_id, type="search", default_value=query, key=State.search_key.to_string(),
                            placeholder="Prénom, nom", auto_complete="off", class_name="text-input",
                            disabled=State.loading,
                            on_change=State.search(side).debounce(300)),  # type: ignore[call-arg]
                rx.box(
                    rx.cond(State.searching == side, loading_block("Recherche…"),
                            rx.cond(results.length() > 0,
                                    rx.el.ul(rx.foreach(results, _found(side)), class_name="result-list"),
                                    rx.cond(query.length() >= 2,
                                            rx.text("Aucun usager de l'organisation ne correspond."),
                                            rx.fragment()))),
                    aria_live="polite",
                ),
                width="100%",
            ),
        ),
        class_name="planning-section", width="100%",
    )


def _value(row: FieldRow, side: str) -> rx.Component:
    value = row.value_a if side == "a" else row.value_b
    number = "1" if side == "a" else "2"
    return rx.table.cell(rx.cond(
        row.kind != "different",
        rx.text(value),
        rx.cond(
            row.forced != "",
            rx.cond(row.forced == number,
                    rx.text(value, " (FranceConnect)", weight="bold"),
                    rx.el.s(value)),
            rx.el.label(
                rx.el.input(type="radio", name=row.field, value=number, required=True),
                " ", value,
                aria_label=row.label + " : garder « " + value + f" » (usager {side.upper()})",
                class_name="checkbox-label",
            ),
        ),
    ))


def _field_row(row: FieldRow) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(row.label), _value(row, "a"), _value(row, "b"))


def _fixed_row(label: str, value_a: rx.Var, value_b: rx.Var) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell("🔒 " + label), rx.table.cell(value_a), rx.table.cell(value_b))


def _comparison() -> rx.Component:
    return rx.el.section(
        rx.heading("Comparaison", as_="h2", size="5", id=COMPARISON_HEADING_ID, tab_index=-1),
        rx.text("Pour chaque ligne qui diffère, choisissez la valeur à conserver. L'usager conservé est celui dont "
                "vous gardez l'email ; un proche est toujours fusionné dans son responsable. Les RDV, proches et "
                "agents référents de l'autre usager passent sur l'usager conservé.", color=styles.TEXT_MUTED),
        rx.form(loaded_fieldset(
            rx.vstack(
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Champ", scope="col"),
                        rx.table.column_header_cell("Usager A : " + State.a_name, scope="col"),
                        rx.table.column_header_cell("Usager B : " + State.b_name, scope="col"))),
                    rx.table.body(
                        rx.foreach(State.rows, _field_row),
                        _fixed_row("RDV", State.a_rdvs, State.b_rdvs),
                        _fixed_row("Agents référents", State.a_referents, State.b_referents),
                        _fixed_row("Proches", State.a_relatives, State.b_relatives),
                    ),
                    variant="surface", width="100%",
                ),
                rx.cond(State.a_note != "", rx.text("Usager A : " + State.a_note), rx.fragment()),
                rx.cond(State.b_note != "", rx.text("Usager B : " + State.b_note), rx.fragment()),
                form_alert(State.error),
                rx.el.button(rx.cond(State.merging, rx.spinner(size="2"), rx.icon("merge", size=16)), "Fusionner",
                             id=MERGE_BUTTON_ID, type="submit", disabled=State.merging | State.comparing,
                             class_name="danger-button"),
                spacing="4", width="100%", key=State.form_key.to_string(),
            ),
            loaded_for=State.loaded_for),
            no_validate=True, on_submit=State.ask_confirmation,
            reset_on_submit=False,
            aria_labelledby=COMPARISON_HEADING_ID,
            width="100%",
        ),
        width="100%",
    )


def _confirmation() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Fusionner ces deux usagers ?"),
            rx.alert_dialog.description("Êtes-vous certain(e) de vouloir fusionner ces deux usagers ? Cette action "
                                        "est définitive."),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Annuler", variant="outline", size="3")),
                rx.el.button(rx.cond(State.merging, rx.spinner(size="2"), rx.fragment()), "Fusionner définitivement",
                             on_click=State.confirm, disabled=State.merging, type="button",
                             class_name="danger-button"),
                justify="end", spacing="3", margin_top="1rem", wrap="wrap",
            ),
            # Opened by the form's submit, not by a trigger: the focus goes back to "Fusionner" itself.
            on_close_auto_focus=[rx.prevent_default,
                                 rx.call_script(f"document.getElementById('{MERGE_BUTTON_ID}')?.focus()")],
        ),
        open=State.confirming,
        on_open_change=State.confirmation_changed,
    )


@agent_page(routes.USAGERS_MERGE, "Fusionner deux usagers", load=State.load)
def usagers_merge() -> rx.Component:
    return _page(
        "Fusionner deux usagers",
        "Deux fiches désignent la même personne ? Choisissez-les, comparez-les, puis gardez une seule fiche.",
        "Chargement…", State.denied, State.loading,
        rx.vstack(
            form_alert(State.message),
            rx.grid(_picker("a"), _picker("b"), columns=rx.breakpoints(initial="1", md="2"), spacing="4",
                    width="100%"),
            rx.cond((State.a_id != "") & (State.b_id != ""),
                    rx.button("Échanger A et B", type="button", variant="outline", size="2", on_click=switching_record(State, State.swap)),
                    rx.fragment()),
            rx.cond(State.comparing, loading_block("Comparaison des deux usagers…"),
                    rx.cond(State.rows.length() > 0, _comparison(), rx.fragment())),
            _confirmation(),
            spacing="4", width="100%",
        ),
    )


# --------------------------------------------------------------------------- probable duplicates


def _pair(row: PairRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(row.first_name, weight="bold"), rx.text(row.first_details, size="2"),
                                           spacing="0")),
        rx.table.cell(rx.vstack(rx.text(row.second_name, weight="bold"), rx.text(row.second_details, size="2"),
                                spacing="0")),
        rx.table.cell(row.reasons),
        rx.table.cell(rx.link("Fusionner", href=row.merge_href, aria_label=row.label)),
    )


@agent_page(routes.USAGERS_DUPLICATES, "Doublons probables", load=Duplicates.load)
def usagers_duplicates() -> rx.Component:
    return rx.vstack(
        rx.heading("Doublons probables", as_="h1", size="7"),
        rx.text("Les usagers de l'organisation qui partagent un téléphone ou un email, ou dont les prénom, nom et "
                "date de naissance se ressemblent.", color=styles.TEXT_MUTED),
        rx.cond(
            Duplicates.loading, loading_block("Recherche des doublons…"),
            rx.cond(
                Duplicates.denied != "", form_alert(Duplicates.denied),
                rx.vstack(
                    rx.heading(rx.cond(Duplicates.total == 0, "Aucun doublon probable",
                                       Duplicates.total.to_string() + " paire(s) à vérifier"),
                               as_="h2", size="5", id=DUPLICATES_HEADING_ID, tab_index=-1),
                    rx.cond(Duplicates.total > 0, rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in (
                            "Usager", "Doublon probable", "Raisons", "Action")])),
                        rx.table.body(rx.foreach(Duplicates.pairs, _pair)),
                        variant="surface", width="100%",
                    ), rx.fragment()),
                    rx.cond(Duplicates.page_count > 1, rx.el.nav(rx.hstack(
                        rx.button("Page précédente", type="button", variant="outline", size="2",
                                  disabled=Duplicates.page <= 1, on_click=Duplicates.previous_page),
                        rx.text("Page " + Duplicates.page.to_string() + " sur " + Duplicates.page_count.to_string()),
                        rx.button("Page suivante", type="button", variant="outline", size="2",
                                  disabled=Duplicates.page >= Duplicates.page_count,
                                  on_click=Duplicates.next_page),
                        spacing="3", align="center"), aria_label="Pages des doublons"), rx.fragment()),
                    spacing="4", width="100%",
                ),
            ),
        ),
        spacing="5", width="100%",
    )
