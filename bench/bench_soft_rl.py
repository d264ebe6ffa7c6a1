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
exact-match reward, the same prompts, generations, steps and learning rate. The held-out greedy accuracy is measured every
`eval_every` steps (the curve shows where stock flattens), and each trained model is scored on the held-out digit
multisets: hard greedy, hard sampled pass@1 to pass@32 (unbiased, 32 samples) and soft decoding with the soft-thinking loop
(`soft_thinking`), at Soft Thinking's defaults and in the method's own rollout (`OWN`).

    python bench/bench_soft_rl.py --task mnns --quick   # smoke run (bench/soft_rl-mnns-quick)
    nice -n 10 python bench/bench_soft_rl.py --task mnns  # four seeds, 500 GRPO steps (bench/soft_rl-mnns; resumes)

`--task smollm2` is a declared SmolLM2 subset (`SMOL_SIZES`): three rollouts, three seeds, a few steps on the embedded
SmolLM2-135M-Instruct, with three-term sums whose thinking phase ends at " =".

    python bench/bench_soft_rl.py --task smollm2 --quick    # smoke run on the tiny random Llama
    nice -n 10 python bench/bench_soft_rl.py --task smollm2  # bench/soft_rl-smollm2 (resumes)
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
                 budget=3, steps=500, lr=3e-4, epsilon=0.1, n_eval=512, n_samples=32, eval_every=25, seeds=[0, 1, 2, 3]),
    "quick": dict(task="mnns", width=16, layers=1, heads=1, sft_steps=4, sft_batch=32, sft_lr=5e-3, prompts=2, num_generations=4,
                  budget=3, steps=2, lr=3e-4, epsilon=0.1, n_eval=32, n_samples=4, eval_every=1, seeds=[0]),
}
PASS_K = (1, 2, 4, 8, 16, 32)

def _same(c1:dict, c2:dict) -> bool:
    "Whether two MNNS configurations are the same run settings (the list of seeds aside)."
    strip = lambda c: {k: v for k, v in c.items() if k != "seeds"}
    return strip(c1) == strip(c2)

START_KEYS = ("task", "width", "layers", "heads", "sft_steps", "sft_batch", "sft_lr", "budget", "n_eval", "n_samples")

def _same_start(c1:dict, c2:dict) -> bool:
    "Whether two MNNS configurations share their supervised start and its evaluation (the GRPO settings aside)."
    return all(c1.get(k) == c2.get(k) for k in START_KEYS)

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

# Soft decoding with the soft-thinking loop (`soft_sampling.thinking.soft_thinking`), in each method's own rollout: its
# thinking input and shaping (GRPO's rollouts sample at temperature 1 over the whole vocabulary), then a greedy answer.
# `multiplex` has no single-draw kind there and decodes with "soft" (the draws' mean in expectation); `mix` (weight 0.5)
# decodes with Mixture of Inputs at beta 1, which is `mix`'s input with mixinputs' entropy gate added.
OWN_DECODING = {
    "hard": dict(thinking_input="hard"),
    "soft": dict(thinking_input="soft"),
    "moi": dict(thinking_input="moi", moi_beta=1.0),
    "gaussian_soft": dict(thinking_input="gaussian", thinking_temperature=0.5, gaussian_sigma=0.33),
    "gaussian_fuzzy": dict(thinking_input="gaussian", thinking_temperature=1e-4, gaussian_sigma=0.33),
    "gumbel": dict(thinking_input="gumbel", gumbel_tau=0.1, max_topk=5, thinking_top_p=0.95),
}
OWN = {"stock": "hard", "stock_soft_sft": "hard", "soft": "soft", "soft_through_inputs": "soft", "mix": "moi", "mix_through_inputs": "moi",
       "multiplex": "soft", "gaussian_soft": "gaussian_soft", "gaussian_fuzzy": "gaussian_fuzzy", "gumbel": "gumbel"}

def with_own(scores:dict, method:str) -> dict:
    "`scores` with the method's own soft decoding (`own_<its rollout>`) also under the name `own`."
    return {**scores, "own": scores[f"own_{OWN[method]}"]}

