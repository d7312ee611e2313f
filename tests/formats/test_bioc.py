from pathlib import Path
from typing import Any

import pytest

from bioner.errors import BionerError, InputError, Report
from bioner.formats import bioc, pubtator, read_documents, write_documents
from bioner.types import Document, Entity, Passage, entity_at

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
XML = FIXTURES / "sample.bioc.xml"
JSON = FIXTURES / "sample.bioc.json"


def read_all(path: Path, **options: Any) -> list[Document]:
    return list(bioc.read(path, **options))


def test_reads_passages_at_their_offsets_with_ids_infons_and_relations() -> None:
    report = Report()
    doc, plain = read_all(XML, report=report)
    title = "La mutación c.35delG del gen GJB2 causa sordera."
    assert doc.passages[0] == Passage(0, title, "title")
    assert doc.passages[1].offset == len(title) + 1 and doc.text[len(title)] == " "
    assert "sordera neurosensorial & hipoacusia" in doc.text  # XML entities decoded
    by_bioc_id = {e.attr(bioc.BIOC_ID): e for e in doc.entities}
    assert (by_bioc_id["0"].id, by_bioc_id["0"].attr(bioc.ID_KEY)) == ("c|DEL|35|G", "DNAMutation")  # tmVar style
    assert by_bioc_id["1"].id == "2706" and by_bioc_id["1"].attr("infon:NCBI Homologene") == "88"
    assert by_bioc_id["5"].id is None and by_bioc_id["5"].span == (77, 84)  # nested in annotation 4
    assert "6" not in by_bioc_id
    assert report.losses == {"multi-location annotations skipped": 1}
    assert doc.meta["bioc_infons"] == {"journal": "Rev Esp"}
    assert doc.meta["bioc_collection"] == {"source": "PubTator", "date": "2024-01-31", "key": "BioC.key"}
    relations = doc.meta["bioc_relations"]
    assert relations[0]["nodes"] == [{"refid": "0", "role": "variant"}, {"refid": "2", "role": "disease"}]
    assert relations[1]["passage"] == 1
    assert plain.passages == (Passage(0, "Sin anotaciones aquí."),) and not plain.entities


def test_multi_location_cover_keeps_the_locations_for_writing_back() -> None:
    report = Report()
    doc = read_all(XML, multi="cover", report=report)[0]
    covered = next(e for e in doc.entities if e.attr(bioc.BIOC_ID) == "6")
    assert covered.span == (77, 112) and covered.attr(bioc.LOCATIONS) == "77:7;102:10"
    assert report.warnings["multi-location annotations read as their covering span"] == 1


def test_json_with_gaps_between_passages_and_document_level_annotations() -> None:
    (doc,) = read_all(JSON, flavour="json")
    assert doc.text == "Ácido fólico y MTHFR.    El gen MTHFR (677C>T) en niños."
    assert doc.passages[0].attrs == (("section_type", "TITLE"),)
    assert [(e.text, e.id, e.attr(bioc.ID_KEY)) for e in doc.entities] == [
        ("Ácido fólico", "MESH:D005492", None),
        ("MTHFR", "4524", "NCBI Gene"),
        ("MTHFR", "4524", "NCBI Gene"),
    ]
    assert doc.meta["bioc_collection"] == {"source": "hand-written", "date": "2024-02-01", "infons": {"corpus": "test"}}


@pytest.mark.parametrize("source", [XML, JSON])
@pytest.mark.parametrize("flavour", ["xml", "json"])
def test_round_trip_is_identity_in_both_flavours(tmp_path: Path, source: Path, flavour: str) -> None:
    docs = read_all(source, flavour="xml" if source == XML else "json", multi="cover")
    out = tmp_path / f"out.{flavour}"
    report = bioc.write(docs, out, flavour=flavour)
    assert not report
    assert read_all(out, flavour=flavour, multi="cover") == docs


