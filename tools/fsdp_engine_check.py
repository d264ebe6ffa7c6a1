"""soft_sampling_forward, soft_generate and the GRPO log-probs on fully_shard-ed tiny models against the same models unsharded.

Usage: torchrun --nproc_per_node 2 tools/fsdp_engine_check.py OUT.json (gloo on CPU). Run by nbs/11_multi_gpu.ipynb."""
import copy, json, sys, time, types
from contextlib import nullcontext
import torch, torch.distributed as dist
from torch.distributed.fsdp import fully_shard
from torch.distributed.fsdp._fully_shard import _fsdp_param_group
from trl.trainer.utils import add_fused_lm_head
from soft_sampling.testing import mk_tiny_model_and_tokenizer
import soft_sampling.soft_forward as sf
from soft_sampling.soft_forward import soft_sampling_forward, gathered_parameters, SoftInputs
from soft_sampling.grpo import soft_generate, SoftGRPOTrainer
from soft_sampling.distributions import ProbabilityDistributionArguments

def tiny(arch, untie=False):
    m, tok = mk_tiny_model_and_tokenizer(arch)
    if untie:
        m.config.tie_word_embeddings = False
        m.lm_head.weight = torch.nn.Parameter(m.lm_head.weight.detach().clone())
    return m, tok

def shard(m, layout):
    "fully_shard `m`: each decoder layer, then (layout 'accelerate') the embedding and head as accelerate 1.15 does, then the root."
    for l in (m.model.layers if hasattr(m, "model") else m.transformer.h): fully_shard(l)
    emb, head = m.get_input_embeddings(), m.get_output_embeddings()
    if layout == "accelerate":
        if emb.weight is head.weight: fully_shard([m.model.norm, emb, head], reshard_after_forward=False)
        else: fully_shard(emb); fully_shard([m.model.norm, head], reshard_after_forward=False)
    return fully_shard(m)

def full_grads(m):
    return {n: (p.grad.full_tensor() if hasattr(p.grad, "full_tensor") else p.grad).clone() for n, p in m.named_parameters() if p.grad is not None}

def rel(a, b): return ((a - b).norm() / b.norm().clamp_min(1e-12)).item()

def count_all_gathers():
    "Patch FSDP2's all-gather to count calls; returns the counter."
    n, f = [0], _fsdp_param_group.foreach_all_gather
    def counted(*a, **k): n[0] += 1; return f(*a, **k)
    _fsdp_param_group.foreach_all_gather = counted
    return n

def main(out):
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    res = dict(forward=[], generate=[], all_gathers={})
    ag = count_all_gathers()
    for arch, untie, layout in [("llama", False, "accelerate"), ("llama", True, "accelerate"), ("gpt2", False, "layers")]:
        ref, tok = tiny(arch, untie)
        m = shard(copy.deepcopy(ref), layout)
        for x in (ref, m): add_fused_lm_head(x, outputs=("log_probs", "entropy"))  # as SoftGRPOTrainer's __init__ does (after the copy: it binds)
        g = torch.Generator().manual_seed(1 + rank)  # each process its own rows, as under a DistributedSampler
        ids = torch.randint(5, 500, (3, 10), generator=g)
        mask = torch.ones_like(ids); mask[1, :3] = 0  # a left-padded row
        for mode, defer, extra in [("backprop", True, {}), ("backprop", False, {}), ("detached", True, {}), ("parallel", True, dict(n_passes=2))]:
            sf.DEFER_WEIGHT_GRADS = defer
            kw = dict(mode=mode, seed=3 + rank, attention_mask=mask, top_k=5 if arch == "gpt2" else None, **extra)
            ref.zero_grad(set_to_none=True); m.zero_grad(set_to_none=True)
            o1 = soft_sampling_forward(ref, ids, 0.3, **kw); o1.loss.backward()
            o2 = soft_sampling_forward(m, ids, 0.3, **kw); o2.loss.backward()
            g1, g2 = full_grads(ref), full_grads(m)
            for v in g1.values(): dist.all_reduce(v); v /= world  # FSDP averages over processes
            res["forward"].append(dict(arch=arch, tied=not untie, mode=mode, defer=defer, loss_rel=abs(o1.loss.item() - o2.loss.item()) / o1.loss.item(),
                                       grad_rel=max(rel(g2[k], g1[k]) for k in g1), same_grads=sorted(g1) == sorted(g2),
                                       tokens_equal=bool((o1.tokens == o2.tokens).all())))
        sf.DEFER_WEIGHT_GRADS = True
        # soft_generate sharded vs unsharded, and the GRPO log-probs recomputed on the recorded inputs
        tok.padding_side = "left"
        enc = tok(["What is 2+2?", "Name a colour" if rank else "Hello there, friend"], return_tensors="pt", padding=True)
        for rollout in ("soft", "mix", "multiplex"):
            gens = []
            for model in (ref, m):
                with torch.no_grad():
                    gens.append(soft_generate(model, enc.input_ids, enc.attention_mask, 8, [tok.eos_token_id], tok.pad_token_id,
                                              rollout=rollout, sampling=ProbabilityDistributionArguments(top_k=20 if rollout == "soft" else None), seed=7 + rank))
            a, b = gens
            C = b.completion_ids.shape[1]
            fake = types.SimpleNamespace(_active_soft=b.soft_inputs, _active_phase=None, _active_actions=None,
                                         args=types.SimpleNamespace(soft_rollout=rollout, soft_gradient="detached"),
                                         accelerator=types.SimpleNamespace(autocast=nullcontext), temperature=1.0)
            full = torch.cat([enc.input_ids, b.completion_ids], 1)
            fmask = torch.cat([enc.attention_mask, b.completion_mask], 1)
            lp, _, _ = SoftGRPOTrainer._get_per_token_logps_and_entropies(fake, m, full, fmask, C)
            cm = b.completion_mask.bool()
            res["generate"].append(dict(arch=arch, tied=not untie, rollout=rollout, same_ids=bool((a.completion_ids == b.completion_ids).all()),
                                        logp_diff=(a.logps - b.logps).abs().max().item(),
                                        regrpo_diff=(lp.detach() - b.logps).abs()[cm].max().item()))
        # all-gathers of a no-grad cached decoding of 16 positions: FSDP's per-call hooks vs gathered_parameters
        if arch == "llama" and not untie:
            for gathered in (False, True):
                x = ids[:, :1]
                t0, n0 = time.perf_counter(), ag[0]
                with torch.no_grad(), (gathered_parameters(m) if gathered else nullcontext()):
                    from transformers import DynamicCache
                    cache = DynamicCache(config=ref.config)
                    for t in range(16): x = m(input_ids=x, past_key_values=cache, use_cache=True).logits[:, -1:].argmax(-1)
                res["all_gathers"]["gathered" if gathered else "per_call"] = dict(all_gathers=ag[0] - n0, seconds=time.perf_counter() - t0,
                                                                                 units=len(sf.fsdp_modules(m)))
    if rank == 0: json.dump(res, open(out, "w"), indent=1)
    dist.destroy_process_group()

if __name__ == "__main__": main(sys.argv[1])
