"""What the learning benchmarks share: intervals over seeds, resumable runs (one JSON per (method, seed), claimed with the
library's `run_lock`, so several processes can split one --out), a step timer, and the summary's tail.

The scripts import it as `common` (Python puts a script's own folder first on its path; a notebook that imports a
script adds bench/ itself)."""
from __future__ import annotations
import hashlib, json, math, time
from contextlib import ExitStack, contextmanager
from pathlib import Path
import numpy as np
from soft_sampling.reliability import atomic_write_text, check_writable, run_lock

# two-sided 95% Student t quantiles, by degrees of freedom (no scipy in the environment)
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}

def t95(df:int) -> float:
    "The 0.975 quantile of Student's t with `df` degrees of freedom (the nearest tabulated df below; 1.96 beyond 30)."
    if df > 30: return 1.96
    return _T95[max(k for k in _T95 if k <= df)]

def seed_ci(values) -> list[float]:
    "[mean, lower, upper]: a 95% t interval over seeds (lower = upper = mean for one seed)."
    x = np.asarray(values, dtype=np.float64)
    m = float(x.mean())
    if len(x) < 2: return [m, m, m]
    h = t95(len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return [m, m - h, m + h]

def digest(obj) -> str:
    "A stable short digest of a JSON-able object (never `hash()`)."
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:12]

def log(*x):
    "Print a progress line, stamped with the time."
    print(time.strftime("%H:%M:%S"), *x, flush=True)

def step_timer(on_log=None):
    "A `TrainerCallback` keeping the wall time of each optimizer step in `.times`; `on_log(timer, state, logs)` runs at each log."
    from transformers import TrainerCallback
    class StepTimer(TrainerCallback):
        def __init__(self): self.times, self._t = [], None
        def on_step_begin(self, args, state, control, **kw): self._t = time.perf_counter()
        def on_step_end(self, args, state, control, **kw): self.times.append(time.perf_counter() - self._t)
        def on_log(self, args, state, control, logs=None, **kw):
            if on_log is not None: on_log(self, state, logs)
    return StepTimer()

# --- resumable runs ------------------------------------------------------------------------------------------

def run_path(out:Path, method:str, seed:int) -> Path: return out / "runs" / f"{method}-seed{seed}.json"

def done(path:Path, cfg:dict) -> bool:
    "Whether `path` holds a finished run with these settings."
    if not path.exists(): return False
    try: return json.loads(path.read_text())["config"] == cfg
    except (OSError, ValueError, KeyError): return False

@contextmanager
def claim(path:Path):
    "Hold the run's lock (`run_lock` on the folder `path`.lock) while the block runs; yields False when another live process holds it."
    d = path.with_suffix(".lock")
    with ExitStack() as stack:
        try: stack.enter_context(run_lock(d))
        except (ValueError, FileNotFoundError): yield False; return  # another live process does this run (or just removed its folder)
        yield True
    try: d.rmdir()
    except OSError: pass  # another process holds it again

def prepare(a, out:Path, cfg:dict, seeds:list[int]):
    "Check --out and --summarize_only before any slow work, and make the runs folder."
    if a.summarize_only and not any(done(run_path(out, m, s), cfg) for m in a.methods for s in seeds):
        raise ValueError(f"--summarize_only: {out / 'runs'} holds no finished run of these settings: run without --summarize_only first")
    check_writable(out, "--out")
    (out / "runs").mkdir(parents=True, exist_ok=True)

def pending(out:Path, cfg:dict, methods:list[str], seeds:list[int]) -> list[tuple[str, int]]:
    "The (method, seed) pairs without a finished run under `out`, seed by seed."
    return [(m, s) for s in seeds for m in methods if not done(run_path(out, m, s), cfg)]

def run_all(out:Path, cfg:dict, todo:list[tuple[str, int]], run_one, describe):
    "Run each of `todo` that no other process holds or has finished: `run_one(method, seed)` gives its record, written whole; `describe(method, seed, record)` its log line."
    for m, s in todo:
        path = run_path(out, m, s)
        if done(path, cfg): continue
        with claim(path) as mine:
            if not mine: continue
            t0 = time.time()
            rec = run_one(m, s)
            rec["run_seconds"] = time.time() - t0
            atomic_write_text(path, json.dumps(rec))  # whole or not at all: a rerun trusts what it finds
            log(describe(m, s, rec))

def write_summary(out:Path, summary:dict, plots) -> dict:
    "Write summary.json (atomically) and, when any method has runs, `plots(out, summary)`; returns `summary`."
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1))
    if summary["methods"]: plots(out, summary)
    return summary
