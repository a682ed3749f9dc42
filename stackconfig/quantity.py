"""Kubernetes resource quantities as exact numbers, for adding up what a tenant's apps ask of its quota."""

from __future__ import annotations

from fractions import Fraction

_SUFFIXES = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1), "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9),
    "T": Fraction(10**12), "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}


def parse_quantity(text: str) -> Fraction:
    """`'500m'` -> 1/2, `'1Gi'` -> 2**30, `'1e3'` -> 1000. Input is already validated by
    `stackconfig.types.Quantity`."""
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            return Fraction(text[: -len(suffix)]) * _SUFFIXES[suffix]
    return Fraction(text)


def format_quantity(value: Fraction, binary: bool) -> str:
    if binary:
        for suffix in ("Ti", "Gi", "Mi", "Ki"):
            unit = _SUFFIXES[suffix]
            if value >= unit:
                return f"{float(value / unit):g}{suffix}"
        return f"{float(value):g}"
    return f"{float(value):g}" if value >= 1 else f"{float(value * 1000):g}m"
