"Train causal language models on their own soft predictions: scheduled soft sampling and soft-rollout GRPO."
__version__ = "0.0.1"
# The public API: each module's `__all__` (written by nbdev from its exported names). The GRPO names load lazily, on
# first use, so that `import soft_sampling` does not import trl's GRPO machinery. Test helpers live in `soft_sampling.testing`; the
# transformers/FSDP shims (`compat`) and the backward engine (`deferred_grads`) are importable as modules.
from .distributions import *
from .models import *
from .schedules import *
from .data import *
from .soft_embeddings import *
from .randomness import *
from .soft_forward import *
from .evaluation import *
from .trainer import *
from .thinking import *
from . import distributions, models, schedules, data, soft_embeddings, randomness, soft_forward, evaluation, trainer, thinking

_LAZY = {"SOFT_ROLLOUTS": "grpo", "SoftGRPOConfig": "grpo", "SoftGeneration": "grpo", "soft_generate": "grpo", "SoftGRPOTrainer": "grpo"}

def __getattr__(name):
    "The GRPO names, imported from `soft_sampling.grpo` on first use."
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

def __dir__(): return sorted(set(globals()) | set(_LAZY))

__all__ = [n for m in (distributions, models, schedules, data, soft_embeddings, randomness, soft_forward, evaluation, trainer, thinking) for n in m.__all__] + list(_LAZY)
