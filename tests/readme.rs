//! The README's snippets run as written.
//!
//! - Every Rust block compiles, warning-free, as a user pastes it into a new crate whose manifest
//!   is the Quick start's dependency block (plus the dependency blocks of the sections that
//!   name a feature, merged in), depending on this checkout: a block with `fn main` is a binary,
//!   one with `#[tokio::test]` a test in `tests/` (where the dev-dependencies are), the rest a
//!   module of the library. Binaries are built without the dev-dependencies, as `cargo run`
//!   builds them, so a `main.rs` using a dev-dependency's feature fails here too. The test
//!   blocks also run.
//! - No Rust block has rustdoc's hidden `# ` lines: the repository page shows them.
//! - The crate root's docs carry the README's quick start, offline recipe and result value
//!   table (with hidden lines of their own, for rustdoc, where needed).
//!
//! The new crate lives in `CARGO_TARGET_TMPDIR` and builds in this target directory, with this
//! workspace's lock file (so with the versions, and the downloads, this workspace already has).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
/// The name of the crate the snippets are pasted into.
const CRATE: &str = "readme-snippets";

fn readme() -> String {
    std::fs::read_to_string(Path::new(REPO).join("README.md")).expect("README.md")
}

/// The crate root's `//!` docs, as Markdown.
fn crate_docs() -> String {
    let lib = std::fs::read_to_string(Path::new(REPO).join("src/lib.rs")).expect("src/lib.rs");
    lib.lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fenced block of Markdown.
#[derive(Debug, Clone)]
struct Block {
    /// What follows the opening fence: `rust,no_run`, `toml`, `sh`.
    info: String,
    /// The line of the opening fence (1-based).
    line: usize,
    /// The innermost heading the block is under.
    heading: String,
    code: String,
}

impl Block {
    fn is_rust(&self) -> bool {
        self.info.split(',').next() == Some("rust")
    }
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut open {
            Some(block) if line.trim_start().starts_with("```") => {
                out.push(block.clone());
                open = None;
            }
            Some(block) => {
                block.code.push_str(line);
                block.code.push('\n');
            }
            None => {
                if let Some(info) = line.trim_start().strip_prefix("```") {
                    open = Some(Block {
                        info: info.trim().to_owned(),
                        line: i + 1,
                        heading: heading.clone(),
                        code: String::new(),
                    });
                } else if line.starts_with('#') {
                    heading = line.to_owned();
                }
            }
        }
    }
    assert!(
        open.is_none(),
        "a fenced block of the README is never closed"
    );
    out
}

/// A line that rustdoc hides and a Markdown page shows: `# ` or a lone `#`.
fn is_hidden_line(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed == "#" || trimmed.starts_with("# ")
}

#[test]
fn no_rust_block_has_hidden_lines() {
    for block in blocks(&readme()).iter().filter(|b| b.is_rust()) {
        let hidden: Vec<&str> = block.code.lines().filter(|l| is_hidden_line(l)).collect();
        assert!(
            hidden.is_empty(),
            "README.md line {}: rustdoc's hidden lines show on the repository page and break a \
             copy-paste; write the block whole (doctests with hidden lines belong in src/):\n{}",
            block.line,
            hidden.join("\n")
        );
    }
}

/// The Quick start's dependency block with every other dependency block of the README merged
/// in (features are added up), `dromo-client` pointing at this checkout.
fn manifest(readme_blocks: &[Block]) -> toml::Table {
    let toml_blocks: Vec<&Block> = readme_blocks
        .iter()
        .filter(|b| b.info == "toml" && b.code.contains("dependencies]"))
        .collect();
    let quick_start = toml_blocks
        .iter()
        .position(|b| b.heading == "## Quick start")
        .expect("the Quick start has a ```toml dependency block");
    let parse = |b: &Block| -> toml::Table {
        b.code
            .parse()
            .unwrap_or_else(|e| panic!("README.md line {}: not TOML: {e}", b.line))
    };
    let mut manifest = parse(toml_blocks[quick_start]);
    for (i, block) in toml_blocks.iter().enumerate() {
        if i != quick_start {
            merge(&mut manifest, parse(block));
        }
    }
    for table in ["dependencies", "dev-dependencies"] {
        let Some(deps) = manifest.get_mut(table).and_then(|t| t.as_table_mut()) else {
            continue;
        };
        let Some(ours) = deps.get_mut("dromo-client").and_then(|d| d.as_table_mut()) else {
            panic!("the README's [{table}] name dromo-client without a path: {deps:?}");
        };
        assert!(
            ours.contains_key("path"),
            "the README's dromo-client dependency has no `path`: the crate is not published"
        );
        ours.insert("path".into(), REPO.into());
    }
    let package: toml::Table =
        format!("name = \"{CRATE}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n")
            .parse()
            .expect("the package table");
    manifest.insert("package".into(), package.into());
    // Its own workspace (it sits inside this repository's target directory).
    manifest.insert("workspace".into(), toml::Table::new().into());
    // This workspace's profiles, so the dependencies built for it are reused.
    let ours: toml::Table = std::fs::read_to_string(Path::new(REPO).join("Cargo.toml"))
        .expect("Cargo.toml")
        .parse()
        .expect("Cargo.toml is TOML");
    if let Some(profile) = ours.get("profile") {
        manifest.insert("profile".into(), profile.clone());
    }
    manifest
}

