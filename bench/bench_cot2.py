"""CoT2's continuous chain of thought on MNNS with this library: discrete CoT vs hard_teacher vs soft_teacher vs curriculum.

A GPT-2 built from scratch (2 layers, 2 heads, widths 16/24/32) learns MNNS (4 digits 1-9, signs for the smallest
non-negative sum) with 3 reasoning steps and a hard answer:
  discrete      teacher forcing on one path (the first optimal sign pattern), evaluated greedily (argmax tokens fed);
  hard_teacher  alpha 1 with distribution targets: each step is fed its target distribution @ E;
  soft_teacher  alpha 0 with backprop: each step is fed the model's own softmax @ E, scored against the target;
  curriculum    hard_teacher for the first half of the steps, then soft_teacher (fresh optimizer, as CoT2).
Every method sees the same rows (batch x steps, 9 tokens each). The continuous methods are evaluated on the model's
own soft rollout (softmax @ E at each step), scoring the argmax of the answer. Each run writes runs/<key>.json;
reruns skip finished runs (resumable); summary.json aggregates over seeds (mean, 95% t-interval).
"""
import argparse, json, math, os, sys, time
from pathlib import Path
import torch
from transformers import GPT2Config, GPT2LMHeadModel
from soft_sampling.soft_forward import soft_sampling_forward
from soft_sampling.tasks import MnnsTokenizer, mnns_split, mnns_example, mnns_accuracy
from soft_sampling.trainer import DistributionCollator

METHODS = ("discrete", "hard_teacher", "soft_teacher", "curriculum")
T95 = {2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 8: 2.365, 10: 2.262}  # two-sided 95% t quantiles, by n (n-1 df)

def mk_model(width:int, layers:int, heads:int, seed:int) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=89, n_embd=width, n_layer=layers, n_head=heads, n_positions=16, bos_token_id=1, eos_token_id=2)
    return GPT2LMHeadModel(cfg)

_DATA = {}

def data(seed:int, tok):
    "Collated training rows (both targets) and the validation batch, for split `seed` (built once per seed)."
    if seed in _DATA: return _DATA[seed]
    train, val = mnns_split(seed)
    col = DistributionCollator(tok.vocab_size)
    tr = col([mnns_example(s, tok) for s in train])
    va = col([mnns_example(s, tok) for s in val])
    va["answers"] = torch.tensor([mnns_example(s, tok)["answer"] for s in val])
    _DATA[seed] = tr, va
    return tr, va

def step_loss(model, b, method:str, soft_phase:bool):
    if method == "discrete":  # teacher forcing on the path's tokens
        return soft_sampling_forward(model, b["input_ids"], 1.0, b["attention_mask"], b["labels"], mode="parallel", n_passes=0, statistics=False).loss
    alpha = 0.0 if (method == "soft_teacher" or (method == "curriculum" and soft_phase)) else 1.0
    kw = dict(mode="backprop") if alpha == 0 else dict(mode="parallel", n_passes=0)
    return soft_sampling_forward(model, b["input_ids"], alpha, b["attention_mask"], b["labels"], target_dists=b["target_dists"],
                                 soft_mask=b["soft_mask"], statistics=False, **kw).loss

def accuracy(model, va, discrete:bool) -> float:
    model.eval()
    acc = mnns_accuracy(model, va, va["answers"], discrete=discrete).float().mean().item()
    model.train()
    return acc

