#!/usr/bin/env python
"""Soft-token RL with a thinking phase: stock (discrete thinking) against the soft rollouts, at equal budgets, on a tiny model.

Every method trains the same tiny random Llama (`soft_sampling.testing`) on the same arithmetic questions, in the same
order, for the same steps, per seed, with the same thinking format: a thinking phase ended by `<|im_start|>` (a token of
the tiny tokenizer that is not its EOS) or forced at the budget, then a discrete answer. "stock" thinks in discrete tokens
(`mix` at weight 1: stock GRPO's log-probabilities); the others think in soft steps. Rewards: exact match of the answer,
plus 0.1 when the answer holds an integer. Beta 0, one iteration per batch.

    python bench/bench_soft_rl.py --quick            # smoke run: one seed, two steps, about a minute
    python bench/bench_soft_rl.py                    # three seeds (resumes: runs whose JSON exists are skipped)

A tiny random model learns little in this many steps: the benchmark measures the methods' cost (step-time ratios to stock)
and whether their rewards differ at this size, with paired 95% intervals over seeds; it does not show that thinking helps.
A step's time includes generation, so it also follows the completions' length (in summary.json with the rest).
"""
from __future__ import annotations
import argparse, json, re, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_exposure import seed_ci, claim, done, run_path

METHODS = {  # name -> SoftGRPOConfig fields
    "stock": dict(soft_rollout="mix", soft_mix_weight=1.0),
    "soft": dict(soft_rollout="soft"),
    "soft_through_inputs": dict(soft_rollout="soft", soft_gradient="through_inputs"),
    "mix": dict(soft_rollout="mix"),
    "multiplex": dict(soft_rollout="multiplex", soft_multiplex_k=3),
    "gaussian_soft": dict(soft_rollout="gaussian", soft_temperature=0.5),
    "gaussian_fuzzy": dict(soft_rollout="gaussian", soft_temperature=1e-4),
    "gumbel": dict(soft_rollout="gumbel"),
}
BASELINE = "stock"
SIZES = {
    "full": dict(prompts=4, num_generations=8, max_completion_length=12, budget=6, steps=30, lr=1e-3, max_operand=3, seeds=[0, 1, 2]),
    "quick": dict(prompts=2, num_generations=4, max_completion_length=8, budget=4, steps=2, lr=1e-3, max_operand=3, seeds=[0]),
}
END = "<|im_start|>"
_INT = re.compile(r"-?\d+")

def format_reward(completions, **kw) -> list[float]:
    "0.1 when the answer holds an integer."
    text = lambda c: c[-1]["content"] if isinstance(c, list) else c
    return [0.1 * bool(_INT.search(text(c))) for c in completions]

def run(method:str, seed:int, cfg:dict, out:Path) -> dict:
    "Train one method for one seed; per-step rewards, step times and thinking lengths."
    import torch
    from transformers import PrinterCallback, TrainerCallback
    from transformers.utils import logging as hf_logging
    from soft_sampling.grpo import SoftGRPOConfig, SoftGRPOTrainer
    from soft_sampling.testing import mk_tiny_model_and_tokenizer
    from soft_sampling.data import arithmetic_dataset, exact_match_reward
    hf_logging.set_verbosity_error(); warnings.filterwarnings("ignore")
    model, tok = mk_tiny_model_and_tokenizer("llama", seed=0)
    times = []
    class Timer(TrainerCallback):
        def on_step_begin(self, *a, **k): self.t = time.perf_counter()
        def on_step_end(self, *a, **k): times.append(time.perf_counter() - self.t)
    args = SoftGRPOConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=cfg["prompts"] * cfg["num_generations"],
                          num_generations=cfg["num_generations"], max_completion_length=cfg["max_completion_length"], max_steps=cfg["steps"],
                          learning_rate=cfg["lr"], beta=0.0, num_iterations=1, seed=seed, bf16=False, use_cpu=True, report_to=[],
                          logging_steps=1, save_strategy="no", disable_tqdm=True, soft_thinking_end=END, soft_thinking_budget=cfg["budget"],
                          **METHODS[method])
    data = arithmetic_dataset(n=cfg["prompts"] * cfg["steps"], seed=0, max_operand=cfg["max_operand"], ops="+")
    tr = SoftGRPOTrainer(model=model, reward_funcs=[exact_match_reward, format_reward], args=args, train_dataset=data, processing_class=tok,
                         callbacks=[Timer()])
    tr.remove_callback(PrinterCallback)
    tr.train()
    logs = [h for h in tr.state.log_history if "reward" in h]
    return dict(method=method, seed=seed, config=cfg, rewards=[h["reward"] for h in logs], step_seconds=times,
                completion_length=[h.get("completions/mean_length") for h in logs])

def summarize(out:Path, cfg:dict) -> dict:
    "Mean reward per method, its paired difference to stock (95% t interval over seeds), and the median step-time ratio to stock."
    runs = {}
    for p in sorted((out / "runs").glob("*.json")):
        r = json.loads(p.read_text())
        if r["config"] == cfg: runs[(r["method"], r["seed"])] = r
    seeds = sorted({s for _, s in runs})
    base = {s: runs[(BASELINE, s)] for s in seeds if (BASELINE, s) in runs}
    summary = dict(config=cfg, seeds=seeds, baseline=BASELINE, methods={})
    for m in METHODS:
        rs = [runs[(m, s)] for s in seeds if (m, s) in runs and s in base]
        if not rs: continue
        mean = [float(np.mean(r["rewards"])) for r in rs]
        diff = [float(np.mean(r["rewards"]) - np.mean(base[r["seed"]]["rewards"])) for r in rs]
        ratio = [float(np.median(r["step_seconds"]) / np.median(base[r["seed"]]["step_seconds"])) for r in rs]
        length = [float(np.mean([x for x in r["completion_length"] if x is not None])) for r in rs]
        summary["methods"][m] = dict(reward=seed_ci(mean), reward_minus_stock=seed_ci(diff), step_time_ratio=seed_ci(ratio),
                                     completion_length=seed_ci(length), n_seeds=len(rs))
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one seed, two steps (a smoke run)")
    ap.add_argument("--out", type=Path, default=None, help="results folder (default bench/soft_rl, or bench/soft_rl-quick with --quick)")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    a = ap.parse_args(argv)
    cfg = SIZES["quick" if a.quick else "full"]
    out = a.out or Path(__file__).resolve().parent / ("soft_rl-quick" if a.quick else "soft_rl")
    (out / "runs").mkdir(parents=True, exist_ok=True)
    for seed in cfg["seeds"]:
        for m in [BASELINE] + [m for m in a.methods if m != BASELINE]:
            path = run_path(out, m, seed)
            if done(path, cfg) or not claim(path): continue
            t = time.time()
            res = run(m, seed, cfg, out)
            path.write_text(json.dumps(res) + "\n"); path.with_suffix(".lock").unlink(missing_ok=True)
            print(f"{m:20} seed {seed}: mean reward {np.mean(res['rewards']):.3f}, {np.median(res['step_seconds']):.2f} s/step ({time.time() - t:.0f} s)", flush=True)
    s = summarize(out, cfg)
    for m, v in s["methods"].items():
        print(f"{m:20} reward {v['reward'][0]:.3f}  minus stock {v['reward_minus_stock'][0]:+.3f} [{v['reward_minus_stock'][1]:+.3f}, {v['reward_minus_stock'][2]:+.3f}]  step time x{v['step_time_ratio'][0]:.2f}")
    return 0

if __name__ == "__main__": sys.exit(main())
