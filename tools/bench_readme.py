#!/usr/bin/env python
"""Write bench/README.md's result tables from the committed bench/*/summary.json: `python tools/bench_readme.py [--check]`.

Each table sits between `<!-- table: NAME -->` and `<!-- end table -->`, where NAME is a folder of bench/ (its
summary.json is rendered by the benchmark's own `table`; `<!-- table: NAME curve -->`: the held-out NLL curve of each
method, by step). `--check`: exit 1, writing nothing, if the file is not what
the summaries give (the test suite runs this)."""
import importlib.util, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / 'bench'
SCRIPTS = {'grpo': 'bench_grpo_learning.py', 'soft_rl-mnns': 'bench_soft_rl.py', 'soft_rl-smollm2': 'bench_soft_rl.py:smol_section',
           'soft_forward': 'bench_soft_forward.py', 'soft_forward-top_k50': 'bench_soft_forward.py', 'cot2': 'bench_cot2.py', 'cot2-long': 'bench_cot2.py',
           'cot2-grpo': 'bench_cot2.py:grpo_table', 'soft_thinking': 'bench_soft_thinking.py:readme_section',
           'estimator-bias': 'bench_estimator_bias.py:table', 'grpo-step': 'bench_grpo.py'}  # the script whose `table` renders a folder's summary; default bench_exposure.py
MARK = re.compile(r'(<!-- table: ([\w.-]+)( curve)? -->\n).*?(<!-- end table -->)', re.S)

def script(name:str):
    "The benchmark script of bench/ folder `name`, loaded as a module."
    f = BENCH / SCRIPTS.get(name, 'bench_exposure.py').split(':')[0]
    spec = importlib.util.spec_from_file_location(f.stem, f); mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH)); spec.loader.exec_module(mod)
    return mod

def curve(summary:dict) -> str:
    "A markdown table of each method's held-out NLL by step: mean [95% t interval over seeds]."
    ms = summary['methods']; steps = sorted({int(k) for e in ms.values() for k in e['curve']})
    f = lambda v: '-' if v is None else f"{v[0]:.2f} [{v[1]:.2f}, {v[2]:.2f}]"
    rows = ['| step | ' + ' | '.join(ms) + ' |', '|---|' + '---|' * len(ms)]
    rows += [f"| {s} | " + ' | '.join(f(e['curve'].get(str(s))) for e in ms.values()) + ' |' for s in steps]
    return '\n'.join(rows)

def render(text:str) -> str:
    "`text` with each marked table rewritten from its summary."
    def table(m):
        summary = json.loads((BENCH / m.group(2) / 'summary.json').read_text())
        fn = (SCRIPTS.get(m.group(2), '').split(':')[1:] or ['table'])[0]  # 'script.py:function' names another renderer than `table`
        body = curve(summary) if m.group(3) else getattr(script(m.group(2)), fn)(summary)
        return m.group(1) + body.rstrip() + '\n' + m.group(4)
    return MARK.sub(table, text)

def main(argv):
    path = BENCH / 'README.md'
    old = path.read_text(); new = render(old)
    if '--check' in argv:
        if new != old: print('bench/README.md: its tables differ from bench/*/summary.json: run python tools/bench_readme.py'); return 1
        return 0
    path.write_text(new); print(f'bench/README.md: {len(MARK.findall(new))} tables written')
    return 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
