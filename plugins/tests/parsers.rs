//! Property tests of what the node reads from a plugin upload before it compiles anything: the
//! package screen and the signature. Neither panics on any input; the bundled packages pass
//! the screen and any change to a package or its signature fails the signature check.
//!
//! The case count is 256 unless `PROPTEST_CASES` says otherwise (CI runs more, under a time
//! limit); failures are never written into the source tree.

use std::path::PathBuf;
use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, contextualize_config};
use zhiyuan_domain::ports::PluginRefusal;
use zhiyuan_federation::multikey::SigningKey;
use zhiyuan_plugins::{screen, sign_package, verify_package};

/// The memory cap the node runs plugins under by default.
const MEMORY_CAP: usize = 16 << 20;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(256);
    config.failure_persistence = None;
    config.max_shrink_time = 60_000;
    contextualize_config(config)
}

/// Every package the repository ships, the test ones too: real components and core modules to
/// cut and change, so that changes land deep inside sections rather than only in the header.
static PACKAGES: LazyLock<Vec<(String, Vec<u8>)>> = LazyLock::new(|| {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist");
    let mut packages = Vec::new();
    for dir in [dist.clone(), dist.join("test")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "wasm") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                packages.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    packages.sort();
    assert!(packages.len() >= 5, "the packages are there");
    packages
});

/// A package changed the ways an upload can be wrong: cut short, bytes overwritten, bytes
/// inserted, a length field's bytes set high.
fn changed_package() -> impl Strategy<Value = Vec<u8>> {
    let count = PACKAGES.len();
    (
        0..count,
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
    )
        .prop_map(|(which, edits)| {
            let mut bytes = PACKAGES[which].1.clone();
            for (at, value, kind) in edits {
                if bytes.is_empty() {
                    break;
                }
                let at = at.index(bytes.len());
                match kind {
                    0 => bytes.truncate(at),
                    1 => bytes[at] = value,
                    2 => bytes.insert(at, value),
                    _ => bytes[at] |= 0x80,
                }
            }
            bytes
        })
}

#[test]
fn the_shipped_policy_plugins_pass_the_screen() {
    for name in [
        "star-levels.wasm",
        "suizhou-naming.wasm",
        "suizhou-targets.wasm",
    ] {
        let (_, bytes) = PACKAGES.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(screen(bytes, MEMORY_CAP), Ok(()), "{name}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_screen_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = screen(&bytes, MEMORY_CAP);
    }

    #[test]
    fn the_screen_never_panics_on_changed_packages(bytes in changed_package()) {
        match screen(&bytes, MEMORY_CAP) {
            Ok(()) => prop_assert!(bytes.starts_with(b"\0asm")),
            Err(refusal) => prop_assert!(!refusal.to_string().is_empty()),
        }
    }

    #[test]
    fn a_signature_holds_for_its_package_only(
        package in changed_package(),
        seed in any::<[u8; 32]>(),
        forged in "\\PC{0,100}",
        flip in any::<prop::sample::Index>(),
    ) {
        let operator = SigningKey::from_seed(seed);
        let trusted = [operator.verifying_key()];
        let signature = sign_package(&operator, &package);
        prop_assert_eq!(
            verify_package(&package, &signature, &trusted),
            Ok(operator.verifying_key().to_multibase())
        );
        // Any text in its place, and the signature of a package one byte different.
        if forged != signature {
            prop_assert_eq!(verify_package(&package, &forged, &trusted), Err(PluginRefusal::BadSignature));
        }
        let mut other = package.clone();
        if other.is_empty() {
            other.push(0);
        } else {
            let at = flip.index(other.len());
            other[at] ^= 1;
        }
        prop_assert_eq!(verify_package(&other, &signature, &trusted), Err(PluginRefusal::BadSignature));
    }
}
