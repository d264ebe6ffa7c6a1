#!/usr/bin/env bash
# The main job: set up .venv (see tools/env.sh), then fine-tune the embedded SmolLM2-135M-Instruct on Python's
# documentation with scheduled soft sampling, offline: `soft-sampling sft` with its defaults (about 4 minutes on
# 2 CPU cores). Output, checkpoints and plots in runs/sft/. Extra arguments go to `soft-sampling sft`, e.g.
# `bash tools/main.sh --max_steps 100 --soft_mode backprop`, `bash tools/main.sh --help`.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
args=("$@")
# A second run continues the first from its last checkpoint instead of refusing its output folder.
if [ ${#args[@]} -eq 0 ] && ls runs/sft/checkpoint-* >/dev/null 2>&1; then args=(--resume_from_checkpoint last); fi
soft-sampling sft "${args[@]}"