def run_one(method, width, seed, a, tok, keep:bool=False) -> dict:
    t0 = time.time()
    tr, va = data(seed, tok)
    model = mk_model(width, a.layers, a.heads, seed)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr)
    g = torch.Generator().manual_seed(seed)
    N, curve = tr["input_ids"].shape[0], []
    perm, pos = torch.randperm(N, generator=g), 0
    keys = ("input_ids", "attention_mask", "labels", "soft_mask", "target_dists")
    for step in range(a.steps + 1):
        if step % a.eval_every == 0 or step == a.steps:
            curve.append([step, accuracy(model, va, discrete=method == "discrete")])
            if step == a.steps: break
        if method == "curriculum" and step == a.steps // 2: opt = torch.optim.AdamW(model.parameters(), lr=a.lr)
        if pos + a.batch > N: perm, pos = torch.randperm(N, generator=g), 0
        idx = perm[pos:pos + a.batch]; pos += a.batch
        b = {k: tr[k][idx] for k in keys}
        loss = step_loss(model, b, method, soft_phase=step >= a.steps // 2)
        opt.zero_grad(); loss.backward(); opt.step()
    r = dict(method=method, width=width, seed=seed, curve=curve, final=curve[-1][1], wall_s=time.time() - t0,
             rows_seen=a.steps * a.batch, tokens_seen=a.steps * a.batch * 9)
    return {**r, "model": model} if keep else r

def interval(xs):
    n = len(xs); m = sum(xs) / n
    if n < 2: return m, None
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return m, T95.get(n, 1.96) * sd / math.sqrt(n)

def summarize(runs, a, wall):
    groups = {}
    for r in runs: groups.setdefault((r["method"], r["width"]), []).append(r)
    out = []
    for (m, w), rs in sorted(groups.items(), key=lambda kv: (METHODS.index(kv[0][0]), kv[0][1])):
        steps = [s for s, _ in rs[0]["curve"]]
        curve = []
        for i, s in enumerate(steps):
            mean, hw = interval([r["curve"][i][1] for r in rs])
            curve.append(dict(step=s, mean=mean, half_width=hw))
        mean, hw = interval([r["final"] for r in rs])
        first = lambda r, th: next((s for s, acc in r["curve"] if acc >= th), None)
        out.append(dict(method=m, width=w, seeds=[r["seed"] for r in rs], final_mean=mean, final_half_width=hw,
                        finals=[r["final"] for r in rs], curve=curve, wall_s=sum(r["wall_s"] for r in rs),
                        steps_to_half_best=[first(r, 0.5 * max(x["final"] for x in rs)) for r in rs]))
    return dict(command=" ".join(["python", "bench/bench_cot2.py"] + sys.argv[1:]), settings=vars(a), wall_s=wall,
                torch_threads=torch.get_num_threads(), groups=out,
                cot2_schedule=dict(epochs=1000, batch=16, lr=1e-4, optimizer="AdamW", train_rows_per_epoch="~5250"))

def _fmt(m, h): return f"{100 * m:.1f}" + ("" if h is None else f" ± {100 * h:.1f}")

def table(summary) -> str:
    "Markdown table: final validation accuracy (%, mean ± 95% half-width over seeds) of each method at each width."
    widths = sorted({g["width"] for g in summary["groups"]})
    by = {(g["method"], g["width"]): g for g in summary["groups"]}
    rows = ["| method | " + " | ".join(f"width {w}" for w in widths) + " |", "|---" * (len(widths) + 1) + "|"]
    for m in METHODS:
        if any((m, w) in by for w in widths):
            rows.append(f"| {m} | " + " | ".join(_fmt(by[m, w]["final_mean"], by[m, w]["final_half_width"]) if (m, w) in by else "" for w in widths) + " |")
    return "\n".join(rows)

def curve_table(summary, width:int) -> str:
    "Markdown table: mean validation accuracy (%) of each method at each evaluation step, at `width`."
    gs = [g for g in summary["groups"] if g["width"] == width]
    steps = [c["step"] for c in gs[0]["curve"]]
    rows = ["| method | " + " | ".join(f"step {s}" for s in steps) + " |", "|---" * (len(steps) + 1) + "|"]
    rows += [f"| {g['method']} | " + " | ".join(f"{100 * c['mean']:.1f}" for c in g["curve"]) + " |" for g in gs]
    return "\n".join(rows)

def ordering(summary) -> dict:
    "Per width: each continuous method's final accuracy minus discrete CoT's, and whether the 95% intervals are apart."
    by = {(g["method"], g["width"]): g for g in summary["groups"]}
    out = {}
    for w in sorted({g["width"] for g in summary["groups"]}):
        d = by.get(("discrete", w))
        if d is None: continue
        for m in METHODS[1:]:
            g = by.get((m, w))
            if g is None: continue
            hw = (g["final_half_width"] or 0) + (d["final_half_width"] or 0)
            diff = g["final_mean"] - d["final_mean"]
            out[f"{m}-w{w}"] = dict(diff=diff, apart=abs(diff) > hw, above=diff > 0)
    return out

def plot(summary, path):
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    widths = sorted({g["width"] for g in summary["groups"]})
    fig, axes = plt.subplots(1, len(widths), figsize=(4.2 * len(widths), 3.4), sharey=True, squeeze=False)
    for ax, w in zip(axes[0], widths):
        for g in [g for g in summary["groups"] if g["width"] == w]:
            s = [c["step"] for c in g["curve"]]; m = [c["mean"] for c in g["curve"]]
            h = [c["half_width"] or 0 for c in g["curve"]]
            ax.plot(s, m, label=g["method"]); ax.fill_between(s, [max(x - y, 0) for x, y in zip(m, h)], [min(x + y, 1) for x, y in zip(m, h)], alpha=0.2)
        ax.set_title(f"width {w}"); ax.set_xlabel("step"); ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("validation accuracy"); axes[0][-1].legend(fontsize=8)
    fig.tight_layout(); fig.savefig(path, dpi=110); plt.close(fig)


# ---- GRPO from a supervised discrete checkpoint: stock discrete sampling vs multiplex K (CoT2's multi-token sampling) ----
GRPO_METHODS = {"discrete": None, "multiplex2": 2, "multiplex3": 3, "multiplex6": 6}

def word_tokenizer():
    "A `PreTrainedTokenizerFast` over the MNNS words (word level, split on spaces), for trl."
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders
    from transformers import PreTrainedTokenizerFast
    from soft_sampling.tasks import mnns_vocab
    t = Tokenizer(models.WordLevel({w: i for i, w in enumerate(mnns_vocab())}, unk_token="<PAD>"))
    t.pre_tokenizer, t.decoder = pre_tokenizers.WhitespaceSplit(), decoders.WordPiece(prefix="##", cleanup=False)  # decode joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=t, pad_token="<PAD>", bos_token="<BOS>", eos_token="<EOS>")

def grpo_one(method, seed, a, tok, sft_dir, wtok, tr_seqs) -> dict:
    import tempfile, datasets
    from transformers import PrinterCallback, set_seed
    from trl import GRPOConfig, GRPOTrainer
    from soft_sampling.data import exact_match_reward
    from soft_sampling.grpo import SoftGRPOConfig, SoftGRPOTrainer
    from soft_sampling.tasks import mnns_answer
    t0 = time.time(); set_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(tr_seqs), generator=rng)[:a.grpo_steps * a.grpo_prompts].tolist()
    ds = datasets.Dataset.from_list([dict(prompt="<BOS> " + " ".join(f"D{d}" for d in tr_seqs[i]), answer=mnns_answer(tr_seqs[i])) for i in order])
    common = dict(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=a.grpo_prompts * 8, num_generations=8, max_completion_length=4,
                  max_steps=a.grpo_steps, learning_rate=a.grpo_lr, lr_scheduler_type="constant", warmup_steps=0, beta=0.0, epsilon=0.1,
                  use_cpu=True, report_to=[], logging_steps=1, save_strategy="no", seed=seed, disable_tqdm=True, shuffle_dataset=False)
    K = GRPO_METHODS[method]
    if K is None: trn = GRPOTrainer(model=sft_dir, reward_funcs=exact_match_reward, args=GRPOConfig(**common), train_dataset=ds, processing_class=wtok)
    else: trn = SoftGRPOTrainer(model=sft_dir, reward_funcs=exact_match_reward, args=SoftGRPOConfig(**common, soft_rollout="multiplex", soft_multiplex_k=K),
                                train_dataset=ds, processing_class=wtok)
    trn.remove_callback(PrinterCallback)
    trn.train()
    model = trn.model.float()
    _, va = data(seed, tok)
    rewards = [h["reward"] for h in trn.state.log_history if "reward" in h]
    return dict(method=method, seed=seed, rewards=rewards, greedy=accuracy(model, va, True), soft=accuracy(model, va, False), wall_s=time.time() - t0)

