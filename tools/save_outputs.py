#!/usr/bin/env python
"""Run a notebook and save its outputs in it, so that its docs page shows them: `python tools/save_outputs.py nbs/NB.ipynb [--cells 12 14 ...]`.

Cells flagged with a test flag of settings.ini (`#| slow`) or `#| eval: false` are skipped, as `nbdev_test` skips them.
With `--cells`, every cell still runs but only the listed cells (indices in the notebook) keep their outputs: the
result cells, not the log of a smoke run; with `--only` too, only those cells run and the others keep what they had. Run `nbdev_clean` afterwards."""
import argparse, os, re, sys
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def skip(cell, flags=('slow', 'notest')):
    "Whether `nbdev_test` would skip `cell`."
    if cell.cell_type != 'code': return True
    if 'nbdev_export(' in cell.source: return True
    ds = re.findall(r'^\s*#\s*\|\s*(.+)$', cell.source, flags=re.M)
    return any(d.split()[0] in flags or re.match(r'eval\s*:\s*false', d, re.I) for d in ds)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('nb', type=Path); p.add_argument('--cells', type=int, nargs='*', default=None, help='indices of the cells whose outputs are kept (default: all)')
    p.add_argument('--only', action='store_true', help='run only the --cells (self-contained ones), keep the other cells as they are')
    a = p.parse_args(argv)
    nb = read_nb(a.nb)
    os.environ['IN_TEST'] = '1'
    cwd = os.getcwd(); os.chdir(a.nb.parent)
    keep = {i: c.get('outputs') for i, c in enumerate(nb.cells)} if a.only else {}
    pre = (lambda c: skip(c) or nb.cells.index(c) not in a.cells) if a.only else skip
    try: CaptureShell(a.nb).run_all(nb, exc_stop=True, preproc=pre)
    finally: os.chdir(cwd)
    for i, c in enumerate(nb.cells):
        if a.only and i not in a.cells:
            if c.cell_type == 'code': c.outputs = keep[i]
        elif c.cell_type == 'code' and a.cells is not None and i not in a.cells: c.outputs, c.execution_count = [], None
    write_nb(nb, a.nb)
    print(f'save_outputs: {a.nb}: outputs kept in {sum(bool(c.get("outputs")) for c in nb.cells)} cells')

if __name__ == '__main__': main()