def test_registry_names_pick_the_flavour(tmp_path: Path) -> None:
    docs = list(read_documents(JSON, "bioc-json"))
    write_documents(docs, tmp_path / "x.xml", "bioc-xml")
    assert (tmp_path / "x.xml").read_text(encoding="utf-8").startswith("<?xml")
    assert list(read_documents(tmp_path / "x.xml")) == docs


def test_carriage_returns_and_markup_characters_survive_xml(tmp_path: Path) -> None:
    text = "a\r\nb <i>&amp;</i> c"
    doc = Document("d", text, (entity_at(text, 3, 4, "X"),), passages=(Passage(0, text, "body"),))
    bioc.write([doc], tmp_path / "x.xml")
    (back,) = read_all(tmp_path / "x.xml")
    assert back.text == text and [e.text for e in back.entities] == ["b"]


def test_writing_documents_from_another_format_counts_losses(tmp_path: Path) -> None:
    docs = list(pubtator.read(FIXTURES / "sample.pubtator"))
    report = bioc.write(docs, tmp_path / "x.xml")
    assert report.losses == {"document metadata (relations)": 2, "entity attributes (pubtator_extra)": 1}
    back = read_all(tmp_path / "x.xml")
    assert [d.text for d in back] == [d.text for d in docs]
    assert [[(e.span, e.label, e.id) for e in d.entities] for d in back] == [
        [(e.span, e.label, e.id) for e in d.entities] for d in docs
    ]


def test_text_outside_passages_scores_and_sentences_are_counted(tmp_path: Path) -> None:
    text = "Title. Body."
    doc = Document(
        "d",
        text,
        (Entity(0, 5, "X", "Title", score=0.5),),
        passages=(Passage(0, "Title.", "title"),),
        sentences=((0, 6), (7, 12)),
    )
    report = bioc.write([doc], tmp_path / "x.json", flavour="json")
    assert report.losses == {
        "documents with text outside their passages (not kept)": 1,
        "entity scores": 1,
        "sentence spans": 1,
    }


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("<document><id>1</id><passage><offset>0</offset><text>abc", 4, "invalid XML: mismatched tag"),
        (
            '<document><id>1</id><passage><offset>0</offset><text>abc</text>\n<annotation id="1"><infon key="type">X'
            '</infon><location offset="0" length="2"/><text>xy</text></annotation></passage></document>',
            4,
            "annotation text 'xy' differs from the document text 'ab'",
        ),
        (
            '<document><id>1</id><passage><offset>0</offset><text>abc</text>\n<annotation id="1"><infon key="type">X'
            '</infon><location offset="2" length="9"/></annotation></passage></document>',
            4,
            "location [2, 11) out of range",
        ),
        (
            '<document><id>1</id><passage><offset>0</offset><text>abc</text>\n<annotation id="1"><infon key="type">X'
            '</infon><location offset="a" length="1"/></annotation></passage></document>',
            4,
            "location offset 'a' is not an integer",
        ),
        (
            '<document><id>1</id><passage><offset>0</offset><text>abc</text>\n<annotation id="1">'
            '<location offset="0" length="1"/></annotation></passage></document>',
            4,
            "annotation 1 has no 'type' infon",
        ),
        (
            "<document><id>1</id>\n<passage><offset>5</offset><text>abc</text></passage>"
            "\n<passage><offset>6</offset><text>d</text></passage></document>",
            5,
            "passage at offset 6 overlaps the one before it",
        ),
        ("<document>\n<passage><offset>0</offset><text>a</text></passage></document>", 3, "document without an id"),
    ],
)
def test_bad_xml_names_file_and_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(f"<?xml version='1.0'?>\n<collection><source/>\n{body}\n</collection>\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_all(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE c [\n<!ENTITY a "aaaa">\n]>\n<collection/>\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bomb.xml:3: XML entity declarations are not allowed"):
        read_all(path)


def test_bad_json_and_wrong_root(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"documents": [\n{"id": }]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.json:2: invalid JSON"):
        read_all(path, flavour="json")
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="expected a BioC JSON collection"):
        read_all(path, flavour="json")
    xml = tmp_path / "root.xml"
    xml.write_text("<?xml version='1.0'?>\n<documents/>\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"root.xml:2: root element <documents>"):
        read_all(xml)


def test_unknown_options_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="unknown BioC flavour"):
        read_all(XML, flavour="yaml")
    with pytest.raises(BionerError, match="unknown multi"):
        read_all(XML, multi="all")


