//! ARCHITECTURE.md stays true: every path it names in backticks exists in the tree.

use std::path::Path;

/// The folders at the repository's top whose paths the code map names.
const TOP_FOLDERS: [&str; 8] = [
    "src/",
    "tests/",
    "end2end/",
    "benches/",
    "migrations/",
    "style/",
    "public/",
    "scripts/",
];

fn named_paths(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| TOP_FOLDERS.iter().any(|top| quoted.starts_with(top)))
        .collect()
}

#[test]
fn every_path_architecture_md_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let named = named_paths(&text);
    assert!(
        named.len() > 30,
        "the code map names only {} paths",
        named.len()
    );
    let missing: Vec<&str> = named
        .into_iter()
        .filter(|path| !root.join(path).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that are gone: {missing:?}"
    );
}

#[test]
fn only_quoted_paths_under_the_top_folders_count() {
    let text = "see `src/app.rs` and `AppError`, `tests/` but not src/lib.rs or `cargo test`";
    assert_eq!(named_paths(text), ["src/app.rs", "tests/"]);
}