def thinking_accuracy(model, prompt, ans, arrow:int, budget:int, seed:int, **kw) -> float:
    "Held-out accuracy of `soft_thinking` decoding: `budget` thinking steps (or fewer, at `arrow`), the forced `arrow`, a greedy answer."
    import torch
    from soft_sampling.thinking import soft_thinking
    shaping = dict(thinking_temperature=1.0, thinking_top_k=None, thinking_top_p=None, thinking_min_p=None, max_topk=model.config.vocab_size)
    out = soft_thinking(model, prompt, attention_mask=torch.ones_like(prompt), end_thinking=arrow, thinking_budget=budget, max_new_tokens=budget + 2,
                        do_sample=False, pad_token_id=0, eos_token_id=2, seed=seed, **{**shaping, **kw})
    gen = out[:, prompt.shape[1]:]
    at = (gen == arrow).int().argmax(-1)  # the answer follows the first marker
    got = gen.gather(1, (at + 1).clamp_max(gen.shape[1] - 1)[:, None])[:, 0]
    return ((got == ans) & (gen == arrow).any(-1)).double().mean().item()

def mnns_eval(model, seqs, tok, n_samples:int, seed:int, budget:int=3, curve:bool=False) -> dict:
    "Held-out accuracy: hard greedy, hard sampled pass@k (temperature 1, thinking and answer), and soft-thinking decoding: Soft Thinking's defaults (`soft_thinking`) and each rollout's own (`own_<rollout>`)."
    import torch
    from soft_sampling.tasks import mnns_answer
    was_training = model.training
    model = model.float().eval(); E = model.get_input_embeddings().weight
    prompt = torch.tensor([[tok.bos_token_id] + [tok.digit_id(d) for d in s] for s in seqs])
    ans = torch.tensor([tok.sum_id(mnns_answer(s)) for s in seqs])
    g, arrow = torch.Generator().manual_seed(seed), tok.token2id[MNNS_END]
    @torch.no_grad()
    def decode(mode, reps=1):
        x, y = E[prompt].repeat_interleave(reps, 0), ans.repeat_interleave(reps)
        for _ in range(budget):
            p = torch.softmax(model(inputs_embeds=x).logits[:, -1].double(), -1)
            e = E[p.argmax(-1) if mode == "greedy" else torch.multinomial(p, 1, generator=g)[:, 0]]
            x = torch.cat([x, e[:, None]], 1)
        x = torch.cat([x, E[arrow].expand(len(x), 1, -1)], 1)
        p = torch.softmax(model(inputs_embeds=x).logits[:, -1].double(), -1)
        return (p.argmax(-1) if mode != "sample" else torch.multinomial(p, 1, generator=g)[:, 0]) == y
    try:
        if curve: return dict(greedy=decode("greedy").double().mean().item())
        hits = decode("sample", n_samples).view(len(seqs), n_samples).sum(1).tolist()
        st = dict(thinking_temperature=0.6, thinking_top_k=30, thinking_top_p=0.95, thinking_min_p=0.001, max_topk=10)  # Soft Thinking's defaults
        return dict(greedy=decode("greedy").double().mean().item(), soft_thinking=thinking_accuracy(model, prompt, ans, arrow, budget, seed, **st),
                    **{f"own_{k}": thinking_accuracy(model, prompt, ans, arrow, budget, seed, **kw) for k, kw in OWN_DECODING.items()},
                    **{f"pass@{k}": float(np.mean([pass_at_k(n_samples, c, k) for c in hits])) for k in PASS_K if k <= n_samples})
    finally: model.train(was_training)

