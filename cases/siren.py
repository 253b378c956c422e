"""SIREN (9 digits) and SIRET (14 digits) numbers, checked with their Luhn key: the rule
lives in ``schemes.identifiers`` (the lower floor, funders carry a SIRET)."""

from schemes.identifiers import luhn_valid, siren_valid, siret_valid

__all__ = ["luhn_valid", "siren_valid", "siret_valid"]
