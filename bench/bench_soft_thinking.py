"""Benchmark: soft thinking against hard chain of thought, training-free, on multi-step arithmetic.

The embedded SmolLM2-135M-Instruct answers questions such as "What is 12 + 7 - 5?" in the thinking format of
`soft_sampling.thinking.thinking_prompt` (think between <think> and </think>, then answer), with the same token budget
for every decoder: hard chain of thought (greedy, and sampled), Soft Thinking, stochastic soft thinking (Gumbel-softmax,
Dirichlet) and Mixture of Inputs at their published defaults, and `generate` sampling itself. It reports accuracy and
pass@k with 95% bootstrap intervals over prompts, thinking length and tokens per answer, wall time per answer relative
to `generate` in the same process, and a fixed-length speed race (every row decodes exactly --race_tokens tokens) of
each loop against `generate` sampling with the same settings. Resumable: each decoder's result is kept in
<out>/runs/ and reused when its settings match.

    python bench/bench_soft_thinking.py --quick --out /tmp/st     # smoke run on a tiny random model (seconds)
    nice -n 10 python bench/bench_soft_thinking.py               # the committed run: bench/soft_thinking/summary.json
    nice -n 10 python bench/bench_soft_thinking.py --sweep       # plus the declared sweep (SWEEP below)
"""
import argparse, json, os, random, statistics, sys, time, warnings
from pathlib import Path
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
warnings.filterwarnings("ignore")
import numpy as np, torch

# Published defaults: Soft Thinking's README (max_topk 10, min_p 0.001, temperature 0.6, top_p 0.95, top_k 30; Gumbel-softmax
# temperature 0.5; Dirichlet alpha 1.0, its sampling_params default), mixinputs' (beta 1.0 over the top 20).
THINKING = dict(thinking_temperature=0.6, thinking_top_k=30, thinking_top_p=0.95, thinking_min_p=0.001)
ANSWER = dict(temperature=0.6, top_k=30, top_p=0.95)  # the answer phase, and `generate` sampling
DECODERS = {
    "hard greedy": dict(thinking_input="hard", thinking_temperature=0, do_sample=False),
    "hard sampled": dict(thinking_input="hard", **THINKING),
    "soft thinking": dict(thinking_input="soft", max_topk=10, **THINKING),
    "gumbel": dict(thinking_input="gumbel", max_topk=10, gumbel_tau=0.5, **THINKING),
    "dirichlet": dict(thinking_input="dirichlet", max_topk=10, dirichlet_alpha=1.0, **THINKING),
    "moi": dict(thinking_input="moi", max_topk=20, moi_beta=1.0, **THINKING),
}
SWEEP = {  # declared before running: one setting either side of each default
    "gumbel tau 0.1": dict(DECODERS["gumbel"], gumbel_tau=0.1), "gumbel tau 1.0": dict(DECODERS["gumbel"], gumbel_tau=1.0),
    "moi beta 0.5": dict(DECODERS["moi"], moi_beta=0.5), "moi beta 2.0": dict(DECODERS["moi"], moi_beta=2.0),
    "soft max_topk 5": dict(DECODERS["soft thinking"], max_topk=5), "soft max_topk 20": dict(DECODERS["soft thinking"], max_topk=20),
}

