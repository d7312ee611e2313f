"""Schwartz–Hearst abbreviation definitions, with offsets, and the expansion of mentions."""

from __future__ import annotations

from bioner.linking.abbreviations import abbreviation_map, expand, find_abbreviations

TEXT = (
    "Mutations cause ataxia  telangiectasia (AT). AT patients were seen. "
    "The adenomatous polyposis coli (APC) gene; familial adenomatous polyposis (FAP, a syndrome)."
)


def test_definitions_are_found_with_their_offsets() -> None:
    found = find_abbreviations(TEXT)
    assert [(a.short, a.long) for a in found] == [
        ("AT", "ataxia  telangiectasia"),
        ("APC", "adenomatous polyposis coli"),
        ("FAP", "familial adenomatous polyposis"),
    ]
    for a in found:
        assert TEXT[a.short_start : a.short_start + len(a.short)] == a.short
        assert TEXT[a.long_start : a.long_start + len(a.long)] == a.long


def test_the_long_form_stops_at_the_sentence_and_must_hold_the_letters() -> None:
    assert find_abbreviations("It was done. Then we saw (XYZ).") == []
    assert find_abbreviations("No definition here (see above).") == []


def test_mentions_are_read_as_their_long_forms() -> None:
    forms = abbreviation_map(TEXT)
    assert expand("AT", forms) == "ataxia  telangiectasia"
    assert expand("attenuated FAP", forms) == "attenuated familial adenomatous polyposis"
    assert expand("FAP-like", forms) == "FAP-like"  # part of a longer word: left alone
    assert expand("ATM", forms) == "ATM"


def test_a_long_form_holding_a_defined_short_form_is_expanded_once_more() -> None:
    forms = abbreviation_map("Diffuse mesangial sclerosis (DMS) occurs; isolated DMS (IDMS) is rarer.")
    assert forms["IDMS"] == "isolated Diffuse mesangial sclerosis"
