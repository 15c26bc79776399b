"""Code suggestions that learn: codebook rules, a codebook prior and per-code models.

The entry point is :class:`coder.learn.suggest.Suggester`; the modules, in the order the
data flows: ``features`` (TF-IDF from stored lemmas), ``rules`` (codebook patterns as spaCy
matchers), ``prior`` (the codebook's descriptions), ``context`` (neighbouring turns and the
preceding question), ``corpus`` (all of these for a study's segments), ``labels`` (a
coder's work), ``model`` (per-code training, stacking, blending, thresholds), ``suggest``,
``autocode`` and ``evaluate``.

Importing this package is cheap; numpy, scikit-learn and spaCy load with the modules.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "Suggester": "coder.learn.suggest", "Suggestion": "coder.learn.suggest",
    "Evidence": "coder.learn.suggest", "UpdateReport": "coder.learn.suggest",
    "LearnSettings": "coder.learn.model",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'coder.learn' has no attribute {name!r}")
