#!/usr/bin/env python
"""How biased each GRPO rollout's estimator is, by exact enumeration: the expected update of `SoftGRPOTrainer`'s loss against the true policy gradient.

Each case is a tiny tied-embedding Llama in float64 (hidden 32, 2 layers, "peaked": initialisation std 0.5, so the
next-token distributions are far from uniform), a random 2-token prompt, a completion length L (2 or 3), a sampling
temperature T (1 or 0.7) and a reward table over every completion (R ~ N(0, 1), or sparse: 1 with probability 0.2, else
0). Every completion is enumerated. The library's own `soft_generate` is forced onto each of them (its samplers return
the enumerated tokens), its records go to `SoftGRPOTrainer._compute_loss` with advantages P(tau) R(tau), beta 0, loss
type `dapo` and `num_items_in_batch` 1, so that minus the loss's gradient is the rollout's expected update,
sum_tau P(tau) R(tau) grad log P(tau) as the loss computes grad log P. The true gradient is autograd of the exact
expected reward J = sum_tau P(tau) R(tau) with every input built differentiably from the parameters. Per rollout, over
the cases: the cosine of the expected update with the true gradient (median, min, fraction negative), the relative
error |update - grad J| / |grad J| (median, max), and the largest gap between the rollout's recorded log-probabilities
and the loss's on the same records.

    python bench/bench_estimator_bias.py --quick                 # smoke run: 2 cases of length 2 (bench/estimator-bias-quick)
    nice -n 10 python bench/bench_estimator_bias.py              # 30 cases: bench/estimator-bias/summary.json

What differs from the protocol of the measurement this reproduces (soft-rl-estimators notes; 500 configurations of 5
models x 2 reward tables x 2 initialisation scales x lengths and temperatures):
- only the peaked initialisation (std 0.5) is run, each case on a fresh model (its own seed) rather than 5 shared ones;
- `multiplex` enumerates all K draws of every step, V^(L*K) sequences, so it runs on a smaller vocabulary (the largest
  of 16, 8, 4, 3, 2 with at most `max_seqs` sequences: 8 or 4 for K=2, 4 or 3 for K=3; the summary records it per case)
  of a model built the same way;
- the exact estimators agree with the true gradient to float32 rounding, not float64's: the library computes its
  sampling distributions in float32 (`mk_proba_dist`) and trl's fused LM head its log-probabilities in float32, so their
  relative errors are about 1e-7 to 1e-5 rather than 1e-16;
- `gaussian` and `gumbel` have continuous actions and cannot be enumerated (07_grpo's Monte Carlo proof covers them);
- `soft` runs with dense p @ E inputs only (no soft top-k), `mix` with weights 1 and 0.5 only.
"""
from __future__ import annotations
import argparse, itertools, json, sys, tempfile, time, warnings
from contextlib import contextmanager
from pathlib import Path
import numpy as np

ROLLOUTS = {  # name -> (rollout, mix weight, multiplex K, soft_gradient, label)
    "mix_w1": ("mix", 1.0, 2, "detached", "`mix` weight 1 (= stock GRPO)"),
    "multiplex_k2": ("multiplex", 0.0, 2, "detached", "`multiplex` K=2 (plain mean of the draws)"),
    "multiplex_k3": ("multiplex", 0.0, 3, "detached", "`multiplex` K=3 (plain mean of the draws)"),
    "soft": ("soft", 0.0, 2, "detached", "`soft` (dense p @ E), detached"),
    "mix_w0.5": ("mix", 0.5, 2, "detached", "`mix` weight 0.5, detached"),
    "soft_through_inputs": ("soft", 0.0, 2, "through_inputs", "`soft`, `through_inputs`"),
    "mix_w0.5_through_inputs": ("mix", 0.5, 2, "through_inputs", "`mix` weight 0.5, `through_inputs`"),
}
SIZES = {
    "full": dict(cases=30, lengths=[2, 3], temperatures=[1.0, 0.7], rewards=["normal", "sparse"], init_std=0.5, vocab=16, max_seqs=20000, sparse_p=0.2),
    "quick": dict(cases=2, lengths=[2], temperatures=[1.0, 0.7], rewards=["normal", "sparse"], init_std=0.5, vocab=16, max_seqs=4096, sparse_p=0.2),
}

