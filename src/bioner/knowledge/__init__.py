"""Knowledge injection (VANER's Dense Bio-entity Recognition): knowledge bases, phrase mining, retrieval, dense samples.

Nothing here imports torch at module load; the embedding retriever loads its model only when used.
"""
