#!/usr/bin/env bash
# The whole test suite: library in sync with the notebooks, notebooks clean, every notebook's tests,
# the docs site. Ends with `N passed, N failed` (notebooks). Extra arguments go to nbdev_test,
# e.g. `bash tools/test.sh --path nbs/00_distributions.ipynb` or `--flags slow`.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
status=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

echo "== nbdev_export: is soft_sampling/ in sync with the notebooks?"
nbdev_export
if [ -n "$(git status --porcelain -- soft_sampling)" ]; then
  git status --short -- soft_sampling; git --no-pager diff --stat -- soft_sampling
  echo "FAIL: soft_sampling/ differs from what the notebooks export: run nbdev_export and commit both" >&2; status=1
fi

echo "== nbdev_clean: are the notebooks clean?"
snap=$(mktemp -d); cp -r nbs "$snap/"
nbdev_clean
if ! diff -rq "$snap/nbs" nbs >/dev/null; then
  diff -rq "$snap/nbs" nbs || true
  echo "FAIL: nbdev_clean changed notebooks: run nbdev_clean and commit" >&2; status=1
fi
rm -rf "$snap"

echo "== nbdev_test"
# nbdev_test runs two notebooks at once on this project's 2-core machines: one thread each, or torch's default of
# one thread per core oversubscribes the cores and runs many times slower.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
set +e
nbdev_test --do_print --timing "$@" 2>&1 | tee "$log"
test_rc=${PIPESTATUS[0]}
set -e
total=$(grep -c '^Starting ' "$log" || true)
failed=$(sed -n '/Failed On The Following Notebooks/,$p' "$log" | grep -c $'^\t' || true)
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=$((total - $(grep -c '^- Completed ' "$log" || true))); [ "$failed" -gt 0 ] || failed=1; fi
[ "$test_rc" -eq 0 ] || status=1

echo "== docs site (offline: tools/quarto renders with smalldocs and KaTeX, tools/check_site.py checks every page)"
if PATH="$PWD/tools:$PATH" nbdev_docs >"$log" 2>&1 && [ -f _docs/index.html ]; then
  pages=$(ls _docs/*.html | wc -l); echo "docs: $pages pages in _docs/"
  for nb in nbs/[0-9]*.ipynb; do
    page=$(python tools/nbpage.py "$nb")
    [ -f "_docs/$page" ] || { echo "FAIL: no docs page _docs/$page for $nb" >&2; status=1; }
  done
  # every page: relative links and anchors that exist, no network scripts, maths rendered, no machine paths or warnings
  # (--selftest first: the check finds each kind of problem on a made-up site)
  { python tools/check_site.py --selftest && python tools/check_site.py _docs; } || { echo "FAIL: the docs site has the problems above" >&2; status=1; }
  # in headless Chromium, where it is installed: page heights, no code wider than its box, no output cut off
  python tools/browser_check.py _docs || { echo "FAIL: code wider than its box, or cut off, on the pages above" >&2; status=1; }
else
  cat "$log"; echo "FAIL: the docs site did not build" >&2; status=1
fi
python tools/bench_readme.py --check || status=1
for nb in nbs/[0-9]*.ipynb; do grep -q "$(basename "$nb")" nbs/sidebar.yml || { echo "FAIL: $nb is not in nbs/sidebar.yml (the docs sidebar)" >&2; status=1; }; done
if [ -n "$(git status --porcelain -- README.md)" ]; then
  echo "FAIL: README.md differs from what nbs/index.ipynb generates: run PATH=\"\$PWD/tools:\$PATH\" nbdev_readme and commit" >&2; status=1
fi

echo "$((total - failed)) passed, $failed failed"
exit $status
