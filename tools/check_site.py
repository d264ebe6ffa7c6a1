#!/usr/bin/env python
"""Check a built docs site: `python tools/check_site.py [_docs]` (`--selftest`: check the checker). Exit 1, listing each problem, if any page has
- a relative link (a, link, script, img) to a file that is not in the site, or to an anchor that is not on its page;
- a link into the published site (settings.ini's doc_host/doc_baseurl) instead of a relative one;
- a script or stylesheet from the network (the site must work offline);
- maths left as raw TeX (a `math` span KaTeX did not render, or `\\(`, `\\[`, `$$` in the text);
- a path of the machine that built it (the checkout, /tmp, /root, /home, site-packages) or a Python warning in its text;
- a results section (a heading with "result" in it) whose code cells show no output: evidence the page does not show."""
import os, re, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

RAW = {'script', 'style'}
RESULTS = re.compile(r'\bresults?\b', re.I)
CODE = {'code', 'pre'}

class Page(HTMLParser):
    "The ids, links, text and maths of one page."
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.text, self.code_text, self.math = set(), [], [], [], []
        self.stack, self._math = [], []
        self.sections, self.empty_results = [], []  # open <section>s: [depth, heading, code cells, outputs]
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        for k in ('href', 'src'):
            if a.get(k) is not None and tag in ('a', 'link', 'script', 'img', 'iframe', 'source'): self.links.append((tag, k, a[k], a.get('rel')))
        if tag in ('br', 'img', 'meta', 'link', 'input', 'hr', 'wbr', 'source'): return
        cls = (a.get('class') or '').split()
        self.stack.append(tag)
        if tag == 'section': self.sections.append([len(self.stack), None, 0, 0])
        for sec in self.sections:  # a notebook cell's code (`pre.cell-code`) and its outputs (`div.cell-output`)
            if 'cell-code' in cls: sec[2] += 1
            if tag == 'div' and 'cell-output' in cls: sec[3] += 1
        if tag in ('h1', 'h2', 'h3', 'h4', 'h5', 'h6') and self.sections and self.sections[-1][1] is None: self.sections[-1][1] = ''
        if tag == 'span' and 'math' in cls: self._math.append([len(self.stack), False, ''])
        if self._math and 'katex' in cls: self._math[-1][1] = True

    def handle_endtag(self, tag):
        if tag not in self.stack: return
        while self.stack:
            t = self.stack.pop()
            if self.sections and self.sections[-1][0] > len(self.stack):
                _, head, code, outs = self.sections.pop()
                if head and RESULTS.search(head) and code and not outs: self.empty_results.append(' '.join(head.split()))
            if self._math and self._math[-1][0] > len(self.stack): self.math.append(tuple(self._math.pop()[1:]))
            if t == tag: break

    def handle_data(self, data):
        if any(t in RAW for t in self.stack): return
        (self.code_text if any(t in CODE for t in self.stack) else self.text).append(data)
        if self.sections and self.sections[-1][1] is not None and any(t[0] == 'h' and t[1:].isdigit() for t in self.stack[self.sections[-1][0]:]):
            self.sections[-1][1] += data
        if self._math and not self._math[-1][1]: self._math[-1][2] += data

def machine_paths(root):
    "Patterns of paths that belong to the machine that built the site."
    pats = [r'(?<![\w.~$])/tmp/[\w.-]', r'(?<![\w.~$])/root/', r'(?<![\w.~$])/home/[\w.-]+/', r'(?<![\w.~$])/Users/[\w.-]+/', r'/[\w.-]+/(?:site|dist)-packages/']
    if root: pats.append(re.escape(str(Path(root).resolve())))
    return re.compile('|'.join(pats))

