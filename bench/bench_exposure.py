#!/usr/bin/env python
"""Does soft sampling help? A controlled exposure-bias benchmark with an exact oracle.

The oracle is the embedded SmolLM2-135M-Instruct. The data are its own ancestral samples (temperature 1) from
short prefixes of Python's documentation, drawn once by seed and cached in the user cache dir, so the data
distribution *is* the oracle's and the oracle scores a student's mismatch exactly (SeqGAN's synthetic protocol,
Arora et al. 2022's %ExAccErr). The student is SmolLM2 cut to its first few layers, initialised from the oracle.
Every method trains the same student on the same data in the same order for the same steps, per seed; then each
student continues held-out prefixes and is scored by the oracle.

    python bench/bench_exposure.py --quick                 # smoke run: tiny sizes, one seed, well under a minute
    python bench/bench_exposure.py --seeds 0 1 2           # the benchmark (resumes: runs whose JSON exists are skipped)
    python bench/bench_exposure.py --summarize_only        # rebuild summary.json and the PNGs from the run JSONs

Several processes may share one --out: each run is claimed with a lock file, so two instances split the work.
"""
from __future__ import annotations
import argparse, copy, json, os, sys, tempfile, time
from pathlib import Path
import numpy as np, torch
from soft_sampling.reliability import check_learning_rate, check_writable, script_main  # the CLI's checks
from common import seed_ci, digest, log, step_timer, run_path, done, prepare, pending, run_all, write_summary  # bench/common.py

METHODS = {  # name -> SoftDecodingTrainingArguments fields; every soft method decays alpha linearly from 1
    "teacher_forcing": dict(guidance_min_alpha=1.0),
    "detached_floor0": dict(soft_mode="detached", guidance_min_alpha=0.0),
    "detached_floor0.25": dict(soft_mode="detached", guidance_min_alpha=0.25),
    "parallel1_floor0.25": dict(soft_mode="parallel", soft_n_passes=1, guidance_min_alpha=0.25),
    "bernoulli_floor0.25": dict(soft_mode="detached", soft_mixing="bernoulli", guidance_min_alpha=0.25),
    "gumbel0.5_floor0.25": dict(soft_mode="detached", soft_gumbel_temperature=0.5, guidance_min_alpha=0.25),
}
BASELINE = "teacher_forcing"

# The declared sweep (--sweep): why does soft sampling not beat teacher forcing here? Fixed before any of it ran, one
# change at a time from detached_floor0.25 (linear decay from 1 over the first half, top-k 50): a higher floor, a later
# decay, sharper or narrower soft inputs, more noise, more parallel passes, hard tokens instead of mixtures. The
# configuration reported as the sweep's best is the one with the lowest mean sampled NLL-oracle (the oracle's NLL of the
# student's temperature-1 continuations: the data are the oracle's temperature-1 samples), read beside its seq-rep-4.
SWEEP = {
    "detached_floor0.5": dict(soft_mode="detached", guidance_min_alpha=0.5),
    "detached_floor0.75": dict(soft_mode="detached", guidance_min_alpha=0.75),
    "detached_floor0.25_late": dict(soft_mode="detached", guidance_min_alpha=0.25, guidance_warmup_delay_ratio=0.5, guidance_warmup_ratio=0.25),
    "detached_floor0.25_cosine": dict(soft_mode="detached", guidance_min_alpha=0.25, guidance_schedule="cosine"),
    "detached_floor0.25_top1": dict(soft_mode="detached", guidance_min_alpha=0.25, soft_top_k=1),
    "detached_floor0.25_top5": dict(soft_mode="detached", guidance_min_alpha=0.25, soft_top_k=5),
    "detached_floor0.25_minp0.1": dict(soft_mode="detached", guidance_min_alpha=0.25, soft_top_k=0, soft_min_p=0.1),
    "detached_floor0.25_temp0.5": dict(soft_mode="detached", guidance_min_alpha=0.25, soft_temperature=0.5),
    "gumbel1.0_floor0.25": dict(soft_mode="detached", soft_gumbel_temperature=1.0, guidance_min_alpha=0.25),
    "parallel2_floor0.25": dict(soft_mode="parallel", soft_n_passes=2, guidance_min_alpha=0.25),
    "bernoulli_floor0.5": dict(soft_mode="detached", soft_mixing="bernoulli", guidance_min_alpha=0.5),
}
ALL_METHODS = METHODS | SWEEP

