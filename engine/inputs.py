"""One input layer: values that come from outside (API bodies, query strings, forms) are
parsed here, once, into typed values with bounds that fit their storage.

Every reader works in constant time for any input: the text's length is checked before
any conversion, exponents are bounded before any arithmetic, and nothing converts a huge
``Decimal`` to an ``int``. A refused value raises ``DomainError`` (a French message, the
field named in ``errors``), which the API answers as a 400 and the pages show beside the
field. Readers named ``read_*`` return ``None`` instead of raising.

Where a person types (the web forms, ``french=True``), an amount is read in the French or
the plain form: « 80 000,00 », « 80 000 », « 80000.00 », « 80 000,5 », « 80 000,00 € »;
thousands are separated by spaces (normal, no-break U+00A0, narrow no-break U+202F, thin
U+2009, as browsers and spreadsheets paste them) and the decimals follow one comma or one
point. Refused, with a message naming the expected form (« par exemple 12 500,00 »): a mix
of point and comma (« 1,000.00 », « 1.000,00 »: which one is the decimal separator cannot
be known), an exponent (« 1e5 »), Unicode digits, and more than two decimals even when
they are zeros (« 80.000 » or « 1,000 » typed for a thousand would otherwise silently
become 80 € or 1 €). The API reads the contract's forms (« 80000.00 », a JSON number).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone

from .errors import DomainError

CENT = Decimal("0.01")
#: Money fits ``DecimalField(max_digits=14, decimal_places=2)``: 12 digits before the comma.
MONEY_MAX = Decimal("999999999999.99")
#: Legal facts and plans live in this century and the next: anything else is a typo or
#: an attack (year 1, year 9999).
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)
#: A database id: a PostgreSQL ``bigint``.
ID_MAX = 2**63 - 1
#: No number a person or a program sends honestly is longer than this.
NUMBER_TEXT_MAX = 40
#: Beyond this exponent no amount, score or rate of the domain exists.
EXPONENT_MAX = 15

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?", re.ASCII)
# French typing: groups of thousands separated by spaces (normal, no-break, narrow no-break,
# thin) or not at all, one decimal comma or point, an optional euro sign; no exponent.
_SPACES = "[ \u00a0\u2009\u202f]"
_FRENCH = re.compile(
    rf"[+-]?\d{{1,3}}(?:{_SPACES}\d{{3}})+(?:[.,]\d*)?|[+-]?\d+(?:[.,]\d*)?|[+-]?[.,]\d+",
    re.ASCII,
)
#: The form every message about a typed amount shows.
MONEY_EXAMPLE = "12 500,00"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_DIGITS = re.compile(r"\d{1,19}", re.ASCII)


def _error(field: str, message: str, short: str) -> DomainError:
    return DomainError(message, errors={field: [short]})


def _cap(label: str) -> str:
    return label[:1].upper() + label[1:]


# ---------------------------------------------------------------- numbers


def read_decimal(value, *, french: bool = False) -> Decimal | None:
    """A finite decimal number, or None.

    Accepted: an ``int`` (not a ``bool``), a finite ``float``, a ``Decimal``, or text —
    ASCII digits with an optional point and exponent (« 12500.00 », « 1.25e4 »), or with
    ``french=True`` (typed by a person) the French and plain forms only: « 12 500,00 »,
    « 12 500,00 € », « 12500.00 », never an exponent. Refused: booleans, lists, objects,
    Unicode digits, « 1_000 », NaN and infinities, text over 40 characters, exponents over
    15 in size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value.bit_length() > 64:
            return None
        return Decimal(value)
    if isinstance(value, float):
        return _finite(Decimal(repr(value))) if value == value else None
    if isinstance(value, Decimal):
        return _finite(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > NUMBER_TEXT_MAX:
        return None
    if french:
        text = text.removesuffix("€").strip()
        if not _FRENCH.fullmatch(text):
            return None
        text = re.sub(_SPACES, "", text).replace(",", ".")
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return _finite(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def _finite(number: Decimal) -> Decimal | None:
    if not number.is_finite():
        return None
    if number and abs(number.adjusted()) > EXPONENT_MAX:
        return None
    return number


def _huge(value) -> bool:
    """A well-formed number too large to be read (« 1e999 », an integer of 30 digits)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return abs(value) > 1e15 and abs(value) != float("inf")
    text = value.strip() if isinstance(value, str) else ""
    return bool(_NUMBER.fullmatch(text[:NUMBER_TEXT_MAX])) or (
        len(text) > NUMBER_TEXT_MAX and text.isascii() and text.isdigit()
    )


def typing_hint(value, *, money: bool = True, what: str = "un nombre") -> str:
    """Why a number typed by a person was not read, in plain French, ending with the
    expected form (the end of a sentence: « Montant accordé en euros : … »)."""
    text = value.strip()[:NUMBER_TEXT_MAX] if isinstance(value, str) else ""
    form = (
        f"par exemple {MONEY_EXAMPLE} (des espaces entre les milliers, une virgule avant "
        "les centimes)"
        if money
        else "par exemple 12,5"
    )
    if "," in text and "." in text:
        return f"n'utilisez pas à la fois le point et la virgule ; écrivez-le {form}."
    if any(c.isdigit() and not c.isascii() for c in text):
        return f"écrivez les chiffres de 0 à 9, {form}."
    if re.search(r"\d[eE][+-]?\d", text):
        return f"écrivez le nombre en entier, sans exposant, {form}."
    return f"indiquez {what}, {form}."


def _too_precise(number: Decimal, places: int, *, french: bool) -> bool:
    """More than ``places`` decimals. Typed by a person, trailing zeros count: « 80.000 »
    or « 1,000 » is a thousand typed the English way, not 80 € or 1 €."""
    if french and number.as_tuple().exponent < -places:
        return True
    return number != number.quantize(Decimal(1).scaleb(-places))


def parse_money(
    value,
    *,
    field: str,
    label: str,
    french: bool = False,
    allow_zero: bool = False,
    required: bool = True,
) -> Decimal | None:
    """An amount in euros: positive (or zero if allowed), two decimals at most, below
    one thousand billion (the column's 12 digits before the comma). ``french``: typed by
    a person in a page (see the module's docstring)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if not required:
            return None
        raise _error(field, f"Indiquez le {label} en euros.", "Ce champ est obligatoire.")
    amount = read_decimal(value, french=french)
    too_high = _error(
        field,
        f"Le {label} est invraisemblable (moins de 1 000 milliards d'euros).",
        "Montant trop élevé.",
    )
    if amount is None and french:
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            raise too_high
        raise _error(field, f"{_cap(label)} en euros : {typing_hint(value)}", "Montant invalide.")
    if amount is None and _huge(value):
        raise too_high
    if amount is None:
        raise _error(
            field,
            f"Indiquez le {label} en euros : un nombre, par exemple 12500.00.",
            "Montant invalide.",
        )
    if amount < 0 or (amount == 0 and not allow_zero):
        raise _error(field, f"Le {label} doit être positif.", "Montant négatif ou nul.")
    if amount > MONEY_MAX:
        raise too_high
    if _too_precise(amount, 2, french=french):
        message = (
            f"Deux décimales au plus. Le {label} s'écrit par exemple {MONEY_EXAMPLE} "
            "(des espaces entre les milliers)."
            if french
            else f"Le {label} a plus de deux décimales."
        )
        raise _error(field, message, "Deux décimales au plus.")
    return amount.quantize(CENT)


def parse_decimal(
    value,
    *,
    field: str,
    label: str,
    minimum: Decimal | int = 0,
    maximum: Decimal | int | None = None,
    places: int = 2,
    french: bool = True,
    required: bool = True,
    what: str = "un nombre",
) -> Decimal | None:
    """A bounded number (a score, a rate…) with at most ``places`` decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if not required:
            return None
        raise _error(field, f"Indiquez {label}.", "Ce champ est obligatoire.")
    number = read_decimal(value, french=french)
    if number is None:
        if french:
            hint = typing_hint(value, money=False, what=what)
            raise _error(field, f"{_cap(label)} : {hint}", "Nombre attendu.")
        raise _error(field, f"{_cap(label)} : indiquez {what}.", "Nombre attendu.")
    low, high = Decimal(minimum), None if maximum is None else Decimal(maximum)
    if number < low or (high is not None and number > high):
        bounds = (
            f"entre {_plain(low)} et {_plain(high)}"
            if high is not None
            else f"au moins {_plain(low)}"
        )
        raise _error(field, f"{_cap(label)} doit être {bounds}.", "Hors bornes.")
    step = Decimal(1).scaleb(-places)
    if _too_precise(number, places, french=french):
        raise _error(
            field, f"{_cap(label)} : {places} décimales au plus.", f"{places} décimales au plus."
        )
    return number.quantize(step, rounding=ROUND_HALF_UP)


def _plain(number: Decimal) -> str:
    return f"{number.normalize():f}".replace(".", ",")


# ---------------------------------------------------------------- ids


def read_id(value) -> int | None:
    """A database id: a positive integer written with ASCII digits (« ² », « ① », « ١ »
    are not ids), within a ``bigint``; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= ID_MAX else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= ID_MAX else None


def parse_id(value, *, field: str, label: str = "identifiant") -> int:
    number = read_id(value)
    if number is None:
        raise _error(field, f"{_cap(label)} invalide.", "Identifiant invalide.")
    return number


# ---------------------------------------------------------------- dates


def read_date(value, *, french: bool = False) -> dt.date | None:
    """A calendar date: a ``date`` or exactly « AAAA-MM-JJ » in ASCII digits (and, with
    ``french=True``, « JJ/MM/AAAA »), within 2000–2099; None otherwise."""
    day = _calendar_date(value, french=french)
    return day if day is not None and DATE_MIN <= day <= DATE_MAX else None


def parse_date(
    value,
    *,
    field: str = "date",
    label: str = "date",
    required: bool = False,
    default: dt.date | None = None,
    not_future: bool = False,
    today: dt.date | None = None,
    french: bool = False,
) -> dt.date | None:
    """A date as sent by a form or the API. ``not_future``: an event that happened."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _error(field, f"Indiquez la {label}.", "Ce champ est obligatoire.")
        return default
    calendar_day = _calendar_date(value, french=french)
    if calendar_day is None:
        raise _error(
            field,
            f"La {label} doit être au format {'JJ/MM/AAAA' if french else 'AAAA-MM-JJ'}.",
            "Date invalide.",
        )
    if not_future and calendar_day > (today or timezone.localdate()):
        raise _error(field, f"La {label} ne peut pas être dans le futur.", "Date dans le futur.")
    if not DATE_MIN <= calendar_day <= DATE_MAX:
        raise _error(
            field,
            f"La {label} est invraisemblable ({calendar_day:%d/%m/%Y} : entre "
            f"{DATE_MIN:%Y} et {DATE_MAX:%Y}).",
            "Date invraisemblable.",
        )
    return calendar_day


def _calendar_date(value, *, french: bool = False) -> dt.date | None:
    """Any real calendar date in the accepted forms, whatever its year."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = value.strip() if isinstance(value, str) else ""
    french_match = _FRENCH_DATE.fullmatch(text) if french else None
    try:
        if french_match:
            day, month, year = (int(g) for g in french_match.groups())
            return dt.date(year, month, day)
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        return None
    return None


# ---------------------------------------------------------------- text


def parse_text(
    value,
    *,
    field: str,
    label: str,
    max_length: int,
    required: bool = False,
) -> str:
    """Text typed by a person: a string, trimmed, without NUL, never silently cut — a text
    longer than its column is refused with its limit."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _error(field, f"{_cap(label)} : texte attendu.", "Texte attendu.")
    if len(value) > max_length * 2 + 1000:  # before any work on a huge text
        raise _error(
            field,
            f"{_cap(label)} : {max_length:,} caractères au plus.".replace(",", "\u202f"),
            f"{max_length} caractères au plus.",
        )
    text = value.strip()
    if required and not text:
        raise _error(field, f"Indiquez {label}.", "Ce champ est obligatoire.")
    if len(text) > max_length:
        raise _error(
            field,
            f"{_cap(label)} : {max_length:,} caractères au plus ({len(text):,} reçus).".replace(
                ",", "\u202f"
            ),
            f"{max_length} caractères au plus.",
        )
    if "\x00" in text:
        raise _error(field, f"{_cap(label)} contient un caractère interdit.", "Caractère nul.")
    return text


def parse_choice(value, *, field: str, label: str, choices) -> str:
    """One of the allowed code names (compared as plain text, never coerced)."""
    allowed = list(choices)
    if not isinstance(value, str) or value not in allowed:
        raise _error(
            field,
            f"{_cap(label)} : valeur attendue parmi {', '.join(allowed)}.",
            "Valeur invalide.",
        )
    return value


def parse_text_list(
    value, *, field: str, label: str, max_items: int = 50, max_length: int = 200
) -> list[str]:
    """A list of short texts (a text alone is a list of one); blank items dropped."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise _error(field, f"{_cap(label)} : liste de textes attendue.", "Liste attendue.")
    if len(value) > max_items:
        raise _error(
            field, f"{_cap(label)} : {max_items} éléments au plus.", f"{max_items} au plus."
        )
    items = []
    for item in value:
        text = parse_text(item, field=field, label=label, max_length=max_length)
        if text:
            items.append(text)
    return items