/// Merges `extra` into `base`: tables recursively, arrays (features) as sets, values replaced.
fn merge(base: &mut toml::Table, extra: toml::Table) {
    for (key, value) in extra {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(e)) => merge(b, e),
            (Some(toml::Value::Array(b)), toml::Value::Array(e)) => {
                for item in e {
                    if !b.contains(&item) {
                        b.push(item);
                    }
                }
            }
            // `tokio = "1"` and `tokio = { version = "1", features = [..] }`.
            (Some(b @ toml::Value::String(_)), toml::Value::Table(mut e)) => {
                e.entry("version").or_insert_with(|| b.clone());
                *b = toml::Value::Table(e);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Where each Rust block goes in the new crate.
fn file_for(block: &Block) -> PathBuf {
    let name = format!("readme_line_{}.rs", block.line);
    if block.code.contains("#[tokio::test]") || block.code.contains("#[test]") {
        Path::new("tests").join(name)
    } else if block.code.contains("fn main(") {
        Path::new("src/bin").join(name)
    } else {
        Path::new("src").join(name)
    }
}

/// Writes `text` to `path` unless it is there already (cargo then keeps what it built).
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Removes the `.rs` files of `dir` that are not in `keep` (blocks the README no longer has).
fn remove_stale(dir: &Path, keep: &BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "rs") && !keep.contains(&path) {
            std::fs::remove_file(&path).unwrap();
        }
    }
}

