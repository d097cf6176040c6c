"""The services' boundary (rdv_app.services.boundary): what it refuses, in which words, and that every use
case reached from a page or an HTTP route goes through it with each of its fields declared."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import rdv_app.services
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import limits
from rdv_app.domain.labels import french_number
from rdv_app.services.boundary import FIELDS, MAX_ITEMS, boundary, check_declarations, decorated
from rdv_app.services.errors import DomainError, InvalidInput

ROOT = Path(__file__).resolve().parents[2]
for module in pkgutil.walk_packages(rdv_app.services.__path__, "rdv_app.services."):
    importlib.import_module(module.name)


@dataclass(frozen=True)
class Place:
    name: str
    address: str | None = None
    lieu_id: int | None = None


@boundary
def use_case(uow: UnitOfWork, rdv_id: int, *, title: str = "", context: str | None = None,
             confirm_warnings: bool = False, starts_at: datetime | None = None, day: date | None = None,
             start_time: time | None = None, agent_ids: Sequence[int] = (), motif_ids: Collection[int] = (),
             notify: Mapping[int, tuple[bool, bool]] | None = None, data: Place | None = None) -> str:
    return "fait"


@boundary(form_fields={"title": "relative_title"})
def renamed(title: str) -> str:
    return title


def _refusal(**arguments: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        use_case(None, **{"rdv_id": 1, **arguments})  # type: ignore[arg-type]
    return caught.value


def test_values_of_the_right_type_and_size_pass() -> None:
    assert use_case(None, 7, title="Consultation", context="é" * limits.NOTE, confirm_warnings=True,
                    starts_at=datetime(2026, 12, 7, 9, tzinfo=UTC), day=date(2026, 12, 7), start_time=time(9, 30),
                    agent_ids=[1, 2], motif_ids={3}, notify={4: (True, False)},
                    data=Place("Centre", "1 rue A", 5)) == "fait"


@pytest.mark.parametrize(("arguments", "field", "message"), [
    ({"rdv_id": "7"}, "rdv_id", "Le champ « rendez-vous » doit être un nombre entier."),
    ({"rdv_id": True}, "rdv_id", "Le champ « rendez-vous » doit être un nombre entier."),
    ({"rdv_id": 7.0}, "rdv_id", "Le champ « rendez-vous » doit être un nombre entier."),
    ({"rdv_id": 0}, "rdv_id", "Le champ « rendez-vous » ne désigne aucun élément."),
    ({"rdv_id": 2**31}, "rdv_id", "Le champ « rendez-vous » ne désigne aucun élément."),
    ({"rdv_id": None}, "rdv_id", "Le champ « rendez-vous » est obligatoire."),
    ({"title": 12}, "title", "Le champ « titre » doit être un texte."),
    ({"title": "x" * (limits.LABEL + 1)}, "title", "Le champ « titre » est trop long : 160 caractères au plus."),
    ({"context": "x" * 1_000_000}, "context", "Le champ « contexte » est trop long : 2\u00a0000 caractères au plus."),
    ({"title": "a\x00b"}, "title", "Le champ « titre » contient des caractères non permis."),
    ({"title": "a\ud800b"}, "title", "Le champ « titre » contient des caractères non permis."),
    ({"confirm_warnings": 1}, "confirm_warnings", "Le champ « confirmation » doit valoir oui ou non."),
    ({"starts_at": datetime(2026, 12, 7, 9)}, "starts_at",
     "Le champ « date et heure du rendez-vous » doit être une date et une heure, avec son fuseau horaire."),
    ({"starts_at": "2026-12-07T09:00+01:00"}, "starts_at",
     "Le champ « date et heure du rendez-vous » doit être une date et une heure, avec son fuseau horaire."),
    ({"starts_at": datetime(9999, 12, 31, tzinfo=UTC)}, "starts_at",
     "Le champ « date et heure du rendez-vous » doit être une date entre 1800 et 2200."),
    ({"day": datetime(2026, 12, 7, tzinfo=UTC)}, "day", "Le champ « date » doit être une date."),
    ({"day": date(1, 1, 1)}, "day", "Le champ « date » doit être une date entre 1800 et 2200."),
    ({"start_time": time(9, tzinfo=timezone(timedelta(hours=1)))}, "start_time",
     "Le champ « heure de début » doit être une heure."),
    ({"agent_ids": "12"}, "agent_ids", "Le champ « agents » doit être une liste."),
    ({"agent_ids": {1: 2}}, "agent_ids", "Le champ « agents » doit être une liste."),
    ({"agent_ids": [1, "2"]}, "agent_ids", "Le champ « agents » doit être un nombre entier."),
    ({"agent_ids": [1, -2]}, "agent_ids", "Le champ « agents » ne désigne aucun élément."),
    ({"motif_ids": list(range(1, MAX_ITEMS + 2))}, "motif_ids",
     "Le champ « motifs » contient trop d'éléments : 1\u00a0000 au plus."),
    ({"notify": {1: (True,)}}, "notify", "Le champ « notifications » n'est pas valide."),
    ({"notify": {"1": (True, False)}}, "notify", "Le champ « notifications » doit être un nombre entier."),
    ({"notify": {1: (True, None)}}, "notify", "Le champ « notifications » est obligatoire."),
    ({"data": {"name": "Centre"}}, "data", "Le champ « formulaire » n'est pas valide."),
    ({"data": Place("x" * 161)}, "name", "Le champ « nom » est trop long : 160 caractères au plus."),
    ({"data": Place("Centre", lieu_id=10**30)}, "lieu_id", "Le champ « lieu » ne désigne aucun élément."),
])
def test_wrong_types_and_sizes_get_a_french_message_naming_the_field(arguments: dict[str, Any], field: str,
                                                                     message: str) -> None:
    refusal = _refusal(**arguments)
    assert (refusal.field, refusal.message) == (field, message)
    assert isinstance(refusal, DomainError)


def test_errors_name_the_forms_field_when_it_is_named_otherwise() -> None:
    with pytest.raises(InvalidInput) as caught:
        renamed(None)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.message) == ("relative_title", "Le champ « titre » est obligatoire.")


def test_every_decorated_use_case_declares_a_label_for_each_field_and_a_length_for_each_text() -> None:
    problems = [problem for function in decorated() for problem in check_declarations(function)]
    assert problems == []
    assert all(field.max_length in {value for name, value in vars(limits).items() if name.isupper()}
               for field in FIELDS.values() if field.max_length is not None)


def test_an_undeclared_field_is_reported() -> None:
    def undeclared(uow: UnitOfWork, colour_code: str, size: int) -> None:
        """Not decorated: only its declarations are read."""

    assert check_declarations(undeclared) == [f"{__name__}.test_an_undeclared_field_is_reported.<locals>.undeclared: "
                                              f"no label for {name!r}" for name in ("colour_code", "size")]


def _service_calls(path: Path) -> set[tuple[str, str]]:
    """(module, function) of the services a page state or an HTTP route calls."""
    tree = ast.parse(path.read_text())
    modules: dict[str, str] = {}
    functions: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rdv_app.services"):
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                if _is_module(name):
                    modules[alias.asname or alias.name] = name
                else:
                    functions.add((node.module, alias.name))  # type: ignore[arg-type]
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in modules):
            functions.add((modules[node.func.value.id], node.func.attr))
    return functions


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module
        return False


def test_every_use_case_a_page_or_a_route_calls_goes_through_the_boundary() -> None:
    """A service function that takes a unit of work and is called from rdv_app/state or rdv_app/api is
    decorated: people's input reaches it."""
    checked = set(decorated())
    missing = []
    for path in sorted([*(ROOT / "rdv_app" / "state").glob("*.py"), *(ROOT / "rdv_app" / "api").glob("*.py")]):
        for module, name in _service_calls(path):
            function = getattr(importlib.import_module(module), name, None)
            if not inspect.isfunction(function):
                continue
            takes_a_unit_of_work = "UnitOfWork" in str(inspect.signature(inspect.unwrap(function)))
            if takes_a_unit_of_work and function not in checked:
                missing.append(f"{path.name}: {module}.{name}")
    assert missing == []
    assert len(checked) > 100


def test_the_numbers_are_written_the_french_way() -> None:
    assert french_number(2_000) == "2\u00a0000"
    assert french_number(160) == "160"
