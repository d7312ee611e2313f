"""Entity linking: every mention gets a concept ID from a vocabulary (MEDIC, TSV, OBO, UMLS, corpus mentions).

:mod:`~bioner.linking.vocab` reads vocabularies, :mod:`~bioner.linking.index` builds and
saves the per-type index (character 3-gram TF-IDF and dense embeddings),
:mod:`~bioner.linking.linker` links predicted mentions (abbreviations, composite
mentions, NIL threshold) and :mod:`~bioner.linking.evaluate` measures accuracy@k on gold
mentions. Nothing here imports torch at module load; the embedding model loads when used.
"""
