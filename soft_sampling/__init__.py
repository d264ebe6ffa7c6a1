"Train causal language models on their own soft predictions: scheduled soft sampling and soft-rollout GRPO."
__version__ = "0.0.1"
# The public API: the names a user needs, each imported from its module on first use (as trl's `_import_structure`),
# so `import soft_sampling` is quick and does not import trl. Everything else is reached through its module:
# `soft_sampling.evaluation.plot_history`, `soft_sampling.soft_embeddings.embed_mixture`; test helpers live in
# `soft_sampling.testing`, shared argument checks in `soft_sampling.checks`. This file is kept by hand (not exported).
import importlib

_API = {
    "models": ["load_model_and_tokenizer"],
    "distributions": ["SoftDistributionArguments", "ProbabilityDistributionArguments", "mk_proba_dist"],
    "schedules": ["GuidanceAlphaScheduler"],
    "data": ["load_text_dataset", "tokenize_and_chunk", "arithmetic_dataset", "grpo_prompts", "exact_match_reward", "length_reward"],
    "soft_embeddings": ["soft_embedding"],
    "soft_forward": ["soft_sampling_forward", "SoftForwardOutput", "MODES"],
    "evaluation": ["loss_vs_alpha", "generation_report", "task_report", "pass_at_k"],
    "trainer": ["SoftDecodingTrainingArguments", "SoftDecodingTrainer"],
    "grpo": ["SoftGRPOConfig", "SoftGRPOTrainer", "soft_generate"],
    "thinking": ["soft_thinking"],
}
_WHERE = {n: m for m, ns in _API.items() for n in ns}
_MODULES = {"checks", "compat", "data", "deferred_grads", "distributions", "evaluation", "grpo", "models", "randomness", "reliability",
            "schedules", "soft_embeddings", "soft_forward", "testing", "thinking", "trainer", "cli"}

def __getattr__(name):
    "A public name, imported from its module on first use; or one of the package's modules."
    if name in _WHERE: value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in _MODULES: value = importlib.import_module(f".{name}", __name__)
    else: raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value

def __dir__(): return sorted(set(globals()) | set(_WHERE))

__all__ = list(_WHERE)