def case_settings(i:int, cfg:dict) -> dict:
    "Case `i`'s length, temperature and reward kind: every combination in turn, each case with its own model seed."
    L, R, T = list(itertools.product(cfg["lengths"], cfg["rewards"], cfg["temperatures"]))[i % (len(cfg["lengths"]) * len(cfg["rewards"]) * len(cfg["temperatures"]))]
    return dict(case=i, seed=i, L=L, T=T, reward=R)

def tiny64(V:int, seed:int, T:float, init_std:float):
    "A tiny tied-embedding Llama in float64, patched with trl's fused LM head (at temperature `T`) as GRPOTrainer patches its policy."
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl.trainer.utils import add_fused_lm_head
    c = LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                    tie_word_embeddings=True, initializer_range=init_std, pad_token_id=None, bos_token_id=None, eos_token_id=None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed); m = LlamaForCausalLM(c).double().eval()
    add_fused_lm_head(m, temperature=T, outputs=("log_probs", "entropy"))
    return m

@contextmanager
def forced_actions(seqs):
    "Within, `soft_generate`'s samplers return step k's column of `seqs`: (N, L) tokens or (N, L, K) multiplex draws."
    import torch, soft_sampling.grpo as G
    k = [0]
    def nxt(*a, **kw): k[0] += 1; return seqs[:, k[0] - 1]
    saved = G.sample_from, torch.multinomial
    G.sample_from, torch.multinomial = nxt, nxt
    try: yield
    finally: G.sample_from, torch.multinomial = saved

def exact_grad(model, prompt, seqs, R, rollout:str, w:float, T:float):
    "Autograd of J = sum_tau P(tau) R(tau) with every input built differentiably from the parameters; and P."
    import torch
    emb = model.get_input_embeddings()
    x, logP = emb(prompt), 0
    for k in range(seqs.shape[1]):
        lq = torch.log_softmax(model(inputs_embeds=x).logits[:, -1] / T, -1)
        s = seqs[:, k]
        if rollout == "multiplex": logP = logP + lq.gather(-1, s).sum(-1); r = emb(s).mean(1)
        else: logP = logP + lq.gather(-1, s[:, None]).squeeze(-1); r = w * emb(s) + (1 - w) * lq.exp() @ emb.weight
        x = torch.cat([x, r[:, None]], 1)
    P = logP.exp()
    return torch.cat([g.flatten() for g in torch.autograd.grad((P * R).sum(), list(model.parameters()))]), P.detach()

def loss_inputs(prompt, gen, adv) -> dict:
    "A batch as trl's `_compute_loss` takes it, with the rollout's record."
    import torch
    d = dict(prompt_ids=prompt, prompt_mask=torch.ones_like(prompt), completion_ids=gen.completion_ids, completion_mask=gen.completion_mask,
             advantages=adv, num_items_in_batch=torch.tensor(1.0), soft_indices=gen.soft_inputs.indices, soft_weights=gen.soft_inputs.weights)
    if gen.soft_inputs.constant is not None: d["soft_constant"] = gen.soft_inputs.constant
    return d

def param_grad(loss, model):
    "The gradient of `loss` over every parameter of `model`, flattened (zeros where unused)."
    import torch
    gs = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).flatten() for g, p in zip(gs, model.parameters())])

def proof_trainer():
    "A `SoftGRPOTrainer` whose `_compute_loss` computes the loss (loss type dapo, beta 0); its own model is not used."
    from transformers import PrinterCallback
    from soft_sampling.grpo import SoftGRPOConfig, SoftGRPOTrainer
    from soft_sampling.testing import mk_tiny_model_and_tokenizer
    from soft_sampling.data import arithmetic_dataset, exact_match_reward
    model, tok = mk_tiny_model_and_tokenizer("llama")
    args = SoftGRPOConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=8, num_generations=4, max_completion_length=3, bf16=False,
                          use_cpu=True, report_to=[], save_strategy="no", seed=0, beta=0.0, loss_type="dapo", disable_tqdm=True)
    tr = SoftGRPOTrainer(model=model, reward_funcs=[exact_match_reward], args=args, train_dataset=arithmetic_dataset(n=8, seed=0), processing_class=tok)
    tr.remove_callback(PrinterCallback)
    tr.model.eval()  # eval: no gradient-accumulation scaling
    return tr

