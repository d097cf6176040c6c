"""Usagers: records, accounts and sign-in, the "Infos et annulation" link and "Mes rendez-vous"."""