def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny random model, 4 prompts, 2 samples, 12 tokens: a smoke run")
    ap.add_argument("--prompts", type=int, default=24)
    ap.add_argument("--samples", type=int, default=4, help="sampled completions per prompt (pass@1..samples)")
    ap.add_argument("--max_new_tokens", type=int, default=48, help="the token budget of every decoder: thinking and answer")
    ap.add_argument("--thinking_budget", type=int, default=32, help="thinking steps before </think> is forced")
    ap.add_argument("--batch_size", type=int, default=6, help="prompts per generate call (times --samples rows)")
    ap.add_argument("--race_tokens", type=int, default=32, help="tokens per row in the speed race")
    ap.add_argument("--race_rows", type=int, default=8)
    ap.add_argument("--race_repeats", type=int, default=3)
    ap.add_argument("--sweep", action="store_true", help="also run SWEEP")
    ap.add_argument("--decoders", default=None, help="comma-separated names: run only these (and generate), write no summary (to split a run across processes)")
    ap.add_argument("--race_only", action="store_true", help="only the speed race (printed, nothing written)")
    ap.add_argument("--markdown", action="store_true", help="print <out>/summary.json as a markdown table and exit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "soft_thinking"))
    a = ap.parse_args(argv)
    if a.quick: a.prompts, a.samples, a.max_new_tokens, a.thinking_budget, a.batch_size, a.race_tokens, a.race_rows, a.race_repeats = 4, 2, 12, 6, 2, 8, 2, 1
    return a

def multistep_arithmetic(n:int, seed:int=0, terms:int=3, max_operand:int=20) -> dict:
    "Questions 'What is a + b - c?' (left to right) and their answers, as trl's conversational prompts."
    rng, prompts, answers = random.Random(seed), [], []
    for _ in range(n):
        xs, ops = [rng.randint(0, max_operand) for _ in range(terms)], [rng.choice("+-") for _ in range(terms - 1)]
        value, text = xs[0], str(xs[0])
        for op, x in zip(ops, xs[1:]): value, text = value + x if op == "+" else value - x, f"{text} {op} {x}"
        prompts.append([{"role": "user", "content": f"What is {text}?"}]); answers.append(str(value))
    return dict(prompt=prompts, answer=answers)

def run_decoder(model, tok, data, settings, a) -> dict:
    "One decoder on every prompt: per prompt, the correct count, thinking lengths, tokens; and the generation seconds."
    from soft_sampling.thinking import think_complete
    from soft_sampling.data import exact_match_reward
    kw = dict(settings); do_sample = kw.pop("do_sample", True)
    n = a.samples if do_sample else 1
    budget = dict(thinking_budget=a.thinking_budget) if kw.get("thinking_input") else {}
    c = think_complete(model, tok, data["prompt"], a.max_new_tokens, n, do_sample=do_sample, batch_size=a.batch_size, seed=a.seed, **ANSWER, **budget, **kw)
    correct = [int(sum(exact_match_reward([p] * n, cs, [ans] * n))) for p, cs, ans in zip(data["prompt"], c["completions"], data["answer"])]
    return dict(samples=n, correct=correct, thinking_lengths=c["thinking_lengths"], tokens=c["tokens"], seconds=c["seconds"], example=c["completions"][0][0])

def run_generate(model, tok, data, a) -> dict:
    "`generate` sampling with the answer settings on the same thinking-format prompts: the reference for time per answer."
    from soft_sampling.thinking import thinking_prompt, answer_lengths
    from soft_sampling.data import exact_match_reward
    texts, tok.padding_side = [thinking_prompt(p, tok) for p in data["prompt"]], "left"
    out = dict(samples=a.samples, correct=[], thinking_lengths=[], tokens=[], seconds=0.0)
    torch.manual_seed(a.seed)
    for i in range(0, len(texts), a.batch_size):
        enc = tok(texts[i:i + a.batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        t0 = time.perf_counter()
        o = model.generate(**enc, max_new_tokens=a.max_new_tokens, do_sample=True, num_return_sequences=a.samples, pad_token_id=tok.pad_token_id,
                           eos_token_id=tok.eos_token_id, **ANSWER)
        out["seconds"] += time.perf_counter() - t0
        gen = o[:, enc["input_ids"].shape[1]:]
        dec, lens = tok.batch_decode(gen, skip_special_tokens=True), answer_lengths(gen, [tok.eos_token_id])
        for j, (p, ans) in enumerate(zip(data["prompt"][i:i + a.batch_size], data["answer"][i:i + a.batch_size])):
            s = slice(j * a.samples, (j + 1) * a.samples)
            out["correct"].append(int(sum(exact_match_reward([p] * a.samples, dec[s], [ans] * a.samples))))
            out["tokens"].append(lens[s]); out["thinking_lengths"].append([None] * a.samples)
        if i == 0: out["example"] = dec[0]
    return out

def speed_race(model, tok, a) -> dict:
    "Seconds for --race_rows rows x --race_tokens tokens (EOS off, so every loop decodes the same tokens): generate sampling vs each loop."
    from soft_sampling.thinking import soft_thinking
    enc = tok(["Once upon a time"] * a.race_rows, return_tensors="pt")
    saved, model.generation_config.eos_token_id = model.generation_config.eos_token_id, None
    common = dict(**enc, max_new_tokens=a.race_tokens, do_sample=True, pad_token_id=tok.pad_token_id, eos_token_id=None, **ANSWER)
    loops = {"generate": {}} | {k: dict(custom_generate=soft_thinking, end_thinking=[tok.pad_token_id], thinking_budget=a.race_tokens, seed=1,
                                        **{kk: vv for kk, vv in v.items() if kk != "do_sample"}) for k, v in DECODERS.items() if k != "hard greedy"}
    times = {k: [] for k in loops}
    try:
        model.generate(**common)  # warm-up
        for _ in range(a.race_repeats):
            for k, kw in loops.items():
                t0 = time.perf_counter(); o = model.generate(**common, **kw); times[k].append(time.perf_counter() - t0)
                assert o.shape[1] == enc["input_ids"].shape[1] + a.race_tokens, (k, o.shape)
    finally: model.generation_config.eos_token_id = saved
    med = {k: statistics.median(v) for k, v in times.items()}
    return dict(rows=a.race_rows, tokens=a.race_tokens, repeats=a.race_repeats, seconds=med, all_seconds=times,
                ratio_to_generate={k: round(v / med["generate"], 3) for k, v in med.items()})

def summarize(runs:dict, a) -> dict:
    "Per decoder: pass@k with intervals over prompts, thinking length, tokens and wall time per answer; paired pass@1 differences."
    from soft_sampling.evaluation import pass_at_k, rounded_ci, paired_bootstrap_ci
    table, p1 = {}, {}
    gen_per_answer = runs["generate"]["seconds"] / (len(runs["generate"]["correct"]) * runs["generate"]["samples"])
    for name, r in runs.items():
        n = r["samples"]
        row = {f"pass@{k}": rounded_ci([pass_at_k(n, c, k) for c in r["correct"]], seed=a.seed) for k in range(1, n + 1) if k in (1, 2, 4, 8, 16, 32) or k == n}
        p1[name] = [c / n for c in r["correct"]]
        tl = [np.mean(t) for t in r["thinking_lengths"] if t[0] is not None]
        row["thinking_length"] = rounded_ci(tl, seed=a.seed) if tl else None
        row["tokens"] = rounded_ci([np.mean(t) for t in r["tokens"]], seed=a.seed)
        per_answer = r["seconds"] / (len(r["correct"]) * n)
        row["seconds_per_answer"] = round(per_answer, 4)
        row["time_vs_generate"] = round(per_answer / gen_per_answer, 3)
        row["example"] = r["example"]
        table[name] = row
    ref = "hard sampled"
    diffs = {name: [round(v, 6) for v in paired_bootstrap_ci(p1[name], p1[ref], seed=a.seed)] for name in runs if name != ref}
    return dict(table=table, pass1_minus_hard_sampled=diffs)

def markdown_table(summary:dict) -> str:
    "The summary as a markdown table: one row per decoder, mean [95% interval] over prompts."
    cell = lambda v: "-" if v is None else f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"
    t, diffs, race = summary["table"], summary["pass1_minus_hard_sampled"], summary["speed_race"]["ratio_to_generate"]
    ks = sorted({int(k[5:]) for r in t.values() for k in r if k.startswith("pass@")})
    head = ["decoder"] + [f"pass@{k}" for k in ks] + ["pass@1 - hard sampled", "thinking length", "tokens", "time per answer / generate", "speed race / generate"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in t.items():
        d = diffs.get(name)
        row = [name] + [cell(r.get(f"pass@{k}")) for k in ks] + [cell(d) if d else "-", cell(r["thinking_length"]), f"{r['tokens'][0]:.1f}",
                                                                  f"{r['time_vs_generate']:.2f}", f"{race[name]:.2f}" if name in race else "-"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)

def findings(summary:dict) -> str:
    "What the summary shows, in sentences generated from its numbers."
    t, diffs, race = summary["table"], summary["pass1_minus_hard_sampled"], summary["speed_race"]["ratio_to_generate"]
    p1 = {k: v["pass@1"][0] for k, v in t.items()}
    best = max(p1, key=p1.get)
    sig = [f"{k} ({d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}])" for k, d in diffs.items() if d[1] > 0 or d[2] < 0]
    loops = {k: v for k, v in race.items() if k != "generate"}
    faster = [k for k, v in loops.items() if v <= 1.0]
    return (f"Highest pass@1: {best} ({p1[best]:.3f}), the best of {len(p1)} decoders, a pick rather than a tested difference. Decoders whose pass@1 differs from hard sampled chain of thought with a 95% interval "
            f"that excludes 0: {', '.join(sig) or 'none'}. In the speed race, {len(faster)} of {len(loops)} loops are at least as fast as "
            f"`generate` sampling ({', '.join(faster) or 'none'}); the time ratios range from {min(loops.values()):.2f} to {max(loops.values()):.2f}.")

def readme_section(summary:dict) -> str:
    "The table, then its findings: what tools/bench_readme.py writes into bench/README.md."
    return markdown_table(summary) + "\n\n" + findings(summary)

def main(argv=None):
    a = parse(argv)
    out = Path(a.out)
    if a.markdown:
        summary = json.loads((out / "summary.json").read_text())
        print(markdown_table(summary)); print(); print(findings(summary)); return
    (out / "runs").mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if a.quick:
        from soft_sampling.testing import mk_tiny_model_and_tokenizer
        model, tok = mk_tiny_model_and_tokenizer(); name = "tiny random llama"
    else:
        from soft_sampling.models import load_model_and_tokenizer
        model, tok = load_model_and_tokenizer(); name = "SmolLM2-135M-Instruct (embedded)"
    model.eval()
    if a.race_only:
        with torch.no_grad(): race = speed_race(model, tok, a)
        print(json.dumps(race, indent=1)); return race
    data = multistep_arithmetic(a.prompts, seed=a.seed)
    decoders = dict(DECODERS) | (SWEEP if a.sweep else {})
    if a.decoders:
        only = a.decoders.split(",")
        if unknown := [d for d in only if d not in decoders]: raise SystemExit(f"--decoders: unknown {unknown}; choose from {list(decoders)}")
        decoders = {k: v for k, v in decoders.items() if k in only}
    cfg = dict(model=name, prompts=a.prompts, samples=a.samples, max_new_tokens=a.max_new_tokens, thinking_budget=a.thinking_budget,
               batch_size=a.batch_size, seed=a.seed, answer=ANSWER)
    print(f"{name}: {a.prompts} prompts x {a.samples} samples, {a.max_new_tokens} tokens (thinking budget {a.thinking_budget}), threads {torch.get_num_threads()}", flush=True)
    runs = {}
    for dname, settings in [("generate", None)] + list(decoders.items()):
        f = out / "runs" / (dname.replace(" ", "_") + ".json")
        key = dict(cfg, settings=settings)
        if f.is_file() and (saved := json.loads(f.read_text())).get("key") == key: runs[dname] = saved["result"]; print(f"{dname:18s} (reused)", flush=True); continue
        t0 = time.time()
        with torch.no_grad(): r = run_generate(model, tok, data, a) if settings is None else run_decoder(model, tok, data, settings, a)
        f.write_text(json.dumps(dict(key=key, result=r)))
        runs[dname] = r
        print(f"{dname:18s} pass@1 {np.mean(r['correct']) / r['samples']:.3f}  {r['seconds']:.1f} s  ({time.time() - t0:.0f} s)", flush=True)
    if a.decoders: return runs
    rf, rkey = out / "runs" / "speed_race.json", dict(model=name, rows=a.race_rows, tokens=a.race_tokens, repeats=a.race_repeats)
    if rf.is_file() and (saved := json.loads(rf.read_text())).get("key") == rkey: race = saved["result"]; print("speed race (reused)")
    else:
        with torch.no_grad(): race = speed_race(model, tok, a)
        rf.write_text(json.dumps(dict(key=rkey, result=race)))
    print("speed race, seconds (ratio to generate):", {k: f"{v:.2f} ({race['ratio_to_generate'][k]})" for k, v in race["seconds"].items()}, flush=True)
    summary = dict(config=cfg, decoders={k: v for k, v in decoders.items()}, threads=torch.get_num_threads(), torch=torch.__version__,
                   date=time.strftime("%Y-%m-%d"), **summarize(runs, a), speed_race=race)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"wrote {out / 'summary.json'}")
    return summary

if __name__ == "__main__": main()
