#!/usr/bin/env bash
# The book as a reader sees it: headless Chromium opens every chapter of the built book
# (BOOK, default target/book), and the check asserts that each one rendered: its title, its
# code listings (at least as many highlighted blocks as the chapter's source has code fences),
# its figures (every <img> loaded, as many as the source has, Markdown images and <img> tags
# alike; a <picture>'s narrow variant loads at the widths where the layout check shows it),
# its tables where it includes generated ones, and no unexpanded {{#include}}.
# Then the layout, as a reader on any screen sees it: every page at the widths of WIDTHS (a
# phone of 360 and 390 px, a tablet, laptops, a wide desktop), each with the sidebar open and
# closed and in the light and the navy (dark) theme, must have no listing, table, figure or
# side-by-side column reaching outside the page body (or under the sidebar), none clipped
# (wider content in a box that hides it), and no page that scrolls sideways; a table wider
# than its box is allowed only as a box that scrolls, a code line never: a listing or console
# output whose line runs past its box (hidden, or behind a sideways scroll) fails, and so does
# code text under 13 px. Every listing in Rust, C, OCaml or a diff must be highlighted for real
# (at least one highlighted token), not only carry highlight.js's class. Every cross-reference
# (#anchor, page.html#anchor, page.html) must lead to a page and an anchor that exist. The
# text of each plot is measured as displayed (its smallest font size times the scale the
# page draws the SVG at, for the variant a <picture> chose at that width), and each plot's
# smallest is listed: below 12 px it fails the check (--plot-text=report, or make book-check
# PLOT_TEXT=report, only reports it).
# Screenshots of two pages go to SHOTS (default target/book-check). Exit 1 with a line per
# problem, repeated together as the last lines of the output (a CI log often shows only its
# tail). A Chromium run whose page did not report that it finished, or in which a figure did
# not load, is run again (up to three times, each said), and so is a screenshot that came out
# blank: a slow machine or a browser's hiccup is not taken for a broken book.
#   scripts/book-check.sh [--plot-text=report|fail] [BOOK [SHOTS]]
#   scripts/book-check.sh --self-test [BOOK]: plants an overflowing figure, a clipped listing,
#     a code line that scrolls sideways, code text of 10 px, an OCaml listing left plain, dead
#     links and a missing figure in a copy of BOOK and passes only if the check fails on each.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
plot_text=fail
self_test=0
while [ $# -gt 0 ]; do
  case "$1" in
    --plot-text=report|--plot-text=fail) plot_text="${1#--plot-text=}"; shift ;;
    --self-test) self_test=1; shift ;;
    -*) echo "book-check: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
WIDTHS="${BOOK_CHECK_WIDTHS:-360 390 768 1100 1366 1920}"
MIN_PLOT_PX=12
MIN_CODE_PX=13
book="$(cd "${1:-$root/target/book}" && pwd)"
shots="${2:-$root/target/book-check}"

if [ "$self_test" = 1 ]; then
  # A copy of the book with planted faults: the check must fail and name each one (a missing
  # figure after trying three times).
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  cp -r "$book" "$tmp/book"
  page="$tmp/book/ch01-problem.html"
  planted='<p>planted: <a href="#no-such-anchor">a dead link</a> and <a href="ch03-one-queue.html#no-such-section">another</a></p>
<figure id="planted-figure"><img src="generated/figures/memory/timeline-1MiB-glibc.svg" style="width:2000px;max-width:none" alt="planted"></figure>
<img id="planted-missing" src="generated/figures/no-such-figure.svg" alt="planted">
<pre id="planted-pre"><code style="overflow-x:hidden;white-space:pre">planted_listing_with_a_line_far_too_long_for_any_phone_or_laptop_column_and_no_way_to_scroll_it_into_view_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</code></pre>
<pre id="planted-scroll"><code class="language-rust" style="white-space:pre">let planted = "a code line that does not wrap and so scrolls sideways, its end out of sight on any screen of this book, phone or desktop, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";</code></pre>
<pre id="planted-small"><code class="language-rust" style="font-size:10px">let planted_small = 1;</code></pre>
<pre id="planted-plain"><code class="language-ocaml">planted_plain</code></pre>'
  python3 - "$page" "$planted" <<'PY'
