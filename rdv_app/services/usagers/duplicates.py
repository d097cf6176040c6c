"""Doublons probables: the pairs of usagers of an organisation that are probably one person, each with
its reasons and a way to the merge screen (beyond RDV Service Public, which only warns at save time;
admin-domain.md section 2.1 and issue #3158).

Two usagers of the organisation (a profile there, not deleted) make a pair when they share
- a phone number (its E.164 form),
- an email, case-folded,
- a first name, a last name (folded as the search folds them: accents and case) and a birth date,
- or a birth date, with first and last names one typo apart (one letter added, removed or changed in the
  folded "first last").
A family is not a duplicate: a responsible and their relative, or two relatives of one responsible
(twins born the same day, a family phone), were recorded as different people and are never paired.
Only this organisation's usagers are compared: a list of look-alikes is not a way to learn who other
organisations or territories follow (issue #3758).

Cost: the three exact keys are grouped in SQL (only groups of two or more leave the database); the typo
rule compares names only among usagers born the same day, a block the database hands over already
grouped. Pairs are then ordered by name and cut in pages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import Usager, UsagerProfile
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.masking import reverse_full_name
from rdv_app.domain.usager_merge import DUPLICATE_REASON_LABELS, DuplicateReason, one_edit_apart
from rdv_app.domain.usager_search import fold, words
from rdv_app.services.boundary import boundary
from rdv_app.services.rights import agent_scope

PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class DuplicateUsager:
    id: int
    name: str  # "DUPONT Jeanne"
    birth_date: str  # "14/07/1985" or ""
    phone_number: str
    email: str


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    first: DuplicateUsager
    second: DuplicateUsager
    reasons: tuple[str, ...]  # French, in the order of DuplicateReason


@dataclass(frozen=True, slots=True)
class DuplicatePage:
    pairs: list[DuplicatePair]
    page: int
    page_count: int
    total: int


def _members(organisation_id: int) -> tuple[sa.ColumnElement[bool], ...]:
    followed = select(UsagerProfile.usager_id).where(UsagerProfile.organisation_id == organisation_id)
    return col(Usager.deleted_at).is_(None), col(Usager.id).in_(followed)


def _exact_groups(uow: UnitOfWork, organisation_id: int, keys: list[Any]) -> list[list[int]]:
    """The ids of the organisation's usagers grouped by equal `keys` (none NULL), groups of two or more."""
    members = _members(organisation_id)
    present = [key.is_not(None) for key in keys]
    labelled = [key.label(f"key_{index}") for index, key in enumerate(keys)]
    shared = (select(*labelled).where(*members, *present).group_by(*keys)
              .having(sa.func.count() > 1).subquery())
    rows = uow.session.execute(
        select(Usager.id, *keys).join(shared, sa.and_(*(key == shared.c[f"key_{index}"]
                                                        for index, key in enumerate(keys))))
        .where(*members, *present).order_by(col(Usager.id))).all()
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for usager_id, *values in rows:
        groups[tuple(values)].append(usager_id)
    return list(groups.values())


def _born_together(uow: UnitOfWork, organisation_id: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Pairs of the organisation's usagers born the same day: with the same folded first and last names,
    and with names one typo apart (each compared with those born the same day only)."""
    members = _members(organisation_id)
    born_together = (select(col(Usager.birth_date)).where(*members, col(Usager.birth_date).is_not(None))
                     .group_by(col(Usager.birth_date)).having(sa.func.count() > 1))
    rows = uow.session.exec(select(not_null(Usager.id), col(Usager.birth_date), Usager.first_name, Usager.last_name).where(
        *members, col(Usager.birth_date).in_(born_together)).order_by(col(Usager.birth_date), col(Usager.id))).all()
    blocks: dict[date | None, list[tuple[int, str, str]]] = defaultdict(list)
    for usager_id, birth_date, first_name, last_name in rows:
        blocks[birth_date].append((usager_id, " ".join(words(first_name)), " ".join(words(last_name))))
    identity, typo = [], []
    for block in blocks.values():
        for (left_id, left_first, left_last), (right_id, right_first, right_last) in combinations(block, 2):
            if (left_first, left_last) == (right_first, right_last):
                identity.append((left_id, right_id))
            if one_edit_apart(f"{left_first} {left_last}", f"{right_first} {right_last}"):
                typo.append((left_id, right_id))
    return identity, typo


def _pairs(groups: Iterable[list[int]]) -> Iterable[tuple[int, int]]:
    for group in groups:
        yield from combinations(sorted(group), 2)


@boundary
def probable_duplicates(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, page: int = 1) -> DuplicatePage:
    """One page of the organisation's probable duplicates, ordered by the names of the pair."""
    agent_scope(uow, actor_agent_id, organisation_id)
    found: dict[tuple[int, int], set[DuplicateReason]] = defaultdict(set)
    exact: dict[DuplicateReason, list[Any]] = {
        DuplicateReason.PHONE: [col(Usager.phone_number_formatted)],
        DuplicateReason.EMAIL: [sa.func.lower(col(Usager.email))],
    }
    for reason, keys in exact.items():
        for pair in _pairs(_exact_groups(uow, organisation_id, keys)):
            found[pair].add(reason)
    identity, typo = _born_together(uow, organisation_id)
    for reason, pairs in ((DuplicateReason.IDENTITY, identity), (DuplicateReason.TYPO, typo)):
        for left_id, right_id in pairs:
            found[(min(left_id, right_id), max(left_id, right_id))].add(reason)
    if not found:
        return DuplicatePage([], 1, 1, 0)
    ids = {usager_id for pair in found for usager_id in pair}
    people = {require_id(u): u for u in uow.session.exec(select(Usager).where(col(Usager.id).in_(ids))).all()}
    found = {pair: reasons for pair, reasons in found.items() if not _family(people[pair[0]], people[pair[1]])}
    if not found:
        return DuplicatePage([], 1, 1, 0)

    def order(usager_id: int) -> tuple[str, str, int]:
        usager = people[usager_id]
        return fold(usager.last_name), fold(usager.first_name), usager_id

    ordered = sorted((tuple(sorted(pair, key=order)) for pair in found), key=lambda p: (order(p[0]), order(p[1])))
    page_count = max(1, -(-len(ordered) // PAGE_SIZE))
    page = min(max(page, 1), page_count)
    shown = ordered[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    reason_order = list(DuplicateReason)
    return DuplicatePage(
        [DuplicatePair(_view(people[first]), _view(people[second]),
                       tuple(DUPLICATE_REASON_LABELS[r] for r in sorted(found[(min(first, second), max(first, second))],
                                                                        key=reason_order.index)))
         for first, second in shown],
        page, page_count, len(ordered))


def _family(left: Usager, right: Usager) -> bool:
    return (left.responsible_id == right.id or right.responsible_id == left.id
            or (left.responsible_id is not None and left.responsible_id == right.responsible_id))


def _view(usager: Usager) -> DuplicateUsager:
    return DuplicateUsager(id=require_id(usager), name=reverse_full_name(usager.first_name, usager.last_name),
                           birth_date=usager.birth_date.strftime("%d/%m/%Y") if usager.birth_date else "",
                           phone_number=usager.phone_number or "", email=usager.email or "")