def test_metadata_of_the_wrong_shape_is_counted_not_a_crash(tmp_path: Path) -> None:
    doc = Document("d", "abc", meta={"bioc_relations": "oops", "bioc_infons": ["x"], "bioc_collection": 3})
    report = bioc.write([doc], tmp_path / "x.xml")
    assert report.losses == {
        "document metadata (bioc_relations)": 1,
        "document metadata (bioc_infons)": 1,
        "document metadata (bioc_collection)": 1,
    }
    assert read_all(tmp_path / "x.xml")[0].text == "abc"


def _json_collection(tmp_path: Path, document: Any) -> Path:
    import json

    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"source": "", "documents": [document]}), encoding="utf-8")
    return path


_PASSAGE = {"offset": 0, "text": "Aspirin hurts.", "infons": {}, "annotations": []}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"id": "d1", "passages": ["Aspirin hurts."]}, "document d1: passage 1 must be an object, got str"),
        ({"id": "d1", "passages": [{**_PASSAGE, "text": 7}]}, "passage text at offset 0 must be a string, got int"),
        ({"id": "d1", "passages": [{**_PASSAGE, "infons": ["type"]}]}, "passage infons must be an object, got list"),
        ({"id": "d1", "passages": "none"}, "document d1: passages must be a list, got str"),
        ({"id": "d1", "passages": [{**_PASSAGE, "annotations": [3]}]}, "an annotation must be an object, got int"),
        ({"id": "d1", "passages": [_PASSAGE], "relations": [{"nodes": "x"}]}, "relation nodes must be a list"),
        ({"id": "d1", "passages": [{**_PASSAGE, "offset": 10**15}]}, "passage offset 1000000000000000 is beyond"),
        ({"id": "d1", "passages": [{**_PASSAGE, "offset": True}]}, "passage offset True is not an integer"),
        ({"id": None, "passages": []}, "document without an id"),
        ("d1", "a document must be an object, got str"),
    ],
)
def test_wrong_json_types_are_one_line_errors_naming_file_and_document(
    tmp_path: Path, document: Any, message: str
) -> None:
    path = _json_collection(tmp_path, document)
    with pytest.raises(InputError) as err:
        read_all(path, flavour="json")
    assert str(err.value).startswith(f"{path}") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_numeric_ids_and_infon_values_are_read_as_text_and_counted(tmp_path: Path) -> None:
    annotation = {"id": 4, "infons": {"type": "Chemical", "valid": True}, "locations": [{"offset": 0, "length": 7}]}
    path = _json_collection(tmp_path, {"id": 123, "passages": [{**_PASSAGE, "annotations": [annotation]}]})
    report = Report()
    [doc] = read_all(path, flavour="json", report=report)
    assert doc.id == "123" and doc.entities[0].attr(bioc.BIOC_ID) == "4"
    assert doc.entities[0].attr("infon:valid") == "true"
    assert report.warnings["document ids that are numbers (read as text)"] == 1
    assert report.warnings["annotation ids that are not strings (read as text)"] == 1


def test_deeply_nested_json_is_an_error_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        read_all(path, flavour="json")


SENTENCE_LAYOUT = """<?xml version='1.0' encoding='UTF-8'?>
<collection><source/><date/><key/>
<document><id>c1</id>
<passage><offset>0</offset><text></text>
<sentence><offset>0</offset><text>Aspirin hurts.</text>
<annotation id="1"><infon key="type">Chemical</infon><location offset="0" length="7"/>
<text>Aspirin</text></annotation>
</sentence>
<sentence><offset>15</offset><text>Liver <i>injury</i> too.</text>
<annotation id="2"><infon key="type">Disease</infon><location offset="15" length="12"/>
<text>Liver injury</text></annotation>
</sentence>
</passage>
</document>
</collection>
"""


