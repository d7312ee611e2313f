"""A tiny sparse link index over the MEDIC fixture and a few training mentions (no embedding model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.linking.index import LinkIndex, build_index
from bioner.linking.vocab import MentionName, read_medic

FIXTURES = Path(__file__).parents[1] / "fixtures" / "linking"


@pytest.fixture(scope="session")
def sparse_index() -> LinkIndex:
    concepts = read_medic(FIXTURES / "medic.txt")
    mentions = [
        MentionName("breast and ovarian cancers", ("D001943", "D010051"), "Disease", 1),
        MentionName("myeloma", ("D009101",), "Disease", 3),
        MentionName("BRCA1", ("672",), "Gene", 2),
    ]
    index, _ = build_index(concepts, mentions, embedding_model=None)
    return index


@pytest.fixture(scope="session")
def index_dir(sparse_index: LinkIndex, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sparse_index.save(tmp_path_factory.mktemp("link") / "index")
