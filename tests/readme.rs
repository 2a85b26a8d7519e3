//! The crate root's docs carry the README's quick start, offline recipe and result value table,
//! word for word: both are compiled (the README through `ReadmeDoctests`, the crate docs as
//! doctests), and this test keeps them the same.

/// The crate root's `//!` docs, as Markdown.
fn crate_docs() -> String {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"))
        .expect("src/lib.rs");
    lib.lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

/// The text of `readme` after the heading `heading`, up to the next heading of the same or a
/// higher level (lines in fenced code, such as rustdoc's hidden `# ` lines, are not headings).
fn section(readme: &str, heading: &str) -> String {
    let level = heading.split(' ').next().unwrap_or("##").len();
    let mut lines = readme.lines().skip_while(|line| *line != heading);
    assert!(lines.next().is_some(), "README has no `{heading}`");
    let mut fenced = false;
    let mut out = Vec::new();
    for line in lines {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if !fenced && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            break;
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

/// The first fenced Rust block of `text`, fences included.
fn first_rust_block(text: &str) -> &str {
    let start = text.find("```rust").expect("a Rust block");
    let end = text[start + 3..].find("```\n").expect("a closing fence") + start + 6;
    &text[start..end]
}

#[test]
fn the_crate_root_carries_the_readme_quick_start() {
    let readme = readme();
    let docs = crate_docs();
    for heading in ["## Quick start", "## Testing your import code offline"] {
        let text = section(&readme, heading);
        let block = first_rust_block(&text);
        assert!(
            docs.contains(block.trim_end()),
            "the crate docs (src/lib.rs) lack the README's `{heading}` example:\n{block}"
        );
    }
    let values = section(&readme, "### Result values");
    let values = values.trim();
    assert!(values.contains("| `checkbox` | a boolean |"), "{values}");
    assert!(
        docs.contains(values),
        "the crate docs (src/lib.rs) lack the README's result value table:\n{values}"
    );
}

#[test]
fn the_quick_start_lists_what_its_code_uses_and_no_registry_version() {
    let readme = readme();
    let quick_start = section(&readme, "## Quick start");
    for dependency in [
        "tokio",
        "serde =",
        "features = [\"derive\"]",
        "futures-util",
        "serde_json",
    ] {
        assert!(
            quick_start.contains(dependency),
            "Quick start omits {dependency}"
        );
    }
    assert!(
        !quick_start.contains("dromo-client = \"0.1\""),
        "the crate is not published yet"
    );
    assert!(quick_start.contains("dromo-client = { path ="));
}