def grpo_main(a, tok):
    out = Path(a.out); (out / "runs").mkdir(parents=True, exist_ok=True)
    wtok, runs, t0 = word_tokenizer(), [], time.time()
    for seed in a.seeds:
        sft_dir = out / "runs" / f"sft-s{seed}"
        if not (sft_dir / "config.json").exists():  # the supervised start: discrete CoT, 1 layer, 1 head
            a1 = argparse.Namespace(**{**vars(a), "layers": 1, "heads": 1})
            r = run_one("discrete", 32, seed, a1, tok, keep=True)
            r.pop("model").save_pretrained(sft_dir)
            (out / "runs" / f"sft-s{seed}.json").write_text(json.dumps(r))
        sft = json.loads((out / "runs" / f"sft-s{seed}.json").read_text())
        m0 = GPT2LMHeadModel.from_pretrained(sft_dir)
        _, va = data(seed, tok)
        start = dict(greedy=accuracy(m0, va, True), soft=accuracy(m0, va, False))
        for m in GRPO_METHODS:
            f = out / "runs" / f"{m}-s{seed}-n{a.grpo_steps}.json"
            if f.exists(): r = json.loads(f.read_text())
            else:
                r = grpo_one(m, seed, a, tok, str(sft_dir), wtok, mnns_split(seed)[0])
                r["start"] = start; f.write_text(json.dumps(r))
            print(f"GRPO {m:>10} seed {seed}: greedy {r['start']['greedy']:.3f} -> {r['greedy']:.3f}, soft {r['start']['soft']:.3f} -> {r['soft']:.3f} ({r['wall_s']:.0f}s)", flush=True)
            runs.append(r)
    groups = []
    for m in GRPO_METHODS:
        rs = [r for r in runs if r["method"] == m]
        g = dict(method=m, seeds=[r["seed"] for r in rs])
        for k in ("greedy", "soft"):
            g[k + "_start"], g[k + "_start_half_width"] = interval([r["start"][k] for r in rs])
            g[k], g[k + "_half_width"] = interval([r[k] for r in rs])
            g[k + "_gain"], g[k + "_gain_half_width"] = interval([r[k] - r["start"][k] for r in rs])
        g["reward_first10"], _ = interval([sum(r["rewards"][:10]) / 10 for r in rs])
        g["reward_last10"], _ = interval([sum(r["rewards"][-10:]) / 10 for r in rs])
        groups.append(g)
    summary = dict(command=" ".join(["python", "bench/bench_cot2.py"] + sys.argv[1:]), settings=vars(a), wall_s=time.time() - t0, groups=groups,
                   cot2_grpo=dict(layers=1, heads=1, width=32, rollouts=8, clip=0.1, kl=0.0, lr=5e-6, batch=16, epochs=100, K=[2, 3, 6]))
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary

