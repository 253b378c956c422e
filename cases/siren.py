"""SIREN (9 digits) and SIRET (14 digits) numbers, checked with their Luhn key."""


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
