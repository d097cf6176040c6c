"""SMS sent to usagers: GSM-7 text, segment count, and the texts of each RDV event.

Decision 8: every text is GSM 03.38 only (the basic set plus its extension table), so that one segment
holds 160 characters instead of 70 in UCS-2. `to_gsm7` keeps what GSM-7 has (é è à ù ì ò Ç É Ä Ö Ñ Ü
ä ö ñ ü Å å Æ æ Ø ø ß, and the extension characters € [ ] { } ^ ~ | \\) and transliterates the rest:
"œ" -> "oe", ç/ê/â/î/ô/û/ë/ï/ÿ and the accented capitals other than É and Ç lose their accent,
typographic quotes, dashes, ellipsis and the special spaces become their ASCII equivalents, and what
has no equivalent becomes "?".

Texts (domain.md 3.2), for one recipient:

    created    RDV <title> <date>.\\n<footer>
    updated    RDV modifié: <title> <date>\\n<footer>
    reminder   Rappel RDV <title> le <date>.\\n<footer>
    cancelled  RDV <title> <date> a été annulé.\\n<call to action>

- title: the service short name; for a named collective RDV "<short name> : <name>," with the name cut
  to 50 characters plus "...";
- date: "vendredi 10/12 à 13h10" in the organisation's time zone, "vers" instead of "à" at home;
- footer: the place ("Name (address)", "RDV téléphonique", "RDV à votre domicile", "RDV par
  visioconférence"), " pour <participants>" when the recipient receives it for relatives (individual
  RDVs only), " avec <J. BOND>" for follow-up motifs, ".", a newline, then
  "Infos et annulation: <link>" and " / <phone>" when the lieu or the organisation has one;
- call to action: "Appelez le <phone> ou allez sur <link> pour reprendre RDV.", or
  "Allez sur <link> pour reprendre RDV." without a phone;
- outside production the instance name comes first, on its own line.

Issue 6 wants a message to stay within 2 segments even with the longest realistic names: the link, the
date and the phone are never cut; when the message is too long the place-and-people part of the footer
is cut at its end with "...", so the agents' names go first, then the participants, then the end of the
address.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rdv_app.domain.datefmt import WEEKDAYS, hour
from rdv_app.domain.enums import LocationType, NotificationEvent

# GSM 03.38 basic character set, in code order (0x00 to 0x7F), 16 per row. 0x1B is the escape to the
# extension table, not a character: it is left out of what texts may contain.
GSM7_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_ESCAPE = "\x1b"
GSM7_BASIC = frozenset(GSM7_BASIC_TABLE) - {_ESCAPE}
# Extension table: each of these is sent as escape + code, so it takes two places in a segment.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = GSM7_BASIC | GSM7_EXTENSION

SINGLE_SEGMENT_UNITS = 160
# A concatenated part loses 7 characters to the header that tells the phone how to reassemble it.
CONCATENATED_SEGMENT_UNITS = 153
MAX_SEGMENTS = 2
COLLECTIF_NAME_MAX = 50
ELLIPSIS = "..."

# Replacements that Unicode decomposition (NFKD) does not give, or gives outside GSM-7.
_TRANSLITERATIONS = {
    "œ": "oe", "Œ": "OE", "ĳ": "ij", "Ĳ": "IJ",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ı": "i", "þ": "th", "Þ": "TH",
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "ʼ": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"', "‹": "'", "›": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "•": "-",
    "…": "...", "·": ".", "°": "o", "×": "x", "⁄": "/", "\t": " ",
}


def is_gsm7(text: str) -> bool:
    return all(char in GSM7 for char in text)


def to_gsm7(text: str) -> str:
    """The text with every character outside GSM-7 transliterated (see the module docstring)."""
    # NFC first, so that "e" + combining acute is the single GSM-7 "é" rather than a bare "e".
    return "".join(_transliterate(char) for char in unicodedata.normalize("NFC", text))


def _transliterate(char: str) -> str:
    if char in GSM7:
        return char
    if char in _TRANSLITERATIONS:
        return _TRANSLITERATIONS[char]
    if unicodedata.category(char) == "Zs":  # no-break, narrow no-break, thin... spaces
        return " "
    parts = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.combining(part):
            continue  # the accent of a letter that GSM-7 only has without it: "ê" -> "e"
        replacement = part if part in GSM7 else _TRANSLITERATIONS.get(part)
        if replacement is None:
            return "?"  # one mark for the whole character, however long its decomposition
        parts.append(replacement)
    return "".join(parts)


def _units(char: str) -> int:
    return 2 if char in GSM7_EXTENSION else 1


def sms_segments(text: str) -> int:
    """Number of SMS a GSM-7 text is sent as: 1 up to 160 units, else parts of 153 units.

    Extension characters take 2 units, and their escape pair is never split between two parts.
    Raises ValueError for a text that is not GSM-7 (every text goes through `to_gsm7` first).
    """
    if not is_gsm7(text):
        raise ValueError("le texte contient des caractères hors GSM-7")
    if sum(_units(char) for char in text) <= SINGLE_SEGMENT_UNITS:
        return 1
    segments, used = 1, 0
    for char in text:
        units = _units(char)
        if used + units > CONCATENATED_SEGMENT_UNITS:
            segments, used = segments + 1, 0
        used += units
    return segments


def info_url(public_url: str, rdv_id: int, token: str) -> str:
    """The "Infos et annulation" link: <public url>/r/<rdv id>/<token>."""
    return f"{public_url.rstrip('/')}/r/{rdv_id}/{token}"


def person_name(first_name: str, last_name: str) -> str:
    """'Léa DUPONT', as participants are named in SMS."""
    return f"{first_name.strip()} {last_name.strip().upper()}"


def agent_short_name(first_name: str | None, last_name: str) -> str:
    """'J. BOND' (just 'BOND' for an agent without a first name)."""
    last = last_name.strip().upper()
    first = (first_name or "").strip()
    return f"{first[0].upper()}. {last}" if first else last


@dataclass(frozen=True, slots=True)
class SmsRdv:
    """What an SMS says about one RDV, for one recipient."""

    service_short_name: str
    starts_at: datetime  # aware
    time_zone: str  # the organisation's IANA zone
    location_type: LocationType
    link: str  # `info_url(...)` with the token of this recipient's participation
    collectif: bool = False
    collectif_name: str | None = None
    lieu_name: str | None = None  # public_office RDVs
    lieu_address: str | None = None
    lieu_phone_number: str | None = None
    organisation_phone_number: str | None = None
    # The people the recipient receives this message for, when they include relatives; else empty.
    participant_names: tuple[str, ...] = ()
    agent_short_names: tuple[str, ...] = ()  # follow-up motifs only; else empty
    instance_name: str | None = None  # None in production

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None:
            raise ValueError("starts_at doit porter un fuseau horaire")
        if self.location_type == LocationType.PUBLIC_OFFICE and not (self.lieu_name and self.lieu_address):
            raise ValueError("un RDV sur place a un lieu (nom et adresse)")

    @property
    def phone_number(self) -> str | None:
        """The lieu's phone, otherwise the organisation's."""
        return self.lieu_phone_number or self.organisation_phone_number or None


def sms_date(rdv: SmsRdv) -> str:
    """'vendredi 10/12 à 13h10' in the organisation's time zone ('vers 13h10' at home)."""
    moment = rdv.starts_at.astimezone(ZoneInfo(rdv.time_zone))
    linker = "vers" if rdv.location_type == LocationType.HOME else "à"
    return f"{WEEKDAYS[moment.weekday()]} {moment.day:02d}/{moment.month:02d} {linker} {hour(moment)}"


