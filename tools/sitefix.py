"""What tools/quarto does to nbdev's processed notebooks before smalldocs renders them, and to the HTML after.

Before: saved outputs lose progress bars, library warnings and build-machine paths; `show_doc` outputs are
written again as a short signature, the docstring and a table of the parameters (nbdev's docments table),
and argument dataclasses that extend transformers/trl list only the fields this library adds.
After: links into the site become relative, links to symbols that have no docs entry become plain code,
and maths is rendered to HTML with KaTeX at build time (KaTeX's CSS and fonts ship in `site_libs/katex/`),
so the site works offline, from any folder or from file://."""
import html, importlib, inspect, json, os, re, shutil, subprocess, sys, tarfile, tempfile
from dataclasses import fields, is_dataclass
from pathlib import Path

# ---------------------------------------------------------------- outputs
_bar = re.compile(r'\d+%\|.*\|\s*\d+/\d+|\|\s*\d+/\d+ \[\d|it/s\]|s/it\]|examples/s\]')
_warn = re.compile(r'^\S.*:\d+: \w*Warning: ')

def _carriage(text):
    "What a terminal shows of `text`: each line's last carriage-return segment."
    return '\n'.join(l.rsplit('\r', 1)[-1] if '\r' in l.rstrip('\r') else l.rstrip('\r') for l in text.split('\n'))

def _drop_noise(text):
    "`text` without progress-bar lines and Python warnings (with the source line a warning quotes)."
    out, skip = [], False
    for l in _carriage(text).split('\n'):
        if skip and l.startswith((' ', '\t')): skip = False; continue
        skip = False
        if _bar.search(l): continue
        if _warn.search(l): skip = True; continue
        out.append(l)
    return '\n'.join(out)

def path_subs(root):
    "(pattern, replacement) pairs that hide this machine's paths: the checkout, temp folders, site-packages, home."
    root = str(Path(root).resolve())
    return [(re.compile(re.escape(root) + r'/?'), ''),
            (re.compile(r'(?:/[\w.+-]+)*/(?:site|dist)-packages/'), 'site-packages/'),
            (re.compile(r'/tmp/[\w.-]+'), '$TMPDIR'),
            (re.compile(r'(?:/root|/home/[\w.-]+|/Users/[\w.-]+)/'), '~/')]

def scrub(text, subs):
    for pat, rep in subs: text = pat.sub(rep, text)
    return text

def _src(x): return ''.join(x) if isinstance(x, list) else (x or '')

def clean_outputs(nb, subs):
    "Drop progress bars, warnings, empty streams and machine paths from the saved outputs of notebook `nb` (a dict)."
    for c in nb.get('cells', []):
        if c.get('cell_type') != 'code': continue
        outs = []
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream':
                t = scrub(_drop_noise(_src(o.get('text'))), subs)
                t = re.sub(r'\n{3,}', '\n\n', t)
                if not t.strip(): continue
                o['text'] = t.strip('\n') + '\n'
            elif 'data' in o:
                for k in ('text/plain', 'text/markdown', 'text/html'):
                    if k in o['data']: o['data'][k] = scrub(_src(o['data'][k]), subs)
            elif o.get('output_type') == 'error': o['traceback'] = [scrub(_src(t), subs) for t in o.get('traceback', [])]
            outs.append(o)
        c['outputs'] = outs
    return nb

# ---------------------------------------------------------------- show_doc
HF_DOCS = {  # where the foreign base classes' parameters are documented
    'TrainingArguments': 'https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments',
    'Trainer': 'https://huggingface.co/docs/transformers/main_classes/trainer#transformers.Trainer',
    'GRPOConfig': 'https://huggingface.co/docs/trl/grpo_trainer#trl.GRPOConfig',
    'GRPOTrainer': 'https://huggingface.co/docs/trl/grpo_trainer#trl.GRPOTrainer',
}
_re_showdoc = re.compile(r'^---\s*\n+(?:\[source\]\((?P<src>[^)]*)\)\{[^}]*\}\s*\n+)?(?P<h>#+) (?P<name>\S+)\s*\n+```python\n(?P<sig>.*?)\n```\s*(?P<doc>.*)$', re.S)

