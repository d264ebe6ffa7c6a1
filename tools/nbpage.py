"Print the docs page (`output-file`) that nbdev gives a notebook: `python tools/nbpage.py nbs/00_x.ipynb`."
import sys
from pathlib import Path
from nbdev.doclinks import _nbpath2html

print(_nbpath2html(Path(sys.argv[1])).name)
