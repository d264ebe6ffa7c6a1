"""Benchmark: one training step (forward + backward) of each `soft_sampling_forward` mode against a plain
teacher-forced step of the same model and batch, in one process, beside the plain ten-line implementation
of the detached step; the no-grad soft rollout against `model.generate` with the same distribution and dtype;
the bfloat16 rollout both ways (a cached copy, autocast); and how the ratios scale with the batch and length.
Prints times, ratios and peak memory, and writes JSON with --json.

    python bench/bench_soft_forward.py                          # embedded SmolLM2, batch 8 x 128 tokens
    python bench/bench_soft_forward.py --top_k 50               # sparse soft inputs
    python bench/bench_soft_forward.py --modes teacher,detached,detached_bf16 --sizes 8x128,16x128,32x128,8x512
    python bench/bench_soft_forward.py --clock process          # CPU time of this process: steadier on a shared
                                                                # machine, meaningful with OMP_NUM_THREADS=1 only
On a GPU, add --device cuda (default when one is present) and --dtype bfloat16 for a bf16-trained model.
"""
import argparse, gc, json, os, statistics, threading, time
import torch
from transformers import DynamicCache

ALL_MODES = ("teacher,parallel,detached,detached_nostats,plain_detached,detached_bf16,detached_compiled,detached_bf16_compiled,teacher_autocast,detached_autocast,backprop,"
             "rollout,plain_rollout,generate_sample,rollout_bf16,rollout_autocast,generate_sample_bf16,generate")

def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model id or folder (default: the embedded SmolLM2)")
    ap.add_argument("--sizes", default="8x128", help="comma-separated BATCHxTOKENS, e.g. 8x128,16x128,32x128,8x512")
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement (median reported)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--top_k", type=int, default=None)
    ap.add_argument("--top_p", type=float, default=None)
    ap.add_argument("--min_p", type=float, default=None)
    ap.add_argument("--modes", default=ALL_MODES, help=f"comma-separated, from {ALL_MODES}")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32", help="the training dtype of the model")
    ap.add_argument("--clock", default="wall", choices=["wall", "process"])
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--profile", action="store_true", help="also print the torch.profiler table of one call of each mode")
    ap.add_argument("--warm_sizes", type=int, default=None, help="warm up before each measurement of the first N sizes only (default: all)")
    return ap.parse_args()

# --- the plain implementation of the detached step: ten lines, nothing else -------------------------------
@torch.no_grad()
def plain_soft_parts(model, ids, alpha):
    "A cached no-grad loop feeding alpha * E[gold] + (1 - alpha) * softmax(logits) @ E; returns the soft parts."
    E, T = model.get_input_embeddings().weight, ids.shape[1]
    cache, gold, soft = DynamicCache(config=model.config), model.get_input_embeddings()(ids), []
    out = model(input_ids=ids[:, :1], past_key_values=cache, use_cache=True)
    for t in range(1, T):
        soft.append((1 - alpha) * (out.logits[:, -1].float().softmax(-1).to(E.dtype) @ E))
        if t < T - 1: out = model(inputs_embeds=(alpha * gold[:, t] + soft[-1])[:, None], past_key_values=cache, use_cache=True)
    return torch.stack([torch.zeros_like(soft[0])] + soft, 1)

def plain_detached_loss(model, ids, alpha):
    "The loss of the recorded inputs, gradient through the gold part only."
    soft = plain_soft_parts(model, ids, alpha)
    a = torch.full((ids.shape[1], 1), alpha, device=ids.device); a[0] = 1
    return model(inputs_embeds=a * model.get_input_embeddings()(ids) + soft, labels=ids).loss
# ------------------------------------------------------------------------------------------------------------

class PeakRSS:
    "Peak resident memory above the level at entry, sampled every 5 ms (CPU); CUDA's own counter on a GPU."
    def __init__(self, device): self.device, self.peak = device, 0
    def _rss(self): return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    def __enter__(self):
        if self.device.startswith("cuda"): torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); self.base = torch.cuda.memory_allocated(); return self
        self.base, self.stop = self._rss(), False
        def watch():
            while not self.stop: self.peak = max(self.peak, self._rss() - self.base); time.sleep(0.005)
        self.thread = threading.Thread(target=watch, daemon=True); self.thread.start()
        return self
    def __exit__(self, *exc):
        if self.device.startswith("cuda"): torch.cuda.synchronize(); self.peak = torch.cuda.max_memory_allocated() - self.base
        else: self.stop = True; self.thread.join()