import sys
p, planted = sys.argv[1], sys.argv[2]
s = open(p).read()
i = s.index('<main>') + len('<main>')
open(p, 'w').write(s[:i] + planted + s[i:])
PY
  out="$("$0" "$tmp/book" "$tmp/shots" 2>&1)" && rc=0 || rc=$?
  ok=1
  [ "$rc" = 1 ] || { echo "book-check self-test: the check exited $rc on a broken book, not 1"; ok=0; }
  for want in "FAIL layout ch01-problem .*img.* overflows" "FAIL layout ch01-problem .*code.* is clipped" \
              "FAIL layout ch01-problem .*code.* a code line runs past its box.*planted = " \
              "FAIL layout ch01-problem .*code.* code text 10 px" \
              "FAIL ch01-problem: .*1 Rust, C, OCaml or diff listing\(s\) with no highlighted token" \
              "FAIL link ch01-problem: #no-such-anchor" "FAIL link ch01-problem: ch03-one-queue.html#no-such-section" \
              "FAIL layout ch01-problem .*no-such-figure.svg did not load" "note: the layout page: a figure did not load \(attempt 3 of 3\)"; do
    printf '%s\n' "$out" | grep -Eq "$want" && echo "book-check self-test: caught: $want" \
      || { echo "book-check self-test: NOT caught: $want"; ok=0; }
  done
  # The problems are repeated together at the end, where a CI log's tail shows them.
  printf '%s\n' "$out" | tail -32 | grep -Eq "^book-check: FAILED with [0-9]+ problem" \
    && echo "book-check self-test: the output ends with the problems" \
    || { echo "book-check self-test: the output does not end with the problems"; ok=0; }
  [ "$ok" = 1 ] || { printf '%s\n' "$out" | grep -E "did not finish|FAIL link|book-check: layout:|book-check: note" ; printf '%s\n' "$out" | tail -30; echo "book-check self-test: FAILED"; exit 1; }
  echo "book-check self-test: passed (the check fails on a planted overflow, a clipped listing, a code line that scrolls, 10 px code, a plain OCaml listing, dead links and a missing figure)"
  exit 0
fi
src="$root/book/src"
command -v chromium >/dev/null || { echo "book-check: no chromium on PATH; run make setup (it installs Debian's chromium)" >&2; exit 2; }
mkdir -p "$shots"
shots="$(cd "$shots" && pwd)"

# Each Chromium run gets a profile of its own: nothing from another browser on the machine
# (a profile lock, a stored theme or sidebar state) reaches the check.
profiles="$(mktemp -d)"; trap 'rm -rf "$profiles"' EXIT
chrome() { # headless, as root in a container too; the browser's own chatter goes to a log
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$(mktemp -d -p "$profiles")" --allow-file-access-from-files "$@" 2>>"$shots/chromium.log"
}
# render MARKER SUSPECT WHAT ARGS...: a Chromium --dump-dom run into $dump, run again (at most
# three times) while its page has not written MARKER or shows SUSPECT (an extended regex): a
# figure that did not load is more often the browser's hiccup than the book's fault, and one
# that stays unloaded in three runs is reported.
render() {
  local marker="$1" suspect="$2" what="$3"; shift 3
  for attempt in 1 2 3; do
    dump="$(chrome "$@" || true)"
    if ! printf '%s\n' "$dump" | grep -q "$marker"; then
      echo "book-check: note: $what did not finish in Chromium (attempt $attempt of 3; see $shots/chromium.log)"
    elif printf '%s\n' "$dump" | grep -Eq "$suspect"; then
      echo "book-check: note: $what: a figure did not load (attempt $attempt of 3)"
    else
      return 0
    fi
  done
}
failures=()
problem() { echo "book-check: FAIL $*"; failures+=("$*"); }

# Chapters in SUMMARY.md order, with what each source promises.
mapfile -t chapters < <(grep -o '([a-z0-9-]*\.md)' "$src/SUMMARY.md" | tr -d '()')
[ "${#chapters[@]}" -gt 0 ] || { echo "book-check: no chapters in $src/SUMMARY.md" >&2; exit 2; }