def multiplex_vocab(L:int, K:int, cfg:dict) -> int:
    "The largest vocabulary of (16, 8, 4, 3, 2) whose V^(L*K) enumerated draws fit `max_seqs`."
    V = next((V for V in (cfg["vocab"], 8, 4, 3, 2) if V ** (L * K) <= cfg["max_seqs"]), None)
    if V is None: raise ValueError(f"max_seqs={cfg['max_seqs']} is too small for multiplex K={K} at length {L}")
    return V

def expected_update(tr, model, rollout:str, L:int, w:float, K:int, gradient:str, T:float, case:dict, cfg:dict) -> dict:
    "Cosine and relative error of the trainer's expected update against grad J, and the rollout/loss log-probability gap, for one case."
    import torch, torch.nn.functional as F
    from soft_sampling.grpo import soft_generate
    from soft_sampling.distributions import ProbabilityDistributionArguments
    from soft_sampling.soft_embeddings import SoftInputs
    V = model.config.vocab_size
    seqs = torch.tensor(list(itertools.product(range(V), repeat=L * (K if rollout == "multiplex" else 1))))
    if rollout == "multiplex": seqs = seqs.view(len(seqs), L, K)
    g = torch.Generator().manual_seed(case["seed"])
    prompt = torch.randint(V, (1, 2), generator=g).expand(len(seqs), 2)
    R = (torch.randn(len(seqs), dtype=torch.float64, generator=g) if case["reward"] == "normal"
         else (torch.rand(len(seqs), dtype=torch.float64, generator=g) < cfg["sparse_p"]).double())
    true, P = exact_grad(model, prompt, seqs, R, rollout, w, T)
    with forced_actions(seqs):
        gen = soft_generate(model, prompt, torch.ones_like(prompt), L, [-1], 0, rollout=rollout, mix_weight=w, multiplex_k=K,
                            sampling=ProbabilityDistributionArguments(temperature=T))
    if not torch.equal(gen.completion_ids, seqs if seqs.dim() == 2 else seqs[..., 0]): raise RuntimeError("the rollout did not follow the forced tokens")
    a = tr.args
    a.soft_rollout, a.soft_mix_weight, a.soft_multiplex_k, a.soft_gradient, a.temperature, tr.temperature = rollout, w, K, gradient, T, T
    inp = loss_inputs(prompt, gen, P * R)
    ours = -param_grad(tr._compute_loss(model, inp), model)
    tr._active_soft = SoftInputs(inp["soft_indices"], inp["soft_weights"], inp.get("soft_constant"))
    try:
        with torch.no_grad(): lp = tr._get_per_token_logps_and_entropies(model, torch.cat([prompt, gen.completion_ids], 1), torch.ones(len(seqs), 2 + L), L)[0]
    finally: tr._active_soft = None
    return dict(rel_err=((ours - true).norm() / true.norm()).item(), cos=F.cosine_similarity(ours, true, 0).item(),
                logp_gap=(lp - gen.logps).abs().max().item(), vocab=V, sequences=len(seqs))

def stats(rows:list[dict]) -> dict:
    "Median/min cosine, the fraction of negative cosines, median/max relative error, the largest log-probability gap."
    cos, err = np.array([r["cos"] for r in rows]), np.array([r["rel_err"] for r in rows])
    return dict(cos_median=float(np.median(cos)), cos_min=float(cos.min()), cos_negative=int((cos < 0).sum()), cos_negative_fraction=float((cos < 0).mean()),
                rel_err_median=float(np.median(err)), rel_err_max=float(err.max()), logp_gap_max=max(r["logp_gap"] for r in rows),
                vocab=sorted({r["vocab"] for r in rows}), n_cases=len(rows))