def timed(fn, repeats, device, clock, warmup=True):
    "Median seconds of `repeats` calls after one warm-up, the peak memory of the last (MB), and the warm-up's seconds (compilation included)."
    times, now = [], (time.perf_counter if clock == "wall" else time.process_time)
    t = now()
    if warmup: fn()
    first = now() - t if warmup else None
    for _ in range(repeats):
        gc.collect()
        with PeakRSS(device) as mem:
            t = now(); fn()
            if device.startswith("cuda"): torch.cuda.synchronize()
            times.append(now() - t)
    return statistics.median(times), mem.peak / 2**20, first

def profile_table(fn, rows=12) -> str:
    "The ops that took the most time in one call of `fn`, from `torch.profiler`."
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])) as prof: fn()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)

def benches(model, tok, ids, a, dist):
    "name -> (label, function) for one batch."
    from soft_sampling.soft_forward import soft_sampling_forward, rollout_copy
    mask = torch.ones_like(ids)
    def step(loss_fn):
        def run():
            model.zero_grad(set_to_none=True)
            loss_fn().backward()
        return run
    def soft(mode, **kw): return lambda: soft_sampling_forward(model, ids, a.alpha, mask, mode=mode, seed=0, **dist, **kw).loss
    def autocast(loss_fn):  # what a user of autocast gets: the whole step in bf16, against a teacher-forced step in bf16
        def run():
            with torch.autocast(ids.device.type, dtype=torch.bfloat16): return loss_fn()
        return run
    teacher = lambda: model(input_ids=ids, attention_mask=mask, labels=ids).loss
    def rollout(dtype=None):
        def run():
            with torch.no_grad(): soft_sampling_forward(model, ids, 0.0, mask, mode="detached", seed=0, rollout_dtype=dtype, **dist)
        return run
    def generate(do_sample, dtype=None):
        def run():
            m = model if dtype is None else rollout_copy(model, dtype)
            torch.manual_seed(0)
            gen = dict(temperature=a.temperature, top_k=a.top_k or 0, top_p=a.top_p or 1.0, min_p=a.min_p) if do_sample else {}
            with torch.no_grad():
                m.generate(ids[:, :1], attention_mask=mask[:, :1], do_sample=do_sample, max_new_tokens=ids.shape[1] - 1,
                           min_new_tokens=ids.shape[1] - 1, pad_token_id=tok.pad_token_id, use_cache=True, **gen)
        return run
    return {"teacher": ("teacher-forced step", step(teacher)),
            "teacher_autocast": ("teacher-forced, autocast", step(autocast(teacher))),
            "parallel": ("parallel K=1 step", step(soft("parallel", n_passes=1))),
            "detached": ("detached step", step(soft("detached"))),
            "detached_nostats": ("detached, no statistics", step(soft("detached", statistics=False))),
            "plain_detached": ("plain detached step", step(lambda: plain_detached_loss(model, ids, a.alpha))),
            "detached_bf16": ("detached, bf16 rollout", step(soft("detached", rollout_dtype=torch.bfloat16))),
            "detached_compiled": ("detached, compiled rollout", step(soft("detached", compile_rollout=True))),
            "detached_bf16_compiled": ("detached, bf16 compiled", step(soft("detached", rollout_dtype=torch.bfloat16, compile_rollout=True))),
            "detached_autocast": ("detached, autocast", step(autocast(soft("detached")))),
            "backprop": ("backprop step", step(soft("backprop"))),
            "rollout": ("no-grad rollout", rollout()),
            "plain_rollout": ("plain no-grad rollout", lambda: plain_soft_parts(model, ids, 0.0)),
            "rollout_bf16": ("no-grad rollout, bf16 copy", rollout(torch.bfloat16)),
            "rollout_autocast": ("no-grad rollout, autocast", autocast(rollout())),
            "generate_sample": ("generate (sampling)", generate(True)),
            "generate_sample_bf16": ("generate (sampling), bf16", generate(True, torch.bfloat16)),
            "generate": ("generate (greedy)", generate(False))}

RATIOS = [("parallel", "teacher"), ("detached", "teacher"), ("detached_nostats", "teacher"), ("plain_detached", "teacher"),
          ("detached", "plain_detached"), ("detached_nostats", "plain_detached"),
          ("detached_bf16", "teacher"), ("detached_compiled", "teacher"), ("detached_bf16_compiled", "teacher"), ("detached_autocast", "teacher_autocast"), ("backprop", "teacher"), ("rollout", "plain_rollout"), ("rollout_bf16", "rollout"), ("rollout_autocast", "rollout"),
          ("generate_sample", "rollout"), ("generate_sample_bf16", "rollout_bf16"), ("generate", "rollout")]

