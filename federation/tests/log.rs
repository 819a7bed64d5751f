//! The transparency log's checks against the published vectors: RFC 6962's tree of eight
//! leaves (the roots of every size and an inclusion path, from Certificate Transparency's
//! tests), the C2SP signed-note example (Go's `note` package), and each refusal an auditor
//! must see named.

use zhiyuan_federation::SigningKey;
use zhiyuan_federation::log::{
    Hash, LogError, MemoryTree, check_consistency, check_inclusion, entry_hash, entry_of, key_id,
    leaf_hash, open_checkpoint, sign_checkpoint, verifier_key,
};

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const ORIGIN: &str = "zhiyuan.example/log/421300";

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
        .collect()
}

fn hash(text: &str) -> Hash {
    Hash(unhex(text).try_into().unwrap())
}

fn vector_tree() -> MemoryTree {
    let mut tree = MemoryTree::default();
    for leaf in LEAVES {
        tree.append(leaf_hash(&unhex(leaf))).unwrap();
    }
    tree
}

fn tenant_key(seed: u8) -> SigningKey {
    SigningKey::from_seed([seed; 32])
}

#[test]
fn the_tree_of_rfc6962s_eight_leaves_has_its_published_root_at_every_size() {
    let tree = vector_tree();
    for (size, root) in ROOTS.iter().enumerate() {
        assert_eq!(
            tree.root(size as u64 + 1).unwrap(),
            hash(root),
            "root of {}",
            size + 1
        );
    }
}