def _e(x:float) -> str: return "0" if x == 0 else (f"{x:.1e}" if abs(x) < 1e-3 else f"{x:.2f}")

def table(summary:dict) -> str:
    "Markdown: per rollout, the cosine of its expected update with the true gradient (median / min, how often negative) and the relative error (median / max)."
    c = summary["config"]
    rows = [f"{c['cases']} cases: tiny float64 Llamas with peaked next-token distributions (initialisation std {c['init_std']}), vocabulary "
            f"{c['vocab']} (`multiplex`: see the vocabulary column), every completion of length {' or '.join(map(str, c['lengths']))} enumerated, "
            f"temperature {' or '.join(map(str, c['temperatures']))}, rewards N(0, 1) or sparse 0/1.", "",
            "| rollout | cosine(expected update, true gradient): median / min | cosine < 0 | relative error: median / max | vocabulary |",
            "|---|---|---|---|---|"]
    for v in summary["rollouts"].values():
        rows.append(f"| {v['label']} | {v['cos_median']:.3f} / {v['cos_min']:.3f} | {100 * v['cos_negative_fraction']:.0f}% ({v['cos_negative']} of {v['n_cases']}) "
                    f"| {_e(v['rel_err_median'])} / {_e(v['rel_err_max'])} | {', '.join(map(str, v['vocab']))} |")
    return "\n".join(rows)

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 cases of length 2, small multiplex vocabularies (a smoke run)")
    ap.add_argument("--cases", type=int, default=None, help="number of cases (default 30, or 2 with --quick)")
    ap.add_argument("--out", type=Path, default=None, help="results folder (default bench/estimator-bias, or bench/estimator-bias-quick with --quick)")
    a = ap.parse_args(argv)
    cfg = dict(SIZES["quick" if a.quick else "full"])
    if a.cases is not None:
        if a.cases < 1: ap.error(f"--cases must be >= 1, got {a.cases}")
        cfg["cases"] = a.cases
    out = a.out or Path(__file__).resolve().parent / ("estimator-bias-quick" if a.quick else "estimator-bias")
    from soft_sampling.reliability import atomic_write_text, check_writable
    check_writable(out, "--out"); out.mkdir(parents=True, exist_ok=True)
    import torch
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error(); hf_logging.disable_progress_bar(); warnings.filterwarnings("ignore")
    t0 = time.time()
    tr = proof_trainer()
    per_case = {n: [] for n in ROLLOUTS}
    for i in range(cfg["cases"]):
        case = case_settings(i, cfg)
        models = {}
        for name, (rollout, w, K, gradient, _) in ROLLOUTS.items():
            V = multiplex_vocab(case["L"], K, cfg) if rollout == "multiplex" else cfg["vocab"]
            if V not in models: models[V] = tiny64(V, case["seed"], case["T"], cfg["init_std"])
            r = expected_update(tr, models[V], rollout, case["L"], w, K, gradient, case["T"], case, cfg)
            per_case[name].append({**case, **r})
        print(f"case {i:2} L {case['L']} T {case['T']} {case['reward']:6}  " + "  ".join(f"{n} {per_case[n][-1]['cos']:6.3f}" for n in ROLLOUTS), flush=True)
    rollouts = {n: dict(label=ROLLOUTS[n][4], rollout=ROLLOUTS[n][0], mix_weight=ROLLOUTS[n][1], soft_gradient=ROLLOUTS[n][3],
                        **({"multiplex_k": ROLLOUTS[n][2]} if ROLLOUTS[n][0] == "multiplex" else {}), **stats(per_case[n])) for n in ROLLOUTS}
    summary = dict(command=" ".join(["python bench/bench_estimator_bias.py"] + (sys.argv[1:] if argv is None else list(argv))), config=cfg,
                   torch=torch.__version__, seconds=round(time.time() - t0, 1), rollouts=rollouts, cases=per_case)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    print(table(summary))
    print(f"{out / 'summary.json'} ({summary['seconds']:.0f} s)")
    return 0

if __name__ == "__main__": sys.exit(main())