def _foreign(cls, lib):
    "Is `cls` defined outside the package `lib` (and not a builtin)?"
    m = getattr(cls, '__module__', '') or ''
    return not (m == lib or m.startswith(lib + '.')) and m != 'builtins'

def _short(o, n=40):
    s = o.__name__ if isinstance(o, type) else repr(o)
    return s if len(s) <= n else s[:n - 1] + '…'

def _anno(a):
    if a is inspect.Parameter.empty: return ''
    s = a if isinstance(a, str) else inspect.formatannotation(a)
    return re.sub(r'\b(?:typing|collections\.abc|torch\.nn\.modules\.module|transformers\.[\w.]+)\.', '', s.strip("'"))

def _cell(s): return str(s).replace('|', '\\|').replace('\n', ' ')

def _wrap_sig(head, parts, tail, width=62):
    "`head(p1, p2, ...)tail`, wrapped between parameters at `width` columns with a 4-space indent."
    one = f"{head}({', '.join(parts)}){tail}"
    if len(one) <= width: return one
    lines, cur = [], '    '
    for p in parts:
        if len(cur) + len(p) + 2 > width and cur.strip(): lines.append(cur.rstrip()); cur = '    '
        cur += p + ', '
    lines.append(cur.rstrip().rstrip(','))
    return f"{head}(\n" + '\n'.join(lines) + f"\n){tail}"

def _resolve(src, name, lib):
    "The object a show_doc heading names, found through its source link (`.../lib/mod.py#L12`)."
    m = re.search(r'/blob/[^/]+/([\w/]+)\.py(?:#L\d+)?$', src or '')
    mods = [m.group(1).replace('/', '.')] if m else []
    mods.append(lib)
    for mod in mods:
        try: o = importlib.import_module(mod)
        except Exception: continue
        try:
            for part in name.split('.'): o = getattr(o, part)
            return o
        except AttributeError: continue
    return None

def _params(obj):
    "(signature, docments dict) of `obj`, or (None, {})."
    from fastcore.docments import docments
    try: sig = inspect.signature(obj)
    except (TypeError, ValueError): return None, {}
    try: dm = docments(obj, full=True)
    except Exception: dm = {}
    return sig, dm

