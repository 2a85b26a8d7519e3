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

/// The text of `readme` from the heading `heading` to the next heading of the same or a higher
/// level.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no `{heading}`"));
    let level = heading.split(' ').next().unwrap_or("##");
    let body = &readme[start + heading.len() + 2..];
    let end = body
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| {
            let rest = &body[i..];
            rest.starts_with('#')
                && rest
                    .split(' ')
                    .next()
                    .is_some_and(|h| h.len() <= level.len() && h.chars().all(|c| c == '#'))
        })
        .unwrap_or(body.len());
    &body[..end]
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
        let block = first_rust_block(section(&readme, heading));
        assert!(
            docs.contains(block.trim_end()),
            "the crate docs (src/lib.rs) lack the README's `{heading}` example:\n{block}"
        );
    }
    let values = section(&readme, "### Result values").trim();
    assert!(values.contains("| `checkbox` | a boolean |"), "{values}");
    assert!(
        docs.contains(values),
        "the crate docs (src/lib.rs) lack the README's result value table:\n{values}"
    );
}

#[test]
fn the_quick_start_lists_what_its_code_uses_and_no_registry_version() {
    let quick_start = section(&readme(), "## Quick start");
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
