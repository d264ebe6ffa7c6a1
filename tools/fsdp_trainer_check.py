"""SoftDecodingTrainer (3 steps) or SoftGRPOTrainer (2 steps) through Trainer/accelerate's FSDP2 path on 2 gloo processes (or DDP, or 1 process).

Usage: [SHARDING=fsdp2|ddp] [SOFT_MODE=backprop] [GA=1] torchrun --nproc_per_node 2 tools/fsdp_trainer_check.py OUT sft|grpo no|yes|N
(no: train; N: stop after step N, as an interruption would; yes: resume from the last checkpoint in OUT). Writes OUT/weights_*.pt
(full weights) and OUT/info_*.json. Run by nbs/11_multi_gpu.ipynb."""
import json, os, sys, torch

def allow_fsdp_on_cpu():
    "accelerate 1.15 enables FSDP only for GPU-like devices (MULTI_GPU, ...); treat 2 CPU processes (MULTI_CPU) the same way."
    from accelerate.state import AcceleratorState
    from accelerate.utils import DistributedType
    init, seen = AcceleratorState.__init__, []
    def __init__(self, *args, fsdp_plugin=None, **kwargs):
        init(self, *args, fsdp_plugin=fsdp_plugin, **kwargs)
        if fsdp_plugin is not None: seen[:] = [fsdp_plugin]  # trl re-creates the state later without the plugin: keep the first one
        if seen and self.distributed_type == DistributedType.MULTI_CPU:
            self.distributed_type, self.fsdp_plugin = DistributedType.FSDP, seen[0]  # what accelerate does on MULTI_GPU
    AcceleratorState.__init__ = __init__

def main(out, which, resume):
    world = int(os.environ.get("WORLD_SIZE", 1))
    fsdp = world > 1 and os.environ.get("SHARDING", "fsdp2") == "fsdp2"  # else DDP
    if fsdp: allow_fsdp_on_cpu()
    from transformers import DataCollatorForLanguageModeling, TrainerCallback
    from soft_sampling.testing import mk_tiny_model_and_tokenizer
    dist_kw = {} if world == 1 else dict(ddp_backend="gloo")
    if fsdp: dist_kw.update(fsdp="full_shard", fsdp_config={"version": 2, "transformer_layer_cls_to_wrap": ["LlamaDecoderLayer"],
                                                           "state_dict_type": "SHARDED_STATE_DICT"})
    model, tok = mk_tiny_model_and_tokenizer("llama")
    stop = [StopAt(int(resume) if resume not in ("no", "yes") else 10**9)]
    if which == "sft":
        from soft_sampling.data import pydoc_topics_dataset, tokenize_and_chunk
        from soft_sampling.trainer import SoftDecodingTrainer, SoftDecodingTrainingArguments
        data = tokenize_and_chunk(pydoc_topics_dataset()["train"].select(range(8)), tok, block_size=32).select(range(24))
        ga = int(os.environ.get("GA", 1))  # gradient accumulation steps (the 4 rows of a step split over processes and micro-batches)
        args = SoftDecodingTrainingArguments(output_dir=out, per_device_train_batch_size=4 // world // ga, gradient_accumulation_steps=ga, max_steps=3, learning_rate=3e-3,
            logging_steps=1, save_strategy="steps", save_steps=1, report_to=[], seed=0, use_cpu=True, soft_mode=MODE, soft_top_k=20,
            guidance_min_alpha=0.3, **dist_kw)
        tr = SoftDecodingTrainer(model=model, args=args, train_dataset=data, data_collator=DataCollatorForLanguageModeling(tok, mlm=False), callbacks=stop)
    else:
        from datasets import Dataset
        from soft_sampling.grpo import SoftGRPOConfig, SoftGRPOTrainer
        tok.padding_side = "left"
        mdir = out + "/model"; model.save_pretrained(mdir); tok.save_pretrained(mdir)
        data = Dataset.from_dict({"prompt": [f"Count to {i}:" for i in range(16)]})
        reward = lambda completions, **kw: [float(len(c)) / 10 for c in completions]
        args = SoftGRPOConfig(output_dir=out, per_device_train_batch_size=4 // world, num_generations=4, max_completion_length=6,
            max_steps=2, learning_rate=1e-2, logging_steps=1, save_strategy="steps", save_steps=1, report_to=[], seed=0, use_cpu=True,
            bf16=False, soft_top_k=20, gradient_checkpointing=False, **dist_kw)
        tr = SoftGRPOTrainer(model=mdir, reward_funcs=reward, args=args, train_dataset=data, processing_class=tok, callbacks=stop)
    info = dict(is_fsdp_enabled=tr.is_fsdp_enabled)
    tr.train(resume_from_checkpoint=resume == "yes")
    sd = {k: v.full_tensor() if hasattr(v, "full_tensor") else v for k, v in tr.model.state_dict().items()}  # FSDP2: gather (every process)
    if tr.args.process_index == 0:
        info["sharded"] = type(next(iter(tr.model_wrapped.parameters()))).__name__
        info["steps_run"] = stop[0].steps_run
        info["losses"] = [h["loss"] for h in tr.state.log_history if "loss" in h]
        torch.save({k: v.detach().cpu().clone() for k, v in sd.items()}, out + f"/weights_{resume}.pt")
        json.dump(info, open(out + f"/info_{resume}.json", "w"))
    if world > 1:  # leave together: a process that exits while the other still talks to it aborts
        import torch.distributed as dist
        dist.barrier(); dist.destroy_process_group()

from transformers import TrainerCallback
class StopAt(TrainerCallback):
    "Stop after step `n`, as an interruption would."
    def __init__(self, n): self.n, self.steps_run = n, 0
    def on_step_end(self, args, state, control, **kw):
        self.steps_run += 1
        if state.global_step >= self.n: control.should_training_stop = True

MODE = os.environ.get("SOFT_MODE", "backprop")
if __name__ == "__main__": main(*sys.argv[1:4])
