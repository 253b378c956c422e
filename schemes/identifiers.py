"""SIREN (9 digits) and SIRET (14 digits) numbers, checked with their Luhn key.

The lowest floor holds the rule (funders carry a SIRET here, organisations a SIREN in
``cases``); ``cases.siren`` re-exports it."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def luhn_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def siren_valid(siren: str) -> bool:
    return len(siren) == 9 and luhn_valid(siren)


# La Poste's establishments (SIREN 356 000 000) are numbered without the Luhn key of the
# SIRET: INSEE's documented exception, where the digits' sum is a multiple of 5.
LA_POSTE_SIREN = "356000000"


def siret_valid(siret: str) -> bool:
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN):
        return sum(int(c) for c in siret) % 5 == 0
    return luhn_valid(siret)


def validate_siret(value: str) -> None:
    """Model and form validator: 14 digits whose Luhn key is right (blank is allowed by
    the field itself)."""
    digits = value or ""
    if len(digits) != 14 or not digits.isdigit():
        raise ValidationError("Le SIRET compte 14 chiffres , sans espace.", code="siret_length")
    if not siret_valid(digits):
        raise ValidationError(
            "Ce SIRET n'est pas valide : sa clé de contrôle (Luhn) ne correspond pas. "
            "Vérifiez les 14 chiffres.",
            code="siret_key",
        )
