#!/usr/bin/env python
"""Does soft decoding help GRPO learn? Stock trl GRPOTrainer against SoftGRPOTrainer's rollouts on the arithmetic task.

Every method starts from the embedded SmolLM2-135M-Instruct and trains on the same arithmetic questions, in the same
order, for the same steps, per seed (trl's seed orders the prompts); rewards are exact match. Afterwards each model is
scored on held-out questions (never trained on) with plain `generate`: greedy exact-match accuracy, and pass@k from
`num_samples` sampled answers per question (Chen et al.'s unbiased estimator). "base" is the untrained model.

    python bench/bench_grpo_learning.py --quick            # smoke run: tiny sizes, one seed, about a minute
    python bench/bench_grpo_learning.py --seeds 0 1        # the benchmark (resumes: runs whose JSON exists are skipped)
    python bench/bench_grpo_learning.py --summarize_only   # rebuild summary.json and the PNGs from the run JSONs

Several processes may share one --out: each run is claimed with a lock file, so two instances split the work.
"""
from __future__ import annotations
import argparse, json, sys, tempfile, warnings
from functools import partial
from pathlib import Path
import numpy as np, torch

from soft_sampling.reliability import check_learning_rate, check_writable, script_main  # the CLI's checks
from common import seed_ci, log, step_timer, run_path, done, prepare, pending, run_all, write_summary  # bench/common.py

METHODS = {  # name -> trainer: None for the untrained model, "stock" for trl's GRPOTrainer, else SoftGRPOConfig fields
    "base": None,
    "stock": "stock",
    "soft": dict(soft_rollout="soft"),
    "mix": dict(soft_rollout="mix"),
    "multiplex": dict(soft_rollout="multiplex"),
}
BASELINE = "stock"

SIZES = {  # the benchmark's settings; --quick takes the tiny ones
    "full": dict(prompts=4, num_generations=8, max_completion_length=8, steps=40, lr=2e-5, max_operand=20, ops="+-",
                 n_eval=64, num_samples=8, pass_k=[1, 4, 8], top_k=50, beta=0.0),
    "quick": dict(prompts=2, num_generations=4, max_completion_length=8, steps=2, lr=1e-5, max_operand=3, ops="+",
                  n_eval=4, num_samples=2, pass_k=[1, 2], top_k=50, beta=0.0),  # sums of 0..3: some answers right, so the weights move
}
RUN_KEYS = ["method", "seed", "config", "rewards", "step_seconds", "measures", "items", "weights_digest"]

def task_data(cfg:dict):
    "Training questions (seed 0, one batch of `prompts` per step) and held-out ones (seed 1, none asked in training)."
    from soft_sampling.data import arithmetic_dataset
    kw = dict(max_operand=cfg["max_operand"], ops=cfg["ops"])
    train = arithmetic_dataset(n=cfg["prompts"] * cfg["steps"], seed=0, **kw)
    seen, pool = set(map(str, train["prompt"])), arithmetic_dataset(n=20 * cfg["n_eval"], seed=1, **kw)
    keep, kept = [], set()
    for i, p in enumerate(map(str, pool["prompt"])):
        if p not in seen and p not in kept: keep.append(i); kept.add(p)
    if len(keep) < cfg["n_eval"]: raise ValueError(f"only {len(keep)} held-out questions differ from the training ones: lower n_eval")
    return train, pool.select(keep[:cfg["n_eval"]])

def _progress(label:str):
    "A step timer's `on_log`: every 10 steps (generation included) a progress line with the mean reward."
    def on_log(timer, state, logs):
        if state.global_step % 10 == 0 and logs and "reward" in logs:
            rw = [h["reward"] for h in state.log_history if "reward" in h][-10:]
            log(f"{label} step {state.global_step}: reward {np.mean(rw):.3f} (last 10), {np.median(timer.times[-10:]):.1f} s/step")
    return on_log

