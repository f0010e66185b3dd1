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

/// The house, layer by layer: which of Leash's modules each may name (its own always),
/// and which outside crates or paths it must not. Arrows only point down: `cli` wires
/// everything; `http` and `workers` drive use cases; use cases own transactions over
/// `store`, calls out through `upstream`, and the in-memory `cache`; `domain` is pure.
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    (
        "cli",
        &[
            "clock",
            "domain",
            "http",
            "private_file",
            "secret_box",
            "store",
            "upstream",
            "usecase",
            "workers",
        ],
        &[],
    ),
    ("http", &["cache", "clock", "domain", "usecase"], &["sqlx"]),
    (
        "workers",
        &["clock", "domain", "store", "upstream", "usecase"],
        &["axum"],
    ),
    (
        "usecase",
        &[
            "cache",
            "clock",
            "domain",
            "secret_box",
            "store",
            "upstream",
        ],
        &["axum", "StatusCode", "tower"],
    ),
    (
        "store",
        &["domain"],
        &["axum", "StatusCode", "tower", "reqwest"],
    ),
    ("upstream", &["domain"], &["sqlx", "axum"]),
    ("cache", &["domain"], &["sqlx", "axum", "reqwest"]),
    ("secret_box", &["domain", "private_file"], &["sqlx", "axum"]),
    ("private_file", &[], &["sqlx", "axum"]),
    ("clock", &[], &["sqlx", "axum"]),
    (
        "domain",
        &[],
        &[
            "sqlx",
            "axum",
            "tokio",
            "oauth2",
            "reqwest",
            "hyper",
            "tower",
            "std::fs",
            "std::net",
            "std::process",
        ],
    ),
];

/// The code of a file that ships: comments dropped, and the test module at its end
/// (tests build fixtures from any layer) left out.
fn shipped_code(text: &str) -> String {
    let shipped = text.split("\n#[cfg(test)]\n").next().unwrap_or_default();
    shipped
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module of Leash named in `code` (`crate::x…` and `crate::{x, y::…}`).
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .collect(),
            None => vec![rest],
        };
        for name in names {
            let first: String = name
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !first.is_empty() {
                named.insert(first);
            }
        }
    }
    named
}

/// What `code`, in layer `layer`, does that the table forbids.
fn violations(layer: &str, code: &str) -> Vec<String> {
    let (_, allowed, forbidden) = LAYERS
        .iter()
        .find(|(name, ..)| *name == layer)
        .unwrap_or_else(|| panic!("{layer} is in no layer of the table"));
    let mut found: Vec<String> = named_modules(code)
        .into_iter()
        .filter(|named| named != layer && !allowed.contains(&named.as_str()))
        .map(|named| format!("names crate::{named}"))
        .collect();
    for word in *forbidden {
        let used = code.match_indices(word).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + word.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        if used {
            found.push(format!("uses {word}"));
        }
    }
    found
}

/// The layer a source file belongs to: its top-level module.
fn layer_of(file: &Path) -> Option<String> {
    let relative = file
        .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
        .ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

#[test]
fn every_arrow_of_the_house_points_down() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut broken = Vec::new();
    for file in &files {
        let Some(layer) = layer_of(file) else {
            continue;
        };
        let code = shipped_code(&fs::read_to_string(file).unwrap());
        for violation in violations(&layer, &code) {
            broken.push(format!("{} ({layer}) {violation}", file.display()));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn the_layer_check_catches_every_forbidden_arrow() {
    for (layer, allowed, forbidden) in LAYERS {
        for (other, ..) in LAYERS {
            let allowed_here = other == layer || allowed.contains(other);
            for code in [
                format!("use crate::{other}::Thing;"),
                format!("use crate::{{{layer}::Mine, {other}::Thing}};"),
                format!("fn f() {{ crate::{other}::thing(); }}"),
            ] {
                assert_eq!(
                    violations(layer, &code).is_empty(),
                    allowed_here,
                    "{layer}: {code}"
                );
            }
        }
        for word in *forbidden {
            let code = format!("fn f() {{ let _ = {word}::thing; }}");
            assert!(!violations(layer, &code).is_empty(), "{layer} using {word}");
        }
    }
    for ignored in [
        "use x; // crate::store::Db",
        "fn a() {}\n#[cfg(test)]\nmod tests { use crate::store; }",
    ] {
        assert!(
            named_modules(&shipped_code(ignored)).is_empty(),
            "{ignored}"
        );
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
