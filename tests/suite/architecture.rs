//! Architecture invariants that a reader should not have to take on trust.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn the_domain_does_no_io() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain"),
        &mut files,
    );
    assert!(!files.is_empty());
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for forbidden in [
            "sqlx", "axum", "tokio", "oauth2", "reqwest", "std::fs", "std::net",
        ] {
            assert!(
                !text
                    .lines()
                    .any(|line| line.trim_start().starts_with("use ") && line.contains(forbidden)),
                "{} imports {forbidden}; src/domain/ must stay pure",
                file.display()
            );
        }
    }
}

#[test]
fn only_the_store_writes_sql() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    for file in files
        .iter()
        .filter(|f| !f.to_string_lossy().contains("/src/store/"))
    {
        let text = fs::read_to_string(file).unwrap();
        assert!(
            !text.contains("sqlx::query"),
            "{} runs SQL outside src/store/",
            file.display()
        );
    }
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |backend: &str| -> BTreeSet<String> {
        fs::read_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend),
        )
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}