def render_doc(obj, name, lib, linkify=lambda s: s):
    "Markdown for `obj`: a wrapped signature without types, the docstring, and a docments table of the parameters."
    is_cls = inspect.isclass(obj)
    target = obj.__init__ if is_cls and not is_dataclass(obj) and '__init__' in obj.__dict__ else obj
    sig, dm = _params(target)
    doc = inspect.getdoc(obj) if not is_cls or obj.__doc__ else ''
    if is_cls and obj.__doc__ is None: doc = ''
    own, inherited = None, None
    if is_cls and is_dataclass(obj):
        bases = [b for b in obj.__mro__[1:] if is_dataclass(b) and _foreign(b, lib)]
        if bases:
            ours = set()
            for k in obj.__mro__:
                if not _foreign(k, lib): ours |= set(k.__dict__.get('__annotations__', {}))
            own = [f.name for f in fields(obj) if f.name in ours]
            inherited = bases[0]
    rows, parts = [], []
    fmeta = {f.name: f for f in fields(obj)} if is_cls and is_dataclass(obj) else {}
    if sig is not None:
        ps = [p for p in sig.parameters.values() if p.name not in ('self', 'cls')]
        for p in ps:
            if own is not None and p.name not in own: continue
            star = '*' if p.kind == p.VAR_POSITIONAL else '**' if p.kind == p.VAR_KEYWORD else ''
            d = '' if p.default is p.empty else _short(p.default)
            if p.name in fmeta and d == '<factory>': d = _short(fmeta[p.name].default_factory())
            parts.append(star + p.name + (f'={d}' if d else ''))
            info = dm.get(p.name, {}) if isinstance(dm.get(p.name), dict) else {}
            help_ = info.get('docment') or (fmeta[p.name].metadata.get('help', '') if p.name in fmeta else '')
            rows.append((star + p.name, _anno(p.annotation), d, help_ or ''))
        if own is not None: parts.append('...')
    kw = 'class' if is_cls else ('async def' if inspect.iscoroutinefunction(obj) else 'def')
    ret = ''
    if sig is not None and not is_cls and sig.return_annotation is not sig.empty: ret = f" -> {_anno(sig.return_annotation)}"
    short = name.split('.')[-1] if not is_cls else name
    md = [f"```python\n{kw} {_wrap_sig(short, parts, ret) if sig is not None else short}\n```"]
    if doc: md.append(linkify(f"*{doc.splitlines()[0]}*" + ('\n\n' + '\n'.join(doc.splitlines()[1:]).strip() if len(doc.splitlines()) > 1 else '')))
    if inherited is not None:
        url = HF_DOCS.get(inherited.__name__)
        ref = f"[`{inherited.__module__.split('.')[0]}.{inherited.__name__}`]({url})" if url else f"`{inherited.__module__}.{inherited.__name__}`"
        n = len(fields(obj)) - len(own)
        md.append(f"The fields this library adds are below; the {n} others are those of {ref}, with its defaults.")
    elif is_cls and sig is not None and any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        base = next((b for b in obj.__mro__[1:] if _foreign(b, lib) and b is not object), None)
        if base is not None:
            url = HF_DOCS.get(base.__name__)
            ref = f"[`{base.__module__.split('.')[0]}.{base.__name__}`]({url})" if url else f"`{base.__module__}.{base.__name__}`"
            only_var = all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for n, p in sig.parameters.items() if n != 'self')
            md.append(f"Takes the arguments of {ref}." if only_var else f"Other keyword arguments go to {ref}.")
    if is_cls and own is None and rows:  # a subclass of a transformers/trl class: its inherited parameters are documented there
        base = next((b for b in obj.__mro__[1:] if _foreign(b, lib) and b is not object), None)
        try: base_ps = set(inspect.signature(base.__init__).parameters) if base is not None else set()
        except (TypeError, ValueError): base_ps = set()
        same = [r for r in rows if not r[3] and r[0] in base_ps]
        if same:
            rows = [r for r in rows if r not in same]
            url = HF_DOCS.get(base.__name__)
            ref = f"[`{base.__module__.split('.')[0]}.{base.__name__}`]({url})" if url else f"`{base.__module__}.{base.__name__}`"
            md.append(f"{', '.join(f'`{r[0]}`' for r in same)}: as in {ref}.")
    if rows and any(r[3] for r in rows) or (own is not None and rows):
        t = ['| Parameter | Details |', '|---|---|']
        for n, a, d, x in rows:
            head = f"`{_cell(n)}`" + (f": `{_cell(a)}`" if a else '') + (f" = `{_cell(d)}`" if d else '')
            t.append(f"| {head} | {_cell(linkify(x)) if x else ''} |")
        md.append('\n'.join(t))
    return '\n\n'.join(md)

def rewrite_show_docs(nb, lib, linkify=lambda s: s):
    "Write each `show_doc` output of `nb` again with `render_doc`; keep nbdev's own when the symbol cannot be found."
    n = 0
    for c in nb.get('cells', []):
        if c.get('cell_type') != 'code': continue
        for o in c.get('outputs', []):
            md = _src(o.get('data', {}).get('text/markdown'))
            m = _re_showdoc.match(md)
            if not m: continue
            name, src = m.group('name'), m.group('src')
            obj = _resolve(src, name, lib)
            head = (f"[source]({src}){{target=\"_blank\" style=\"float:right; font-size:smaller\"}}\n\n" if src else '') + f"{m.group('h')} {name}\n\n"
            if obj is None or not callable(obj):  # nbdev's text, without the empty line nbdev leaves in a signature without parameters
                body = re.sub(r'\(\n\s*\n\)', '()', f"```python\n{m.group('sig').strip()}\n```\n\n{m.group('doc')}")
            else:
                try: body = render_doc(obj, name, lib, linkify)
                except Exception as e:
                    print(f"tools/quarto: show_doc of {name} kept as nbdev wrote it ({type(e).__name__}: {e})", file=sys.stderr)
                    continue
            o['data']['text/markdown'] = '---\n\n' + head + body
            n += 1
    return n

