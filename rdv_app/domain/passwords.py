"""Password policy for agents (and usagers who choose a password)."""

from __future__ import annotations

import unicodedata

MIN_LENGTH = 12
PASSWORD_HINT = f"Au moins {MIN_LENGTH} caractères, dont un chiffre, une majuscule et un caractère spécial."

# The most common French passwords that still satisfy the character rules: refused anyway.
COMMON_PASSWORDS = frozenset(
    p.casefold()
    for p in (
        "Motdepasse1!", "Motdepasse123!", "Azerty123456!", "Azertyuiop1!", "Bonjour12345!", "Soleil123456!",
        "Password1234!", "Password123!", "Marseille2024!", "Paris2024!!!!", "Doudou123456!", "Loulou123456!",
        "Chouchou1234!", "Nicolas12345!", "Camille12345!", "Juliette1234!", "Vacances2024!", "Bienvenue123!",
        "Bienvenue2024!", "Bonjour2024!!", "Administrateur1!", "Qwerty123456!", "Changeme1234!",
    )
)


def password_problems(password: str) -> list[str]:
    """French messages for every rule the password breaks (empty list: acceptable)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères.")
    if not any(c.isdigit() for c in password):
        problems.append("Le mot de passe doit contenir au moins un chiffre.")
    if not any(c.isupper() for c in password):
        problems.append("Le mot de passe doit contenir au moins une lettre majuscule.")
    if not any(_is_symbol(c) for c in password):
        problems.append("Le mot de passe doit contenir au moins un caractère spécial (par exemple ! ? @ # -).")
    if password.casefold() in COMMON_PASSWORDS:
        problems.append("Ce mot de passe est trop courant : choisissez-en un autre.")
    return problems


def _is_symbol(char: str) -> bool:
    return not char.isalnum() and unicodedata.category(char)[0] in {"P", "S", "Z"}