def test_annotations_in_sentences_and_passage_text_in_sentences_are_read(tmp_path: Path) -> None:
    path = tmp_path / "sentences.xml"
    path.write_text(SENTENCE_LAYOUT, encoding="utf-8")
    report = Report()
    [doc] = read_all(path, report=report)
    assert doc.text == "Aspirin hurts. Liver injury too."
    assert [(e.label, e.text) for e in doc.entities] == [("Chemical", "Aspirin"), ("Disease", "Liver injury")]
    assert doc.sentences == ((0, 14), (15, 32))
    assert report.warnings["passages whose text is in their sentences (read from the sentences)"] == 1
    assert report.warnings["markup inside <text> elements (tags removed, their text kept)"] == 1


def test_mixed_content_in_text_is_not_cut_at_the_first_tag(tmp_path: Path) -> None:
    path = tmp_path / "mixed.xml"
    path.write_text(
        "<collection><source/><document><id>m</id><passage><offset>0</offset>"
        "<text>Aspirin causes <i>liver</i> injury.</text></passage></document></collection>",
        encoding="utf-8",
    )
    [doc] = read_all(path)
    assert doc.text == "Aspirin causes liver injury."


def test_pubtator3_answers_are_read_and_json_without_documents_is_an_error(tmp_path: Path) -> None:
    import json

    document = {"_id": "1|None", "id": "1", "passages": [_PASSAGE], "pmid": 1, "relations": []}
    path = tmp_path / "pubtator3.json"
    path.write_text(json.dumps({"PubTator3": [document]}), encoding="utf-8")
    report = Report()
    [doc] = read_all(path, flavour="json", report=report)
    assert doc.id == "1" and doc.text == "Aspirin hurts."
    assert report.warnings["document fields BioC does not define (not read)"] == 2
    for content in ("{}", '{"PubTator3": 1}', "[]", '{"documents": {}}'):
        path.write_text(content, encoding="utf-8")
        with pytest.raises(InputError, match="expected a BioC JSON collection"):
            read_all(path, flavour="json")
    path.write_text('{"documents": []}', encoding="utf-8")
    with pytest.raises(InputError, match="the BioC collection holds no documents"):
        read_all(path, flavour="json")
    xml = tmp_path / "empty.xml"
    xml.write_text("<collection><source/>" + "<a>" * 10_000 + "</a>" * 10_000 + "</collection>", encoding="utf-8")
    with pytest.raises(InputError, match="the BioC collection holds no documents"):
        read_all(xml)


def test_multi_location_texts_with_other_separators_are_read_from_the_document(tmp_path: Path) -> None:
    path = tmp_path / "elliptic.xml"
    path.write_text(
        "<collection><source/><document><id>e</id><passage><offset>0</offset><text>Breast and Lung Cancers</text>"
        '<annotation id="1"><infon key="type">Disease</infon><location offset="0" length="6"/>'
        '<location offset="16" length="7"/><text>Breast [...] Cancers</text></annotation></passage></document>'
        "</collection>",
        encoding="utf-8",
    )
    report = Report()
    [doc] = read_all(path, multi="cover", report=report)
    assert doc.entities[0].span == (0, 23)
    assert report.warnings["multi-location annotation texts with other fragment separators (' ... '), read"] == 1


def test_control_characters_in_ids_and_infons_are_replaced_and_counted(tmp_path: Path) -> None:
    entity = Entity(0, 7, "Chemical", "Aspirin", id="D\x01001", attrs=(("infon:note", "a\x0bb"),))
    doc = Document("doc\x07", "Aspirin hurts.", (entity,), meta={"bioc_infons": {"k\x02": "v"}})
    path = tmp_path / "out.xml"
    report = bioc.write([doc], path)
    assert report.losses["ids, infons and other fields with characters XML cannot hold (replaced by spaces)"] == 4
    [back] = read_all(path)
    assert back.id == "doc " and back.entities[0].id == "D 001" and back.entities[0].attr("infon:note") == "a b"