# ---------------------------------------------------------------- prose
_opt = re.compile(r'(?<![\w`/-])(--[A-Za-z][\w-]*)')  # a command-line option: `--temperature`, not "–temperature"
_placeholder = re.compile(r'(?<![\w`])(\w+<\w+>\w*)')  # `eval_loss_alpha_<a>`, whose <a> a browser takes for a tag
_code = re.compile(r'(```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|\]\([^)]*\)|(?<!\w)<[^>\n]*>)', re.S)

def protect_code(text):
    "Markdown `text` with bare command-line options and `name_<x>` placeholders put in code spans (outside code, maths, link targets and tags)."
    parts = _code.split(text)
    for i in range(0, len(parts), 2):
        t = _placeholder.sub(r'`\1`', parts[i])
        parts[i] = _opt.sub(r'`\1`', t)
    return ''.join(parts)

def protect_notebook(nb):
    "`protect_code` on the markdown cells and markdown outputs of notebook `nb` (a dict)."
    for c in nb.get('cells', []):
        if c.get('cell_type') == 'markdown': c['source'] = protect_code(_src(c['source']))
        for o in c.get('outputs', []):
            if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = protect_code(_src(o['data']['text/markdown']))
    return nb

# ---------------------------------------------------------------- KaTeX
KATEX_VERSION = '0.16.11'

