"""Benchmark: training steps of SoftGRPOTrainer (each rollout mode) against stock trl GRPOTrainer on the same model,
data and batch, in one process. Completions are forced to the full max_completion_length (EOS disabled) so every
trainer does the same amount of work. Prints the median step time of each and the ratio to stock.

    python bench/bench_grpo.py                       # embedded SmolLM2, 4 prompts x 4 generations, 32 tokens
    python bench/bench_grpo.py --steps 4 --max_completion_length 64
    python bench/bench_grpo.py --trainers stock,soft,mix,multiplex,gaussian,gumbel --top_k 0 --json bench/grpo-step/summary.json   # the committed run
"""
import argparse, json, os, statistics, tempfile, warnings
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
warnings.filterwarnings("ignore")
import torch
from common import step_timer  # bench/common.py: the wall time of each optimizer step, generation included

def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model id or folder (default: the embedded SmolLM2)")
    ap.add_argument("--prompts", type=int, default=4, help="prompts per step")
    ap.add_argument("--num_generations", type=int, default=4)
    ap.add_argument("--max_completion_length", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up step)")
    ap.add_argument("--top_k", type=int, default=50, help="top-k of the sampling distribution (0: off; gaussian and gumbel refuse truncation)")
    ap.add_argument("--trainers", default="stock,soft,mix,multiplex")
    ap.add_argument("--json", default=None)
    return ap.parse_args()

NAMES = {"stock": "stock `GRPOTrainer` (`generate` + fused log-probs)", "soft": "`SoftGRPOTrainer`, rollout `soft`", "mix": "`SoftGRPOTrainer`, rollout `mix`",
         "multiplex": "`SoftGRPOTrainer`, rollout `multiplex` (K=3)", "gaussian": "`SoftGRPOTrainer`, rollout `gaussian`", "gumbel": "`SoftGRPOTrainer`, rollout `gumbel`"}

def table(summary:dict) -> str:
    "Markdown: each trainer's median step time and its ratio to stock (from a --json summary)."
    a, res = summary["args"], summary["results"]
    rows = [f"{a['prompts']} prompts x {a['num_generations']} generations, completions forced to {a['max_completion_length']} tokens (EOS disabled for all), "
            f"top-k {a['top_k'] or 'off'}, beta 0, median of {a['steps']} steps after a warm-up step, wall clock; the step time includes generation and the loss.", "",
            "| trainer | seconds per step | ratio to stock |", "|---|---|---|"]
    for k, v in res.items():
        rows.append(f"| {NAMES.get(k, k)} | {v['seconds']:.2f} | " + ("1" if k == "stock" else f"{v['seconds'] / res['stock']['seconds']:.2f}x") + " |")
    return "\n".join(rows)

def main():
    a = parse()
    from transformers import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer
    from soft_sampling import load_model_and_tokenizer, arithmetic_dataset, length_reward
    from soft_sampling.grpo import SoftGRPOConfig, SoftGRPOTrainer
    model, tok = load_model_and_tokenizer(a.model)
    model_dir = tempfile.mkdtemp()
    model.save_pretrained(model_dir); tok.save_pretrained(model_dir)
    data = arithmetic_dataset(n=a.prompts * (a.steps + 1), seed=0)
    common = dict(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=a.prompts * a.num_generations, num_generations=a.num_generations,
                  max_completion_length=a.max_completion_length, max_steps=a.steps + 1, learning_rate=1e-6, bf16=False, use_cpu=True,
                  report_to=[], logging_steps=1, save_strategy="no", seed=0, top_k=a.top_k, beta=0.0, disable_tqdm=True)
    print(f"model {model.name_or_path}  {a.prompts} prompts x {a.num_generations} generations x {a.max_completion_length} tokens"
          f"  top_k {a.top_k}  threads {torch.get_num_threads()}  torch {torch.__version__}", flush=True)
    res = {}
    for name in a.trainers.split(","):
        timer = step_timer()
        if name == "stock": tr = GRPOTrainer(model=model_dir, reward_funcs=length_reward, args=GRPOConfig(**common), train_dataset=data, processing_class=tok)
        else: tr = SoftGRPOTrainer(model=model_dir, reward_funcs=length_reward, args=SoftGRPOConfig(**common, soft_rollout=name), train_dataset=data, processing_class=tok)
        tr.eos_token_ids = [-1]  # never stop early: every completion is max_completion_length tokens
        if getattr(tr, "generation_config", None) is not None: tr.generation_config.eos_token_id = None
        tr.add_callback(timer); tr.remove_callback(PrinterCallback)
        tr.train()
        lengths = [h["completions/mean_length"] for h in tr.state.log_history if "completions/mean_length" in h]
        sec = statistics.median(timer.times[1:])
        res[name] = dict(seconds=sec, mean_completion_length=sum(lengths) / len(lengths))
        print(f"{name:10} {sec:8.2f} s/step   completions {res[name]['mean_completion_length']:.0f} tokens", flush=True)
    if "stock" in res:
        print()
        for k, v in res.items():
            if k != "stock": print(f"SoftGRPOTrainer({k}) {v['seconds'] / res['stock']['seconds']:.2f} x a stock GRPOTrainer step")
    if a.json:
        with open(a.json, "w") as f: json.dump(dict(args=vars(a), torch=torch.__version__, threads=torch.get_num_threads(), results=res), f, indent=1)

if __name__ == "__main__": main()
