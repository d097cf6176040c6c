"""SMS texts (domain.md 3.2, written out in full), GSM-7 transliteration and segment counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdv_app.domain.enums import LocationType, NotificationEvent
from rdv_app.domain.sms import (
    GSM7,
    GSM7_BASIC,
    GSM7_BASIC_TABLE,
    GSM7_EXTENSION,
    SmsRdv,
    agent_short_name,
    info_url,
    is_gsm7,
    person_name,
    rdv_cancelled_sms,
    rdv_created_sms,
    rdv_reminder_sms,
    rdv_sms,
    rdv_updated_sms,
    sms_date,
    sms_segments,
    to_gsm7,
)

PARIS = ZoneInfo("Europe/Paris")
LINK = "https://rdv.example.fr/r/123/ABCD2345"
# Friday 10 December 2021, 13:10 in Paris (12:10 UTC).
RDV = SmsRdv(
    service_short_name="PMI",
    starts_at=datetime(2021, 12, 10, 12, 10, tzinfo=UTC),
    time_zone="Europe/Paris",
    location_type=LocationType.PUBLIC_OFFICE,
    link=LINK,
    lieu_name="MDS Centre",
    lieu_address="10 rue d'ici",
)


# --------------------------------------------------------------------------- the four texts


def test_created():
    assert rdv_created_sms(RDV) == (
        "RDV PMI vendredi 10/12 à 13h10.\n"
        "MDS Centre (10 rue d'ici).\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_updated():
    assert rdv_updated_sms(RDV) == (
        "RDV modifié: PMI vendredi 10/12 à 13h10\n"
        "MDS Centre (10 rue d'ici).\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_reminder():
    assert rdv_reminder_sms(RDV) == (
        "Rappel RDV PMI le vendredi 10/12 à 13h10.\n"
        "MDS Centre (10 rue d'ici).\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_cancelled_with_the_lieu_phone():
    rdv = replace(RDV, lieu_phone_number="01 23 45 67 89", organisation_phone_number="01 00 00 00 00")
    assert rdv_cancelled_sms(rdv) == (
        "RDV PMI vendredi 10/12 à 13h10 a été annulé.\n"
        "Appelez le 01 23 45 67 89 ou allez sur https://rdv.example.fr/r/123/ABCD2345 pour reprendre RDV."
    )


def test_cancelled_with_only_the_organisation_phone():
    rdv = replace(RDV, organisation_phone_number="01 00 00 00 00")
    assert rdv_cancelled_sms(rdv) == (
        "RDV PMI vendredi 10/12 à 13h10 a été annulé.\n"
        "Appelez le 01 00 00 00 00 ou allez sur https://rdv.example.fr/r/123/ABCD2345 pour reprendre RDV."
    )


def test_cancelled_without_phone():
    assert rdv_cancelled_sms(RDV) == (
        "RDV PMI vendredi 10/12 à 13h10 a été annulé.\n"
        "Allez sur https://rdv.example.fr/r/123/ABCD2345 pour reprendre RDV."
    )


@pytest.mark.parametrize(
    ("event", "first_line"),
    [
        (NotificationEvent.RDV_CREATED, "RDV PMI vendredi 10/12 à 13h10."),
        (NotificationEvent.RDV_UPDATED, "RDV modifié: PMI vendredi 10/12 à 13h10"),
        (NotificationEvent.RDV_UPCOMING_REMINDER, "Rappel RDV PMI le vendredi 10/12 à 13h10."),
        (NotificationEvent.RDV_CANCELLED, "RDV PMI vendredi 10/12 à 13h10 a été annulé."),
    ],
)
def test_rdv_sms_picks_the_text_of_the_event(event, first_line):
    assert rdv_sms(event, RDV).split("\n")[0] == first_line


@pytest.mark.parametrize("event", [NotificationEvent.PLAGE_NOTICE, NotificationEvent.ACCOUNT])
def test_rdv_sms_refuses_other_events(event):
    with pytest.raises(ValueError, match="pas de SMS"):
        rdv_sms(event, RDV)


# --------------------------------------------------------------------------- footer and title


def test_footer_phone_is_the_lieu_one_first():
    rdv = replace(RDV, lieu_phone_number="01 23 45 67 89", organisation_phone_number="09 87 65 43 21")
    assert rdv_created_sms(rdv) == (
        "RDV PMI vendredi 10/12 à 13h10.\n"
        "MDS Centre (10 rue d'ici).\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345 / 01 23 45 67 89"
    )


def test_footer_phone_falls_back_to_the_organisation():
    rdv = replace(RDV, organisation_phone_number="09 87 65 43 21")
    assert rdv_reminder_sms(rdv).endswith("Infos et annulation: https://rdv.example.fr/r/123/ABCD2345 / 09 87 65 43 21")


def test_at_home_says_vers_and_no_address():
    rdv = replace(RDV, location_type=LocationType.HOME, lieu_name=None, lieu_address=None)
    assert rdv_created_sms(rdv) == (
        "RDV PMI vendredi 10/12 vers 13h10.\n"
        "RDV à votre domicile.\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )
    assert rdv_cancelled_sms(rdv) == (
        "RDV PMI vendredi 10/12 vers 13h10 a été annulé.\n"
        "Allez sur https://rdv.example.fr/r/123/ABCD2345 pour reprendre RDV."
    )


def test_by_phone():
    rdv = replace(RDV, location_type=LocationType.PHONE, lieu_name=None, lieu_address=None)
    assert rdv_updated_sms(rdv) == (
        "RDV modifié: PMI vendredi 10/12 à 13h10\n"
        "RDV téléphonique.\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_by_visio():
    rdv = replace(RDV, location_type=LocationType.VISIO, lieu_name=None, lieu_address=None)
    assert rdv_reminder_sms(rdv) == (
        "Rappel RDV PMI le vendredi 10/12 à 13h10.\n"
        "RDV par visioconférence.\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_relatives_are_named_in_alphabetical_order():
    rdv = replace(RDV, participant_names=("Tom DUPONT", "Élise DUPONT", "Léa DUPONT"))
    assert rdv_created_sms(rdv) == (
        "RDV PMI vendredi 10/12 à 13h10.\n"
        "MDS Centre (10 rue d'ici) pour Élise DUPONT, Léa DUPONT et Tom DUPONT.\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_a_single_relative():
    rdv = replace(RDV, participant_names=("Léa DUPONT",))
    assert "MDS Centre (10 rue d'ici) pour Léa DUPONT.\n" in rdv_created_sms(rdv)


def test_follow_up_names_the_agents():
    rdv = replace(RDV, agent_short_names=("M. MONEYPENNY", "J. BOND"), participant_names=("Léa DUPONT",))
    assert rdv_created_sms(rdv) == (
        "RDV PMI vendredi 10/12 à 13h10.\n"
        "MDS Centre (10 rue d'ici) pour Léa DUPONT avec J. BOND et M. MONEYPENNY.\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_named_collectif_rdv():
    rdv = replace(RDV, collectif=True, collectif_name="Atelier portage", participant_names=("Léa DUPONT",))
    assert rdv_created_sms(rdv) == (
        "RDV PMI : Atelier portage, vendredi 10/12 à 13h10.\n"
        "MDS Centre (10 rue d'ici).\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )
    assert rdv_cancelled_sms(rdv) == (
        "RDV PMI : Atelier portage, vendredi 10/12 à 13h10 a été annulé.\n"
        "Allez sur https://rdv.example.fr/r/123/ABCD2345 pour reprendre RDV."
    )


def test_unnamed_collectif_rdv_has_the_service_as_title():
    rdv = replace(RDV, collectif=True)
    assert rdv_created_sms(rdv).startswith("RDV PMI vendredi 10/12 à 13h10.\n")


def test_collectif_name_of_50_characters_is_kept():
    name = "Atelier " + "x" * 42
    rdv = replace(RDV, collectif=True, collectif_name=name)
    assert rdv_created_sms(rdv).startswith(f"RDV PMI : {name}, vendredi")


def test_collectif_name_is_cut_to_50_characters():
    name = "Réunion d'information collective sur l'allaitement et le sommeil du nourrisson"
    rdv = replace(RDV, collectif=True, collectif_name=name)
    assert rdv_reminder_sms(rdv) == (
        "Rappel RDV PMI : Réunion d'information collective sur l'allaitement..., le vendredi 10/12 à 13h10.\n"
        "MDS Centre (10 rue d'ici).\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_collectif_name_is_cut_after_transliteration():
    rdv = replace(RDV, collectif=True, collectif_name="Atelier…" * 10)  # 80 characters, 100 once sent
    assert rdv_created_sms(rdv).startswith(f"RDV PMI : {('Atelier...' * 5)}..., vendredi")


def test_instance_name_comes_first_outside_production():
    rdv = replace(RDV, instance_name="démo")
    assert rdv_created_sms(rdv) == (
        "démo\n"
        "RDV PMI vendredi 10/12 à 13h10.\n"
        "MDS Centre (10 rue d'ici).\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )
    assert rdv_cancelled_sms(rdv).startswith("démo\nRDV PMI vendredi 10/12 à 13h10 a été annulé.\n")


def test_texts_are_transliterated():
    rdv = replace(
        RDV,
        service_short_name="Santé",
        lieu_name="Maison de l’Enfance « Cœur de Forêt »",
        lieu_address="2 rue de l’Hôtel-de-Ville, 97400 Saint-Denis",
        participant_names=("Noël ÇELIK", "Zoë MAÏTÉ"),
    )
    assert rdv_created_sms(rdv) == (
        "RDV Santé vendredi 10/12 à 13h10.\n"
        "Maison de l'Enfance \" Coeur de Foret \" (2 rue de l'Hotel-de-Ville, 97400 Saint-Denis)"
        " pour Noel ÇELIK et Zoe MAITÉ.\n"
        "Infos et annulation: https://rdv.example.fr/r/123/ABCD2345"
    )


def test_date_is_in_the_organisation_time_zone():
    # 05:05 UTC is 09:05 in La Réunion, a Tuesday.
    rdv = replace(RDV, starts_at=datetime(2025, 12, 2, 5, 5, tzinfo=UTC), time_zone="Indian/Reunion")
    assert sms_date(rdv) == "mardi 02/12 à 09h05"


def test_an_rdv_needs_an_aware_start_and_a_lieu_when_on_site():
    with pytest.raises(ValueError, match="fuseau"):
        replace(RDV, starts_at=datetime(2021, 12, 10, 13, 10))
    with pytest.raises(ValueError, match="lieu"):
        replace(RDV, lieu_name=None)


def test_helpers():
    assert info_url("https://rdv.example.fr/", 123, "ABCD2345") == LINK
    assert person_name(" Léa ", "Dupont-Martin") == "Léa DUPONT-MARTIN"
    assert agent_short_name("james", "Bond") == "J. BOND"
    assert agent_short_name(None, "Bond") == "BOND"


# --------------------------------------------------------------------------- two segments at most

LONGEST = replace(
    RDV,
    service_short_name="Service social",
    starts_at=datetime(2025, 11, 12, 8, 5, tzinfo=UTC),
    link="https://rdv.example.fr/r/1234567/ABCD2345EF",
    lieu_name="Maison départementale des solidarités de Villeneuve-Saint-Georges",
    lieu_address="12 avenue du Maréchal de Lattre de Tassigny, 94190 Villeneuve-Saint-Georges",
    lieu_phone_number="01 43 89 12 34",
    participant_names=("Marie-Christine DUPONT-MARTINEZ", "Jean-Christophe DUPONT-MARTINEZ"),
    agent_short_names=("J. BOND", "M. MONEYPENNY"),
    instance_name="démo",
)


def test_a_long_message_is_cut_in_its_details_to_fit_two_segments():
    text = rdv_updated_sms(LONGEST)
    assert text == (
        "démo\n"
        "RDV modifié: Service social mercredi 12/11 à 09h05\n"
        "Maison départementale des solidarités de Villeneuve-Saint-Georges (12 avenue du Maréchal de Lattre"
        " de Tassigny, 94190 Villeneuve-Saint-Georges) pour Jean-Christophe...\n"
        "Infos et annulation: https://rdv.example.fr/r/1234567/ABCD2345EF / 01 43 89 12 34"
    )
    assert sms_segments(text) == 2


def test_a_message_that_fits_is_not_cut():
    rdv = replace(LONGEST, participant_names=("Léa DUPONT",), agent_short_names=())
    text = rdv_created_sms(rdv)
    assert text.endswith("Villeneuve-Saint-Georges) pour Léa DUPONT.\n"
                         "Infos et annulation: https://rdv.example.fr/r/1234567/ABCD2345EF / 01 43 89 12 34")
    assert sms_segments(text) == 2


def _details_line(text: str) -> str:
    return text.split("\n")[2]  # after the instance name and the first line


def test_the_cut_keeps_as_much_as_two_segments_hold():
    text = rdv_created_sms(replace(LONGEST, lieu_name="a" * 300))
    details = _details_line(text)
    assert details == "a" * (len(details) - 3) + "..."
    assert sms_segments(text) == 2
    assert sms_segments(text.replace("...", "a..." , 1)) == 3


def test_extension_characters_count_double_when_cutting():
    plain = _details_line(rdv_created_sms(replace(LONGEST, lieu_name="a" * 300)))
    doubled = _details_line(rdv_created_sms(replace(LONGEST, lieu_name="€" * 300)))
    assert doubled == "€" * (len(doubled) - 3) + "..."
    assert len(plain) - 3 in (2 * (len(doubled) - 3), 2 * (len(doubled) - 3) + 1)


def test_fixed_parts_are_never_cut():
    rdv = replace(LONGEST, service_short_name="S" * 400)
    text = rdv_created_sms(rdv)
    assert text.endswith("\n...\nInfos et annulation: https://rdv.example.fr/r/1234567/ABCD2345EF / 01 43 89 12 34")
    assert "S" * 400 in text


names = st.text(min_size=1, max_size=60)


@given(
    service=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ éèç", min_size=1, max_size=20),
    collectif_name=st.none() | st.text(max_size=120),
    lieu_name=st.text(min_size=1, max_size=150),
    lieu_address=st.text(min_size=1, max_size=150),
    participants=st.lists(names, max_size=4).map(tuple),
    agents=st.lists(names, max_size=3).map(tuple),
    phone=st.none() | st.just("01 43 89 12 34"),
    location_type=st.sampled_from(list(LocationType)),
)
def test_every_text_is_gsm7_and_keeps_its_link_within_two_segments(service, collectif_name, lieu_name, lieu_address,
                                                                    participants, agents, phone, location_type):
    rdv = replace(
        LONGEST, service_short_name=service, collectif=collectif_name is not None, collectif_name=collectif_name,
        lieu_name=lieu_name, lieu_address=lieu_address, participant_names=participants,
        agent_short_names=agents, lieu_phone_number=phone, location_type=location_type,
    )
    tail = "Infos et annulation: https://rdv.example.fr/r/1234567/ABCD2345EF" + (f" / {phone}" if phone else "")
    for build in (rdv_created_sms, rdv_updated_sms, rdv_reminder_sms):
        text = build(rdv)
        assert is_gsm7(text)
        assert text.endswith("\n" + tail)
        assert sms_segments(text) <= 2
    cancelled = rdv_cancelled_sms(rdv)
    assert is_gsm7(cancelled)
    assert "https://rdv.example.fr/r/1234567/ABCD2345EF pour reprendre RDV." in cancelled


# --------------------------------------------------------------------------- GSM-7


def test_the_basic_table_is_in_code_order():
    assert len(GSM7_BASIC_TABLE) == 128
    assert GSM7_BASIC_TABLE[0x00] == "@"
    assert GSM7_BASIC_TABLE[0x04] == "è"
    assert GSM7_BASIC_TABLE[0x09] == "Ç"
    assert GSM7_BASIC_TABLE[0x0A] == "\n"
    assert GSM7_BASIC_TABLE[0x1B] == "\x1b"
    assert GSM7_BASIC_TABLE[0x1F] == "É"
    assert GSM7_BASIC_TABLE[0x24] == "¤"
    assert GSM7_BASIC_TABLE[0x40] == "¡"
    assert GSM7_BASIC_TABLE[0x5F] == "§"
    assert GSM7_BASIC_TABLE[0x60] == "¿"
    assert GSM7_BASIC_TABLE[0x7F] == "à"
    assert "\x1b" not in GSM7_BASIC
    assert sorted(GSM7_EXTENSION) == sorted("\f^{}\\[~]|€")


KEPT = "éèàùìòÇÉÄÖÑÜäöñüÅåÆæØøß@£$¥§¿¡\n\r€[]{}^~|\\"


def test_gsm7_characters_are_kept():
    assert to_gsm7(KEPT) == KEPT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("œ Œ", "oe OE"),
        ("ç", "c"),
        ("â ê î ô û", "a e i o u"),
        ("ë ï ÿ ü", "e i y ü"),
        ("á í ó ú ã õ", "a i o u a o"),
        ("À Â È Ê Ë Î Ï Ô Ù Û Ÿ", "A A E E E I I O U U Y"),
        ("l’été « chaud » “oui” ‘non’", "l'été \" chaud \" \"oui\" 'non'"),
        ("9h–12h — fin…", "9h-12h - fin..."),
        ("10\u00a0rue\u202fdes\u2009Lilas\tx", "10 rue des Lilas x"),
        ("N° 5 · 2×3", "No 5 . 2x3"),
        ("Łukasz", "Lukasz"),
        ("e\u0301te\u0301", "été"),  # decomposed accents are composed first
        ("😀", "?"),
        ("\ufdfd", "?"),  # a ligature that decomposes into 18 Arabic letters is one mark, not 18
        ("`", "'"),
    ],
)
def test_transliteration(text, expected):
    assert to_gsm7(text) == expected


def test_replacements_are_gsm7_themselves():
    from rdv_app.domain.sms import _TRANSLITERATIONS

    assert all(is_gsm7(value) for value in _TRANSLITERATIONS.values())


@given(st.text())
def test_to_gsm7_output_is_always_gsm7(text):
    assert all(char in GSM7 for char in to_gsm7(text))


@given(st.text(alphabet=sorted(GSM7)))
def test_to_gsm7_leaves_gsm7_text_unchanged(text):
    assert to_gsm7(text) == text


# --------------------------------------------------------------------------- segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("é" * 160, 1),  # basic-set accents take one place
        ("€" * 80, 1),  # 160 places
        ("€" * 79 + "aa", 1),
        ("€" * 80 + "a", 2),  # 161 places
        ("a" * 159 + "{", 2),
        ("a" * 152 + "€" + "a" * 150, 2),  # the escape pair moves to part 2: 152, then 2 + 150
        ("a" * 152 + "€" + "a" * 152, 3),  # 306 places, but the pair cannot straddle: 152 + 153 + 1
    ],
)
def test_segments(text, segments):
    assert sms_segments(text) == segments


def test_segments_refuse_text_outside_gsm7():
    with pytest.raises(ValueError, match="GSM-7"):
        sms_segments("Cœur")
