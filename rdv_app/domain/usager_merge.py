"""Merging two records of one person, and spotting the records that probably are one person
(admin-domain.md section 2), as pure rules.

The fields an agent compares on "Fusionner deux usagers" are declared once, in `MERGEABLE_FIELDS`: a
field's name (the usager column it is read from and written to), its French label, the columns that go
with it (an address is its street, post code, town and INSEE code; a phone number is what was typed and
its E.164 form), whether the row is shown when one of the two is a relative ("proche"), and the
territory toggle without which the field is hidden. A new usager column is merged by adding it there.

Which record is kept (`kept_side`), as RDV Service Public: a relative is merged into a responsible (if B
is a relative, A is kept; if only A is, B); otherwise the record whose email the agent kept.

FranceConnect: the first name, birth name and birth date of an usager who signed in with FranceConnect
come from the State's identity and cannot be overwritten (`FRANCECONNECT_FIELDS`): the merge keeps them
whichever side they are on, and two records each linked to a FranceConnect identity are two people.

A participation kept when both records took part in the same RDV takes the most informative status of
the two (`most_informative`): a status noted by the service (seen, then noshow, then excused, then
revoked) beats an unknown one.

Probable duplicates (`DuplicateReason`): same phone (E.164), same email (case-folded), same folded first
and last name with the same birth date, or names one typo apart (`one_edit_apart`) with the same birth
date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from rdv_app.domain.enums import RdvStatus


@dataclass(frozen=True, slots=True)
class MergeField:
    name: str
    label: str
    columns: tuple[str, ...] = ()  # written with the field (empty: the field's column only)
    for_relatives: bool = False  # a row even when one of the two usagers is a relative
    toggle: str | None = None  # the territory's boolean column that shows the field

    @property
    def written(self) -> tuple[str, ...]:
        return self.columns or (self.name,)


MERGEABLE_FIELDS: tuple[MergeField, ...] = (
    MergeField("email", "Email"),
    MergeField("first_name", "Prénom", for_relatives=True),
    MergeField("last_name", "Nom d'usage", for_relatives=True),
    MergeField("birth_name", "Nom de naissance"),
    MergeField("birth_date", "Date de naissance", for_relatives=True),
    MergeField("phone_number", "Téléphone", columns=("phone_number", "phone_number_formatted")),
    MergeField("responsible_id", "Responsable", for_relatives=True),
    MergeField("address", "Adresse", columns=("address", "post_code", "city_name", "city_code")),
    MergeField("address_details", "Complément d'adresse", toggle="enable_address_details"),
    MergeField("case_number", "Numéro de dossier", toggle="enable_case_number"),
    MergeField("caisse_affiliation", "Caisse d'affiliation", toggle="enable_caisse_affiliation_field"),
    MergeField("affiliation_number", "Numéro d'allocataire", toggle="enable_affiliation_number_field"),
    MergeField("family_situation", "Situation familiale", toggle="enable_family_situation_field"),
    MergeField("number_of_children", "Nombre d'enfants", toggle="enable_number_of_children_field"),
    MergeField("logement", "Logement", toggle="enable_logement_field"),
    MergeField("notes", "Remarques", for_relatives=True, toggle="enable_notes_field"),
)
# The territory toggles the fields above name: a field whose toggle is off is neither shown nor merged.
TOGGLES = tuple(sorted({f.toggle for f in MERGEABLE_FIELDS if f.toggle}))
FIELDS_BY_NAME = {f.name: f for f in MERGEABLE_FIELDS}
FRANCECONNECT_FIELDS = frozenset({"first_name", "birth_name", "birth_date"})
# The email decides which record is kept (the kept record keeps its own): it is never copied.
DECIDING_FIELD = "email"


class Side(IntEnum):
    """The two usagers of the merge screen, in its columns' order."""

    A = 1
    B = 2

    @property
    def other(self) -> Side:
        return Side.B if self is Side.A else Side.A


class RowKind(StrEnum):
    IDENTICAL = "identical"
    BOTH_EMPTY = "identical_na"
    DIFFERENT = "different"


def row_kind(value_a: object, value_b: object) -> RowKind:
    empty_a, empty_b = value_a in (None, ""), value_b in (None, "")
    if empty_a and empty_b:
        return RowKind.BOTH_EMPTY
    return RowKind.IDENTICAL if value_a == value_b else RowKind.DIFFERENT


def shown_fields(*, any_relative: bool, toggles: frozenset[str]) -> tuple[MergeField, ...]:
    """The rows of the merge screen: the relatives' few when one of the two is a relative; the fields
    whose territory toggle is off are left out."""
    return tuple(f for f in MERGEABLE_FIELDS
                 if (f.for_relatives or not any_relative) and (f.toggle is None or f.toggle in toggles))


def forced_side(field: str, *, franceconnect_a: bool, franceconnect_b: bool) -> Side | None:
    """The side whose value a FranceConnect identity imposes on this field, if any."""
    if field not in FRANCECONNECT_FIELDS:
        return None
    if franceconnect_a:
        return Side.A
    return Side.B if franceconnect_b else None


def kept_side(*, a_is_relative: bool, b_is_relative: bool, email_choice: Side) -> Side:
    """The record that survives the merge (see the module's docstring)."""
    if b_is_relative:
        return Side.A
    if a_is_relative:
        return Side.B
    return email_choice


_STATUS_RANK = {RdvStatus.SEEN: 4, RdvStatus.NOSHOW: 3, RdvStatus.EXCUSED: 2, RdvStatus.REVOKED: 1,
                RdvStatus.UNKNOWN: 0}


def most_informative(status_a: str, status_b: str) -> str:
    """The status a participation keeps when two become one (the first on a tie)."""
    return status_b if _STATUS_RANK[RdvStatus(status_b)] > _STATUS_RANK[RdvStatus(status_a)] else status_a


class DuplicateReason(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    IDENTITY = "identity"
    TYPO = "typo"


DUPLICATE_REASON_LABELS = {
    DuplicateReason.PHONE: "Même numéro de téléphone",
    DuplicateReason.EMAIL: "Même adresse email",
    DuplicateReason.IDENTITY: "Mêmes prénom, nom et date de naissance",
    DuplicateReason.TYPO: "Prénom et nom à une lettre près, même date de naissance",
}


def one_edit_apart(left: str, right: str) -> bool:
    """Whether one insertion, deletion or substitution turns `left` into `right` (and they differ)."""
    if left == right or abs(len(left) - len(right)) > 1:
        return False
    if len(left) > len(right):
        left, right = right, left
    start = 0
    while start < len(left) and left[start] == right[start]:
        start += 1
    if len(left) == len(right):
        return left[start + 1:] == right[start + 1:]
    return left[start:] == right[start + 1:]


def missing_choices(labels: Sequence[str]) -> str:
    """The refusal of a merge whose agent has not chosen the value to keep for these rows."""
    quoted = [f"« {label} »" for label in labels]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " et " + quoted[-1]
    return f"Choisissez la valeur à conserver pour {listed}."