def grpo_table(summary) -> str:
    "Markdown table: validation accuracy (%) before and after GRPO, greedy and on the soft rollout, mean ± 95% half-width."
    rows = ["| GRPO rollout | greedy: start | greedy: after | greedy: gain | soft: start | soft: after | soft: gain | reward, first 10 steps | reward, last 10 |",
            "|---|---|---|---|---|---|---|---|---|"]
    for g in summary["groups"]:
        cells = [_fmt(g[k], g[k + "_half_width"]) for k in ("greedy_start", "greedy", "greedy_gain", "soft_start", "soft", "soft_gain")]
        rows.append(f"| {g['method']} | " + " | ".join(cells) + f" | {g['reward_first10']:.3f} | {g['reward_last10']:.3f} |")
    return "\n".join(rows)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="A tiny run for the notebook tests (one width, 2 seeds, few steps)")
    p.add_argument("--out", default="bench/cot2", help="Results folder (runs/ and summary.json, cot2.png)")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--widths", nargs="+", type=int, default=[16, 24, 32])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--layers", type=int, default=2); p.add_argument("--heads", type=int, default=2)
    p.add_argument("--steps", type=int, default=500, help="Optimizer steps per run (the same for every method)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--grpo", action="store_true", help="GRPO from a discrete supervised model (1 layer, 1 head, width 32): stock vs multiplex K=2/3/6")
    p.add_argument("--grpo-steps", type=int, default=150); p.add_argument("--grpo-prompts", type=int, default=16)
    p.add_argument("--grpo-lr", type=float, default=3e-4)
    a = p.parse_args(argv)
    if a.quick:
        a.widths, a.seeds, a.steps, a.batch, a.eval_every = [16], [0, 1], 30, 64, 15
        if a.out == p.get_default("out"): a.out += "-quick"  # never mixes with the real results
    torch.set_num_threads(1)
    if a.grpo:
        if a.quick: a.grpo_steps, a.grpo_prompts, a.steps = 2, 2, 10
        return grpo_main(a, MnnsTokenizer())
    out = Path(a.out); (out / "runs").mkdir(parents=True, exist_ok=True)
    tok, runs, t0 = MnnsTokenizer(), [], time.time()
    for w in a.widths:
        for seed in a.seeds:
            for m in a.methods:
                f = out / "runs" / f"{m}-w{w}-s{seed}-n{a.steps}-b{a.batch}-lr{a.lr:g}.json"
                if f.exists(): r = json.loads(f.read_text())
                else:
                    r = run_one(m, w, seed, a, tok)
                    f.write_text(json.dumps(r))
                print(f"{m:>13} width {w} seed {seed}: final {r['final']:.3f} ({r['wall_s']:.0f}s)", flush=True)
                runs.append(r)
    summary = summarize(runs, a, time.time() - t0)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    plot(summary, out / "cot2.png")
    return summary

if __name__ == "__main__": main()