def train(method:str, seed:int, model_dir:str, tok, train_ds, cfg:dict):
    "Train one model with `method` and `seed`; returns (model, per-step log, step times)."
    from transformers import PrinterCallback, set_seed
    from trl import GRPOConfig, GRPOTrainer
    from soft_sampling.data import exact_match_reward
    from soft_sampling.grpo import SoftGRPOConfig, SoftGRPOTrainer
    set_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        common = dict(output_dir=tmp, per_device_train_batch_size=cfg["prompts"] * cfg["num_generations"], num_generations=cfg["num_generations"],
                      max_completion_length=cfg["max_completion_length"], max_steps=cfg["steps"], learning_rate=cfg["lr"],
                      lr_scheduler_type="constant", warmup_steps=0, beta=cfg["beta"], top_k=cfg["top_k"], bf16=False, use_cpu=True,
                      report_to=[], logging_steps=1, save_strategy="no", seed=seed, disable_tqdm=True, gradient_checkpointing=False)
        kind = METHODS[method]
        if kind == "stock": tr = GRPOTrainer(model=model_dir, reward_funcs=exact_match_reward, args=GRPOConfig(**common), train_dataset=train_ds, processing_class=tok)
        else: tr = SoftGRPOTrainer(model=model_dir, reward_funcs=exact_match_reward, args=SoftGRPOConfig(**common, **kind), train_dataset=train_ds, processing_class=tok)
        timer = step_timer(_progress(f"{method} seed {seed}"))
        tr.add_callback(timer); tr.remove_callback(PrinterCallback)
        tr.train()
        log = [h for h in tr.state.log_history if "reward" in h]
    return tr.model, log, timer.times

def evaluate(model, tok, heldout, cfg:dict, seed:int) -> dict:
    "Held-out greedy accuracy and pass@k (sampled at temperature 1 with the training top-k), with bootstrap intervals over questions."
    from soft_sampling.evaluation import task_report
    return task_report(model, tok, heldout, seed=seed, num_samples=cfg["num_samples"], pass_k=tuple(cfg["pass_k"]),
                       max_new_tokens=cfg["max_completion_length"], batch_size=16, top_k=cfg["top_k"])

def weights_digest(model) -> str:
    "A short digest of every weight's bytes: equal digests, bit-identical models."
    import hashlib
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()): h.update(k.encode()); h.update(v.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]

def describe(cfg:dict, m:str, s:int, rec:dict) -> str:
    "A finished run's log line."
    rw, k = rec["rewards"], cfg["pass_k"][-1]
    return (f"{m} seed {s}: held-out accuracy {rec['measures']['accuracy'][0]:.3f}, pass@{k} {rec['measures'][f'pass@{k}'][0]:.3f}"
            + (f", reward {np.mean(rw[:max(1, len(rw) // 4)]):.3f} -> {np.mean(rw[-max(1, len(rw) // 4):]):.3f}, {rec['step_seconds']:.2f} s/step" if rw else "")
            + f", {rec['run_seconds']:.0f} s")

def run(method:str, seed:int, model, tok, model_dir:str, data:tuple, cfg:dict) -> dict:
    "One (method, seed): train unless `base`, then score on the held-out questions (the run's JSON record)."
    log, times = [], []
    if METHODS[method] is not None: model, log, times = train(method, seed, model_dir, tok, data[0], cfg)
    rep = evaluate(model, tok, data[1], cfg, seed)
    steady = times[1:] or times  # the first step warms caches up
    return dict(method=method, seed=seed, config=cfg, rewards=[h["reward"] for h in log],
                completion_lengths=[h.get("completions/mean_length") for h in log], step_times=times,
                step_seconds=float(np.median(steady)) if steady else None, measures=rep["measures"], items=rep["items"],
                completions=rep["completions"][:16], weights_digest=weights_digest(model))

# --- summary -------------------------------------------------------------------------------------------------

def measure_names(cfg:dict) -> list[str]: return ["accuracy"] + [f"pass@{k}" for k in cfg["pass_k"]]

