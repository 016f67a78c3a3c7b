"""Style-code and size normalisation: the keys every source is matched on.

Sources write the same product many ways (``DD1391-100``, ``DD1391 100``, ``dd1391100``) and
sizes as free text (``10``, ``10.5W``, ``5.5Y``, ``10C``, ``43``, ``M``, ``12W / 10.5M``).
These functions turn them into one canonical form; anything they cannot read is reported as
unparsed (the caller sends it to ``products.unmatched_items`` with the reason), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_SEPARATORS = re.compile(r"[\s_.·]+")
_NIKE = re.compile(r"^([A-Z]{2}\d{4})-?(\d{3})$")  # DD1391-100, CW2288-111
_NIKE_NUMERIC = re.compile(r"^(\d{6})-?(\d{3})$")  # 555088-711 (Jordan), 315122-111
_ASICS = re.compile(r"^(\d{4}[A-Z]\d{3})-?(\d{3})$")  # 1191A266-102
_NB_LIKE = re.compile(r"^[A-Z0-9]{4,20}$")
_NULLS = {"", "N/A", "NA", "NONE", "NULL", "-"}


def style_key(text: str | None) -> str | None:
    """Matching key: upper-case letters and digits only. ``dd1391 100`` -> ``DD1391100``."""
    if text is None:
        return None
    key = re.sub(r"[^A-Z0-9]", "", text.upper())
    return key or None


def normalize_style_code(text: str | None) -> str | None:
    """Canonical display form of one style code, or None when there is none (``N/A``)."""
    if text is None:
        return None
    code = _SEPARATORS.sub("-", text.strip().upper()).strip("-")
    code = re.sub(r"-{2,}", "-", code)
    if code in _NULLS:
        return None
    for pattern in (_NIKE, _NIKE_NUMERIC, _ASICS):
        match = pattern.match(code)
        if match:
            return f"{match.group(1)}-{match.group(2)}"
    return code


def split_style_codes(text: str | None) -> list[str]:
    """All codes in a field such as ``DH0832-660/DH0833-660`` (men's and women's pair)."""
    if text is None or text.strip().upper() in _NULLS:
        return []
    parts = re.split(r"\s*[/,;|]\s*", text)
    codes = [normalize_style_code(p) for p in parts]
    return [c for c in codes if c]


# --------------------------------------------------------------------------- sizes

SIZE_SYSTEMS = ("US M", "US W", "US Y", "US C", "EU", "UK", "APPAREL", "ONE SIZE")
_APPAREL = {"XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL", "2XL", "3XL", "4XL"}
_US_SUFFIX = {"": "US M", "M": "US M", "W": "US W", "Y": "US Y", "GS": "US Y", "J": "US Y",
              "C": "US C", "TD": "US C", "K": "US C", "PS": "US C"}
_NUMBER = r"(\d{1,2}(?:\.\d)?|\d{1,2}\s?1/2)"
_US = re.compile(rf"^(?:US\s*)?(?:(M|W|Y|C|GS|TD|PS)\s*)?{_NUMBER}\s*(M|W|Y|C|GS|J|K|TD|PS)?$")
_EU = re.compile(r"^(?:EU\s*)?(\d{2}(?:\.\d|\s?[123]/3)?)$")
_UK = re.compile(rf"^UK\s*{_NUMBER}$")


@dataclass(frozen=True)
class Size:
    """A size in one system. ``value`` is a canonical decimal string (``10.5``), or the apparel
    label (``M``, ``S/M``, ``34W/32L``)."""

    system: str
    value: str
    label: str  # as the source wrote it

    @property
    def key(self) -> str:
        return f"{self.system} {self.value}"


class SizeError(ValueError):
    """A size label that cannot be read; the message says why."""


def _decimal_text(number: str) -> str:
    text = number.replace(" ", "")
    if text.endswith("1/2"):
        text = f"{text[:-3]}.5"
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SizeError(f"{number!r} is not a size number") from None
    return format(value.normalize(), "f")


def parse_size(label: str | None) -> Size | None:
    """Read one size label. ``None`` for ``N/A`` (unsized items); :class:`SizeError` if unreadable.

    Bare numbers up to 18 are US (men's unless suffixed: W women, Y/GS youth, C toddler); two-digit
    numbers from 30 up are EU. Dual labels (``12W / 10.5M``) resolve to the men's size.
    """
    if label is None:
        return None
    text = " ".join(label.strip().upper().split())
    if text in _NULLS:
        return None
    if text in {"OS", "ONE SIZE", "OSFA"}:
        return Size("ONE SIZE", "OS", label)
    if "/" in text and " / " in text:
        # "12W / 10.5M": both systems printed, prefer the men's size; "S / Men's 9-10": apparel.
        parts = [p.strip() for p in text.split(" / ")]
        parsed = [_try(p) for p in parts]
        for size in parsed:
            if size is not None and size.system == "US M":
                return Size(size.system, size.value, label)
        for size in parsed:
            if size is not None:
                return Size(size.system, size.value, label)
        raise SizeError(f"{label!r}: none of the parts is a size")
    size = _try(text)
    if size is None:
        raise SizeError(f"{label!r} is not a shoe size (US/EU/UK) or an apparel size")
    return Size(size.system, size.value, label)


def _try(text: str) -> Size | None:
    if text in _APPAREL:
        return Size("APPAREL", text, text)
    if re.fullmatch(r"(XXS|XS|S|M|L|XL|XXL)/(XS|S|M|L|XL|XXL|XXXL)", text):
        return Size("APPAREL", text, text)
    if re.fullmatch(r"\d{2}W\s?/\s?\d{2}L", text):  # trousers: waist/length
        return Size("APPAREL", text.replace(" ", ""), text)
    if re.fullmatch(r"\d{2}/\d{2}", text):  # socks and apparel printed as an EU range
        return Size("EU", text, text)
    match = _UK.match(text)
    if match:
        return Size("UK", _decimal_text(match.group(1)), text)
    match = _US.match(text)
    if match:
        prefix, number, suffix = match.group(1) or "", match.group(2), match.group(3) or ""
        value = _decimal_text(number)
        if Decimal(value) <= 18:
            return Size(_US_SUFFIX[suffix or prefix], value, text)
    match = _EU.match(text)
    if match and 16 <= int(match.group(1)[:2]) <= 52:
        return Size("EU", match.group(1).replace(" ", ""), text)
    return None
