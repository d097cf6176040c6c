"""The rows of a zone file sent by a territorial admin: CSV (UTF-8 or Windows-1252, separated by ";", ","
or tabulations, as spreadsheets save it) or Excel 2007+ (.xlsx, first sheet) read by openpyxl. The old
binary .xls format is refused with a French message saying how to save the file. Rows are numbered as the
spreadsheet shows them, the header being line 1."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

from openpyxl import load_workbook

from rdv_app.domain import zone_import
from rdv_app.services.errors import DomainError

MAX_BYTES = 700_000  # the page sends the file through its websocket, whose messages stay under 1 MB
FILE_TOO_LARGE = "Le fichier dépasse 700 Ko : découpez-le en plusieurs fichiers."
_XLS_SIGNATURE = b"\xd0\xcf\x11\xe0"
_XLSX_SIGNATURE = b"PK\x03\x04"

Rows = list[tuple[int, dict[str, object]]]


def read_rows(file_name: str, content: bytes) -> Rows:
    """The file's rows as (line number, {column: value}); DomainError (French) for a file it cannot read or
    without the required columns."""
    if not content:
        raise DomainError("Le fichier est vide.", field="zone_file")
    if len(content) > MAX_BYTES:
        raise DomainError(FILE_TOO_LARGE, field="zone_file")
    if content.startswith(_XLS_SIGNATURE):
        raise DomainError("Ce fichier est au format Excel 97-2003 (.xls) : enregistrez-le au format .xlsx ou .csv "
                          "puis importez-le à nouveau.", field="zone_file")
    if content.startswith(_XLSX_SIGNATURE):
        header, rows = _xlsx(content)
    else:
        header, rows = _csv(content)
    missing = zone_import.missing_columns(header)
    if missing:
        raise DomainError("La première ligne du fichier doit nommer les colonnes ; il y manque : "
                          f"{', '.join(missing)}.", field="zone_file")
    numbered: Rows = []
    try:
        for line, values in enumerate(rows, start=2):
            if line - 1 > zone_import.MAX_LINES:
                raise DomainError(f"Le fichier dépasse {zone_import.MAX_LINES} lignes : découpez-le en plusieurs "
                                  "fichiers.", field="zone_file")
            numbered.append((line, {zone_import.normalised_column(str(name)): value
                                    for name, value in zip(header, values, strict=False) if name}))
    except csv.Error as exc:
        raise DomainError(f"Le fichier ne peut pas être lu après la ligne {len(numbered) + 1} : enregistrez-le à "
                          "nouveau au format .csv ou .xlsx.", field="zone_file") from exc
    return numbered


def _csv(content: bytes) -> tuple[list[str], Iterator[list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise DomainError("Le fichier est vide.", field="zone_file") from exc
    return [str(name) for name in header], reader


def _xlsx(content: bytes) -> tuple[list[str], Iterator[list[str]]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DomainError("Ce fichier Excel ne peut pas être lu : enregistrez-le à nouveau au format .xlsx ou .csv.",
                          field="zone_file") from exc
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise DomainError("Le fichier est vide.", field="zone_file")
    return ([str(name) if name is not None else "" for name in header],
            ([_cell(value) for value in row] for row in rows))


def _cell(value: object) -> str:
    """A cell as typed: 62041 read as a number stays "62041", not "62041.0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