def _title(rdv: SmsRdv) -> str:
    if not (rdv.collectif and rdv.collectif_name):
        return rdv.service_short_name
    # Cut after transliteration, so that the 50 characters are the ones sent ("…" becomes three).
    name = to_gsm7(rdv.collectif_name.strip())
    if len(name) > COLLECTIF_NAME_MAX:
        name = name[:COLLECTIF_NAME_MAX].rstrip() + ELLIPSIS
    return f"{rdv.service_short_name} : {name},"


_PLACES = {
    LocationType.PHONE: "RDV téléphonique",
    LocationType.HOME: "RDV à votre domicile",
    LocationType.VISIO: "RDV par visioconférence",
}


def _details(rdv: SmsRdv) -> str:
    if rdv.location_type == LocationType.PUBLIC_OFFICE:
        text = f"{rdv.lieu_name} ({rdv.lieu_address})"
    else:
        text = _PLACES[rdv.location_type]
    if rdv.participant_names and not rdv.collectif:
        text += f" pour {_sentence(rdv.participant_names)}"
    if rdv.agent_short_names:
        text += f" avec {_sentence(rdv.agent_short_names)}"
    return text


def _sentence(names: tuple[str, ...]) -> str:
    """'A, B et C', sorted the way a reader expects (accents and case ignored)."""
    ordered = sorted(names, key=_sort_key)
    return ordered[0] if len(ordered) == 1 else f"{', '.join(ordered[:-1])} et {ordered[-1]}"


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _prefix(rdv: SmsRdv) -> str:
    return f"{rdv.instance_name}\n" if rdv.instance_name else ""


