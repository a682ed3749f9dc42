"""stackconfig/quantity.py: Kubernetes quantities as exact numbers, and back to text."""

from __future__ import annotations

from fractions import Fraction

import pytest

from stackconfig.quantity import format_quantity, parse_quantity


@pytest.mark.parametrize(("text", "value"), [
    ("500m", Fraction(1, 2)), ("2", Fraction(2)), ("1.5", Fraction(3, 2)), ("1Gi", Fraction(2**30)),
    ("512Mi", Fraction(2**29)), ("1G", Fraction(10**9)), ("1k", Fraction(1000)), ("1Ki", Fraction(1024)),
])
def test_parse_quantity(text: str, value: Fraction) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(("value", "binary", "text"), [
    (Fraction(9, 2), False, "4.5"), (Fraction(3, 4), False, "750m"), (Fraction(5 * 2**30), True, "5Gi"),
    (Fraction(3 * 2**29), True, "1.5Gi"), (Fraction(768 * 2**20), True, "768Mi"), (Fraction(100), True, "100"),
])
def test_format_quantity(value: Fraction, binary: bool, text: str) -> None:
    assert format_quantity(value, binary) == text