#[test]
fn the_first_leafs_inclusion_path_is_the_published_one_and_verifies() {
    let tree = vector_tree();
    let proof = tree.prove_inclusion(8, 0).unwrap();
    assert_eq!(
        proof,
        vec![
            hash("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            hash("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hash("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ]
    );
    let root = hash(ROOTS[7]);
    for index in 0..8 {
        let proof = tree.prove_inclusion(8, index).unwrap();
        let leaf = leaf_hash(&unhex(LEAVES[index as usize]));
        check_inclusion(&proof, 8, root, index, leaf).unwrap();
    }
    let other = leaf_hash(b"not in the log");
    let refused = check_inclusion(&proof, 8, root, 0, other).unwrap_err();
    assert!(matches!(
        refused,
        LogError::NotIncluded {
            index: 0,
            size: 8,
            ..
        }
    ));
    assert!(
        refused
            .to_string()
            .contains("entry 0 is not in the tree of 8 entries")
    );
}

#[test]
fn a_credentials_entry_names_it_and_its_digest_and_nothing_else() {
    let entry = entry_of("urn:uuid:0192f0c4-5d1e-7c2a-9b3d-1a2b3c4d5e6f", b"{}");
    assert_eq!(
        String::from_utf8(entry.to_bytes()).unwrap(),
        "urn:uuid:0192f0c4-5d1e-7c2a-9b3d-1a2b3c4d5e6f\n\
         44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n"
    );
    // SHA-256 of 0x00 and those bytes, computed apart from this code (Python's hashlib).
    assert_eq!(
        entry_hash(&entry),
        hash("689a67047a4454311ad07cc6623cd30dc610e190a9f8721529186c65025abcfb")
    );
}

#[test]
fn a_note_is_signed_as_c2sp_and_gos_note_package_sign_it() {
    // The example of Go's golang.org/x/mod/sumdb/note, which C2SP signed-note follows:
    // PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz.
    use base64::Engine;
    let typed = base64::engine::general_purpose::STANDARD
        .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        .unwrap();
    assert_eq!(typed[0], 0x01, "an Ed25519 key");
    let key = SigningKey::from_seed(typed[1..].try_into().unwrap());
    assert_eq!(key_id("PeterNeumann", &key.verifying_key()), 0xc74f20a3);
    assert_eq!(
        verifier_key("PeterNeumann", &key.verifying_key()),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    let text = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n";
    let signature = key.sign(text.as_bytes());
    let mut line = 0xc74f20a3u32.to_be_bytes().to_vec();
    line.extend_from_slice(&signature);
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(line),
        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
    );
}

#[test]
fn a_checkpoint_opens_with_any_of_the_tenants_keys_and_no_other() {
    let tree = vector_tree();
    let (old, new) = (tenant_key(1), tenant_key(2));
    let note = sign_checkpoint(ORIGIN, 8, tree.root(8).unwrap(), &new).unwrap();
    assert!(note.starts_with(&format!("{ORIGIN}\n8\n")), "{note}");
    assert!(note.contains(&format!("\n\u{2014} {ORIGIN} ")), "{note}");

    let keys = [old.verifying_key(), new.verifying_key()];
    let checkpoint = open_checkpoint(note.as_bytes(), ORIGIN, &keys).unwrap();
    assert_eq!((checkpoint.size(), *checkpoint.hash()), (8, hash(ROOTS[7])));

    // Signed by a key the tenant never published.
    let stranger = sign_checkpoint(ORIGIN, 8, tree.root(8).unwrap(), &tenant_key(9)).unwrap();
    let refused = open_checkpoint(stranger.as_bytes(), ORIGIN, &keys).unwrap_err();
    assert_eq!(refused, LogError::Unsigned);
    assert!(
        refused
            .to_string()
            .contains("no signature by a key of the log")
    );

    // One byte of the signature changed.
    let mut forged = note.clone().into_bytes();
    let at = forged.len() - 6;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let refused = open_checkpoint(&forged, ORIGIN, &keys).unwrap_err();
    assert!(matches!(refused, LogError::BadSignature(_)), "{refused:?}");
    assert!(refused.to_string().contains("does not verify"));

    // The size changed under the signature.
    let altered = note.replacen("\n8\n", "\n9\n", 1);
    let refused = open_checkpoint(altered.as_bytes(), ORIGIN, &keys).unwrap_err();
    assert!(matches!(refused, LogError::BadSignature(_)), "{refused:?}");

    // Another tenant's log.
    let refused =
        open_checkpoint(note.as_bytes(), "zhiyuan.example/log/420700", &keys).unwrap_err();
    assert!(matches!(refused, LogError::OtherLog { .. }), "{refused:?}");

    // Not a note at all.
    let refused = open_checkpoint(b"8\nroot\n", ORIGIN, &keys).unwrap_err();
    assert!(matches!(refused, LogError::MalformedNote(_)), "{refused:?}");
}

#[test]
fn a_tree_extends_every_tree_before_it_and_a_fork_is_named() {
    let tree = vector_tree();
    let key = tenant_key(1);
    let keys = [key.verifying_key()];
    let checkpoint = |tree: &MemoryTree, size: u64| {
        let note = sign_checkpoint(ORIGIN, size, tree.root(size).unwrap(), &key).unwrap();
        open_checkpoint(note.as_bytes(), ORIGIN, &keys).unwrap()
    };
    for old in 1..=8 {
        for new in old..=8 {
            let proof = tree.prove_consistency(new, old).unwrap();
            check_consistency(&proof, &checkpoint(&tree, old), &checkpoint(&tree, new)).unwrap();
        }
    }

    // A log that showed another history from its fifth entry on.
    let mut forked = MemoryTree::default();
    for (index, leaf) in LEAVES.iter().enumerate() {
        let data = if index == 4 {
            b"rewritten".to_vec()
        } else {
            unhex(leaf)
        };
        forked.append(leaf_hash(&data)).unwrap();
    }
    let seen = checkpoint(&tree, 8);
    let refused = check_consistency(&vec![], &seen, &checkpoint(&forked, 8)).unwrap_err();
    assert!(
        matches!(refused, LogError::Forked { size: 8, .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("the log forked"));

    let proof = forked.prove_consistency(8, 6).unwrap();
    let refused =
        check_consistency(&proof, &checkpoint(&tree, 6), &checkpoint(&forked, 8)).unwrap_err();
    assert_eq!(
        refused,
        LogError::Inconsistent {
            old_size: 6,
            new_size: 8
        }
    );

    let refused = check_consistency(&vec![], &seen, &checkpoint(&tree, 5)).unwrap_err();
    assert_eq!(
        refused,
        LogError::Shrank {
            old_size: 8,
            new_size: 5
        }
    );
}