def summarize(out:Path, cfg:dict, methods:list[str], seeds:list[int]) -> dict:
    "Per method: mean and 95% t interval over seeds, differences to stock GRPO paired by seed and by question; writes summary.json and PNGs."
    from soft_sampling.evaluation import paired_bootstrap_ci
    runs = {(m, s): json.loads(run_path(out, m, s).read_text()) for m in methods for s in seeds if done(run_path(out, m, s), cfg)}
    summary = dict(config=cfg, seeds=seeds, methods={}, interval="95% Student t over seeds; paired: per-seed differences",
                   question_interval="95% paired bootstrap over held-out questions (per-question values averaged over the common seeds)")
    for m in methods:
        have = [s for s in seeds if (m, s) in runs]
        if not have: continue
        rs = [runs[m, s] for s in have]
        e = dict(seeds=have, measures={}, per_seed={}, vs_stock={}, vs_stock_questions={}, vs_base={}, reward_curve=None, step_time_ratio=None)
        for n in measure_names(cfg):
            vals = [r["measures"][n][0] for r in rs]
            e["per_seed"][n] = [round(v, 6) for v in vals]
            e["measures"][n] = [round(v, 6) for v in seed_ci(vals)]
            for ref, key in ((BASELINE, "vs_stock"), ("base", "vs_base")):
                common = [s for s in have if (ref, s) in runs]
                if m != ref and common:
                    e[key][n] = [round(v, 6) for v in seed_ci([runs[m, s]["measures"][n][0] - runs[ref, s]["measures"][n][0] for s in common])]
            common = [s for s in have if (BASELINE, s) in runs]
            if m != BASELINE and common:
                a = np.mean([runs[m, s]["items"][n] for s in common], 0); b = np.mean([runs[BASELINE, s]["items"][n] for s in common], 0)
                e["vs_stock_questions"][n] = [round(v, 6) for v in paired_bootstrap_ci(a, b)]
        if rs[0]["rewards"]:
            curves = np.array([r["rewards"] for r in rs], dtype=float)
            e["reward_curve"] = [[round(v, 6) for v in seed_ci(curves[:, i])] for i in range(curves.shape[1])]
            e["reward_first_last_quarter"] = [round(float(curves[:, :max(1, curves.shape[1] // 4)].mean()), 6),
                                              round(float(curves[:, -max(1, curves.shape[1] // 4):].mean()), 6)]
            e["step_seconds"] = [round(v, 6) for v in seed_ci([r["step_seconds"] for r in rs])]
            common = [s for s in have if (BASELINE, s) in runs]
            if common: e["step_time_ratio"] = [round(v, 6) for v in seed_ci([runs[m, s]["step_seconds"] / runs[BASELINE, s]["step_seconds"] for s in common])]
        summary["methods"][m] = e
    return write_summary(out, summary, plots)

def plots(out:Path, summary:dict):
    "reward_curves.png (training reward, moving average of 5 steps) and heldout.png (accuracy and pass@k per method)."
    from matplotlib.figure import Figure
    from soft_sampling.evaluation import save_figure, new_figure
    ms = summary["methods"]
    fig, ax = new_figure("GRPO training reward\n(exact match; mean over seeds, moving average of 5 steps)", "training step", "mean reward")
    for m, e in ms.items():
        if not e["reward_curve"]: continue
        y = np.array([v[0] for v in e["reward_curve"]]); w = min(5, len(y))
        ax.plot(np.arange(w, len(y) + 1), np.convolve(y, np.ones(w) / w, mode="valid"), label=m)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1)); fig.tight_layout(); save_figure(fig, out / "reward_curves.png")
    names = measure_names(summary["config"])
    fig = Figure(figsize=(3 * len(names), 3.2)); axs = fig.subplots(1, len(names))
    for ax, n in zip(np.atleast_1d(axs), names):
        v = np.array([ms[m]["measures"][n] for m in ms], dtype=float); y = np.arange(len(ms))
        lo, hi = np.clip(v[:, 1], 0, 1), np.clip(v[:, 2], 0, 1)  # a rate lies in [0, 1]; with 2 seeds a t interval reaches far beyond
        ax.errorbar(v[:, 0], y, xerr=[v[:, 0] - lo, hi - v[:, 0]], fmt="o", capsize=3)
        ax.set_xlim(-0.03, 1.03)
        ax.set_title(n, fontsize=8); ax.set_yticks(y); ax.set_yticklabels(list(ms) if n == names[0] else [], fontsize=7); ax.grid(alpha=0.3)
    fig.suptitle(f"held-out questions ({summary['config']['n_eval']}): mean and 95% t interval over seeds (cut to [0, 1]); higher is better", fontsize=9)
    save_figure(fig, out / "heldout.png")

def table(summary:dict) -> str:
    "A markdown table per method (mean [95% interval] over seeds), then the differences to stock GRPO."
    f = lambda v: "-" if v is None else (f"{v[0]:.3g}" if v[1] == v[2] else f"{v[0]:.3g} [{v[1]:.3g}, {v[2]:.3g}]")
    names = measure_names(summary["config"])
    lines = ["| method | seeds | " + " | ".join(names) + " | reward, first → last quarter | s/step vs stock |", "|---|---|" + "---|" * (len(names) + 2)]
    for m, e in summary["methods"].items():
        rq = e.get("reward_first_last_quarter")
        lines.append(f"| {m} | {len(e['seeds'])} | " + " | ".join(f(e["measures"][n]) for n in names)
                     + f" | {'-' if not rq else f'{rq[0]:.3f} → {rq[1]:.3f}'} | {f(e['step_time_ratio'])} |")
    lines += ["", "Differences to stock GRPO: paired by seed (t) | paired by question (bootstrap):", "",
              "| method | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for m, e in summary["methods"].items():
        if m == BASELINE: continue
        lines.append(f"| {m} | " + " | ".join(f"{f(e['vs_stock'].get(n))} \\| {f(e['vs_stock_questions'].get(n))}" for n in names) + " |")
    return "\n".join(lines)

# --- command line --------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, one seed: a smoke run")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="training seeds (default 0 1; --quick: 0)")
    p.add_argument("--steps", type=int, default=None, help="training steps per run (default: the size's)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the size's)")
    p.add_argument("--methods", nargs="+", default=list(METHODS), help=f"methods among {list(METHODS)}")
    p.add_argument("--out", type=Path, default=None, help="results folder (default bench/results/grpo[-quick])")
    p.add_argument("--threads", type=int, default=1, help="torch threads (fixed so that reruns reproduce)")
    p.add_argument("--summarize_only", action="store_true", help="only rebuild summary.json and the PNGs")
    a = p.parse_args(argv)
    unknown = [m for m in a.methods if m not in METHODS]
    if unknown: p.error(f"--methods: unknown {unknown}; allowed: {list(METHODS)}")
    if a.steps is not None and a.steps < 1: p.error(f"--steps must be >= 1, got {a.steps}")
    if a.threads < 1: p.error(f"--threads must be >= 1, got {a.threads}")
    if a.seeds is not None and any(s < 0 for s in a.seeds): p.error(f"--seeds must be ints >= 0, got {a.seeds}")
    try:
        if a.lr is not None: check_learning_rate(a.lr, "--lr")
        if a.out is not None: check_writable(a.out, "--out")
    except ValueError as e: p.error(str(e))
    return a

def config(a) -> dict:
    "The settings of this invocation's runs (what a run's JSON must match to be reused)."
    cfg = dict(SIZES["quick" if a.quick else "full"])
    if a.steps is not None: cfg["steps"] = a.steps
    if a.lr is not None: cfg["lr"] = a.lr
    cfg["threads"] = a.threads
    return cfg

def main(argv=None) -> dict:
    "Run every (seed, method) not yet done under --out, then write summary.json and the PNGs; returns the summary."
    a = parse_args(argv)
    seeds = a.seeds if a.seeds is not None else ([0] if a.quick else [0, 1])
    out = a.out or Path(__file__).resolve().parent / "results" / ("grpo-quick" if a.quick else "grpo")
    cfg = config(a)
    prepare(a, out, cfg, seeds)
    torch.set_num_threads(a.threads)
    if not a.summarize_only:
        todo = pending(out, cfg, a.methods, seeds)
        if todo:
            import transformers, datasets
            transformers.logging.set_verbosity_error(); datasets.disable_progress_bars(); warnings.filterwarnings("ignore")
            from soft_sampling.models import load_model_and_tokenizer
            model, tok = load_model_and_tokenizer()
            data = task_data(cfg)
            with tempfile.TemporaryDirectory() as model_dir:
                model.save_pretrained(model_dir); tok.save_pretrained(model_dir)
                run_all(out, cfg, todo, lambda m, s: run(m, s, model, tok, model_dir, data, cfg), partial(describe, cfg))
    summary = summarize(out, cfg, a.methods, seeds)
    print(table(summary))
    return summary

if __name__ == "__main__": sys.exit(script_main(main, sys.argv[1:], "bench_grpo_learning.py"))
