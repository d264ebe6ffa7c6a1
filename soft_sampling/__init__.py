"Train causal language models on their own soft predictions: scheduled soft sampling and soft-rollout GRPO."
__version__ = "0.0.1"
# The public API. nbdev keeps only `__version__` here up to date; these imports are maintained by hand.
from .distributions import mk_proba_dist, ProbabilityDistributionArguments
from .models import load_model_and_tokenizer, EMBEDDED_MODEL, mk_tiny_model, mk_tiny_tokenizer, mk_tiny_model_and_tokenizer
from .schedules import GuidanceAlphaScheduler
from .data import (EMBEDDED_DATASET, pydoc_topics_dataset, tokenize_and_chunk, load_text_dataset, arithmetic_dataset,
                   exact_match_reward, length_reward)
from .soft_forward import soft_sampling_forward, SoftForwardOutput, SoftInputs, show_rollout
from .trainer import SoftDecodingTrainer, SoftDecodingTrainingArguments, freeze_except
from .grpo import SoftGRPOTrainer, SoftGRPOConfig, soft_generate
from .evaluation import (soft_loss_sums, loss_vs_alpha, split_blocks, continue_prompts, check_same_vocab, oracle_scores, exacc_err,
                         seq_rep_n, distinct_n, divergence_length, task_dataset, complete_prompts, pass_at_k, task_scores,
                         bootstrap_ci, paired_bootstrap_ci, generation_report, task_report, report_table, plot_exacc_err, plot_pass_at_k)
