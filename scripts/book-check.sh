#!/usr/bin/env bash
# The book as a reader sees it: headless Chromium opens every chapter of the built book
# (BOOK, default target/book), and the check asserts that each one rendered: its title, its
# code listings (at least as many highlighted blocks as the chapter's source has code fences),
# its figures (every <img> loaded, as many as the source has), its tables where it includes
# generated ones, and no unexpanded {{#include}}. Then screenshots of two pages go to SHOTS
# (default target/book-check). Exit 1 with a line per failing chapter.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
book="$(cd "${1:-$root/target/book}" && pwd)"
shots="${2:-$root/target/book-check}"
src="$root/book/src"
command -v chromium >/dev/null || { echo "book-check: no chromium on PATH; run make setup (it installs Debian's chromium)" >&2; exit 2; }
mkdir -p "$shots"
shots="$(cd "$shots" && pwd)"

chrome() { # headless, as root in a container too; the browser's own chatter goes to a log
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --allow-file-access-from-files "$@" 2>>"$shots/chromium.log"
}

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
// One line per chapter, written once its frame (and every image in it) has loaded.
const out = document.getElementById('out');
for (const f of document.querySelectorAll('iframe')) {
  f.addEventListener('load', () => {
    let line = 'PAGE ' + f.dataset.page + ' ';
    try {
      const d = f.contentDocument, main = d.querySelector('main');
      // A figure may be drawn twice (mdBook's click-to-zoom copy): count each source once.
      const imgs = [...main.querySelectorAll('img')];
      const srcs = [...new Set(imgs.map(i => i.getAttribute('src')))];
      const loaded = srcs.filter(s => imgs.some(i => i.getAttribute('src') === s && i.complete && i.naturalWidth > 0)).length;
      line += ['title=' + ((main.querySelector('h1') || {}).textContent || '').replace(/\s+/g, '_'),
               'code=' + main.querySelectorAll('pre > code').length,
               'highlighted=' + main.querySelectorAll('pre > code.hljs').length,
               'img=' + srcs.length, 'loaded=' + loaded,
               'tables=' + main.querySelectorAll('table').length,
               'raw=' + (main.textContent.includes('{{#') ? 1 : 0),
               'chars=' + main.textContent.length].join(' ');
    } catch (e) { line += 'error=' + String(e).replace(/\s+/g, '_'); }
    out.textContent += line + '\n';
  });
}
</script></body></html>
JS
} > "$page"

result="$(chrome --virtual-time-budget=15000 --dump-dom "file://$page")"
fail=0
for md in "${chapters[@]}"; do
  name="${md%.md}"
  line="$(printf '%s\n' "$result" | grep -o "PAGE $name .*" | head -1 || true)"
  get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  fences=$(( $(grep -c '^ *```' "$src/$md" || true) / 2 ))
  images=$( (grep -o '!\[[^]]*\]([^)]*)' "$src/$md" || true) | wc -l)
  tables=$(grep '{{#include generated/' "$src/$md" | grep -vc 'generated/machine-' || true)
  problems=()
  if [ -z "$line" ]; then problems+=("did not load")
  elif [ -n "$(get error)" ]; then problems+=("could not be read: $(get error)")
  else
    [ -n "$(get title)" ] || problems+=("no title")
    [ "$(get code)" -ge "$fences" ] || problems+=("$(get code) code listings shown, the source has $fences")
    [ "$(get highlighted)" -ge "$fences" ] || problems+=("$(get highlighted) of $fences listings highlighted")
    [ "$(get img)" -eq "$images" ] || problems+=("$(get img) figures shown, the source has $images")
    [ "$(get loaded)" -eq "$(get img)" ] || problems+=("$(( $(get img) - $(get loaded) )) figure(s) did not load")
    [ "$tables" -eq 0 ] || [ "$(get tables)" -ge 1 ] || problems+=("no table, though it includes generated tables")
    [ "$(get raw)" -eq 0 ] || problems+=("an unexpanded {{#...}} directive")
    [ "$(get chars)" -ge 500 ] || problems+=("only $(get chars) characters of text")
  fi
  if [ "${#problems[@]}" -eq 0 ]; then
    echo "book-check: ok   $name: $(get title | tr _ ' '): $(get code) listings, $(get loaded) figures, $(get tables) tables"
  else
    fail=1
    printf 'book-check: FAIL %s: %s\n' "$name" "$(IFS=';'; echo "${problems[*]}")"
  fi
done

# Two pages as a reader sees them: the listings side by side, and the figures.
for name in ch02-one-queue ch06-figures; do
  rm -f "$shots/$name.png"
  chrome --virtual-time-budget=10000 --window-size=1400,1800 --screenshot="$shots/$name.png" "file://$book/$name.html" >/dev/null
  # A blank page compresses to a few kilobytes; text, listings and plots to hundreds.
  size=$(stat -c %s "$shots/$name.png" 2>/dev/null || echo 0)
  [ "$size" -gt 50000 ] || { echo "book-check: FAIL the screenshot of $name is blank or missing ($size bytes)"; fail=1; }
done
echo "book-check: screenshots in $shots/ (ch02-one-queue.png, ch06-figures.png)"
exit "$fail"
