"""Finding and masking PII in text: emails, phone numbers, card numbers, national ids.

Each kind is found by a candidate pattern and confirmed by a validator from a
maintained library where one exists, so ordinary numbers (ids, amounts, years) are
left alone: card numbers must pass Luhn (python-stdnum), national ids their own
checksum or format rules (python-stdnum), phone numbers must be valid numbers for
their region (phonenumbers). National ids covered: US SSN, Spanish DNI, Italian
codice fiscale, Indian Aadhaar (grouped as printed). Matches are replaced by
``[EMAIL]``, ``[PHONE]``, ``[CARD]`` and ``[NATIONAL_ID]``, which keep JSON and prose
readable.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers
from stdnum import luhn
from stdnum.es import dni
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.us import ssn

PiiKind = str

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
_DNI = re.compile(r"(?<!\w)\d{8}-?[A-Za-z](?!\w)")
_CODICE_FISCALE = re.compile(r"(?<!\w)[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z](?!\w)")
# Grouped only: a bare 12-digit number passes Aadhaar's Verhoeff check one time in ten.
_AADHAAR = re.compile(r"(?<![\w-])\d{4} \d{4} \d{4}(?![\w-])")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _is_card(candidate: str) -> bool:
    digits = _digits(candidate)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


@dataclass(frozen=True)
class _PatternKind:
    kind: PiiKind
    pattern: re.Pattern[str]
    valid: Callable[[str], bool]


# Order matters: a card number also looks like a phone number to a loose matcher, so
# the stricter kinds are masked first and the phone pass never sees them.
_PATTERNS = (
    _PatternKind("EMAIL", _EMAIL, lambda _match: True),
    _PatternKind("CARD", _CARD, _is_card),
    _PatternKind("NATIONAL_ID", _SSN, ssn.is_valid),
    _PatternKind("NATIONAL_ID", _DNI, dni.is_valid),
    _PatternKind("NATIONAL_ID", _CODICE_FISCALE, codicefiscale.is_valid),
    _PatternKind("NATIONAL_ID", _AADHAAR, aadhaar.is_valid),
)


@dataclass
class Redacted:
    text: str
    found: Counter[PiiKind] = field(default_factory=Counter)


class Redactor:
    """Masks PII; ``phone_region`` decides how national-format numbers are read."""

    def __init__(self, *, phone_region: str = "US") -> None:
        self._region = phone_region.upper()

    def redact(self, text: str) -> Redacted:
        found: Counter[PiiKind] = Counter()
        for spec in _PATTERNS:
            text = self._replace(text, spec, found)
        text = self._replace_phones(text, found)
        return Redacted(text, found)

    @staticmethod
    def _replace(text: str, spec: _PatternKind, found: Counter[PiiKind]) -> str:
        def mask(match: re.Match[str]) -> str:
            if not spec.valid(match.group(0)):
                return match.group(0)
            found[spec.kind] += 1
            return f"[{spec.kind}]"

        return spec.pattern.sub(mask, text)

    def _replace_phones(self, text: str, found: Counter[PiiKind]) -> str:
        matches = list(
            phonenumbers.PhoneNumberMatcher(
                text, self._region, leniency=phonenumbers.Leniency.VALID
            )
        )
        for match in reversed(matches):  # right to left keeps earlier offsets valid
            text = f"{text[: match.start]}[PHONE]{text[match.end :]}"
            found["PHONE"] += 1
        return text