def published_bases():
    try:
        from nbdev.config import get_config
        cfg = get_config()
        return [cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/')]
    except Exception: return []

def check(site, root=None, bases=None):
    "The problems of the site in folder `site`, as lines of text."
    site = Path(site)
    pages = {p.relative_to(site).as_posix(): Page(p.read_text(errors='replace')) for p in sorted(site.rglob('*.html'))}
    bases = published_bases() if bases is None else bases
    paths, probs = machine_paths(root), []
    tex = re.compile(r'\\\(|\\\)|\\\[.*?\\\]|\$\$|(?<![\w$])\$[^$\s][^$]*\\[a-zA-Z]+[^$]*\$')
    for name, pg in pages.items():
        here = Path(name).parent
        for tag, attr, url, rel in pg.links:
            u = urlsplit(url)
            if u.scheme in ('http', 'https') or url.startswith('//'):
                if any(url.startswith(b) for b in bases): probs.append(f"{name}: link into the unpublished site, not relative: {url}")
                elif tag == 'script' or (tag == 'link' and rel and 'stylesheet' in rel): probs.append(f"{name}: loads {url} from the network")
                continue
            if u.scheme or url.startswith('/'): continue  # mailto:, javascript:, data:, site-absolute
            target = os.path.normpath((here / unquote(u.path)).as_posix()) if u.path else name
            if u.path and not (site / target).exists(): probs.append(f"{name}: broken link {url}"); continue
            if u.fragment and target.endswith('.html') and u.fragment not in pages.get(target, Page('')).ids:
                probs.append(f"{name}: missing anchor #{u.fragment} (link {url})")
        for rendered, txt in pg.math:
            if not rendered: probs.append(f"{name}: maths left as TeX: {txt.strip()[:80]}")
        prose = ' '.join(pg.text)
        for m in tex.finditer(prose): probs.append(f"{name}: raw TeX in the text: ...{prose[max(0, m.start() - 30):m.end() + 30]}...")
        every = prose + '\n' + '\n'.join(pg.code_text)
        for m in paths.finditer(every): probs.append(f"{name}: build-machine path: ...{every[max(0, m.start() - 30):m.end() + 40]}...")
        for m in re.finditer(r'\b\w*Warning: ', every): probs.append(f"{name}: a Python warning in the page: ...{every[m.start():m.end() + 80]}...")
        for head in pg.empty_results: probs.append(f"{name}: results section with no output: {head!r} (run its cells and save the notebook's outputs: tools/save_outputs.py)")
    return probs, len(pages)

def selftest():
    "Build a two-page site with one of each problem, and check that each is reported (and a clean site passes)."
    import tempfile
    good = ('<html><head><link rel="stylesheet" href="site_libs/x.css"></head><body><h2 id="a">A</h2>'
            '<p><a href="b.html#b">b</a> <span class="math inline"><span class="katex">x</span></span> $5 and $6</p>'
            '<section id="results" class="level2"><h2>Results</h2><div class="cell"><div class="sourceCode"><pre class="sourceCode cell-code"><code>table()</code></pre></div>'
            '<div class="cell-output cell-output-display"><table></table></div></div></section>'
            '<section id="setup" class="level2"><h2>Setup</h2><div class="cell"><div class="sourceCode cell-code"><pre><code>x = 1</code></pre></div></div></section></body></html>')
    bad = ('<html><head><script src="https://cdn.example/katex.js"></script></head><body><h2 id="b">B</h2><p>'
           '<a href="c.html">c</a> <a href="index.html#nowhere">n</a> <a href="https://soft.example/docs/b.html">p</a> '
           '<span class="math inline">\\(x_t\\)</span> $$y$$ saved in /tmp/tmpab12/run and ~/fine</p>'
           '<pre><code>/root/.cache/x UserWarning: careful</code></pre>'
           '<section id="r" class="level2"><h2>The results</h2><p>Text.</p><section id="s" class="level3"><h3>Sweep</h3>'
           '<div class="cell"><div class="sourceCode"><pre class="sourceCode python cell-code"><code>display(table)</code></pre></div></div></section></section></body></html>')
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); (d / 'site_libs').mkdir(); (d / 'site_libs' / 'x.css').write_text('')
        (d / 'index.html').write_text(good); (d / 'b.html').write_text(good.replace('id="a"', 'id="b"'))
        probs, n = check(d, bases=['https://soft.example/docs'])
        assert n == 2 and probs == [], probs
        (d / 'b.html').write_text(bad)
        probs = '\n'.join(check(d, bases=['https://soft.example/docs'])[0])
    for want in ['loads https://cdn.example', 'broken link c.html', 'missing anchor #nowhere', 'unpublished site', 'maths left as TeX',
                 'raw TeX', 'build-machine path: ...', '/tmp/tmpab12', '/root/.cache', 'Python warning', "results section with no output: 'The results'"]:
        assert want in probs, (want, probs)
    assert '~/fine' not in probs.replace('/tmp/tmpab12/run and ~/fine', ''), probs
    assert "'Sweep'" not in probs, probs  # the subsection is not a results section: its parent is
    print('check_site: self-test passed')

def main(argv):
    if argv[:1] == ['--selftest']: return selftest()
    site = Path(argv[0] if argv else '_docs')
    if not (site / 'index.html').exists(): sys.exit(f"check_site: no {site}/index.html: build the site first")
    probs, n = check(site, root=Path(__file__).resolve().parent.parent)
    for p in probs: print(' '.join(p.split()))
    print(f"check_site: {n} pages, {len(probs)} problems")
    return 1 if probs else 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
