#!/usr/bin/env bash
# The main job: set up .venv (see tools/env.sh), then run it on the embedded defaults, offline.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# Until the trainers land: the distribution builder on the embedded SmolLM2.
python - <<'PY'
import torch
from soft_sampling import load_model_and_tokenizer, mk_proba_dist
model, tok = load_model_and_tokenizer()
enc = tok("The capital of France is", return_tensors="pt")
with torch.no_grad(): logits = model(**enc).logits[0, -1]
for kw in [dict(), dict(temperature=0.7, top_k=20), dict(top_p=0.9), dict(min_p=0.1)]:
    p = mk_proba_dist(logits, **kw)
    top = p.topk(5)
    print(f"{str(kw):40} support {int((p > 0).sum()):6d}  " + "  ".join(f"{tok.decode(int(i))!r}:{v:.2f}" for v, i in zip(top.values, top.indices)))
PY
