"""Model families behind two small protocols (:mod:`bioner.models.base`), registered by name.

``encoder`` (BIO token classification), ``llm-tagger`` (VANER: a decoder without its causal
mask), and any module of this package (or a plug-in's entry point) that registers a class with
:func:`bioner.models.registry.register`. Nothing here imports torch: a backend's heavy
libraries load only when that backend is used.
"""
