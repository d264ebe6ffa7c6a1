"""Benchmark: one training step (forward + backward) of each `soft_sampling_forward` mode against a plain
teacher-forced step of the same model and batch, in one process; and the no-grad soft rollout against
`model.generate` on the same batch and length. Prints times, ratios and peak memory.

    python bench/bench_soft_forward.py                      # embedded SmolLM2, batch 8 x 128 tokens
    python bench/bench_soft_forward.py --batch 4 --seq 64 --repeats 3 --top_k 50
"""
import argparse, gc, json, os, resource, statistics, sys, time
import torch

def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model id or folder (default: the embedded SmolLM2)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement (median reported)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--top_k", type=int, default=None)
    ap.add_argument("--top_p", type=float, default=None)
    ap.add_argument("--min_p", type=float, default=None)
    ap.add_argument("--modes", default="teacher,parallel,detached,backprop,rollout,generate,generate_sample")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    return ap.parse_args()

def peak_mb(device):
    if device.startswith("cuda"): return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process-wide high-water mark on CPU

def timed(fn, repeats, device):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device.startswith("cuda"): torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
        t = time.perf_counter(); fn()
        if device.startswith("cuda"): torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times), peak_mb(device)

def main():
    a = parse()
    from soft_sampling import load_model_and_tokenizer
    from soft_sampling.soft_forward import soft_sampling_forward
    torch.manual_seed(0)
    model, tok = load_model_and_tokenizer(a.model, dtype=getattr(torch, a.dtype))
    model.to(a.device).train()
    model.config.use_cache = False  # as the Trainer sets it: the rollout must pass use_cache=True itself
    import pydoc_data.topics
    text = " ".join(pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics))
    ids = tok(text, return_tensors="pt").input_ids[0]
    ids = ids[: a.batch * a.seq].reshape(a.batch, a.seq).to(a.device)
    mask = torch.ones_like(ids)
    dist = {k: getattr(a, k) for k in ("temperature", "top_k", "top_p", "min_p") if getattr(a, k) is not None}

    def step(loss_fn):
        def run():
            model.zero_grad(set_to_none=True)
            loss_fn().backward()
        return run
    def teacher(): return model(input_ids=ids, attention_mask=mask, labels=ids).loss
    def soft(mode, **kw): return lambda: soft_sampling_forward(model, ids, a.alpha, mask, mode=mode, seed=0, **dist, **kw).loss
    def rollout():
        with torch.no_grad(): soft_sampling_forward(model, ids, 0.0, mask, mode="backprop", seed=0, **dist)
    def generate(do_sample):
        def run():
            torch.manual_seed(0)
            gen = dict(temperature=a.temperature, top_k=a.top_k or 0, top_p=a.top_p or 1.0, min_p=a.min_p) if do_sample else {}
            with torch.no_grad():
                model.generate(ids[:, :1], attention_mask=mask[:, :1], do_sample=do_sample, max_new_tokens=a.seq - 1,
                               min_new_tokens=a.seq - 1, pad_token_id=tok.pad_token_id, use_cache=True, **gen)
        return run

    benches = {"teacher": ("teacher-forced step", step(teacher)),
               "parallel": ("parallel K=1 step", step(soft("parallel", n_passes=1))),
               "detached": ("exact detached step", step(soft("detached"))),
               "backprop": ("exact backprop step", step(soft("backprop"))),
               "rollout": ("no-grad soft rollout", rollout),
               "generate": ("generate (greedy)", generate(False)),
               "generate_sample": ("generate (sampling)", generate(True))}
    res = {}
    print(f"model {model.name_or_path}  batch {a.batch} x {a.seq} tokens  alpha {a.alpha}  dist {dist or 'full softmax'}"
          f"  device {a.device}  threads {torch.get_num_threads()}  torch {torch.__version__}")
    for key in a.modes.split(","):
        name, fn = benches[key]
        gc.collect()
        sec, mb = timed(fn, a.repeats, a.device)
        res[key] = dict(name=name, seconds=sec, peak_mb=mb)
        print(f"{name:24} {sec:8.3f} s   peak {mb:8.0f} MB", flush=True)
    print()
    if "teacher" in res:
        for k in ("parallel", "detached", "backprop"):
            if k in res: print(f"{res[k]['name']:24} {res[k]['seconds'] / res['teacher']['seconds']:6.2f} x teacher-forced step")
    tps = lambda k: a.batch * (a.seq - 1) / res[k]["seconds"]
    for g in ("generate", "generate_sample"):
        if "rollout" in res and g in res:
            print(f"no-grad rollout {tps('rollout'):.0f} tokens/s vs {res[g]['name']} {tps(g):.0f} tokens/s: "
                  f"{res[g]['seconds'] / res['rollout']['seconds']:.2f} x its speed")
    if a.json:
        with open(a.json, "w") as f: json.dump(dict(args=vars(a), results=res), f, indent=1)

if __name__ == "__main__": main()