SIZES = {  # the benchmark's settings; --quick takes the tiny ones
    "full": dict(layers=2, prefix_len=8, gen_len=32, n_train=512, n_eval=64, n_curve=32, n_report=16, batch_size=4, steps=40,
                 lr=1e-3, eval_every=20, soft_top_k=50, warmup_ratio=0.5, lengths=[4, 8, 16, 32], data_seed=0),
    "quick": dict(layers=1, prefix_len=4, gen_len=8, n_train=16, n_eval=8, n_curve=8, n_report=4, batch_size=4, steps=2,
                  lr=3e-4, eval_every=1, soft_top_k=50, warmup_ratio=0.5, lengths=[4, 8], data_seed=0),
}

RUN_KEYS = ["method", "seed", "config", "heldout_nll", "curve", "step_seconds", "measures", "exacc_err", "items"]
MEASURES = ["heldout_nll", "greedy/nll-oracle", "sampled/nll-oracle", "sampled/kl-estimate", "greedy/seq-rep-4", "sampled/seq-rep-4",
            "greedy/%ExAccErr", "sampled/%ExAccErr", "step_time_ratio"]  # per method in summary.json
# sampled/kl-estimate: NLL-oracle minus the student's own NLL of its temperature-1 samples, a Monte Carlo estimate of
# KL(student || oracle) per token. NLL-oracle alone also falls when the student just gets more peaked (less entropy).
ITEM_MEASURES = ["greedy/nll-oracle", "sampled/nll-oracle", "gold/nll-model", "greedy/seq-rep-4", "sampled/seq-rep-4"]

# --- data ---------------------------------------------------------------------------------------------------