def katex_dir():
    "KaTeX's npm package, fetched once with `npm pack` into the user cache (`SOFT_SAMPLING_CACHE` overrides)."
    base = Path(os.environ.get('SOFT_SAMPLING_CACHE') or Path(os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache') / 'soft_sampling')
    d = base / f'katex-{KATEX_VERSION}'
    if (d / 'package' / 'dist' / 'katex.min.css').exists(): return d
    if not shutil.which('npm'): sys.exit(f"tools/quarto: maths needs KaTeX {KATEX_VERSION}: install npm (Node.js), or put its npm package in {d}/package")
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        r = subprocess.run(['npm', 'pack', f'katex@{KATEX_VERSION}', '--pack-destination', tmp, '--silent'], capture_output=True, text=True)
        tgz = list(Path(tmp).glob('katex-*.tgz'))
        if r.returncode or not tgz: sys.exit(f"tools/quarto: `npm pack katex@{KATEX_VERSION}` failed: {(r.stderr or r.stdout).strip()[-500:]}")
        out = Path(tmp) / 'x'
        with tarfile.open(tgz[0]) as t:
            try: t.extractall(out, filter='data')
            except TypeError: t.extractall(out)  # Python without extraction filters (before 3.10.12 / 3.11.4)
        shutil.rmtree(d, ignore_errors=True)
        (out).rename(d)
    return d

_re_math = re.compile(r'<span class="math (inline|display)">\\[(\[](.*?)\\[)\]]</span>', re.S)
_re_katex_tags = re.compile(r'<link rel="stylesheet" href="https://cdn\.jsdelivr\.net/npm/katex@[^"]*katex\.min\.css">|<script src="https://cdn\.jsdelivr\.net/npm/katex@[^"]*" defer></script>')

def render_math(pages, site):
    "Replace the TeX of each page's maths with KaTeX's HTML (one node process for the whole site)."
    found = {p: _re_math.findall(p.read_text()) for p in pages}
    items = sorted({(kind == 'display', html.unescape(tex)) for fs in found.values() for kind, tex in fs})
    if not items: return 0
    kd = katex_dir()
    js = ("const katex=require(process.argv[1]);let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{"
          "const out=JSON.parse(s).map(([d,t])=>{try{return katex.renderToString(t,{displayMode:d,throwOnError:true,output:'html'})}"
          "catch(e){return {error:String(e.message||e)}}});process.stdout.write(JSON.stringify(out))});")
    r = subprocess.run(['node', '-e', js, str(kd / 'package')], input=json.dumps(items), capture_output=True, text=True)
    if r.returncode: sys.exit(f"tools/quarto: KaTeX failed: {r.stderr.strip()[-800:]}")
    rendered = dict(zip(items, json.loads(r.stdout)))
    bad = [(t, h['error']) for (d, t), h in rendered.items() if isinstance(h, dict)]
    if bad: sys.exit('tools/quarto: KaTeX cannot render: ' + '; '.join(f'{t!r}: {e}' for t, e in bad[:5]))
    dest = site / 'site_libs' / 'katex'
    if dest.exists(): shutil.rmtree(dest)
    (dest / 'fonts').mkdir(parents=True)
    shutil.copy(kd / 'package' / 'dist' / 'katex.min.css', dest)
    for f in (kd / 'package' / 'dist' / 'fonts').iterdir():
        if f.suffix in ('.woff2', '.woff'): shutil.copy(f, dest / 'fonts')
    n = 0
    for p, fs in found.items():
        if not fs: continue
        s = p.read_text()
        s = _re_math.sub(lambda m: f'<span class="math {m.group(1)}">{rendered[(m.group(1) == "display", html.unescape(m.group(2)))]}</span>', s)
        off = '../' * (len(p.relative_to(site).parts) - 1)
        s = _re_katex_tags.sub('', s).replace('</head>', f'<link rel="stylesheet" href="{off}site_libs/katex/katex.min.css"></head>', 1)
        p.write_text(s); n += len(fs)
    return n

# ---------------------------------------------------------------- links
_re_a = re.compile(r'<a (?P<pre>[^>]*?)href="(?P<href>[^"]*)"(?P<post>[^>]*)>(?P<txt>.*?)</a>', re.S)
_re_id = re.compile(r'\sid="([^"]*)"')

def relative_links(pages, site, bases):
    "Links to the published site (`bases`) become relative; links to a missing anchor on a code symbol become the code alone."
    ids = {p.relative_to(site).as_posix(): set(_re_id.findall(p.read_text())) for p in pages}
    fixed = unlinked = 0
    for p in pages:
        rel = p.relative_to(site)
        off = '../' * (len(rel.parts) - 1)
        def sub(m):
            nonlocal fixed, unlinked
            href = m.group('href')
            for b in bases:
                if href.startswith(b):
                    href = off + (href[len(b):].lstrip('/') or 'index.html'); fixed += 1
                    break
            if not re.match(r'^[a-z]+:|^#|^/', href) or href.startswith('#'):
                page, _, frag = href.partition('#')
                tgt = (Path(rel.parent) / page).as_posix() if page else rel.as_posix()
                tgt = os.path.normpath(tgt)
                if frag and tgt in ids and frag not in ids[tgt] and re.fullmatch(r'\s*<code>[^<]*</code>\s*', m.group('txt')):
                    unlinked += 1
                    return m.group('txt')
            return f'<a {m.group("pre")}href="{href}"{m.group("post")}>{m.group("txt")}</a>'
        s = p.read_text()
        p.write_text(_re_a.sub(sub, s))
    return fixed, unlinked

def site_bases():
    "The published site's base URLs as nbdev and nbdev.yml spell them."
    out = []
    try:
        from nbdev.config import get_config
        cfg = get_config()
        out.append(cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/')
    except Exception: pass
    return [b for b in dict.fromkeys(out) if b and b != '/']

def postprocess(site, bases=None):
    "Relative links, missing anchors unlinked, maths rendered: everything tools/quarto does to the built HTML."
    site = Path(site)
    pages = sorted(site.rglob('*.html'))
    fixed, unlinked = relative_links(pages, site, site_bases() if bases is None else bases)
    n = render_math(pages, site)
    return dict(links_made_relative=fixed, links_to_missing_anchors_unlinked=unlinked, formulas=n)