def _with_footer(rdv: SmsRdv, first_line: str) -> str:
    head = to_gsm7(f"{_prefix(rdv)}{first_line}\n")
    links = f"\nInfos et annulation: {rdv.link}"
    if rdv.phone_number:
        links += f" / {rdv.phone_number}"
    links = to_gsm7(links)
    details = to_gsm7(_details(rdv))
    text = f"{head}{details}.{links}"
    if sms_segments(text) <= MAX_SEGMENTS:
        return text
    return _cut_details(head, details, links)


def _cut_details(head: str, details: str, links: str) -> str:
    """The longest start of `details`, plus '...', that keeps the message within MAX_SEGMENTS.

    When even the fixed parts exceed it (an unrealistic service name), the details shrink to '...' and
    the message stays longer: the link and the phone are what the usager needs most.
    """
    fixed = sum(_units(char) for char in head + ELLIPSIS + links)
    budget = MAX_SEGMENTS * CONCATENATED_SEGMENT_UNITS - fixed
    size = used = 0
    for char in details:
        used += _units(char)
        if used > budget:
            break
        size += 1
    # Escape pairs cannot straddle two parts, so a budget in units can still be a part too long.
    while size and sms_segments(_join(head, details[:size], links)) > MAX_SEGMENTS:
        size -= 1
    return _join(head, details[:size], links)


def _join(head: str, details: str, links: str) -> str:
    return f"{head}{details.rstrip(' ,(')}{ELLIPSIS}{links}"


def rdv_created_sms(rdv: SmsRdv) -> str:
    return _with_footer(rdv, f"RDV {_title(rdv)} {sms_date(rdv)}.")


def rdv_updated_sms(rdv: SmsRdv) -> str:
    return _with_footer(rdv, f"RDV modifié: {_title(rdv)} {sms_date(rdv)}")


def rdv_reminder_sms(rdv: SmsRdv) -> str:
    return _with_footer(rdv, f"Rappel RDV {_title(rdv)} le {sms_date(rdv)}.")


def rdv_cancelled_sms(rdv: SmsRdv) -> str:
    if rdv.phone_number:
        action = f"Appelez le {rdv.phone_number} ou allez sur {rdv.link} pour reprendre RDV."
    else:
        action = f"Allez sur {rdv.link} pour reprendre RDV."
    return to_gsm7(f"{_prefix(rdv)}RDV {_title(rdv)} {sms_date(rdv)} a été annulé.\n{action}")


_TEXTS = {
    NotificationEvent.RDV_CREATED: rdv_created_sms,
    NotificationEvent.RDV_UPDATED: rdv_updated_sms,
    NotificationEvent.RDV_UPCOMING_REMINDER: rdv_reminder_sms,
    NotificationEvent.RDV_CANCELLED: rdv_cancelled_sms,
}


def rdv_sms(event: NotificationEvent, rdv: SmsRdv) -> str:
    """The text of `event` (created, updated, reminder or cancelled); ValueError for other events."""
    text = _TEXTS.get(event)
    if text is None:
        raise ValueError(f"pas de SMS pour l'événement {event}")
    return text(rdv)
