"""accuracy@k on gold mentions, with NIL and uncovered mentions counted, not scored."""

from __future__ import annotations

import pytest

from bioner.linking.evaluate import link_accuracy
from bioner.linking.index import LinkIndex
from bioner.linking.linker import LinkConfig, Linker
from bioner.types import Document, entity_at

TEXT = "Wilson disease, Louis-Bar syndrome, mice, an unknown thing and diabetes."


def test_accuracy_at_1_and_5(sparse_index: LinkIndex) -> None:
    spans = [
        ("Wilson disease", "Disease", "MESH:D006527"),  # right at 1
        ("Louis-Bar syndrome", "Disease", "D003920"),  # wrong gold on purpose: wrong at 1
        ("mice", "Species", "NCBITaxon:10090"),  # no Species vocabulary: not scored
        ("an unknown thing", "Disease", "-1"),  # NIL gold: not scored
        ("diabetes", "Disease", "D003920"),
    ]
    entities = [entity_at(TEXT, TEXT.index(m), TEXT.index(m) + len(m), label, id=i) for m, label, i in spans]
    linker = Linker(sparse_index, LinkConfig(alpha=1.0))
    result = link_accuracy(linker, [Document("d", TEXT, tuple(entities))], ks=(1, 10))
    assert result.mentions == {"Disease": 3}
    assert result.accuracy(1) == pytest.approx(2 / 3)
    assert result.accuracy(10) == pytest.approx(1.0)  # the index holds 8 Disease concepts: all are candidates
    assert (result.nil, result.uncovered) == (1, 1)
    data = result.to_dict()
    assert data["accuracy@1"] == pytest.approx(2 / 3) and data["per_label"]["Disease"]["mentions"] == 3
    assert "| *all* | 3 | 66.67 | 100.00 |" in result.to_markdown()
