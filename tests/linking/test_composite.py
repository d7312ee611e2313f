"""Coordinated mentions split into the concept names they stand for."""

from __future__ import annotations

import pytest

from bioner.linking.composite import split_composite


@pytest.mark.parametrize(
    ("mention", "parts"),
    [
        ("breast and ovarian cancer", ["breast cancer", "ovarian cancer"]),
        ("Duchenne and Becker muscular dystrophy", ["Duchenne muscular dystrophy", "Becker muscular dystrophy"]),
        ("colon, breast, and ovarian cancers", ["colon cancers", "breast cancers", "ovarian cancers"]),
        ("breast/ovarian cancer", ["breast cancer", "ovarian cancer"]),
        ("ovarian cancer and leukemia", ["ovarian cancer", "leukemia"]),
        ("Wilson disease", ["Wilson disease"]),
    ],
)
def test_split(mention: str, parts: list[str]) -> None:
    assert split_composite(mention) == parts
