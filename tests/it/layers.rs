//! The crates depend on each other one way, as ARCHITECTURE.md draws them, and the core knows
//! nothing of WebAssembly, signatures or HTTP clients. Read from `cargo metadata`, so a new
//! dependency that breaks the picture fails here before it spreads.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Which workspace crates each crate may use (normal and build dependencies; tests may use
/// anything). Every workspace crate is listed, so a new one must be placed in the picture.
const ALLOWED: &[(&str, &[&str])] = &[
    ("zhiyuan-domain", &[]),
    ("zhiyuan-keys", &[]),
    ("zhiyuan-forms", &["zhiyuan-domain"]),
    ("zhiyuan-store", &["zhiyuan-domain", "zhiyuan-keys"]),
    (
        "zhiyuan-app",
        &["zhiyuan-domain", "zhiyuan-forms", "zhiyuan-store"],
    ),
    ("zhiyuan-api", &["zhiyuan-app", "zhiyuan-domain"]),
    (
        "zhiyuan-web",
        &[
            "zhiyuan-api",
            "zhiyuan-app",
            "zhiyuan-domain",
            "zhiyuan-forms",
        ],
    ),
    ("zhiyuan-federation", &["zhiyuan-domain", "zhiyuan-keys"]),
    ("zhiyuan-plugins", &["zhiyuan-domain", "zhiyuan-federation"]),
    (
        "zhiyuan",
        &[
            "zhiyuan-api",
            "zhiyuan-app",
            "zhiyuan-domain",
            "zhiyuan-federation",
            "zhiyuan-forms",
            "zhiyuan-keys",
            "zhiyuan-plugins",
            "zhiyuan-store",
            "zhiyuan-web",
        ],
    ),
];

/// The core crates: what every interface builds on.
const CORE: [&str; 7] = [
    "zhiyuan-domain",
    "zhiyuan-keys",
    "zhiyuan-forms",
    "zhiyuan-store",
    "zhiyuan-app",
    "zhiyuan-api",
    "zhiyuan-web",
];

/// Crates the core never reaches, even through others: the WebAssembly runtime, signatures,
/// and HTTP clients.
const NOT_IN_CORE: [&str; 5] = [
    "wasmtime",
    "wasmparser",
    "ed25519-dalek",
    "reqwest",
    "zhiyuan-plugins",
];

/// The dependency graph as built on this machine's platform: without the filter, cargo reads the
/// manifests of every platform's dependencies, which a machine that only built for its own has
/// never downloaded.
fn metadata() -> Value {
    let version = Command::new(env!("CARGO"))
        .arg("-vV")
        .output()
        .expect("cargo -vV runs");
    let version = String::from_utf8_lossy(&version.stdout);
    let host = version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("cargo names its host platform");
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata answers JSON")
}

/// Each package id's name, and its normal and build dependencies by package id.
fn graph(metadata: &Value) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let names = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            (
                package["id"].as_str().unwrap().to_owned(),
                package["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let edges = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|dep| {
                    dep["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|kind| kind["kind"].as_str() != Some("dev"))
                })
                .map(|dep| dep["pkg"].as_str().unwrap().to_owned())
                .collect();
            (node["id"].as_str().unwrap().to_owned(), deps)
        })
        .collect();
    (names, edges)
}

#[test]
fn crates_depend_on_each_other_one_way() {
    let metadata = metadata();
    let (names, edges) = graph(&metadata);
    let members: BTreeSet<String> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| names[id.as_str().unwrap()].clone())
        .collect();
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(name, deps)| (*name, deps.iter().copied().collect()))
        .collect();
    assert_eq!(
        members.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        allowed.keys().copied().collect::<BTreeSet<_>>(),
        "every workspace crate has its place in the picture"
    );
    let mut problems = Vec::new();
    for (id, deps) in &edges {
        let name = names[id].as_str();
        if !members.contains(name) {
            continue;
        }
        for dep in deps {
            let dep = names[dep].as_str();
            if members.contains(dep) && !allowed[name].contains(dep) {
                problems.push(format!("{name} depends on {dep}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "dependencies against the picture:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_core_knows_nothing_of_wasm_signatures_or_http_clients() {
    let metadata = metadata();
    let (names, edges) = graph(&metadata);
    let by_name: BTreeMap<&str, &str> = names
        .iter()
        .map(|(id, name)| (name.as_str(), id.as_str()))
        .collect();
    for core in CORE {
        // Everything the crate pulls in, through any path of normal or build dependencies.
        let mut reached = BTreeSet::new();
        let mut next = vec![by_name[core]];
        while let Some(id) = next.pop() {
            for dep in &edges[id] {
                if reached.insert(dep.as_str()) {
                    next.push(dep.as_str());
                }
            }
        }
        let reached: BTreeSet<&str> = reached.iter().map(|id| names[*id].as_str()).collect();
        for forbidden in NOT_IN_CORE {
            assert!(!reached.contains(forbidden), "{core} reaches {forbidden}");
        }
        assert!(
            reached.len() < names.len(),
            "the walk stays within what {core} uses"
        );
    }
}