def table(summary:dict) -> str:
    "Markdown: per batch size, each mode's seconds and its ratios (from a --json summary)."
    a, res = summary["args"], summary["results"]
    head = (f"{summary['threads']} thread(s), torch {summary['torch']}, {a['clock']} clock ({'CPU time of the process' if a['clock'] == 'process' else 'wall time'}), "
            f"alpha {a['alpha']}, {'top_k ' + str(a['top_k']) if a['top_k'] else 'full softmax'}, median of {a['repeats']}.")
    sizes = list(res)
    modes = [k for k in res[sizes[0]] if "/" not in k]
    rows = [head, "", "| | " + " | ".join(f"{s.replace('x', ' x ')}: seconds | ratio" for s in sizes) + " |", "|---" * (1 + 2 * len(sizes)) + "|"]
    ratio = {"teacher": None, "plain_detached": "teacher", "detached": "teacher", "detached_bf16": "teacher", "detached_nostats": "teacher",
             "parallel": "teacher", "backprop": "teacher", "rollout": None, "generate_sample": "rollout", "plain_rollout": "rollout"}
    def cell(r, k):
        if k not in r: return " | "
        den = ratio.get(k)
        q = f"{r[k]['seconds'] / r[den]['seconds']:.2f}x {r[den]['name']}" if den and den in r else ""
        return f"{r[k]['seconds']:.2f} | {q}"
    for k in modes: rows.append(f"| {res[sizes[0]][k]['name']} | " + " | ".join(cell(res[s], k) for s in sizes) + " |")
    if all(m in res[sizes[0]] for m in ("detached", "plain_detached")):
        rows += ["", "`detached` / plain detached step: " + ", ".join(f"{s.replace('x', ' x ')} {res[s]['detached']['seconds'] / res[s]['plain_detached']['seconds']:.2f}x" for s in sizes if "plain_detached" in res[s]) + "."]
    if all(m in res[sizes[0]] for m in ("rollout", "generate_sample")):
        rows += ["", "Our no-grad rollout's speed relative to `generate` sampling with the same distribution (generate's time / ours): "
                 + ", ".join(f"{s.replace('x', ' x ')} {res[s]['generate_sample']['seconds'] / res[s]['rollout']['seconds']:.2f}x" for s in sizes) + "."]
    return "\n".join(rows)

def main():
    a = parse()
    from soft_sampling import load_model_and_tokenizer
    torch.manual_seed(0)
    model, tok = load_model_and_tokenizer(a.model, dtype=getattr(torch, a.dtype))
    model.to(a.device).train()
    model.config.use_cache = False  # as the Trainer sets it: the rollout must pass use_cache=True itself
    import pydoc_data.topics
    text = " ".join(pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics))
    all_ids = tok(text, return_tensors="pt").input_ids[0]
    dist = {k: getattr(a, k) for k in ("temperature", "top_k", "top_p", "min_p") if getattr(a, k) is not None}
    print(f"model {model.name_or_path}  alpha {a.alpha}  dist {dist or 'full softmax'}  device {a.device}  dtype {a.dtype}"
          f"  threads {torch.get_num_threads()}  torch {torch.__version__}  clock {a.clock}  median of {a.repeats}", flush=True)
    results = {}
    for n, size in enumerate(a.sizes.split(",")):
        B, T = map(int, size.split("x"))
        ids = all_ids[: B * T].reshape(B, T).to(a.device)
        table, res = benches(model, tok, ids, a, dist), {}
        print(f"\nbatch {B} x {T} tokens", flush=True)
        for key in a.modes.split(","):
            name, fn = table[key]
            sec, mb, first = timed(fn, a.repeats, a.device, a.clock, warmup=a.warm_sizes is None or n < a.warm_sizes)
            res[key] = dict(name=name, seconds=sec, peak_mb=mb, first_call_seconds=first)
            print(f"  {name:28} {sec:8.3f} s   peak +{mb:7.0f} MB" + (f"   first call {first:.1f} s" if first is not None else ""), flush=True)
            if a.profile: print(profile_table(fn), flush=True)
        for num, den in RATIOS:
            if num in res and den in res:
                r = res[num]["seconds"] / res[den]["seconds"]
                res[f"{num}/{den}"] = r
                print(f"  {res[num]['name']:28} {r:6.2f} x {res[den]['name']}")
        results[size] = res
    if a.json:
        with open(a.json, "w") as f: json.dump(dict(args=vars(a), torch=torch.__version__, threads=torch.get_num_threads(), results=results), f, indent=1)

if __name__ == "__main__": main()