def oracle_data(oracle, tok, cfg:dict, cache_dir:Path, log=print) -> dict:
    "Train and held-out sequences: pydoc prefixes continued by the oracle at temperature 1; cached by their settings."
    from soft_sampling.data import load_text_dataset, tokenize_and_chunk
    from soft_sampling.evaluation import continue_prompts
    key = dict(v=1, oracle=Path(str(oracle.config._name_or_path)).name, prefix_len=cfg["prefix_len"], gen_len=cfg["gen_len"],
               n_train=cfg["n_train"], n_eval=cfg["n_eval"], seed=cfg["data_seed"], temperature=1.0)
    path = Path(cache_dir) / "bench_exposure" / f"data-{digest(key)}.pt"
    if path.exists():
        data = torch.load(path)
        if data["key"] == key: return data
    t0 = time.time()
    chunks = tokenize_and_chunk(load_text_dataset(seed=0), tok, block_size=cfg["prefix_len"])
    rng = np.random.default_rng(cfg["data_seed"])
    out = dict(key=key)
    for split, n, name in (("train", cfg["n_train"], "train"), ("eval", cfg["n_eval"], "eval")):
        pool = torch.tensor(chunks[split]["input_ids"])
        if len(pool) < n: raise ValueError(f"n_{name} = {n} exceeds the {len(pool)} pydoc prefixes of the {split} split")
        prompts = pool[np.sort(rng.choice(len(pool), n, replace=False))]
        cont = continue_prompts(oracle, prompts, cfg["gen_len"], greedy=False, batch_size=32,
                                seed=cfg["data_seed"] * 2 + (split == "eval"), temperature=1.0)
        out[split] = torch.cat([prompts, cont], 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(out, tmp); os.replace(tmp, path)
    log(f"oracle data: {cfg['n_train']} train + {cfg['n_eval']} held-out sequences in {time.time() - t0:.0f} s -> {path}")
    return out

def lm_dataset(ids:torch.Tensor, prefix_len:int):
    "A `Dataset` of sequences whose labels score the continuation only (the pydoc prefix is not the oracle's text)."
    from datasets import Dataset
    labels = ids.clone(); labels[:, :prefix_len] = -100
    return Dataset.from_dict({"input_ids": ids.tolist(), "attention_mask": torch.ones_like(ids).tolist(), "labels": labels.tolist()})

# --- student and one training run ----------------------------------------------------------------------------

def make_student(oracle, n_layers:int, train_embeddings:bool=False):
    "The oracle cut to its first `n_layers` layers (same weights); embeddings (tied to the output layer) frozen unless asked."
    from soft_sampling.trainer import freeze_except
    s = copy.deepcopy(oracle)
    if n_layers > len(s.model.layers): raise ValueError(f"--layers must be at most {len(s.model.layers)}, the oracle's layers, got {n_layers}")
    s.model.layers = s.model.layers[:n_layers]
    s.config.num_hidden_layers = n_layers
    if getattr(s.config, "layer_types", None): s.config.layer_types = s.config.layer_types[:n_layers]
    if not train_embeddings: freeze_except(s, ("model.layers", "model.norm"))
    return s

def _gold_logprobs(oracle, prompts:torch.Tensor, gold:torch.Tensor, batch_size:int=16) -> torch.Tensor:
    "The oracle's next-token log-probabilities (n, gen_len, vocab) along the gold continuations: the same for every run, so computed once."
    from soft_sampling.evaluation import next_token_logprobs
    with torch.no_grad():
        return torch.cat([next_token_logprobs(oracle, torch.cat([prompts[i:i + batch_size], gold[i:i + batch_size]], 1), prompts.shape[1])
                          for i in range(0, len(prompts), batch_size)])

def oracle_report(student, oracle, blocks:torch.Tensor, cfg:dict, seed:int, gold_cache:dict) -> dict:
    "`generation_report`'s oracle measures (NLL-oracle, %ExAccErr with 95% bootstrap intervals over prompts, seq-rep-4), with the oracle's pass over the gold text cached."
    import torch.nn.functional as F
    from soft_sampling.evaluation import split_blocks, continue_prompts, oracle_scores, seq_rep_n, exacc_lengths, rounded_ci, next_token_logprobs
    P, G = cfg["prefix_len"], cfg["gen_len"]
    prompts, gold = split_blocks(blocks, P, G)
    if "lo" not in gold_cache: gold_cache["lo"] = _gold_logprobs(oracle, prompts, gold)
    lo = gold_cache["lo"]
    student.eval()
    with torch.no_grad():
        lm = torch.cat([next_token_logprobs(student, blocks[i:i + 16, :P + G], P) for i in range(0, len(blocks), 16)])
    gold_sc = dict(nll_oracle=-lo.gather(-1, gold[..., None])[..., 0].mean(1), nll_model=-lm.gather(-1, gold[..., None])[..., 0].mean(1),
                   kl=F.kl_div(lm, lo, log_target=True, reduction="none").sum(-1))
    conts = {"greedy": continue_prompts(student, prompts, G, True, 16, seed),
             "sampled": continue_prompts(student, prompts, G, False, 16, seed, temperature=1.0)}
    items = {"gold/nll-oracle": gold_sc["nll_oracle"].tolist(), "gold/nll-model": gold_sc["nll_model"].tolist(), "gold/seq-rep-4": seq_rep_n(gold, 4)}
    curves = {}
    for name, seqs in conts.items():
        sc = oracle_scores(student, oracle, prompts, seqs, 16)
        items[f"{name}/nll-oracle"], items[f"{name}/nll-model"] = sc["nll_oracle"].tolist(), sc["nll_model"].tolist()
        items[f"{name}/seq-rep-4"] = seq_rep_n(seqs, 4)
        curves[name] = {}
        for l in exacc_lengths(G, tuple(cfg["lengths"])):
            rows = torch.stack([sc["kl"][:, :l].sum(1), gold_sc["kl"][:, :l].sum(1)], 1).double().numpy()
            curves[name][l] = rounded_ci(rows, statistic=lambda r: (r[:, 0].sum() / r[:, 1].sum() - 1) * 100, seed=seed)
    return dict(measures={k: rounded_ci(v, seed=seed) for k, v in items.items()}, exacc_err=curves, items=items)

def train_and_measure(method:str, seed:int, oracle, data:dict, cfg:dict, log=print, gold_cache:dict|None=None) -> dict:
    "Train one student with `method` and `seed`, then measure it on the held-out prefixes (the run's JSON record)."
    from transformers import default_data_collator, set_seed
    from soft_sampling.trainer import SoftDecodingTrainer, SoftDecodingTrainingArguments
    set_seed(seed)
    gold_cache = {} if gold_cache is None else gold_cache
    student = make_student(oracle, cfg["layers"], cfg.get("train_embeddings", False))
    P = cfg["prefix_len"]
    train_ds, eval_ds = lm_dataset(data["train"], P), lm_dataset(data["eval"][:cfg["n_curve"]], P)
    with tempfile.TemporaryDirectory() as tmp:
        args = SoftDecodingTrainingArguments(
            output_dir=tmp, max_steps=cfg["steps"], per_device_train_batch_size=cfg["batch_size"], per_device_eval_batch_size=16,
            learning_rate=cfg["lr"], lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, seed=seed, data_seed=seed,
            eval_strategy="steps", eval_steps=cfg["eval_every"], logging_steps=cfg["eval_every"], eval_guidance_alphas=[1.0],
            save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True, dataloader_num_workers=0,
            **(dict(soft_top_k=cfg["soft_top_k"], guidance_warmup_ratio=cfg["warmup_ratio"]) | ALL_METHODS[method]))
        trainer = SoftDecodingTrainer(model=student, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                                      data_collator=default_data_collator)
        from transformers.trainer_callback import PrinterCallback
        trainer.remove_callback(PrinterCallback)
        timer = step_timer(); trainer.add_callback(timer)
        if "init_nll" not in gold_cache: gold_cache["init_nll"] = trainer.evaluate()["eval_loss_alpha_1"]  # every run starts from the same student
        curve = [[0, gold_cache["init_nll"]]]
        trainer.train()
        curve += [[h["step"], h["eval_loss_alpha_1"]] for h in trainer.state.log_history if "eval_loss_alpha_1" in h]
        if curve[-1][0] != cfg["steps"]: curve.append([cfg["steps"], trainer.evaluate()["eval_loss_alpha_1"]])
    report = oracle_report(student, oracle, data["eval"][:cfg["n_report"]], cfg, seed, gold_cache)
    times = timer.times[1:] or timer.times  # the first step warms caches up
    return dict(method=method, seed=seed, config=cfg, heldout_nll=curve[-1][1], curve=curve,
                step_seconds=float(np.median(times)), step_times=timer.times, measures=report["measures"],
                exacc_err={d: {str(l): v for l, v in c.items()} for d, c in report["exacc_err"].items()},
                items={k: report["items"][k] for k in ITEM_MEASURES})

# --- summary -------------------------------------------------------------------------------------------------

def _scalar(run:dict, name:str) -> float:
    "One number of a run: held-out NLL, a generation measure, or the %ExAccErr at the longest length."
    if name == "heldout_nll": return run["heldout_nll"]
    if name == "sampled/kl-estimate": return run["measures"]["sampled/nll-oracle"][0] - run["measures"]["sampled/nll-model"][0]
    if name.endswith("/%ExAccErr"):
        c = run["exacc_err"][name.split("/")[0]]
        return c[max(c, key=int)][0]
    return run["measures"][name][0]

def summarize(out:Path, cfg:dict, methods:list[str], seeds:list[int]) -> dict:
    "Per method: mean and 95% t interval over seeds of each measure, paired differences to teacher forcing; writes summary.json and PNGs."
    from soft_sampling.evaluation import paired_bootstrap_ci
    runs = {}
    for m in methods:
        for s in seeds:
            p = run_path(out, m, s)
            if done(p, cfg): runs[m, s] = json.loads(p.read_text())
    summary = dict(config=cfg, methods={}, seeds=seeds, oracle={}, interval="95% Student t over seeds; paired: per-seed differences",
                   prompt_interval="95% paired bootstrap over held-out prompts (values averaged over the common seeds)")
    ref = [r for r in runs.values()]
    if ref:
        summary["oracle"] = {"gold/nll-oracle": ref[0]["measures"]["gold/nll-oracle"],
                             "gold/seq-rep-4": ref[0]["measures"]["gold/seq-rep-4"],
                             "student_at_init/heldout_nll": ref[0]["curve"][0][1]}
    for m in methods:
        have = [s for s in seeds if (m, s) in runs]
        if not have: continue
        rs = [runs[m, s] for s in have]
        entry = dict(seeds=have, step_seconds=seed_ci([r["step_seconds"] for r in rs]), measures={}, per_seed={}, vs_teacher_forcing={},
                     vs_teacher_forcing_prompts={}, curve=None, exacc_err={})
        for name in MEASURES:
            if name == "step_time_ratio":
                common = [s for s in have if (BASELINE, s) in runs]
                if not common: continue
                vals = [runs[m, s]["step_seconds"] / runs[BASELINE, s]["step_seconds"] for s in common]
            else: vals = [_scalar(r, name) for r in rs]
            entry["per_seed"][name] = [round(v, 6) for v in vals]
            entry["measures"][name] = [round(v, 6) for v in seed_ci(vals)]
            common = [s for s in have if (BASELINE, s) in runs]
            if m != BASELINE and common and name != "step_time_ratio":
                d = [_scalar(runs[m, s], name) - _scalar(runs[BASELINE, s], name) for s in common]
                entry["vs_teacher_forcing"][name] = [round(v, 6) for v in seed_ci(d)]
        common = [s for s in have if (BASELINE, s) in runs]
        if m != BASELINE and common:
            for name in ITEM_MEASURES:
                a = np.mean([runs[m, s]["items"][name] for s in common], 0)
                b = np.mean([runs[BASELINE, s]["items"][name] for s in common], 0)
                entry["vs_teacher_forcing_prompts"][name] = [round(v, 6) for v in paired_bootstrap_ci(a, b)]
        steps = [c[0] for c in rs[0]["curve"]]
        entry["curve"] = {str(st): [round(v, 6) for v in seed_ci([r["curve"][i][1] for r in rs])] for i, st in enumerate(steps)}
        for dec in ("greedy", "sampled"):
            ls = list(rs[0]["exacc_err"][dec])
            entry["exacc_err"][dec] = {l: [round(v, 6) for v in seed_ci([r["exacc_err"][dec][l][0] for r in rs])] for l in ls}
        summary["methods"][m] = entry
    return write_summary(out, summary, plots)

def plots(out:Path, summary:dict):
    "training_curves.png, exacc_err.png, vs_teacher_forcing.png from the summary."
    from soft_sampling.evaluation import plot_exacc_err, save_figure, new_figure
    ms = summary["methods"]
    fig, ax = new_figure("Student NLL on held-out oracle samples (teacher forced)", "training step", "NLL per token (nats)")
    for m, e in ms.items():
        xs = [int(k) for k in e["curve"]]; ys = np.array(list(e["curve"].values()))
        ax.plot(xs, ys[:, 0], marker="o", label=m); ax.fill_between(xs, ys[:, 1], ys[:, 2], alpha=0.15)
    if "gold/nll-oracle" in summary["oracle"]:
        ax.axhline(summary["oracle"]["gold/nll-oracle"][0], color="k", ls="--", label="oracle's own NLL (held-out samples)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1)); fig.set_size_inches(8.5, 3.6); fig.tight_layout()  # beside the intervals, not over them
    save_figure(fig, out / "training_curves.png")
    save_figure(plot_exacc_err({m: e["exacc_err"]["greedy"] for m, e in ms.items()},
                               "%ExAccErr of greedy continuations (mean, 95% t over seeds)"), out / "exacc_err.png")
    others = [m for m in ms if m != BASELINE]
    if not others: return  # teacher forcing alone: nothing to compare
    names = ["heldout_nll", "greedy/nll-oracle", "sampled/nll-oracle", "sampled/kl-estimate", "greedy/%ExAccErr"]
    names = [n for n in names if any(n in ms[m]["vs_teacher_forcing"] for m in others)]  # measures this run has
    fig, axs = None, None
    from matplotlib.figure import Figure
    fig = Figure(figsize=(2.5 * len(names), 3.6)); axs = fig.subplots(1, len(names))
    others = [m for m in ms if m != BASELINE]
    for ax, n in zip(axs, names):
        vals = [ms[m]["vs_teacher_forcing"].get(n, [np.nan] * 3) for m in others]
        y = np.arange(len(others)); v = np.array(vals, dtype=float)
        ax.errorbar(v[:, 0], y, xerr=[v[:, 0] - v[:, 1], v[:, 2] - v[:, 0]], fmt="o", capsize=3)
        ax.axvline(0, color="k", lw=0.8); ax.set_title(n, fontsize=8); ax.set_yticks(y)
        ax.set_yticklabels(others if ax is axs[0] else [], fontsize=7); ax.grid(alpha=0.3)
    fig.suptitle("method - teacher forcing (paired by seed, 95% t); lower is better", fontsize=9)
    save_figure(fig, out / "vs_teacher_forcing.png")

def table(summary:dict) -> str:
    "A markdown table: one row per method, each cell mean [95% interval]; below, the paired differences to teacher forcing."
    f = lambda v: f"{v[0]:.4g}" if v[1] == v[2] else f"{v[0]:.4g} [{v[1]:.4g}, {v[2]:.4g}]"
    names = [n for n in MEASURES]
    lines = ["| method | seeds | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for m, e in summary["methods"].items():
        lines.append(f"| {m} | {len(e['seeds'])} | " + " | ".join(f(e["measures"][n]) if n in e["measures"] else "-" for n in names) + " |")
    lines += ["", "Paired differences, method - teacher forcing (per seed):", "",
              "| method | " + " | ".join(names[:-1]) + " |", "|---|" + "---|" * (len(names) - 1)]
    for m, e in summary["methods"].items():
        if m == BASELINE: continue
        lines.append(f"| {m} | " + " | ".join(f(e["vs_teacher_forcing"][n]) if n in e["vs_teacher_forcing"] else "-" for n in names[:-1]) + " |")
    return "\n".join(lines)

# --- command line --------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, one seed: a smoke run")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="training seeds (default 0 1 2; --quick: 0)")
    p.add_argument("--steps", type=int, default=None, help="training steps per run (default: the size's)")
    p.add_argument("--methods", nargs="+", default=None, help=f"methods among {list(ALL_METHODS)} (default: {list(METHODS)}; --sweep: teacher forcing and the sweep)")
    p.add_argument("--sweep", action="store_true", help="the declared sweep (SWEEP) against teacher forcing; default --out bench/results/exposure-sweep")
    p.add_argument("--out", type=Path, default=None, help="results folder (default bench/results/exposure[-quick])")
    p.add_argument("--threads", type=int, default=1, help="torch threads (fixed so that reruns reproduce)")
    p.add_argument("--layers", type=int, default=None, help="student layers (default: the size's)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the size's)")
    p.add_argument("--summarize_only", action="store_true", help="only rebuild summary.json and the PNGs")
    a = p.parse_args(argv)
    if a.methods is None: a.methods = [BASELINE, *SWEEP] if a.sweep else list(METHODS)
    unknown = [m for m in a.methods if m not in ALL_METHODS]
    if unknown: p.error(f"--methods: unknown {unknown}; allowed: {list(ALL_METHODS)}")
    if a.steps is not None and a.steps < 1: p.error(f"--steps must be >= 1, got {a.steps}")
    if a.layers is not None and a.layers < 1: p.error(f"--layers must be >= 1, got {a.layers}")
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
    if a.layers is not None: cfg["layers"] = a.layers
    if a.lr is not None: cfg["lr"] = a.lr
    cfg["eval_every"] = min(cfg["eval_every"], cfg["steps"])
    cfg["threads"] = a.threads
    return cfg

def main(argv=None) -> dict:
    "Run every (seed, method) not yet done under --out, then write summary.json and the PNGs; returns the summary."
    a = parse_args(argv)
    seeds = a.seeds if a.seeds is not None else ([0] if a.quick else [0, 1, 2])
    out = a.out or Path(__file__).resolve().parent / "results" / ("exposure-quick" if a.quick else "exposure-sweep" if a.sweep else "exposure")
    cfg = config(a)
    prepare(a, out, cfg, seeds)
    torch.set_num_threads(a.threads)
    if not a.summarize_only:
        todo = pending(out, cfg, a.methods, seeds)
        if todo:
            import transformers, datasets
            transformers.logging.set_verbosity_error(); datasets.disable_progress_bars()
            from soft_sampling.models import load_model_and_tokenizer, default_cache_dir
            oracle, tok = load_model_and_tokenizer()
            oracle.requires_grad_(False)
            data = oracle_data(oracle, tok, cfg, default_cache_dir(), log)
            gold_cache = {}
            run_all(out, cfg, todo, lambda m, s: train_and_measure(m, s, oracle, data, cfg, log, gold_cache),
                    lambda m, s, rec: f"{m} seed {s}: held-out NLL {rec['heldout_nll']:.4f}, greedy NLL-oracle {rec['measures']['greedy/nll-oracle'][0]:.4f}, "
                                      f"{rec['step_seconds']:.2f} s/step, {rec['run_seconds']:.0f} s")
    summary = summarize(out, cfg, a.methods, seeds)
    print(table(summary))
    return summary

if __name__ == "__main__": sys.exit(script_main(main, sys.argv[1:], "bench_exposure.py"))
