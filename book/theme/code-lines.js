// Every line of a listing as a block of its own, so that a line too long for its box wraps
// under itself, two columns right of the line's own indentation, instead of at the left margin
// (side-by-side.css wraps listings rather than letting them scroll sideways, which hid the end
// of long lines). Runs after mdBook's book.js and ocaml-highlight.js, so on highlighted code:
// each highlighting span is split at the line ends and re-opened on the next line. The copy
// button still copies the listing's text exactly: it is kept before the split.
(function () {
  function split(code) {
    const lines = [];
    const open = []; // the original spans open at this point, outermost first
    let line, chain; // the line being built, and its copies of the open spans
    function startLine() {
      line = document.createElement('span');
      chain = [];
      let parent = line;
      for (const span of open) {
        const copy = span.cloneNode(false);
        parent.appendChild(copy);
        chain.push(copy);
        parent = copy;
      }
    }
    function current() {
      return chain.length ? chain[chain.length - 1] : line;
    }
    function walk(node) {
      for (const child of Array.from(node.childNodes)) {
        if (child.nodeType === Node.TEXT_NODE) {
          child.textContent.split('\n').forEach(function (part, i) {
            if (i > 0) {
              lines.push(line);
              startLine();
            }
            if (part) current().appendChild(document.createTextNode(part));
          });
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          const copy = child.cloneNode(false);
          current().appendChild(copy);
          open.push(child);
          chain.push(copy);
          walk(child);
          open.pop();
          chain.pop();
        }
      }
    }
    startLine();
    walk(code);
    if (line.textContent) lines.push(line);
    return lines;
  }

  document.querySelectorAll('main pre > code').forEach(function (code) {
    code.dataset.source = code.textContent.replace(/\n$/, '');
    const lines = split(code);
    code.textContent = '';
    for (const line of lines) {
      const hang = line.textContent.match(/^ */)[0].length + 2;
      line.className = 'code-line';
      line.style.paddingInlineStart = hang + 'ch';
      line.style.textIndent = -hang + 'ch';
      code.appendChild(line);
    }
  });

  // mdBook's copy button reads the listing's rendered text (innerText), in which the blank
  // lines, now empty blocks, would vanish: give it the text kept above.
  if (typeof window.playground_text === 'function') {
    const rendered = window.playground_text;
    window.playground_text = function (playground, hidden) {
      const code = playground.querySelector('code');
      if (code && code.dataset.source !== undefined) return code.dataset.source;
      return rendered(playground, hidden);
    };
  }
})();
