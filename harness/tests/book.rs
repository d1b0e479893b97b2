//! The book (`book/`), tested like a web page: every include resolves to a file and an anchor
//! that exist, no listing is a pasted copy of the sources, every "chapter N" is a link to the
//! chapter the sidebar numbers N, and in the built book (`make test` builds it first and sets
//! `BQ_BOOK_DIR`) every local link and image resolves.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the harness lives in the repository").to_path_buf()
}

fn book_src() -> PathBuf {
    root().join("book/src")
}

/// Files under `dir` (recursively) whose name ends with one of `exts`.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, exts, out);
        } else if exts.iter().any(|x| p.to_string_lossy().ends_with(x)) {
            out.push(p);
        }
    }
}

/// The chapters' Markdown, without the folder scripts/book-data.sh generates at build time.
fn chapters() -> Vec<(PathBuf, String)> {
    let mut v = Vec::new();
    files(&book_src(), &[".md"], &mut v);
    v.retain(|p| !p.starts_with(book_src().join("generated")));
    v.sort();
    assert!(v.len() >= 9, "expected the SUMMARY, an introduction and 8 chapters in book/src, found {v:?}");
    v.into_iter().map(|p| (p.clone(), fs::read_to_string(&p).unwrap())).collect()
}

/// Every `{{#include PATH}}` / `{{#include PATH:ANCHOR}}` in `text`.
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    text.match_indices("{{#include ")
        .map(|(i, _)| {
            let rest = &text[i + "{{#include ".len()..];
            let body = rest[..rest.find("}}").expect("an include without its closing }}")].trim();
            match body.split_once(':') {
                Some((p, a)) => (p.to_string(), Some(a.to_string())),
                None => (body.to_string(), None),
            }
        })
        .collect()
}

#[test]
fn every_chapter_in_the_summary_exists() {
    let summary = fs::read_to_string(book_src().join("SUMMARY.md")).unwrap();
    let linked: Vec<&str> =
        summary.split('(').skip(1).filter_map(|s| s.split(')').next()).filter(|s| s.ends_with(".md")).collect();
    assert!(linked.len() >= 9, "SUMMARY.md links {} chapters, expected an introduction and 8", linked.len());
    for ch in linked {
        assert!(book_src().join(ch).is_file(), "SUMMARY.md links {ch}, which does not exist in book/src");
    }
}

#[test]
fn every_include_names_a_file_and_an_anchor_that_exist() {
    let generator = fs::read_to_string(root().join("scripts/book-data.sh")).unwrap();
    let mut count = 0;
    for (md, text) in chapters() {
        for (path, anchor) in includes(&text) {
            count += 1;
            let at = format!(
                "{}: {{{{#include {path}{}}}}}",
                md.display(),
                anchor.as_deref().map_or(String::new(), |a| format!(":{a}"))
            );
            if let Some(name) = path.strip_prefix("generated/") {
                // Written at build time: the generator must write it.
                assert!(
                    generator.contains(&format!("$out/{name}")),
                    "{at}: scripts/book-data.sh does not write {name}"
                );
                continue;
            }
            let file = md.parent().unwrap().join(&path);
            let source =
                fs::read_to_string(&file).unwrap_or_else(|e| panic!("{at}: cannot read {}: {e}", file.display()));
            if let Some(a) = anchor.filter(|a| !a.chars().next().is_some_and(|c| c.is_ascii_digit())) {
                let marks = |kind: &str| {
                    source
                        .lines()
                        .filter(|l| l.split(kind).nth(1).is_some_and(|r| r.split_whitespace().next() == Some(&a)))
                        .count()
                };
                assert_eq!(marks("ANCHOR:"), 1, "{at}: {path} must have exactly one `ANCHOR: {a}`");
                assert_eq!(marks("ANCHOR_END:"), 1, "{at}: {path} must have exactly one `ANCHOR_END: {a}`");
            }
        }
    }
    assert!(count >= 60, "only {count} includes in the book: are the listings still included?");
}