def mnns_starts(seed:int, cfg:dict, out:Path, tok) -> dict:
    "The two supervised starts of `seed` (trained once, saved under runs/), with their held-out scores."
    from transformers import GPT2LMHeadModel
    from soft_sampling.tasks import mnns_split
    starts = {}
    for name in ("discrete", "curriculum"):
        d = out / "runs" / f"sft-{name}-seed{seed}"
        meta = d / "meta.json"
        if not (meta.exists() and _same_start(json.loads(meta.read_text())["config"], cfg)):
            t = time.time(); m = mnns_sft(name, seed, cfg, tok); m.save_pretrained(d)
            ev = mnns_eval(m, mnns_split(seed)[1][:cfg["n_eval"]], tok, cfg["n_samples"], seed, cfg["budget"])
            meta.write_text(json.dumps(dict(config=cfg, eval=ev, wall_s=time.time() - t)))
            print(f"SFT {name:10} seed {seed}: greedy {ev['greedy']:.3f} soft thinking {ev['soft_thinking']:.3f} ({time.time() - t:.0f} s)", flush=True)
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
    times, curve, held_out = [], [], val[:cfg["n_eval"]]
    class Timer(TrainerCallback):  # step times, and the held-out greedy curve every eval_every steps (outside the timed span)
        def on_step_begin(self, *a, **k): self.t = time.perf_counter()
        def on_step_end(self, args, state, control, model=None, **k):
            times.append(time.perf_counter() - self.t)
            if state.global_step % cfg["eval_every"] == 0:
                curve.append([state.global_step, mnns_eval(model, held_out, tok, 1, seed, cfg["budget"], curve=True)["greedy"]])
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
    ev = mnns_eval(tr.model, held_out, tok, cfg["n_samples"], seed, cfg["budget"])
    return dict(method=method, seed=seed, config=cfg, start="curriculum" if method in MNNS_SOFT_START else "discrete", start_eval=start["eval"],
                eval=ev, curve=[[0, start["eval"]["greedy"]]] + curve, rewards=[h["reward"] for h in logs], step_seconds=times, completion_length=[h.get("completions/mean_length") for h in logs])

def _mean_curve(rs:list[dict]) -> list[list[float]]:
    "The held-out greedy curve averaged over runs: [step, mean accuracy] at the steps they share."
    steps = [s for s, _ in rs[0].get("curve", [])]
    return [[s, float(np.mean([dict(map(tuple, r["curve"]))[s] for r in rs]))] for s in steps if all(s in dict(map(tuple, r.get("curve", []))) for r in rs)]

