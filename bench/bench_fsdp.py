"""Benchmark (a script, not a test): memory per process and step time of `soft_sampling_forward` training steps in one
process, on two DDP processes and on two FSDP2 processes (gloo on the CPU, or NCCL with GPUs), and the cost of a no-grad
cached decoding with FSDP's per-call all-gathers against `gathered_parameters`.

    python bench/bench_fsdp.py                       # embedded SmolLM2-135M, batch 2 x 32 tokens per process, 2 steps
    python bench/bench_fsdp.py --model tiny --steps 3

Per process it reports: the bytes of parameters, gradients and AdamW state it holds (exact), the peak resident memory
during the training steps (sampled every 5 ms; on GPU, torch.cuda.max_memory_allocated), and the median step time.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, threading, time
from pathlib import Path

def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2", help="'smollm2' (embedded) or 'tiny'")
    ap.add_argument("--batch", type=int, default=2, help="rows per process")
    ap.add_argument("--seq", type=int, default=32)
    ap.add_argument("--steps", type=int, default=2, help="timed steps per mode (after one warm-up step)")
    ap.add_argument("--modes", default="detached,backprop")
    ap.add_argument("--decode", type=int, default=16, help="positions of the no-grad decoding (FSDP2 only)")
    ap.add_argument("--setups", default="single,ddp,fsdp2")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return ap.parse_args()

class PeakRSS:
    "Sample this process's resident memory every 5 ms in a thread; `.peak` in MB."
    def __init__(self): self.peak, self._stop = 0.0, threading.Event()
    def rss(self): return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    def _run(self):
        while not self._stop.is_set(): self.peak = max(self.peak, self.rss()); time.sleep(0.005)
    def __enter__(self): self._t = threading.Thread(target=self._run, daemon=True); self._t.start(); return self
    def __exit__(self, *a): self._stop.set(); self._t.join(); self.peak = max(self.peak, self.rss())

def local_bytes(tensors):
    "Bytes this process holds of these tensors (its shard, for DTensors)."
    return sum((t.to_local() if hasattr(t, "to_local") else t).numel() * t.element_size() for t in tensors if t is not None)

def worker(a):
    import torch, torch.distributed as dist
    from soft_sampling.models import load_model_and_tokenizer
    from soft_sampling.testing import mk_tiny_model_and_tokenizer
    from soft_sampling.soft_forward import soft_sampling_forward, gathered_parameters, fsdp_modules
    setup, world = a.worker, int(os.environ.get("WORLD_SIZE", 1))
    cuda = torch.cuda.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
        if cuda: torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dev = torch.device("cuda" if cuda else "cpu")
    model, tok = load_model_and_tokenizer() if a.model == "smollm2" else mk_tiny_model_and_tokenizer("llama")
    model.to(dev).train()
    if setup == "fsdp2":
        from torch.distributed.fsdp import fully_shard
        for layer in model.model.layers: fully_shard(layer)
        fully_shard(model)
        run = model
    elif setup == "ddp": run = torch.nn.parallel.DistributedDataParallel(model)
    else: run = model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    g = torch.Generator().manual_seed(int(os.environ.get("RANK", 0)))
    ids = torch.randint(5, len(tok), (a.batch, a.seq), generator=g).to(dev)
    res = dict(setup=setup, processes=world, modes={})
    for mode in a.modes.split(","):
        times = []
        if cuda: torch.cuda.reset_peak_memory_stats()
        with PeakRSS() as peak:
            for s in range(a.steps + 1):
                t = time.perf_counter()
                soft_sampling_forward(run, ids, 0.5, mode=mode, seed=s, top_k=50).loss.backward()
                opt.step(); opt.zero_grad(set_to_none=True)
                if cuda: torch.cuda.synchronize()
                if s: times.append(time.perf_counter() - t)
        res["modes"][mode] = dict(step_s=statistics.median(times), peak_rss_mb=peak.peak,
                                  peak_cuda_mb=torch.cuda.max_memory_allocated() / 2**20 if cuda else None)
    params = list(model.parameters())
    res["held_mb"] = dict(params=local_bytes(params) / 2**20,
                          adam_state=local_bytes([v for st in opt.state.values() for v in st.values() if torch.is_tensor(v) and v.dim()]) / 2**20,
                          grads_full_size=local_bytes(params) / 2**20)  # gradients exist during backward, the size of the (local) params
    if setup == "fsdp2":
        from torch.distributed.fsdp._fully_shard import _fsdp_param_group
        n, f = [0], _fsdp_param_group.foreach_all_gather
        def counted(*x, **k): n[0] += 1; return f(*x, **k)
        _fsdp_param_group.foreach_all_gather = counted
        from transformers import DynamicCache
        for gathered in (False, True):
            n0, t = n[0], time.perf_counter()
            with torch.no_grad(), (gathered_parameters(model) if gathered else _null()):
                cache, x = DynamicCache(config=model.config), ids[:, :1]
                for _ in range(a.decode): x = model(input_ids=x, past_key_values=cache, use_cache=True).logits[:, -1:].argmax(-1)
            res["decode_gathered" if gathered else "decode_per_call"] = dict(seconds=time.perf_counter() - t, all_gathers=n[0] - n0)
    out = [None] * world
    if world > 1: dist.all_gather_object(out, res); dist.destroy_process_group()
    else: out = [res]
    if int(os.environ.get("RANK", 0)) == 0: print("RESULT " + json.dumps(out), flush=True)

class _null:
    def __enter__(self): return self
    def __exit__(self, *a): pass

def main():
    a = parse()
    if a.worker: return worker(a)
    here = Path(__file__).resolve()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(here.parent.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    base = [str(here), "--model", a.model, "--batch", str(a.batch), "--seq", str(a.seq), "--steps", str(a.steps),
            "--modes", a.modes, "--decode", str(a.decode)]
    results = []
    for setup in a.setups.split(","):
        launch = [sys.executable] if setup == "single" else [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
        t = time.perf_counter()
        r = subprocess.run(launch + base + ["--worker", setup], env=env, capture_output=True, text=True)
        line = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
        if r.returncode or not line: sys.exit(f"{setup} failed:\n{r.stderr[-3000:]}")
        procs = json.loads(line[0][7:])
        results.append(procs)
        print(f"== {setup}: {len(procs)} process(es), {time.perf_counter() - t:.0f} s wall")
        for i, p in enumerate(procs):
            h = p["held_mb"]
            print(f"  process {i}: holds params {h['params']:.0f} MB + AdamW {h['adam_state']:.0f} MB (+ grads {h['grads_full_size']:.0f} MB in a step)")
            for mode, m in p["modes"].items():
                print(f"    {mode:9} step {m['step_s']:.2f} s  peak RSS {m['peak_rss_mb']:.0f} MB" + (f"  peak CUDA {m['peak_cuda_mb']:.0f} MB" if m["peak_cuda_mb"] else ""))
            for k in ("decode_per_call", "decode_gathered"):
                if k in p: print(f"    {k}: {p[k]['seconds']:.2f} s, {p[k]['all_gathers']} all-gathers")
    if a.json: Path(a.json).parent.mkdir(parents=True, exist_ok=True); json.dump(results, open(a.json, "w"), indent=1)

if __name__ == "__main__": main()
