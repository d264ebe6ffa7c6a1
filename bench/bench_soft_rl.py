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

`--task mnns` is the task where thinking matters: CoT2's minimum non-negative sum (4 digits, 3 reasoning steps, one answer
token; `soft_sampling.tasks`), on 1-layer GPT-2s (width 32) trained here first with bench_cot2.py's losses: a discrete-CoT
start for stock, `gaussian_fuzzy` and `gumbel` (near one-hot inputs), and a curriculum (hard_teacher, then soft_teacher) start
for the methods that feed mixtures (`soft`, `mix`, their `through_inputs` versions, `multiplex`, `gaussian_soft`), plus stock
from that start as a control (`stock_soft_sft`). Every method thinks 3 steps, then `->` is forced, then answers one token;
exact-match reward, the same prompts, generations, steps and learning rate. Each trained model is scored on the held-out
digit multisets: hard greedy, hard sampled pass@k (unbiased, 16 samples) and soft decoding (p @ E thinking, argmax answer).

    python bench/bench_soft_rl.py --task mnns --quick   # smoke run (bench/soft_rl-mnns-quick)
    nice -n 10 python bench/bench_soft_rl.py --task mnns  # three seeds, 150 GRPO steps (bench/soft_rl-mnns; resumes)
"""
from __future__ import annotations
import argparse, json, re, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np

from common import seed_ci, claim, done, run_path
from soft_sampling.reliability import atomic_write_text

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

# ---- MNNS: a task where thinking matters (CoT2's minimum non-negative sum, tiny GPT-2s trained here first) ----
# The supervised starts and the word tokenizer come from bench_cot2.py; the rows gain an end-of-thinking word "->"
# between the 3 reasoning steps and the answer, so every method thinks 3 steps, then "->" is forced, then one answer token.
MNNS_END = "->"
MNNS_SOFT_START = {"soft", "soft_through_inputs", "mix", "mix_through_inputs", "multiplex", "gaussian_soft", "stock_soft_sft"}  # start from soft SFT
MNNS_METHODS = {**METHODS, "mix_through_inputs": dict(soft_rollout="mix", soft_gradient="through_inputs"), "stock_soft_sft": METHODS["stock"]}
MNNS_SIZES = {
    "full": dict(task="mnns", width=32, layers=1, heads=1, sft_steps=500, sft_batch=256, sft_lr=5e-3, prompts=8, num_generations=8,
                 budget=3, steps=150, lr=3e-4, epsilon=0.1, n_eval=512, n_samples=16, seeds=[0, 1, 2]),
    "quick": dict(task="mnns", width=16, layers=1, heads=1, sft_steps=4, sft_batch=32, sft_lr=5e-3, prompts=2, num_generations=4,
                  budget=3, steps=1, lr=3e-4, epsilon=0.1, n_eval=32, n_samples=4, seeds=[0]),
}
PASS_K = (1, 2, 4, 8, 16)

def _same(c1:dict, c2:dict) -> bool:
    "Whether two MNNS configurations are the same run settings (the list of seeds aside)."
    strip = lambda c: {k: v for k, v in c.items() if k != "seeds"}
    return strip(c1) == strip(c2)

def mnns_rows(seqs, tok) -> list[dict]:
    "`mnns_example` rows (distribution targets) with the end-of-thinking word inserted before the answer."
    from soft_sampling.tasks import mnns_example, MNNS_STEPS
    arrow, i = tok.token2id[MNNS_END], MNNS_STEPS.stop
    ins = lambda xs, v: xs[:i] + [v] + xs[i:]
    out = []
    for s in seqs:
        r = mnns_example(s, tok)
        out.append(dict(input_ids=ins(r["input_ids"], arrow), labels=ins(r["labels"], arrow), soft_mask=ins(r["soft_mask"], 0),
                        target_ids=ins(r["target_ids"], []), target_probs=ins(r["target_probs"], []), answer=r["answer"]))
    return out

def mnns_sft(method:str, seed:int, cfg:dict, tok):
    "A supervised start (bench_cot2's model and loss): 'discrete' CoT or 'curriculum' (hard_teacher, then soft_teacher)."
    import torch
    from bench_cot2 import mk_model, step_loss
    from soft_sampling.tasks import mnns_split
    from soft_sampling.trainer import DistributionCollator
    train, _ = mnns_split(seed)
    tr = DistributionCollator(tok.vocab_size)(mnns_rows(train, tok))
    model = mk_model(cfg["width"], cfg["layers"], cfg["heads"], seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["sft_lr"])
    g, n, half = torch.Generator().manual_seed(seed), tr["input_ids"].shape[0], cfg["sft_steps"] // 2
    for step in range(cfg["sft_steps"]):
        if method == "curriculum" and step == half: opt = torch.optim.AdamW(model.parameters(), lr=cfg["sft_lr"])  # as CoT2
        idx = torch.randint(n, (cfg["sft_batch"],), generator=g)
        b = {k: tr[k][idx] for k in ("input_ids", "attention_mask", "labels", "soft_mask", "target_dists")}
        loss = step_loss(model, b, method, soft_phase=step >= half)
        opt.zero_grad(); loss.backward(); opt.step()
    return model.eval()

def pass_at_k(n:int, c:int, k:int) -> float:
    "The unbiased pass@k estimate from n samples of which c are right."
    return 1.0 if n - c < k else 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))

def mnns_eval(model, seqs, tok, n_samples:int, seed:int) -> dict:
    "Held-out accuracy: hard greedy, hard sampled pass@k (temperature 1, thinking and answer) and soft decoding (p @ E thinking, argmax answer)."
    import torch
    from soft_sampling.tasks import mnns_answer
    model = model.float().eval(); E = model.get_input_embeddings().weight
    prompt = torch.tensor([[tok.bos_token_id] + [tok.digit_id(d) for d in s] for s in seqs])
    ans = torch.tensor([tok.sum_id(mnns_answer(s)) for s in seqs])
    g = torch.Generator().manual_seed(seed)
    @torch.no_grad()
    def decode(mode, reps=1):
        x, y = E[prompt].repeat_interleave(reps, 0), ans.repeat_interleave(reps)
        for _ in range(3):
            p = torch.softmax(model(inputs_embeds=x).logits[:, -1].double(), -1)
            e = p.to(E.dtype) @ E if mode == "soft" else E[p.argmax(-1) if mode == "greedy" else torch.multinomial(p, 1, generator=g)[:, 0]]
            x = torch.cat([x, e[:, None]], 1)
        x = torch.cat([x, E[tok.token2id[MNNS_END]].expand(len(x), 1, -1)], 1)
        p = torch.softmax(model(inputs_embeds=x).logits[:, -1].double(), -1)
        return (p.argmax(-1) if mode != "sample" else torch.multinomial(p, 1, generator=g)[:, 0]) == y
    hits = decode("sample", n_samples).view(len(seqs), n_samples).sum(1).tolist()
    return dict(greedy=decode("greedy").double().mean().item(), soft=decode("soft").double().mean().item(),
                **{f"pass@{k}": float(np.mean([pass_at_k(n_samples, c, k) for c in hits])) for k in PASS_K if k <= n_samples})

def mnns_starts(seed:int, cfg:dict, out:Path, tok) -> dict:
    "The two supervised starts of `seed` (trained once, saved under runs/), with their held-out scores."
    from transformers import GPT2LMHeadModel
    from soft_sampling.tasks import mnns_split
    starts = {}
    for name in ("discrete", "curriculum"):
        d = out / "runs" / f"sft-{name}-seed{seed}"
        meta = d / "meta.json"
        if not (meta.exists() and _same(json.loads(meta.read_text())["config"], cfg)):
            t = time.time(); m = mnns_sft(name, seed, cfg, tok); m.save_pretrained(d)
            ev = mnns_eval(m, mnns_split(seed)[1][:cfg["n_eval"]], tok, cfg["n_samples"], seed)
            meta.write_text(json.dumps(dict(config=cfg, eval=ev, wall_s=time.time() - t)))
            print(f"SFT {name:10} seed {seed}: greedy {ev['greedy']:.3f} soft {ev['soft']:.3f} ({time.time() - t:.0f} s)", flush=True)
        starts[name] = dict(path=str(d), **json.loads(meta.read_text()))
    return starts

def mnns_run(method:str, seed:int, cfg:dict, start:dict, tok) -> dict:
    "GRPO of one method from its supervised start, then its held-out scores."
    import torch, datasets
    from transformers import GPT2LMHeadModel, PrinterCallback, TrainerCallback
    from transformers.utils import logging as hf_logging
    from bench_cot2 import word_tokenizer
    from soft_sampling.data import exact_match_reward
    from soft_sampling.grpo import SoftGRPOConfig, SoftGRPOTrainer
    from soft_sampling.tasks import mnns_split, mnns_answer
    hf_logging.set_verbosity_error(); warnings.filterwarnings("ignore")
    train, val = mnns_split(seed)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:cfg["steps"] * cfg["prompts"]].tolist()
    ds = datasets.Dataset.from_list([dict(prompt="<BOS> " + " ".join(f"D{d}" for d in train[i]), answer=mnns_answer(train[i])) for i in order])
    times = []
    class Timer(TrainerCallback):
        def on_step_begin(self, *a, **k): self.t = time.perf_counter()
        def on_step_end(self, *a, **k): times.append(time.perf_counter() - self.t)
    args = SoftGRPOConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=cfg["prompts"] * cfg["num_generations"],
                          num_generations=cfg["num_generations"], max_completion_length=cfg["budget"] + 2, max_steps=cfg["steps"],
                          learning_rate=cfg["lr"], lr_scheduler_type="constant", warmup_steps=0, beta=0.0, epsilon=cfg["epsilon"], num_iterations=1,
                          seed=seed, bf16=False, use_cpu=True, report_to=[], logging_steps=1, save_strategy="no", disable_tqdm=True,
                          shuffle_dataset=False, soft_thinking_end=MNNS_END, soft_thinking_budget=cfg["budget"], **MNNS_METHODS[method])
    tr = SoftGRPOTrainer(model=GPT2LMHeadModel.from_pretrained(start["path"]), reward_funcs=exact_match_reward, args=args, train_dataset=ds,
                         processing_class=word_tokenizer(), callbacks=[Timer()])
    tr.remove_callback(PrinterCallback)
    tr.train()
    logs = [h for h in tr.state.log_history if "reward" in h]
    ev = mnns_eval(tr.model, val[:cfg["n_eval"]], tok, cfg["n_samples"], seed)
    return dict(method=method, seed=seed, config=cfg, start="curriculum" if method in MNNS_SOFT_START else "discrete", start_eval=start["eval"],
                eval=ev, rewards=[h["reward"] for h in logs], step_seconds=times, completion_length=[h.get("completions/mean_length") for h in logs])

def mnns_summarize(out:Path, cfg:dict) -> dict:
    "Per method: held-out scores after GRPO, paired differences to stock from the same start (95% t over seeds), gains over the start, step-time ratios to stock."
    runs = {}
    for p in sorted((out / "runs").glob("*.json")):
        r = json.loads(p.read_text())
        if "config" in r and _same(r["config"], cfg) and r["seed"] in cfg["seeds"]: runs[(r["method"], r["seed"])] = r
    seeds = sorted({s for m, s in runs if m == BASELINE})
    base = {s: runs[(BASELINE, s)] for s in seeds}
    metrics = list(base[seeds[0]]["eval"]) if seeds else []
    summary = dict(config=cfg, seeds=seeds, baseline=BASELINE, metrics=metrics, command=" ".join(["nice -n 10 python bench/bench_soft_rl.py"] + sys.argv[1:]),
                   starts={n: {k: seed_ci([runs[(m, s)]["start_eval"][k] for s in seeds]) for k in metrics}
                           for n, m in (("discrete", BASELINE), ("curriculum", "stock_soft_sft")) if all((m, s) in runs for s in seeds)},
                   methods={})
    for m in MNNS_METHODS:
        same = "stock_soft_sft" if m in MNNS_SOFT_START else BASELINE  # the stock run from the same start
        rs = [runs[(m, s)] for s in seeds if (m, s) in runs and (same, s) in runs]
        if not rs: continue
        e = {k: seed_ci([r["eval"][k] for r in rs]) for k in metrics}
        summary["methods"][m] = dict(start=rs[0]["start"], n_seeds=len(rs), eval=e,
                                     stock=same, minus_stock={k: seed_ci([r["eval"][k] - runs[(same, r["seed"])]["eval"][k] for r in rs]) for k in metrics},
                                     gain={k: seed_ci([r["eval"][k] - r["start_eval"][k] for r in rs]) for k in metrics},
                                     reward=seed_ci([np.mean(r["rewards"]) for r in rs]),
                                     completion_length=seed_ci([np.mean([x for x in r["completion_length"] if x is not None]) for r in rs]),
                                     reward_first_quarter=seed_ci([np.mean(r["rewards"][:max(1, len(r["rewards"]) // 4)]) for r in rs]),
                                     reward_last_quarter=seed_ci([np.mean(r["rewards"][-max(1, len(r["rewards"]) // 4):]) for r in rs]),
                                     step_time_ratio=seed_ci([np.median(r["step_seconds"]) / np.median(base[r["seed"]]["step_seconds"]) for r in rs]))
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary

def mnns_main(a) -> int:
    from soft_sampling.tasks import MnnsTokenizer
    import torch
    torch.set_num_threads(1)
    cfg = MNNS_SIZES["quick" if a.quick else "full"]
    if a.steps: cfg = {**cfg, "steps": a.steps}
    if a.seeds: cfg = {**cfg, "seeds": a.seeds}
    out = a.out or Path(__file__).resolve().parent / ("soft_rl-mnns-quick" if a.quick else "soft_rl-mnns")
    (out / "runs").mkdir(parents=True, exist_ok=True)
    tok, methods = MnnsTokenizer(), [m for m in (a.methods or MNNS_METHODS)]
    for seed in cfg["seeds"]:
        starts = mnns_starts(seed, cfg, out, tok)
        for m in [BASELINE] + [m for m in methods if m != BASELINE]:
            path = run_path(out, m, seed)
            if path.exists() and _same(json.loads(path.read_text())["config"], cfg): continue
            with claim(path) as mine:
                if not mine: continue
                t = time.time()
                res = mnns_run(m, seed, cfg, starts["curriculum" if m in MNNS_SOFT_START else "discrete"], tok)
                atomic_write_text(path, json.dumps(res) + "\n")  # whole or not at all: a rerun trusts what it finds
            e = res["eval"]
            print(f"{m:20} seed {seed}: greedy {res['start_eval']['greedy']:.3f} -> {e['greedy']:.3f}, soft {e['soft']:.3f}, pass@1 {e['pass@1']:.3f}, "
                  f"{np.median(res['step_seconds']):.2f} s/step ({time.time() - t:.0f} s)", flush=True)
    s = mnns_summarize(out, cfg)
    for m, v in s["methods"].items():
        d = v["minus_stock"]["greedy"]
        print(f"{m:20} greedy {v['eval']['greedy'][0]:.3f}  minus stock {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]  step time x{v['step_time_ratio'][0]:.2f}")
    return 0

def _ci(v, pct=True) -> str:
    f = (lambda x: f"{100 * x:+.1f}") if pct else (lambda x: f"{x:.2f}")
    return f"{f(v[0])} [{f(v[1])}, {f(v[2])}]"

def table(summary:dict) -> str:
    "Markdown: the MNNS held-out scores after GRPO (%, mean over seeds), then their paired differences to stock with 95% t intervals."
    ms, ks = summary["methods"], summary["metrics"]
    top = max(int(k.split("@")[1]) for k in ks if k.startswith("pass@"))
    cols = ["greedy", "soft", "pass@1", f"pass@{top}"]
    pct = lambda v: f"{100 * v[0]:.1f}"
    rows = [f"Seeds {summary['seeds']}, {summary['config']['steps']} GRPO steps; held-out accuracy (%), mean over seeds.", "",
            "| method | start (SFT) | " + " | ".join(cols) + " | training reward: first, last quarter | step time / stock |", "|---" * (len(cols) + 4) + "|"]
    for n, s in summary["starts"].items():
        rows.append(f"| *{n} SFT, before GRPO* | {n} | " + " | ".join(pct(s[k]) for k in cols) + " | | |")
    for m, v in ms.items():
        rows.append(f"| {m} | {v['start']} | " + " | ".join(pct(v["eval"][k]) for k in cols) + f" | {v['reward_first_quarter'][0]:.3f}, {v['reward_last_quarter'][0]:.3f} | {_ci(v['step_time_ratio'], False)} |")
    rows += ["", "Minus stock GRPO from the same start (`stock` or `stock_soft_sft`), paired by seed, in percentage points with 95% t intervals over seeds; "
             "gain: after GRPO minus the method's own start.", "",
             "| method | minus | " + " | ".join(f"{k}" for k in cols) + " | greedy gain | soft gain |", "|---" * (len(cols) + 4) + "|"]
    for m, v in ms.items():
        if m == v["stock"]: continue
        rows.append(f"| {m} | {v['stock']} | " + " | ".join(_ci(v["minus_stock"][k]) for k in cols) + f" | {_ci(v['gain']['greedy'])} | {_ci(v['gain']['soft'])} |")
    return "\n".join(rows)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one seed, two steps (a smoke run)")
    ap.add_argument("--out", type=Path, default=None, help="results folder (default bench/soft_rl, or bench/soft_rl-quick with --quick)")
    ap.add_argument("--methods", nargs="+", default=None, choices=list(MNNS_METHODS))
    ap.add_argument("--task", default="arithmetic", choices=["arithmetic", "mnns"], help="arithmetic: the tiny random Llama; mnns: tiny GPT-2s trained on MNNS first")
    ap.add_argument("--steps", type=int, default=None, help="GRPO steps (mnns; default from the size)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (mnns; default from the size)")
    a = ap.parse_args(argv)
    if a.task == "mnns": return mnns_main(a)
    a.methods = [m for m in (a.methods or METHODS) if m in METHODS]
    cfg = SIZES["quick" if a.quick else "full"]
    out = a.out or Path(__file__).resolve().parent / ("soft_rl-quick" if a.quick else "soft_rl")
    (out / "runs").mkdir(parents=True, exist_ok=True)
    for seed in cfg["seeds"]:
        for m in [BASELINE] + [m for m in a.methods if m != BASELINE]:
            path = run_path(out, m, seed)
            if done(path, cfg): continue
            with claim(path) as mine:
                if not mine: continue
                t = time.time()
                res = run(m, seed, cfg, out)
                atomic_write_text(path, json.dumps(res) + "\n")
            print(f"{m:20} seed {seed}: mean reward {np.mean(res['rewards']):.3f}, {np.median(res['step_seconds']):.2f} s/step ({time.time() - t:.0f} s)", flush=True)
    s = summarize(out, cfg)
    for m, v in s["methods"].items():
        print(f"{m:20} reward {v['reward'][0]:.3f}  minus stock {v['reward_minus_stock'][0]:+.3f} [{v['reward_minus_stock'][1]:+.3f}, {v['reward_minus_stock'][2]:+.3f}]  step time x{v['step_time_ratio'][0]:.2f}")
    return 0

if __name__ == "__main__": sys.exit(main())
