"""Forms are born loaded (issue 25): a form shows, and saves, only values loaded for this page and record.

Reflex keeps a state across pages, and renders a page before its on_load has run: a form would show the
defaults, or the values of the record shown last, and a save in that gap would store them. So each
state holding a form says which page and record its values were loaded for, in `loaded_for`
(`path|record`): cleared when a load starts, set once the values are all there. The page keeps the form's
fields and buttons disabled (`rdv_app.components.forms.loaded_fieldset`) until then and until Reflex has
run every on_load of the page it shows (`is_hydrated`, false from the click that opens a page); the save
handler refuses, with `NOT_LOADED`, a save whose key does not match the record it would write. The
service checks the version the form loaded in the end (`rdv_app.services.versions`).

A control showing another record in the same page's form (`rdv_app.components.forms.switching_record`)
disables the form in the browser at the click; `switched` answers once the server has run the switch.
"""

from __future__ import annotations

import reflex as rx

from rdv_app.components.forms import LEFT_FORM, LOADED_FOR_FIELD
from rdv_app.state.typed_event import event

NOT_LOADED = ("Le formulaire n'était pas encore chargé : rien n'a été enregistré. Vérifiez les valeurs "
              "affichées, puis enregistrez de nouveau.")


class LoadedForMixin(rx.State, mixin=True):
    loaded_for: rx.Field[str] = rx.field("")

    def _loaded_record(self) -> str:
        """The record the form shows (its id, or what else tells it apart on this page)."""
        return ""

    def _load_key(self) -> str:
        return f"{self.router.route_id}|{self._loaded_record()}"

    def _loading(self) -> None:
        """A load starts: what the form shows is no longer loaded."""
        self.loaded_for = ""

    def _mark_loaded(self) -> None:
        """The form's values are all there, for the page and record `_loaded_record` names."""
        self.loaded_for = self._load_key()

    def _is_loaded(self, form: dict | None = None) -> bool:
        """The form is loaded for the record a save would write; an uncontrolled `form` (its submitted
        values) must have been rendered with that key too."""
        key = self._load_key()
        sent = key if form is None else str(form.get(LOADED_FOR_FIELD, ""))
        return self.loaded_for == key == sent

    @event
    def switched(self):
        """Sent after the event of a `switching_record` control: the server has run it, so the form follows
        `loaded_for` again in the browser."""
        return LEFT_FORM.push("")