page="$shots/check.html"
{
  echo '<!doctype html><html><body><pre id="out"></pre>'
  for md in "${chapters[@]}"; do
    echo "<iframe data-page=\"${md%.md}\" src=\"file://$book/${md%.md}.html\" width=\"1280\" height=\"900\"></iframe>"
  done
  cat <<'JS'
<script>
// One line per chapter, written once its frame (every image in it, and its fonts) has loaded;
// ALL LOADED when every chapter has its line.
const out = document.getElementById('out');
const frames = [...document.querySelectorAll('iframe')];
let pages = 0;
for (const f of frames) {
  f.addEventListener('load', async () => {
    let line = 'PAGE ' + f.dataset.page + ' ';
    try {
      await f.contentDocument.fonts.ready;
      const d = f.contentDocument, main = d.querySelector('main');
      // A figure may be drawn twice (mdBook's click-to-zoom copy): count each source once.
      const imgs = [...main.querySelectorAll('img')];
      const srcs = [...new Set(imgs.map(i => i.getAttribute('src')))];
      const loaded = srcs.filter(s => imgs.some(i => i.getAttribute('src') === s && i.complete && i.naturalWidth > 0)).length;
      line += ['title=' + ((main.querySelector('h1') || {}).textContent || '').replace(/\s+/g, '_'),
               'code=' + main.querySelectorAll('pre > code').length,
               'highlighted=' + main.querySelectorAll('pre > code.hljs').length,
               // A listing in a language highlight.js knows must show highlighted tokens.
               'plain=' + [...main.querySelectorAll('pre > code')].filter(c => /\blanguage-(rust|c|ocaml|diff)\b/.test(c.className)
                 && !c.querySelector('[class^="hljs-"], [class*=" hljs-"]')).length,
               'img=' + srcs.length, 'loaded=' + loaded, 'unloaded=' + (srcs.length - loaded),
               'tables=' + main.querySelectorAll('table').length,
               'raw=' + (main.textContent.includes('{{#') ? 1 : 0),
               'chars=' + main.textContent.length].join(' ');
    } catch (e) { line += 'error=' + String(e).replace(/\s+/g, '_'); }
    out.textContent += line + '\n' + (++pages === frames.length ? 'ALL LOADED\n' : '');
  });
}
</script></body></html>
JS
} > "$page"

render 'ALL LOADED' 'unloaded=[1-9]' "the chapters page" --virtual-time-budget=15000 --dump-dom "file://$page"
result="$dump"
for md in "${chapters[@]}"; do
  name="${md%.md}"
  line="$(printf '%s\n' "$result" | grep -o "PAGE $name .*" | head -1 || true)"
  get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  fences=$(( $(grep -c '^ *```' "$src/$md" || true) / 2 ))
  images=$(( $( (grep -o '!\[[^]]*\]([^)]*)' "$src/$md" || true) | wc -l) + $( (grep -o '<img ' "$src/$md" || true) | wc -l) ))
  tables=$(grep '{{#include generated/' "$src/$md" | grep -vc 'generated/machine-' || true)
  problems=()
  if [ -z "$line" ]; then problems+=("did not load")
  elif [ -n "$(get error)" ]; then problems+=("could not be read: $(get error)")
  else
    [ -n "$(get title)" ] || problems+=("no title")
    [ "$(get code)" -ge "$fences" ] || problems+=("$(get code) code listings shown, the source has $fences")
    [ "$(get highlighted)" -ge "$fences" ] || problems+=("$(get highlighted) of $fences listings highlighted")
    [ "$(get plain)" -eq 0 ] || problems+=("$(get plain) Rust, C, OCaml or diff listing(s) with no highlighted token")
    [ "$(get img)" -eq "$images" ] || problems+=("$(get img) figures shown, the source has $images")
    [ "$(get loaded)" -eq "$(get img)" ] || problems+=("$(( $(get img) - $(get loaded) )) figure(s) did not load")
    [ "$tables" -eq 0 ] || [ "$(get tables)" -ge 1 ] || problems+=("no table, though it includes generated tables")
    [ "$(get raw)" -eq 0 ] || problems+=("an unexpanded {{#...}} directive")
    [ "$(get chars)" -ge 500 ] || problems+=("only $(get chars) characters of text")
  fi
  if [ "${#problems[@]}" -eq 0 ]; then
    echo "book-check: ok   $name: $(get title | tr _ ' '): $(get code) listings, $(get loaded) figures, $(get tables) tables"
  else
    problem "$name: $(IFS=';'; echo "${problems[*]}")"
  fi