/// Runs cargo with `--message-format=json` in the new crate; returns the warnings and errors
/// about the crate's own code (rendered), after asserting that cargo succeeded when it did not
/// report any.
fn cargo_json(dir: &Path, target: &Path, args: &[&str]) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .arg("--message-format=json")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut problems = Vec::new();
    for line in stdout.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let ours = message["target"]["src_path"]
            .as_str()
            .is_some_and(|src| Path::new(src).starts_with(dir));
        let level = message["message"]["level"].as_str().unwrap_or_default();
        if message["reason"] == "compiler-message" && ours && matches!(level, "warning" | "error") {
            problems.push(
                message["message"]["rendered"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    if problems.is_empty() {
        assert!(
            output.status.success(),
            "`cargo {}` failed in {}:\n{}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    problems
}

/// Every `name version` of a lock file.
fn locked_packages(lock: &str) -> BTreeSet<String> {
    let lock: toml::Table = lock.parse().expect("a lock file is TOML");
    lock["package"]
        .as_array()
        .expect("[[package]]")
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn every_rust_block_compiles_in_a_new_crate_with_the_quick_start_dependencies() {
    let readme_blocks = blocks(&readme());
    let rust: Vec<&Block> = readme_blocks.iter().filter(|b| b.is_rust()).collect();
    assert!(rust.len() >= 5, "the README's Rust blocks: {}", rust.len());

    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(CRATE);
    // Cargo's `tmp` is a directory of the target directory: build there, so the dependencies
    // this workspace built are reused.
    let target = tmp.parent().expect("CARGO_TARGET_TMPDIR has a parent");

    let manifest = manifest(&readme_blocks);
    write_if_changed(
        &dir.join("Cargo.toml"),
        &toml::to_string(&manifest).unwrap(),
    );
    let workspace_lock = std::fs::read_to_string(Path::new(REPO).join("Cargo.lock")).unwrap();
    if !dir.join("Cargo.lock").exists() {
        std::fs::write(dir.join("Cargo.lock"), &workspace_lock).unwrap();
    }

    let mut files = BTreeSet::new();
    let mut modules = String::from(
        "//! The README's blocks that are neither a program nor a test, each a module as pasted.\n\
         // A block on its own uses none of its functions.\n#![allow(dead_code)]\n",
    );
    let mut has_tests = false;
    for block in &rust {
        let file = file_for(block);
        if file.starts_with("tests") {
            has_tests = true;
        } else if !file.starts_with("src/bin") {
            let module = file.file_stem().unwrap().to_string_lossy();
            modules.push_str(&format!("pub mod {module};\n"));
        }
        write_if_changed(&dir.join(&file), &block.code);
        files.insert(dir.join(file));
    }
    files.insert(dir.join("src/lib.rs"));
    write_if_changed(&dir.join("src/lib.rs"), &modules);
    for sub in ["src", "src/bin", "tests"] {
        remove_stale(&dir.join(sub), &files);
    }

    // The library's modules and the programs, without the dev-dependencies (as `cargo build`
    // and `cargo run` build them), then the tests, which also run.
    let mut problems = cargo_json(&dir, target, &["build", "--lib", "--bins"]);
    if has_tests {
        problems.extend(cargo_json(&dir, target, &["test", "--tests", "--no-run"]));
    }
    assert!(
        problems.is_empty(),
        "README blocks (in {}, each file named by the README line of its block) do not compile \
         as written:\n{}",
        dir.display(),
        problems.join("\n")
    );
    if has_tests {
        let run = Command::new(env!("CARGO"))
            .args(["test", "--tests", "--quiet"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", target)
            .output()
            .expect("cargo runs");
        assert!(
            run.status.success(),
            "the README's test blocks fail:\n{}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }

    // Only crates this workspace already locks: nothing new was resolved or downloaded.
    let ours = locked_packages(&workspace_lock);
    let theirs = locked_packages(&std::fs::read_to_string(dir.join("Cargo.lock")).unwrap());
    let new: Vec<&String> = theirs
        .iter()
        .filter(|p| !ours.contains(*p) && !p.starts_with(&format!("{CRATE} ")))
        .collect();
    assert!(
        new.is_empty(),
        "the README's dependencies need crates this workspace does not lock: {new:?}"
    );
}

/// The crate docs' Rust blocks, rustdoc's hidden lines removed (what rustdoc shows).
fn shown_doc_blocks(docs: &str) -> Vec<String> {
    blocks(docs)
        .into_iter()
        .filter(Block::is_rust)
        .map(|b| {
            b.code
                .lines()
                .filter(|l| !is_hidden_line(l))
                .map(|l| format!("{l}\n"))
                .collect()
        })
        .collect()
}

/// The text of `readme` after the heading `heading`, up to the next heading of the same or a
/// higher level (lines in fenced code are not headings).
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

#[test]
fn the_crate_root_carries_the_readme_quick_start() {
    let readme = readme();
    let docs = crate_docs();
    let shown = shown_doc_blocks(&docs);
    for heading in ["## Quick start", "## Testing your import code offline"] {
        let text = section(&readme, heading);
        let first = blocks(&text)
            .into_iter()
            .find(Block::is_rust)
            .unwrap_or_else(|| panic!("README `{heading}` has no Rust block"));
        assert!(
            shown.contains(&first.code),
            "the crate docs (src/lib.rs) lack the README's `{heading}` example (hidden lines \
             aside):\n{}",
            first.code
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
        "chrono",
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

#[test]
fn the_block_parser_finds_fences_headings_and_hidden_lines() {
    let md = "# T\n\n## A\n\n```rust,no_run\nfn a() {}\n# fn hidden() {}\n```\n\n### B\n```toml\n[dependencies]\n```\n";
    let found = blocks(md);
    assert_eq!(found.len(), 2);
    assert!(found[0].is_rust());
    assert_eq!(found[0].heading, "## A");
    assert_eq!(found[0].line, 5);
    assert_eq!(found[1].info, "toml");
    assert_eq!(found[1].heading, "### B");
    assert!(found[0].code.lines().any(is_hidden_line));
    assert!(!is_hidden_line("#[derive(Debug)]"));
    assert!(!is_hidden_line("#![allow(dead_code)]"));
    let mut base: toml::Table =
        "[dependencies]\na = { path = \"x\", features = [\"derive\"] }\nb = \"1\"\n"
            .parse()
            .unwrap();
    merge(
        &mut base,
        "[dependencies]\na = { path = \"x\", features = [\"redis\"] }\nb = { features = [\"f\"] }\n"
            .parse()
            .unwrap(),
    );
    assert_eq!(
        base["dependencies"]["a"]["features"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(base["dependencies"]["b"]["version"].as_str(), Some("1"));
}