/// Source lines worth comparing: trimmed, long enough to be more than a brace or a keyword.
fn significant(line: &str) -> Option<&str> {
    let t = line.trim();
    (t.len() >= 16).then_some(t)
}

/// The project's sources, as the listings could have copied them.
fn source_lines() -> (HashSet<String>, Vec<Vec<String>>) {
    let mut paths = Vec::new();
    for dir in
        ["c", "ocaml", "rust/src", "harness/src", "harness/benches", "harness/tests", "tests/fixtures", "scripts"]
    {
        files(&root().join(dir), &[".c", ".h", ".ml", ".rs", ".patch", ".sh"], &mut paths);
    }
    assert!(paths.len() > 20, "found only {} source files", paths.len());
    let texts: Vec<Vec<String>> = paths
        .iter()
        .map(|p| fs::read_to_string(p).unwrap().lines().filter_map(significant).map(String::from).collect())
        .collect();
    (texts.iter().flatten().cloned().collect(), texts)
}

/// Why a fenced block counts as a copy of the sources: two significant lines in a row as they
/// stand in one source file, or at least half of its significant lines (two or more) found in
/// the sources. `None`: it is not a copy.
fn copied(block: &[&str], all: &HashSet<String>, files: &[Vec<String>]) -> Option<String> {
    let lines: Vec<&str> = block.iter().filter_map(|l| significant(l)).collect();
    for pair in lines.windows(2) {
        if files.iter().any(|f| f.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1])) {
            return Some(format!("these lines stand together in a source file:\n  {}\n  {}", pair[0], pair[1]));
        }
    }
    let found: Vec<&&str> = lines.iter().filter(|l| all.contains(**l)).collect();
    (found.len() >= 2 && 2 * found.len() >= lines.len())
        .then(|| format!("{} of its {} lines are source lines, e.g. {:?}", found.len(), lines.len(), found[0]))
}

/// The fenced code blocks of a Markdown text, each as its lines.
fn fenced_blocks(text: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(b) => blocks.push(b),
                None => current = Some(Vec::new()),
            }
        } else if let Some(b) = current.as_mut() {
            b.push(line);
        }
    }
    blocks
}

#[test]
fn no_listing_is_a_copy_of_the_sources() {
    let (all, files) = source_lines();
    // The detector itself: a pasted piece of c/bq.c must be caught.
    let bq = fs::read_to_string(root().join("c/bq.c")).unwrap();
    let start = bq.find("int bq_push(").unwrap();
    let pasted: Vec<&str> = bq[start..].lines().take(6).collect();
    assert!(copied(&pasted, &all, &files).is_some(), "the copy detector misses a pasted bq_push");

    let mut listings = 0;
    for (md, text) in chapters() {
        for block in fenced_blocks(&text) {
            let own: Vec<&str> = block.iter().copied().filter(|l| !l.trim().is_empty()).collect();
            if own.iter().all(|l| l.trim().starts_with("{{#include ")) {
                listings += own.len();
                continue;
            }
            if let Some(why) = copied(&block, &all, &files) {
                panic!(
                    "{}: a code block copies the sources ({why}); include them instead: \
                     {{{{#include ../../PATH:ANCHOR}}}} with ANCHOR comments in the source",
                    md.display()
                );
            }
        }
    }
    assert!(listings >= 40, "only {listings} included listings in the book");
}

/// Local targets of `href="..."`, `src="..."` and `srcset="..."` (a `<picture>`'s narrow
/// variant) in an HTML text.
fn local_links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\"", "srcset=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let value = &rest[..rest.find('"').unwrap_or(0)];
            // A srcset lists "URL [size]" candidates; href and src hold one URL.
            let targets: Vec<&str> = if attr == "srcset=\"" {
                value.split(',').filter_map(|c| c.split_whitespace().next()).collect()
            } else {
                vec![value]
            };
            for target in targets {
                let external = target.contains("://")
                    || ["#", "mailto:", "data:", "javascript:"].iter().any(|p| target.starts_with(p))
                    || target.is_empty();
                if !external {
                    out.push(target.split(['#', '?']).next().unwrap().to_string());
                }
            }
        }
    }
    out
}

