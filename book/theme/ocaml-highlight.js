// OCaml for the book's listings. mdBook 0.5.4 bundles highlight.js 10.1.1 with a fixed set of
// languages, OCaml not among them, so its book.js (which runs before this file, an
// `additional-js` of book.toml) leaves the OCaml listings plain. This file registers OCaml with
// that same highlight.js and highlights those listings again.
//
// Between the two VENDORED lines: lib/languages/ocaml.js of the npm package highlight.js@10.1.1
// (the version mdBook bundles; BSD-3-Clause, Copyright (c) 2006, Ivan Sagalaev), unchanged but
// for its last two lines (a blank line and `module.exports = ocaml;`, which a browser has no
// use for). The file's sha256 is 45b4fc473ed61912b935d81e52822f86e915516842e34b0792c8e6ddc039d373;
// `make book` (scripts/book-data.sh) checks that the lines between the markers still hash to
// 3a6bfe79d5aa20eb2a96efd6669e5199efe51ce9c51e314f341e511a5235e9fd, the file without those two.
// VENDORED: highlight.js@10.1.1 lib/languages/ocaml.js
/*
Language: OCaml
Author: Mehdi Dogguy <mehdi@dogguy.org>
Contributors: Nicolas Braud-Santoni <nicolas.braud-santoni@ens-cachan.fr>, Mickael Delahaye <mickael.delahaye@gmail.com>
Description: OCaml language definition.
Website: https://ocaml.org
Category: functional
*/

function ocaml(hljs) {
  /* missing support for heredoc-like string (OCaml 4.0.2+) */
  return {
    name: 'OCaml',
    aliases: ['ml'],
    keywords: {
      $pattern: '[a-z_]\\w*!?',
      keyword:
        'and as assert asr begin class constraint do done downto else end ' +
        'exception external for fun function functor if in include ' +
        'inherit! inherit initializer land lazy let lor lsl lsr lxor match method!|10 method ' +
        'mod module mutable new object of open! open or private rec sig struct ' +
        'then to try type val! val virtual when while with ' +
        /* camlp4 */
        'parser value',
      built_in:
        /* built-in types */
        'array bool bytes char exn|5 float int int32 int64 list lazy_t|5 nativeint|5 string unit ' +
        /* (some) types in Pervasives */
        'in_channel out_channel ref',
      literal:
        'true false'
    },
    illegal: /\/\/|>>/,
    contains: [
      {
        className: 'literal',
        begin: '\\[(\\|\\|)?\\]|\\(\\)',
        relevance: 0
      },
      hljs.COMMENT(
        '\\(\\*',
        '\\*\\)',
        {
          contains: ['self']
        }
      ),
      { /* type variable */
        className: 'symbol',
        begin: '\'[A-Za-z_](?!\')[\\w\']*'
        /* the grammar is ambiguous on how 'a'b should be interpreted but not the compiler */
      },
      { /* polymorphic variant */
        className: 'type',
        begin: '`[A-Z][\\w\']*'
      },
      { /* module or constructor */
        className: 'type',
        begin: '\\b[A-Z][\\w\']*',
        relevance: 0
      },
      { /* don't color identifiers, but safely catch all identifiers with '*/
        begin: '[a-z_]\\w*\'[\\w\']*', relevance: 0
      },
      hljs.inherit(hljs.APOS_STRING_MODE, {className: 'string', relevance: 0}),
      hljs.inherit(hljs.QUOTE_STRING_MODE, {illegal: null}),
      {
        className: 'number',
        begin:
          '\\b(0[xX][a-fA-F0-9_]+[Lln]?|' +
          '0[oO][0-7_]+[Lln]?|' +
          '0[bB][01_]+[Lln]?|' +
          '[0-9][0-9_]*([Lln]|(\\.[0-9_]*)?([eE][-+]?[0-9_]+)?)?)',
        relevance: 0
      },
      {
        begin: /[-=]>/ // relevance booster
      }
    ]
  }
}
// VENDORED: end

(function () {
  if (typeof hljs === 'undefined' || hljs.getLanguage('ocaml')) return;
  hljs.registerLanguage('ocaml', ocaml);
  document.querySelectorAll('code.language-ocaml').forEach(function (block) {
    hljs.highlightBlock(block);
  });
})();
