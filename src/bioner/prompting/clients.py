"""Who answers a prompt: any OpenAI-compatible server (``openai``), or local transformers generation.

Both take chat messages and return a :class:`~bioner.prompting.cache.Completion` with token
counts. The OpenAI client relies on the ``openai`` package's own retries with exponential
backoff and its timeout; a server that rejects the JSON-schema response format is asked again
without it (once per client). Local generation is greedy, on the packaged Gemma by default,
and can be held to the answer's grammar (:mod:`bioner.prompting.grammar`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from bioner.backbones import resolve_backbone
from bioner.errors import BionerError
from bioner.extras import need
from bioner.prompting.cache import Completion
from bioner.prompting.grammar import AnswerGrammar, GrammarLogits, TokenConstraint
from bioner.prompting.template import Message

GEMMA_CHAT = (
    "{{ bos_token }}{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
"""Gemma's chat format, for a converted Gemma folder whose tokenizer carries no chat template."""


class Client(Protocol):
    """Answers chat messages; ``schema`` asks for JSON of that shape where the server can, ``grammar``
    (local generation only) holds the answer to the passage's mentions and the labels."""

    model: str

    def complete(
        self, messages: Sequence[Message], schema: dict[str, Any] | None, grammar: AnswerGrammar | None = None
    ) -> Completion: ...


class OpenAIClient:
    """Chat completions from an OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, transformers serve)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str,
        *,
        timeout: float,
        retries: int,
        max_new_tokens: int,
        temperature: float,
    ) -> None:
        openai = need("openai", "generative", "the prompted backend's OpenAI client")
        key = os.environ.get(api_key_env, "") if api_key_env else ""
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.schema_supported = True
        self.bad_request = openai.BadRequestError
        self.client = openai.OpenAI(
            base_url=base_url or None, api_key=key or "none", timeout=timeout, max_retries=retries
        )

    def complete(
        self, messages: Sequence[Message], schema: dict[str, Any] | None, grammar: AnswerGrammar | None = None
    ) -> Completion:
        options: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": self.max_new_tokens,
            "temperature": self.temperature,
        }
        if schema is not None and self.schema_supported:
            options["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "entities", "schema": schema, "strict": True},
            }
            try:
                return self._ask(options)
            except self.bad_request:  # the server has no structured output: plain text from now on
                self.schema_supported = False
                del options["response_format"]
        return self._ask(options)

    def _ask(self, options: dict[str, Any]) -> Completion:
        response = self.client.chat.completions.create(**options)
        text = response.choices[0].message.content or "" if response.choices else ""
        usage = response.usage
        return Completion(text, int(usage.prompt_tokens) if usage else 0, int(usage.completion_tokens) if usage else 0)


class TransformersClient:
    """Greedy generation with a local causal LM (a folder, a packaged name such as ``gemma-3-270m``)."""

    def __init__(self, model: str, *, max_new_tokens: int, threads: int = 0, bf16: bool = False) -> None:
        need("transformers", "llm", "local generation")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = model
        self.max_new_tokens = max_new_tokens
        folder = resolve_backbone(model)
        self.lm: Any = None
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
            # bf16 weights halve what each decoding step reads (a 262k-token output layer dominates a small model)
            self.lm = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16 if bf16 else torch.float32)
        except (OSError, ValueError) as err:
            raise BionerError(f"cannot load the generator {model!r}: {str(err).splitlines()[0]}") from None
        self.lm.eval()
        if not getattr(self.tokenizer, "chat_template", None):
            self.tokenizer.chat_template = GEMMA_CHAT
        if threads > 0:
            torch.set_num_threads(threads)
        self.lock = threading.Lock()  # one generation at a time: the CPU is shared already
        self.constraint: TokenConstraint | None = None  # the vocabulary's strings, built on first constrained use

    def complete(
        self, messages: Sequence[Message], schema: dict[str, Any] | None, grammar: AnswerGrammar | None = None
    ) -> Completion:
        """Greedy generation; with ``grammar``, only tokens that keep the answer inside it (see
        :mod:`bioner.prompting.grammar`)."""
        import torch
        from transformers import LogitsProcessorList

        ids: Any = self.tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        processors = LogitsProcessorList()
        if grammar is not None:
            if self.constraint is None:
                self.constraint = TokenConstraint(self.tokenizer)
            processors.append(GrammarLogits(self.constraint, grammar, int(ids["input_ids"].shape[1])))
        with self.lock, torch.inference_mode():
            out = self.lm.generate(
                **ids,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                logits_processor=processors,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )
        new = out[0, ids["input_ids"].shape[1] :]
        text = str(self.tokenizer.decode(new, skip_special_tokens=True))
        return Completion(text, int(ids["input_ids"].shape[1]), int(new.shape[0]))
