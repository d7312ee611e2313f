"""Prompted extraction with generative LLMs: templates, few-shot examples, clients, parsing, offsets.

The pieces of the ``prompted`` backend (:mod:`bioner.models.prompted`), each usable alone: a
:class:`~bioner.prompting.template.Template` read from a TOML file turns labels, examples and a
text into chat messages; a client (:mod:`bioner.prompting.clients`) answers them, through any
OpenAI-compatible server or local transformers generation, behind an on-disk cache;
:mod:`bioner.prompting.parse` reads whatever the model returned and
:mod:`bioner.prompting.align` finds the mentions in the text, so every span is a real character
span of the input and every problem is counted.
"""
