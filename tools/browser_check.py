#!/usr/bin/env python
"""Look at a built docs site in headless Chromium: `python tools/browser_check.py [_docs] [--shots DIR] [--max_height PX]`.

For each page it reports the page's height at a 1280 px wide window, every block of code wider than its box (it
scrolls sideways or is cut off) and every output or table cut off at the page's edge, and counts the outputs and tables
that scroll sideways (allowed: a printed table keeps its columns); with `--shots` it saves a screenshot of each page's top.
Exit 1 if any code or output is cut or a page is taller than `--max_height` (a page that does not load is only reported); exit 0 with a note if no Chromium is installed
(Debian: `apt-get install chromium`), so that the test suite runs this check only where it can."""
import argparse, json, re, shutil, subprocess, sys, tempfile
from pathlib import Path

PROBE = """<script>
window.addEventListener('load', () => setTimeout(() => {
  const vw = document.documentElement.clientWidth, wide = [], scrolls = [];
  const first = el => (el.innerText || '').trim().split('\\n')[0].slice(0, 70);
  for (const el of document.querySelectorAll('main pre, main table, main .cell-output')) {
    if (el.closest('.katex')) continue;
    const over = el.scrollWidth - el.clientWidth, code = !!el.closest('.cell-code') || !el.closest('.cell-output, table');
    const cut = el.getBoundingClientRect().right > vw + 2 || (over > 2 && getComputedStyle(el).overflowX === 'hidden');
    if (cut || (code && over > 2)) wide.push({tag: el.tagName.toLowerCase(), over: over, text: first(el)});
    else if (over > 2) scrolls.push({tag: el.tagName.toLowerCase(), over: over, text: first(el)});
  }
  const pre = document.createElement('pre'); pre.id = '__browser_check';
  pre.textContent = JSON.stringify({height: document.documentElement.scrollHeight, wide: wide, scrolls: scrolls});
  document.body.appendChild(pre);
}, 300));
</script>"""

def chromium():
    "The Chromium executable, or None."
    return next((shutil.which(n) for n in ('chromium', 'chromium-browser', 'google-chrome', 'chrome') if shutil.which(n)), None)

def run(exe, args, timeout=60):
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1280,900', '--disable-dev-shm-usage']
    return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=timeout)

def measure(exe, page:Path) -> dict:
    "Height and overflowing blocks of one page: a copy of it with a probe script, beside it so its links resolve."
    probe = page.with_name(f'.browser_check_{page.name}')
    probe.write_text(page.read_text(errors='replace').replace('</body>', PROBE + '</body>'))
    try: dom = run(exe, ['--virtual-time-budget=5000', '--dump-dom', probe.resolve().as_uri()]).stdout
    finally: probe.unlink()
    m = re.search(r'<pre id="__browser_check">(.*?)</pre>', dom, re.S)
    if not m: return {'height': None, 'wide': [], 'error': 'no measurement (the page did not load?)'}
    import html
    return json.loads(html.unescape(m.group(1)))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('site', nargs='?', default='_docs', type=Path)
    p.add_argument('--shots', type=Path, default=None, help='save a screenshot (1280 x 2400 px) of each page here')
    p.add_argument('--max_height', type=int, default=60000, help='a page taller than this many px is a problem')
    a = p.parse_args(argv)
    exe = chromium()
    if not exe: print('browser_check: no Chromium installed, skipped (Debian: apt-get install chromium)'); return 0
    pages = sorted(q for q in a.site.glob('*.html') if not q.name.startswith('.'))
    if not pages: sys.exit(f'browser_check: no pages in {a.site}: build the site first')
    if a.shots: a.shots.mkdir(parents=True, exist_ok=True)
    probs = 0
    for q in pages:
        r = measure(exe, q)
        bad = (r['height'] or 0) > a.max_height or r['wide']  # a page that did not load is reported, not counted
        probs += bool(bad)
        print(f"{q.name:40} {r['height'] or '?':>7} px  {len(r['wide'])} blocks cut or code scrolling, {len(r.get('scrolls', []))} outputs scrolling" + (f"  {r['error']}" if r.get('error') else ''))
        for w in r['wide'][:5]: print(f"    {w['tag']} +{w['over']} px: {w['text']}")
        if a.shots: run(exe, ['--window-size=1280,2400', f'--screenshot={(a.shots / q.with_suffix(".png").name).resolve()}', q.resolve().as_uri()])
    print(f'browser_check: {len(pages)} pages, {probs} with problems')
    return 1 if probs else 0

if __name__ == '__main__': sys.exit(main())