def flattening(curve:list[list[float]], frac:float=0.25) -> dict:
    "How flat a curve's end is: mean accuracy over its last `frac` of steps minus the `frac` before (points), and the slope per 1000 steps over the last half."
    ys, xs = np.array([y for _, y in curve]), np.array([x for x, _ in curve], dtype=float)
    n = max(1, int(round(len(ys) * frac)))
    half = len(ys) // 2
    slope = float(np.polyfit(xs[half:], ys[half:], 1)[0] * 1000) if len(ys) - half >= 2 else float("nan")
    return dict(last_minus_previous=float(ys[-n:].mean() - ys[-2 * n:-n].mean()) if len(ys) >= 2 * n else float("nan"), slope_per_1000_steps=slope)

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
        ev, sev = (lambda r: with_own(r["eval"], m)), (lambda r: with_own(r["start_eval"], m))
        ks = metrics + ["own"]
        e = {k: seed_ci([ev(r)[k] for r in rs]) for k in ks}
        summary["methods"][m] = dict(start=rs[0]["start"], n_seeds=len(rs), eval=e, own_decoding=OWN[m], curve=_mean_curve(rs),
                                     stock=same, minus_stock={k: seed_ci([ev(r)[k] - with_own(runs[(same, r["seed"])]["eval"], m)[k] for r in rs]) for k in ks},
                                     gain={k: seed_ci([ev(r)[k] - sev(r)[k] for r in rs]) for k in ks},
                                     reward=seed_ci([np.mean(r["rewards"]) for r in rs]),
                                     completion_length=seed_ci([np.mean([x for x in r["completion_length"] if x is not None]) for r in rs]),
                                     reward_first_quarter=seed_ci([np.mean(r["rewards"][:max(1, len(r["rewards"]) // 4)]) for r in rs]),
                                     reward_last_quarter=seed_ci([np.mean(r["rewards"][-max(1, len(r["rewards"]) // 4):]) for r in rs]),
                                     step_time_ratio=seed_ci([np.median(r["step_seconds"]) / np.median(base[r["seed"]]["step_seconds"]) for r in rs]))
    if BASELINE in summary["methods"]: summary["stock_flattening"] = flattening(summary["methods"][BASELINE]["curve"])
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    return summary

def _settings(a, sizes:dict, name:str) -> tuple[dict, Path]:
    "The run settings (--quick's or the full size, with --steps and --seeds) and the results folder (with its runs/)."
    cfg = sizes["quick" if a.quick else "full"]
    if a.steps: cfg = {**cfg, "steps": a.steps}
    if a.seeds: cfg = {**cfg, "seeds": a.seeds}
    out = a.out or Path(__file__).resolve().parent / (f"{name}-quick" if a.quick else name)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    return cfg, out

def mnns_main(a) -> int:
    from soft_sampling.tasks import MnnsTokenizer
    import torch
    torch.set_num_threads(1)
    cfg, out = _settings(a, MNNS_SIZES, "soft_rl-mnns")
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
            print(f"{m:20} seed {seed}: greedy {res['start_eval']['greedy']:.3f} -> {e['greedy']:.3f}, own {e['own_' + OWN[m]]:.3f}, pass@1 {e['pass@1']:.3f}, "
                  f"{np.median(res['step_seconds']):.2f} s/step ({time.time() - t:.0f} s)", flush=True)
    s = mnns_summarize(out, cfg)
    if s["methods"]: plot_curves(s, out / "curves.png")
    for m, v in s["methods"].items():
        d = v["minus_stock"]["greedy"]
        print(f"{m:20} greedy {v['eval']['greedy'][0]:.3f}  minus stock {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]  step time x{v['step_time_ratio'][0]:.2f}")
    return 0

# ---- A declared SmolLM2 subset: the embedded SmolLM2-135M-Instruct on three-term arithmetic with a short thinking phase ----
# The question asks the model to work the sum out, then write "=" and the result: the thinking phase is what the model
# writes before " =" (one token of SmolLM2's, the end-of-thinking token; forced at the budget), the answer is what follows.
# SmolLM2-135M does not use a "</think>" format (it is not one of its tokens, and when added it rarely answers after it).
SMOL_METHODS = ("stock", "multiplex", "gaussian_soft")
SMOL_SIZES = {
    "full": dict(task="smollm2", prompts=2, num_generations=4, budget=8, answer_tokens=6, steps=6, lr=1e-5, terms=3, max_operand=5,
                 n_eval=16, n_samples=4, seeds=[0, 1, 2]),
    "quick": dict(task="smollm2", prompts=1, num_generations=2, budget=2, answer_tokens=2, steps=1, lr=1e-5, terms=3, max_operand=5,
                  n_eval=2, n_samples=2, seeds=[0]),
}
SMOL_END = " ="
SMOL_INSTRUCTION = "Work it out, then write = and the result."

def smol_model(tiny:bool=False):
    "SmolLM2, or for `--quick` the tiny random Llama (where `SMOL_END` is two tokens and its first one ends the thinking)."
    from soft_sampling.models import load_model_and_tokenizer
    from soft_sampling.testing import mk_tiny_model_and_tokenizer
    return mk_tiny_model_and_tokenizer("llama", seed=0) if tiny else load_model_and_tokenizer()

def smol_data(n:int, seed:int, cfg:dict, tok=None) -> dict:
    "Three-term questions with the instruction, as chat-templated prompts (with `tok`) or messages, and their answers."
    from bench_soft_thinking import multistep_arithmetic
    d = multistep_arithmetic(n, seed, cfg["terms"], cfg["max_operand"])
    msgs = [[{"role": "user", "content": f"{p[0]['content']} {SMOL_INSTRUCTION}"}] for p in d["prompt"]]
    prompts = msgs if tok is None else [tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in msgs]
    return dict(prompt=prompts, answer=d["answer"])

def smol_score(model, tok, data:dict, cfg:dict, seed:int, method:str) -> dict:
    "Held-out scores: hard greedy, hard sampled pass@k (temperature 1), and the method's own soft decoding with a greedy answer; answers after the marker."
    import torch
    from soft_sampling.data import exact_match_reward
    from soft_sampling.thinking import soft_thinking
    end = tok.encode(SMOL_END, add_special_tokens=False)[0]
    texts = data["prompt"]
    side, tok.padding_side = tok.padding_side, "left"
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    tok.padding_side = side
    def answers(n, do_sample, **kw):
        shaping = dict(thinking_temperature=1.0, thinking_top_k=None, thinking_top_p=None, thinking_min_p=None, max_topk=len(tok))
        o = soft_thinking(model, enc["input_ids"], attention_mask=enc["attention_mask"], end_thinking=end, thinking_budget=cfg["budget"],
                          max_new_tokens=cfg["budget"] + 1 + cfg["answer_tokens"], do_sample=do_sample, num_return_sequences=n, temperature=1.0, top_k=0,
                          pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, seed=seed, **{**shaping, **kw})
        gen = o[:, enc["input_ids"].shape[1]:]
        at = torch.where((gen == end).any(1), (gen == end).int().argmax(1) + 1, gen.shape[1])
        texts = [tok.decode(g[a:], skip_special_tokens=True) for g, a in zip(gen, at.tolist())]
        hits = exact_match_reward(None, texts, [a for a in data["answer"] for _ in range(n)])
        return np.array(hits).reshape(len(texts) // n, n).sum(1), o.thinking_lengths.float().mean().item()
    model.eval()
    with torch.no_grad():
        g, tl = answers(1, False, thinking_input="hard", thinking_temperature=0.0)
        s, _ = answers(cfg["n_samples"], True, thinking_input="hard")
        own = {k: answers(1, False, **kw)[0].mean() for k, kw in OWN_DECODING.items() if method == "start" or k == OWN[method]}
    return dict(greedy=float(g.mean()), thinking_length=tl, **{f"own_{k}": float(v) for k, v in own.items()},
                **{f"pass@{k}": float(np.mean([pass_at_k(cfg["n_samples"], int(c), k) for c in s])) for k in PASS_K if k <= cfg["n_samples"]})

def smol_run(method:str, seed:int, cfg:dict, tiny:bool) -> dict:
    "GRPO of one method on SmolLM2 (thinking phase, discrete answer), then its held-out scores."
    import torch, datasets
    from transformers import PrinterCallback, TrainerCallback
    from transformers.utils import logging as hf_logging
    from soft_sampling.data import exact_match_reward
    from soft_sampling.grpo import SoftGRPOConfig, SoftGRPOTrainer
    hf_logging.set_verbosity_error(); warnings.filterwarnings("ignore")
    model, tok = smol_model(tiny)
    d = smol_data(cfg["prompts"] * cfg["steps"], 1000 + seed, cfg, tok)
    ds = datasets.Dataset.from_dict(d)
    times = []
    class Timer(TrainerCallback):
        def on_step_begin(self, *a, **k): self.t = time.perf_counter()
        def on_step_end(self, *a, **k): times.append(time.perf_counter() - self.t)
    args = SoftGRPOConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=cfg["prompts"] * cfg["num_generations"],
                          num_generations=cfg["num_generations"], max_completion_length=cfg["budget"] + 1 + cfg["answer_tokens"], max_steps=cfg["steps"],
                          learning_rate=cfg["lr"], beta=0.0, num_iterations=1, seed=seed, bf16=False, use_cpu=True, report_to=[],
                          logging_steps=1, save_strategy="no", disable_tqdm=True, shuffle_dataset=False,
                          soft_thinking_end=tok.encode(SMOL_END, add_special_tokens=False)[0],
                          soft_thinking_budget=cfg["budget"], **METHODS[method])
    tr = SoftGRPOTrainer(model=model, reward_funcs=exact_match_reward, args=args, train_dataset=ds, processing_class=tok, callbacks=[Timer()])
    tr.remove_callback(PrinterCallback)
    tr.train()
    logs = [h for h in tr.state.log_history if "reward" in h]
    ev = smol_score(tr.model, tok, smol_data(cfg["n_eval"], 0, cfg, tok), cfg, seed, method)
    return dict(method=method, seed=seed, config=cfg, eval=ev, rewards=[h["reward"] for h in logs], step_seconds=times,
                completion_length=[h.get("completions/mean_length") for h in logs])

def smol_summarize(out:Path, cfg:dict) -> dict:
    "Held-out scores after GRPO per method, paired differences to stock (95% t over seeds), the untrained model, step-time ratios."
    runs = {}
    for p in sorted((out / "runs").glob("*.json")):
        r = json.loads(p.read_text())
        if "method" in r and _same(r["config"], cfg) and r["seed"] in cfg["seeds"]: runs[(r["method"], r["seed"])] = r
    seeds = sorted({s for m, s in runs if m == BASELINE})
    start = json.loads((out / "runs" / "start.json").read_text())["eval"] if (out / "runs" / "start.json").exists() else None
    summary = dict(config=cfg, seeds=seeds, baseline=BASELINE, start=start, methods={},
                   command=" ".join(["nice -n 10 python bench/bench_soft_rl.py"] + sys.argv[1:]))
    for m in SMOL_METHODS:
        rs = [runs[(m, s)] for s in seeds if (m, s) in runs]
        if not rs: continue
        ev = lambda r: with_own(r["eval"], m)
        ks = [k for k in ev(rs[0]) if k != f"own_{OWN[m]}"]
        summary["methods"][m] = dict(n_seeds=len(rs), own_decoding=OWN[m], eval={k: seed_ci([ev(r)[k] for r in rs]) for k in ks},
                                     minus_stock={k: seed_ci([ev(r)[k] - with_own(runs[(BASELINE, r["seed"])]["eval"], BASELINE)[k] for r in rs]) for k in ks},
                                     reward=seed_ci([np.mean(r["rewards"]) for r in rs]),
                                     step_time_ratio=seed_ci([np.median(r["step_seconds"]) / np.median(runs[(BASELINE, r["seed"])]["step_seconds"]) for r in rs]),
                                     step_seconds=seed_ci([np.median(r["step_seconds"]) for r in rs]))
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    return summary

def smol_main(a) -> int:
    import torch
    torch.set_num_threads(1)
    cfg, out = _settings(a, SMOL_SIZES, "soft_rl-smollm2")
    sp = out / "runs" / "start.json"
    if not (sp.exists() and _same(json.loads(sp.read_text())["config"], cfg)):
        model, tok = smol_model(a.quick)
        atomic_write_text(sp, json.dumps(dict(config=cfg, eval=smol_score(model, tok, smol_data(cfg["n_eval"], 0, cfg, tok), cfg, 0, "start"))) + "\n")
    for seed in cfg["seeds"]:
        for m in [BASELINE] + [m for m in (a.methods or SMOL_METHODS) if m != BASELINE and m in SMOL_METHODS]:
            path = run_path(out, m, seed)
            if path.exists() and _same(json.loads(path.read_text())["config"], cfg): continue
            with claim(path) as mine:
                if not mine: continue
                t = time.time()
                res = smol_run(m, seed, cfg, a.quick)
                atomic_write_text(path, json.dumps(res) + "\n")
            e = res["eval"]
            print(f"{m:14} seed {seed}: greedy {e['greedy']:.3f}, own {e['own_' + OWN[m]]:.3f}, pass@1 {e['pass@1']:.3f}, "
                  f"{np.median(res['step_seconds']):.1f} s/step ({time.time() - t:.0f} s)", flush=True)
    s = smol_summarize(out, cfg)
    for m, v in s["methods"].items():
        d = v["minus_stock"]["greedy"]
        print(f"{m:14} greedy {v['eval']['greedy'][0]:.3f}  minus stock {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]  step time x{v['step_time_ratio'][0]:.2f}")
    return 0

def _ci(v, pct=True) -> str:
    f = (lambda x: f"{100 * x:+.1f}") if pct else (lambda x: f"{x:.2f}")
    return f"{f(v[0])} [{f(v[1])}, {f(v[2])}]"

def table(summary:dict) -> str:
    "Markdown: the MNNS held-out scores after GRPO (%, mean over seeds), then their paired differences to stock with 95% t intervals."
    ms, ks = summary["methods"], summary["metrics"]
    top = max(int(k.split("@")[1]) for k in ks if k.startswith("pass@"))
    cols = ["greedy", "soft_thinking", "own", "pass@1", f"pass@{top}"]
    pct = lambda v: f"{100 * v[0]:.1f}"
    f = summary.get("stock_flattening", {})
    rows = [f"Seeds {summary['seeds']}, {summary['config']['steps']} GRPO steps; held-out accuracy (%), mean over seeds. "
            "`soft_thinking`: the soft-thinking loop at Soft Thinking's defaults; `own`: the loop in the method's own rollout (its column).", "",
            "| method | start (SFT) | " + " | ".join(cols) + " | own decoding | training reward: first, last quarter | step time / stock |", "|---" * (len(cols) + 5) + "|"]
    for n, st in summary["starts"].items():
        rows.append(f"| *{n} SFT, before GRPO* | {n} | " + " | ".join(pct(st[k]) if k in st else "" for k in cols) + " | | | |")
    for m, v in ms.items():
        rows.append(f"| {m} | {v['start']} | " + " | ".join(pct(v["eval"][k]) for k in cols) + f" | {v['own_decoding']} | "
                    f"{v['reward_first_quarter'][0]:.3f}, {v['reward_last_quarter'][0]:.3f} | {_ci(v['step_time_ratio'], False)} |")
    if f: rows += ["", f"Stock's held-out greedy curve at the end (mean over seeds): the last quarter of the run minus the quarter before "
                   f"{100 * f['last_minus_previous']:+.1f} points, slope over the second half {100 * f['slope_per_1000_steps']:+.1f} points per 1000 steps."]
    rows += ["", "Minus stock GRPO from the same start (`stock` or `stock_soft_sft`), paired by seed, in percentage points with 95% t intervals over seeds; "
             "gain: after GRPO minus the method's own start.", "",
             "| method | minus | " + " | ".join(f"{k}" for k in cols) + " | greedy gain | own gain |", "|---" * (len(cols) + 4) + "|"]
    for m, v in ms.items():
        if m == v["stock"]: continue
        rows.append(f"| {m} | {v['stock']} | " + " | ".join(_ci(v["minus_stock"][k]) for k in cols) + f" | {_ci(v['gain']['greedy'])} | {_ci(v['gain']['own'])} |")
    return "\n".join(rows)

def plot_curves(summary:dict, path:Path|None=None):
    "The held-out greedy accuracy during GRPO, mean over seeds, one line per method (saved to `path` when given)."
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8.5, 4))
    for m, v in summary["methods"].items():
        xs, ys = zip(*v["curve"])
        ax.plot(xs, [100 * y for y in ys], label=m, lw=2.5 if m == BASELINE else 1.2, ls="-" if v["start"] == "discrete" else "--")
    ax.set_xlabel("GRPO step"); ax.set_ylabel("held-out greedy accuracy (%)")
    ax.set_title(f"MNNS, mean over {len(summary['seeds'])} seeds (dashed: curriculum start)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5)); fig.tight_layout()  # beside the axes: it covers no line
    if path: fig.savefig(path, dpi=110)
    return fig

def smol_table(summary:dict) -> str:
    "Markdown: the SmolLM2 subset's held-out scores after GRPO (%), their paired differences to stock and the step-time ratios."
    ms, c = summary["methods"], summary["config"]
    top = max(int(k.split("@")[1]) for k in ms[BASELINE]["eval"] if k.startswith("pass@"))
    cols = ["greedy", "own", "pass@1", f"pass@{top}"]
    st = summary["start"]
    rows = [f"SmolLM2-135M-Instruct, seeds {summary['seeds']}, {c['steps']} GRPO steps of {c['prompts']} questions x {c['num_generations']} completions, "
            f"thinking budget {c['budget']}, lr {c['lr']}; {c['n_eval']} held-out questions; accuracy (%), mean over seeds. "
            "`own`: soft-thinking decoding in the method's own rollout (stock's: hard sampled thinking), greedy answer.", "",
            "| method | " + " | ".join(cols) + " | own decoding | minus stock: greedy | minus stock: own | minus stock: " + f"pass@{top} | seconds per step | step time / stock |",
            "|---" * (len(cols) + 7) + "|",
            "| *untrained* | " + " | ".join(f"{100 * st[k]:.1f}" if k in st else "" for k in cols) + " | | | | | | |"]
    for m, v in ms.items():
        d = v["minus_stock"]
        rows.append(f"| {m} | " + " | ".join(f"{100 * v['eval'][k][0]:.1f}" for k in cols) + f" | {v['own_decoding']} | "
                    + " | ".join(_ci(d[k]) for k in ("greedy", "own", f"pass@{top}")) + f" | {v['step_seconds'][0]:.1f} | {_ci(v['step_time_ratio'], False)} |")
    return "\n".join(rows)

def smol_findings(summary:dict) -> str:
    "What the SmolLM2 subset shows, in sentences generated from its summary."
    ms, st = summary["methods"], summary["start"]
    top = max(int(k.split("@")[1]) for k in ms[BASELINE]["eval"] if k.startswith("pass@"))
    ks = ["greedy", "own", "pass@1", f"pass@{top}"]
    apart = [(m, k) for m, v in ms.items() if m != BASELINE for k in ks if not v["minus_stock"][k][1] <= 0 <= v["minus_stock"][k][2]]
    rew = ", ".join(f"`{m}` {v['reward'][0]:.3f}" for m, v in ms.items())
    gain = ", ".join(f"`{m}` {100 * (v['eval']['greedy'][0] - st['greedy']):+.1f}" for m, v in ms.items())
    return (f"The untrained model answers {100 * st['greedy']:.1f}% of the held-out questions greedily (pass@{top} {100 * st[f'pass@{top}']:.1f}%). "
            f"Mean training reward over the run: {rew}; greedy accuracy after GRPO minus before, in points: {gain}. "
            + ("No difference to stock has a 95% interval that excludes zero. " if not apart else
               "Differences to stock whose 95% interval excludes zero: " + ", ".join(f"`{m}` {k}" for m, k in apart) + ". ")
            + f"With {len(summary['seeds'])} seeds of {summary['config']['steps']} steps and {summary['config']['n_eval']} held-out questions "
            f"(one question is {100 / summary['config']['n_eval']:.2f} points), this subset measures the rollouts' cost on a real model and whether "
            "one breaks the model at once; a learning difference in so short a run is a question for a longer one, not a finding.")

def smol_section(summary:dict) -> str:
    "The SmolLM2 subset's table and what it shows (bench/README.md)."
    return smol_table(summary) + "\n\n" + smol_findings(summary)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one seed, two steps (a smoke run)")
    ap.add_argument("--out", type=Path, default=None, help="results folder (default bench/soft_rl, or bench/soft_rl-quick with --quick)")
    ap.add_argument("--methods", nargs="+", default=None, choices=list(MNNS_METHODS))
    ap.add_argument("--task", default="arithmetic", choices=["arithmetic", "mnns", "smollm2"],
                    help="arithmetic: the tiny random Llama; mnns: tiny GPT-2s trained on MNNS first; smollm2: the declared SmolLM2 subset")
    ap.add_argument("--steps", type=int, default=None, help="GRPO steps (mnns, smollm2; default from the size)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (mnns, smollm2; default from the size)")
    a = ap.parse_args(argv)
    if a.task == "mnns": return mnns_main(a)
    if a.task == "smollm2": return smol_main(a)
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