#[test]
fn the_built_book_has_no_broken_link_or_missing_figure() {
    let Some(dir) = std::env::var_os("BQ_BOOK_DIR").map(PathBuf::from) else {
        eprintln!("BQ_BOOK_DIR is not set: the built book's links are checked by `make test`, which builds it first");
        return;
    };
    assert!(dir.join("index.html").is_file(), "{} has no index.html: run make book", dir.display());
    let mut pages = Vec::new();
    files(&dir, &[".html"], &mut pages);
    let mut broken = Vec::new();
    let (mut links, mut images) = (0, 0);
    for page in &pages {
        let html = fs::read_to_string(page).unwrap();
        assert!(!html.contains("{{#include"), "{}: an include was left unexpanded", page.display());
        images += html.matches("<img src=\"").count();
        for target in local_links(&html) {
            links += 1;
            // A root-relative link (mdBook's 404 page has them) is relative to the book's root.
            let base = if target.starts_with('/') { dir.clone() } else { page.parent().unwrap().to_path_buf() };
            let path = base.join(percent_decoded(target.trim_start_matches('/')));
            let ok = if path.is_dir() { path.join("index.html").is_file() } else { path.is_file() };
            if !ok {
                broken.push(format!("{}: {target}", page.strip_prefix(&dir).unwrap().display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links or missing figures in the built book:\n{}", broken.join("\n"));
    for (md, _) in chapters() {
        let name = md.file_stem().unwrap().to_string_lossy().to_string();
        if name != "SUMMARY" {
            assert!(dir.join(format!("{name}.html")).is_file(), "the built book has no page for {}", md.display());
        }
    }
    assert!(images >= 6, "only {images} figures in the built book");
    assert!(links > 100, "only {links} local links checked: is {} the built book?", dir.display());
}

/// `%20` and friends, as a browser decodes them in a file URL.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The numbered chapters in SUMMARY.md order, as mdBook numbers them in the sidebar: (number,
/// file name without `.md`).
fn chapter_numbers() -> Vec<(usize, String)> {
    let summary = fs::read_to_string(book_src().join("SUMMARY.md")).unwrap();
    summary
        .lines()
        .filter_map(|l| l.strip_prefix("- ["))
        .filter_map(|l| l.split_once("](").and_then(|(_, rest)| rest.strip_suffix(".md)")))
        .enumerate()
        .map(|(i, f)| (i + 1, f.to_string()))
        .collect()
}

/// Every "chapter N" in the text: (N, the file its link leads to, or None when unlinked),
/// as in `[chapter 4](ch04-waiting.md#anchor)` and the second link of
/// `[chapters 3](ch03-one-queue.md) and [4](ch04-waiting.md)`.
fn chapter_mentions(text: &str) -> Vec<(usize, Option<String>, String)> {
    let mut out = Vec::new();
    let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).collect::<String>();
    let target = |rest: &str| {
        rest.strip_prefix("](").map(|r| r.split(['#', ')']).next().unwrap_or("").trim_end_matches(".md").to_string())
    };
    for word in ["chapter ", "Chapter ", "chapters ", "Chapters "] {
        for (i, _) in text.match_indices(word) {
            let n = digits(&text[i + word.len()..]);
            if n.is_empty() {
                continue;
            }
            let after = &text[i + word.len() + n.len()..];
            let linked = text[..i].ends_with('[');
            out.push((
                n.parse().unwrap(),
                if linked { target(after) } else { None },
                text[i..i + word.len() + n.len()].to_string(),
            ));
        }
    }
    // A bare number linking to a chapter: "[4](ch04-waiting.md)".
    for (i, _) in text.match_indices("](ch") {
        let before = &text[..i];
        let n: String =
            before.chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
        if !n.is_empty() && before[..before.len() - n.len()].ends_with('[') {
            out.push((n.parse().unwrap(), target(&text[i..]), format!("[{n}]")));
        }
    }
    out
}

#[test]
fn every_chapter_number_in_the_text_is_a_link_to_that_chapter() {
    let numbers = chapter_numbers();
    assert!(numbers.len() >= 8, "SUMMARY.md numbers {} chapters: {numbers:?}", numbers.len());
    let mut wrong = Vec::new();
    // With the tables scripts/book-data.sh generated, when it has run (make test runs it).
    let mut generated = Vec::new();
    files(&book_src().join("generated"), &[".md"], &mut generated);
    let generated = generated.into_iter().map(|p| (p.clone(), fs::read_to_string(&p).unwrap()));
    for (path, text) in chapters().into_iter().chain(generated) {
        if path.ends_with("SUMMARY.md") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (n, file, said) in chapter_mentions(&text) {
            match file.and_then(|f| numbers.iter().find(|(_, g)| *g == f).map(|(k, g)| (*k, g.clone()))) {
                None => wrong.push(format!("{name}: \"{said}\" is not a link to a chapter: the sidebar's numbers move when chapters are added, so link it")),
                Some((k, f)) if k != n => wrong.push(format!("{name}: \"{said}\" links {f}.md, which the sidebar numbers {k}")),
                Some(_) => {}
            }
        }
    }
    assert!(wrong.is_empty(), "chapter numbers that do not match the sidebar:\n{}", wrong.join("\n"));
}

#[test]
fn a_chapter_number_is_read_from_its_link() {
    let text = "see [chapter 4](ch04-waiting.md#rule-1) and [chapters 3](ch03-one-queue.md) and [4](ch04-waiting.md); chapter 6 too";
    let got = chapter_mentions(text);
    assert!(got.contains(&(4, Some("ch04-waiting".into()), "chapter 4".into())), "{got:?}");
    assert!(got.contains(&(3, Some("ch03-one-queue".into()), "chapters 3".into())), "{got:?}");
    assert!(got.contains(&(4, Some("ch04-waiting".into()), "[4]".into())), "{got:?}");
    assert!(got.contains(&(6, None, "chapter 6".into())), "{got:?}");
    assert_eq!(got.len(), 4, "{got:?}");
}

/// A chapter's file carries the number the sidebar gives it (chapter 3 is `ch03-*.md`), and
/// every old name that book.toml redirects leads to a chapter of the sidebar, under a name
/// that no file has any more.
#[test]
fn every_chapter_file_is_numbered_as_the_sidebar_numbers_it() {
    let numbers = chapter_numbers();
    for (n, file) in &numbers {
        assert!(
            file.starts_with(&format!("ch{n:02}-")),
            "{file}.md is chapter {n} in the sidebar: name it ch{n:02}-..."
        );
    }
    let toml = fs::read_to_string(root().join("book/book.toml")).unwrap();
    let section = toml.split("[output.html.redirect]").nth(1).expect("book.toml has no [output.html.redirect]");
    let mut redirects = 0;
    for line in section.lines().take_while(|l| !l.starts_with('[')).filter(|l| l.starts_with('"')) {
        let (from, to) = line.split_once('=').unwrap();
        let (from, to) = (from.trim().trim_matches('"'), to.trim().trim_matches('"'));
        let old = from.trim_start_matches('/').trim_end_matches(".html");
        assert!(
            !book_src().join(format!("{old}.md")).exists(),
            "book.toml redirects {from}, but {old}.md still exists"
        );
        let target = to.trim_end_matches(".html");
        assert!(numbers.iter().any(|(_, f)| f == target), "book.toml redirects {from} to {to}, which is no chapter");
        redirects += 1;
    }
    assert!(redirects >= 7, "book.toml redirects only {redirects} old chapter names");
}