done

# The layout: every page at every width of WIDTHS, in four states each (sidebar open and
# closed, light and navy theme), measured in one headless Chromium run. The smallest text of
# each SVG figure (in its own units) and its drawing width come from the files.
plots="{"
while IFS= read -r svg; do
  rel="${svg#"$book"/}"
  width="$(grep -o '<svg[^>]*' "$svg" | head -1 | sed -n 's/.*viewBox="[-0-9.]* [-0-9.]* \([0-9.]*\) [0-9.]*".*/\1/p')"
  [ -n "$width" ] || width="$(grep -o '<svg[^>]*' "$svg" | head -1 | sed -n 's/.* width="\([0-9.]*\)".*/\1/p')"
  font="$(grep -o 'font-size="[0-9.]*"\|font-size: *[0-9.]*' "$svg" | grep -o '[0-9][0-9.]*' | sort -g | head -1)"
  [ -n "$width" ] && [ -n "$font" ] && plots+="\"$rel\":{\"w\":$width,\"font\":$font},"
done < <(find "$book" -name '*.svg' -path '*generated/figures/*' | sort)
plots="${plots%,}}"

layout="$shots/layout.html"
{
  echo '<!doctype html><html><body><pre id="out"></pre>'
  for md in "${chapters[@]}"; do
    for w in $WIDTHS; do
      echo "<iframe data-page=\"${md%.md}\" data-width=\"$w\" src=\"file://$book/${md%.md}.html\" width=\"$w\" height=\"800\"></iframe>"
    done
  done
  echo "<script>const PLOTS = $plots; const MIN_PLOT_PX = $MIN_PLOT_PX; const MIN_CODE_PX = $MIN_CODE_PX; const BOOK = 'file://$book/';</script>"
  cat <<'JS'
<script>
const out = document.getElementById('out');
out.textContent = '\n';
const iframes = [...document.querySelectorAll('iframe')];
const ids = {}, links = [], plotMin = {};
let done = 0;
function measure(f) {
  const d = f.contentDocument, w = d.defaultView, page = f.dataset.page, W = +f.dataset.width;
  const html = d.documentElement, toggle = d.getElementById('mdbook-sidebar-toggle-anchor');
  const lines = [];
  // No transitions: a toggled sidebar must be measured where it ends, not where it starts.
  const still = d.createElement('style');
  still.textContent = '*, *::before, *::after { transition: none !important; animation: none !important; }';
  d.head.appendChild(still);
  for (const theme of ['light', 'navy']) for (const open of [true, false]) {
    html.classList.remove('light', 'navy', 'coal', 'ayu', 'rust');
    html.classList.add(theme);
    if (toggle) toggle.checked = open;
    html.classList.toggle('sidebar-visible', open);
    html.classList.toggle('sidebar-hidden', !open);
    const state = `${W}px sidebar-${open ? 'open' : 'closed'} ${theme}`;
    const main = d.querySelector('main');
    const mr = main.getBoundingClientRect();
    const sb = d.getElementById('mdbook-sidebar');
    // Below 620 px an open sidebar pushes the whole page aside (mdBook's design): the page
    // body is then the only frame. Otherwise the body must also lie within the window and
    // right of an open sidebar.
    let lo = mr.left, hi = mr.right;
    if (!(open && W < 620)) {
      lo = Math.max(lo, open && sb ? sb.getBoundingClientRect().right : 0);
      hi = Math.min(hi, html.clientWidth);
      // On a wide window mdBook draws the previous/next arrows as full-height columns
      // beside the page body: nothing may lie under them either.
      for (const a of d.querySelectorAll('.nav-wide-wrapper .nav-chapters')) {
        const ar = a.getBoundingClientRect();
        if (ar.width === 0 || w.getComputedStyle(a).display === 'none') continue;
        if (ar.left + ar.width / 2 < (lo + hi) / 2) lo = Math.max(lo, ar.right); else hi = Math.min(hi, ar.left);
      }
      if (html.scrollWidth > html.clientWidth + 1)
        lines.push(`FAIL layout ${page} ${state}: the page scrolls sideways (${html.scrollWidth} px wide in a ${html.clientWidth} px window)`);
    }
    const sel = 'main pre, main pre > code, main table, main img, main svg, main figure, main .langs, main .langs > div, main details';
    for (const el of main.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue; // not displayed (a closed <details>)
      const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/)[0] : '');
      const near = (el.textContent || el.getAttribute('src') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
      if (r.left < lo - 1 || r.right > hi + 1)
        lines.push(`FAIL layout ${page} ${state}: ${what} overflows the page body (${Math.round(r.left)}..${Math.round(r.right)} px, the body ${Math.round(lo)}..${Math.round(hi)}) near "${near}"`);
      const ox = w.getComputedStyle(el).overflowX;
      const code = el.matches('main pre, main pre > code');
      if (el.scrollWidth > el.clientWidth + 1 && (ox === 'hidden' || ox === 'clip'))
        lines.push(`FAIL layout ${page} ${state}: ${what} is clipped (${el.scrollWidth} px of content in ${el.clientWidth} px) near "${near}"`);
      else if (code && el.scrollWidth > el.clientWidth + 1) {
        // A line that runs past its box, behind a sideways scroll: its end is out of sight.
        const long = [...el.querySelectorAll('.code-line')].find(l => l.scrollWidth > el.clientWidth + 1 || l.getBoundingClientRect().right > el.getBoundingClientRect().right + 1);
        const text = (long ? long.textContent : near).trim().replace(/\s+/g, ' ').slice(0, 40);
        lines.push(`FAIL layout ${page} ${state}: ${what}: a code line runs past its box (${el.scrollWidth} px of content in ${el.clientWidth} px), near "${text}"`);
      }
      if (el.matches('main pre > code')) {
        const px = parseFloat(w.getComputedStyle(el).fontSize);
        if (px < MIN_CODE_PX) lines.push(`FAIL layout ${page} ${state}: ${what}: code text ${px} px (< ${MIN_CODE_PX}) near "${near}"`);
      }
    }
    for (const img of main.querySelectorAll('img')) {
      // The file shown: a <picture> may have chosen its narrow variant at this width.
      const src = decodeURI(img.currentSrc || '').replace(BOOK, ''), p = PLOTS[src];
      const r = img.getBoundingClientRect();
      if (img.complete && img.naturalWidth === 0)
        lines.push(`FAIL layout ${page} ${state}: the figure ${src || img.getAttribute('src')} did not load`);
      if (!p || r.width === 0) continue;
      const px = p.font * r.width / p.w, key = page + ' ' + src;
      if (!(key in plotMin) || px < plotMin[key].px) plotMin[key] = {px, state};
    }
  }
  if (W === 1366) {
    ids[page] = new Set([...d.querySelectorAll('[id]')].map(e => e.id));
    for (const a of d.querySelectorAll('main a[href]')) links.push([page, a.getAttribute('href')]);
  }
  return lines;
}
for (const f of iframes) {
  f.addEventListener('load', async () => {
    let lines;
    try { await f.contentDocument.fonts.ready; lines = measure(f); } catch (e) { lines = [`FAIL layout ${f.dataset.page} ${f.dataset.width}px: could not be measured: ${e}`]; }
    out.textContent += lines.map(l => l + '\n').join('') + `MEASURED ${f.dataset.page} ${f.dataset.width}\n`;
    if (++done === iframes.length) finish();
  });
}
function finish() {
  let text = '';
  for (const [page, href] of links) {
    if (/^[a-z]+:/.test(href)) continue; // http:, https:, mailto: lead outside the book
    const m = href.match(/^([^#]*?)(?:\.html)?(?:#(.*))?$/);
    const target = m[1] === '' ? page : m[1].replace(/^.*\//, ''), anchor = m[2] ? decodeURIComponent(m[2]) : null;
    if (/\.(svg|png|md|csv|json)$/.test(m[1])) continue; // files, not pages
    if (!(target in ids)) text += `FAIL link ${page}: ${href} leads to a page the book does not have\n`;
    else if (anchor !== null && !ids[target].has(anchor)) text += `FAIL link ${page}: ${href} leads to no anchor "${anchor}" in ${target}\n`;
  }
  for (const [key, v] of Object.entries(plotMin))
    text += `PLOT ${key} ${v.px.toFixed(1)} ${v.state}\n`;
  out.textContent += text + 'FINISHED\n';
}
</script></body></html>
JS
} > "$layout"

start=$SECONDS
render FINISHED '^FAIL layout .*(did not load|could not be measured)' "the layout page" --virtual-time-budget=60000 --window-size=1920,1080 --dump-dom "file://$layout"
lres="$dump"
printf '%s\n' "$lres" | grep -q FINISHED || problem "the layout page did not finish measuring ($(printf '%s\n' "$lres" | grep -c MEASURED || true) of $(( ${#chapters[@]} * $(wc -w <<< "$WIDTHS") )) pages measured)"
nl="$(printf '%s\n' "$lres" | grep -c '^FAIL layout' || true)"
while IFS= read -r l; do problem "${l#FAIL }"; done < <(printf '%s\n' "$lres" | grep '^FAIL layout' | head -60)
[ "$nl" -le 60 ] || problem "... and $((nl - 60)) more layout problems"
nk="$(printf '%s\n' "$lres" | grep -c '^FAIL link' || true)"
while IFS= read -r l; do problem "${l#FAIL }"; done < <(printf '%s\n' "$lres" | grep '^FAIL link')
echo "book-check: layout: $(wc -w <<< "$WIDTHS") widths ($WIDTHS px) x sidebar open/closed x light/navy theme, ${#chapters[@]} pages: $nl problem(s); cross-references: $nk dead ($(( SECONDS - start )) s)"
small=0
while read -r _ page src px state; do
  if awk -v p="$px" -v m="$MIN_PLOT_PX" 'BEGIN { exit !(p < m) }'; then
    small=$((small + 1))
    if [ "$plot_text" = fail ]; then problem "plot text $px px (< $MIN_PLOT_PX) at $state: $page $src"
    else echo "book-check: note plot text $px px (< $MIN_PLOT_PX) at $state: $page $src"; fi
  else
    echo "book-check: ok   plot text $px px at its smallest, at $state: $page $src"
  fi
done < <(printf '%s\n' "$lres" | grep '^PLOT ' | sort -k4 -g)
echo "book-check: plot text: $small plot(s) with text under $MIN_PLOT_PX px as displayed (--plot-text=$plot_text)"

# Two pages as a reader sees them: the listings side by side, and the figures.
for name in ch03-one-queue ch07-figures; do
  rm -f "$shots/$name.png"
  # A blank page compresses to a few kilobytes; text, listings and plots to hundreds.
  for attempt in 1 2 3; do
    chrome --virtual-time-budget=10000 --window-size=1400,1800 --screenshot="$shots/$name.png" "file://$book/$name.html" >/dev/null || true
    size=$(stat -c %s "$shots/$name.png" 2>/dev/null || echo 0)
    [ "$size" -gt 50000 ] && break
    echo "book-check: note: the screenshot of $name came out blank or missing (attempt $attempt of 3)"
  done
  [ "$size" -gt 50000 ] || problem "the screenshot of $name is blank or missing ($size bytes)"
done
echo "book-check: screenshots in $shots/ (ch03-one-queue.png, ch07-figures.png)"
if [ "${#failures[@]}" -eq 0 ]; then
  echo "book-check: passed: ${#chapters[@]} chapters rendered, laid out and linked as promised"
  exit 0
fi
echo "book-check: FAILED with ${#failures[@]} problem(s):"
printf 'book-check:   %s\n' "${failures[@]:0:30}"
[ "${#failures[@]}" -le 30 ] || echo "book-check:   ... and $(( ${#failures[@]} - 30 )) more (above)"
exit 1
