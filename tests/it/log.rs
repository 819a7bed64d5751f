//! A tenant's transparency log as the node keeps it: appended in batches of any size, its root
//! the one an auditor rebuilds from the entries, every proof it serves checked by the auditor's
//! code (`zhiyuan_federation::log`), and nothing of it ever changed.

use zhiyuan_domain::{LogEntry, TenantCode};
use zhiyuan_federation::SigningKey;
use zhiyuan_federation::log::{
    Checkpoint, Hash, LogError, MemoryTree, check_consistency, check_inclusion, check_tiles,
    entry_hash, entry_of, open_checkpoint, tile_paths,
};
use zhiyuan_store::{LogHead, StoreError};

use crate::support::on_both_databases;

fn credential(number: u64) -> LogEntry {
    entry_of(
        &format!("urn:uuid:0193a5b0-0000-7000-8000-{number:012}"),
        format!("{{\"n\":{number}}}").as_bytes(),
    )
}

fn checkpoint(head: LogHead) -> Checkpoint {
    Checkpoint::new("zhiyuan.test/log/421300", head.size, Hash(head.root), "").unwrap()
}

on_both_databases! {
    async fn the_log_grows_in_batches_and_every_proof_it_serves_checks(node: &TestNode) {
        let tenant = TenantCode::parse("421300").unwrap();
        let store = node.store();
        let now = node.app().clock.now();
        let empty = store.log_head(&tenant).await.unwrap();
        assert_eq!(empty.size, 0);

        // The auditor's rebuild of the same entries, beside the node's.
        let mut rebuilt = MemoryTree::default();
        let mut heads = Vec::new();
        let mut next = 0;
        for batch in [1, 1, 2, 7, 256, 1, 300, 433] {
            let entries: Vec<LogEntry> = (next..next + batch).map(credential).collect();
            next += batch;
            let head = store.append_to_log(&tenant, &entries, now).await.unwrap();
            for entry in &entries {
                rebuilt.append(entry_hash(entry)).unwrap();
            }
            assert_eq!(head.size, next, "size after {next}");
            assert_eq!(Hash(head.root), rebuilt.root(next).unwrap(), "root after {next}");
            assert_eq!(store.log_head(&tenant).await.unwrap(), head);
            heads.push(head);
        }
        let last = *heads.last().unwrap();
        assert_eq!(last.size, 1001);

        for position in [0, 1, 2, 255, 256, 511, 700, 1000] {
            let entry = credential(position);
            let (found, stored) = store.log_entry(&tenant, &entry.credential_id).await.unwrap();
            assert_eq!((found, &stored), (position, &entry));
            let proof: Vec<Hash> = store
                .log_inclusion_proof(&tenant, last.size, position)
                .await
                .unwrap()
                .into_iter()
                .map(Hash)
                .collect();
            check_inclusion(&proof, last.size, Hash(last.root), position, entry_hash(&entry))
                .unwrap();
        }
        for earlier in &heads {
            let proof: Vec<Hash> = store
                .log_consistency_proof(&tenant, last.size, earlier.size)
                .await
                .unwrap()
                .into_iter()
                .map(Hash)
                .collect();
            check_consistency(&proof, &checkpoint(*earlier), &checkpoint(last)).unwrap();
        }

        // A proof of an entry past the tree is not found, not a failure.
        assert!(matches!(
            store.log_inclusion_proof(&tenant, last.size, last.size).await,
            Err(StoreError::NotFound)
        ));
        // A credential logged twice is refused and the log is as it was.
        assert!(store.append_to_log(&tenant, &[credential(5)], now).await.is_err());
        assert_eq!(store.log_head(&tenant).await.unwrap(), last);

        // Nothing of a log is ever changed or removed, whoever asks the database.
        for statement in [
            "UPDATE log_entries SET credential_id = 'forged' WHERE position = 3",
            "DELETE FROM log_entries WHERE position = 3",
            "UPDATE log_hashes SET stored_index = stored_index WHERE stored_index = 0",
            "DELETE FROM log_hashes",
        ] {
            let refused = node.try_execute(statement).await.unwrap_err();
            assert!(refused.contains("append-only"), "{statement}: {refused}");
        }
        assert_eq!(node.count("log_entries").await, 1001);
    }
}

on_both_databases! {
    async fn anyone_reads_a_tenants_checkpoint_signed_with_its_key(node: &TestNode) {
        let tenant = TenantCode::parse("421300").unwrap();
        let origin = zhiyuan_app::log::origin(&node.app().settings.public_url, &tenant);
        // Before the first entry: the empty tree, signed all the same.
        let empty = node.download("/log/421300/checkpoint", None).await;
        assert_eq!(empty.status, 200);
        // The tenant's keys as the node keeps them (the first is made when first needed).
        let ring = zhiyuan_keys::KeyRing::new(
            &node.config.data_keys,
            Some(node.config.data_dir.join("keys")),
        )
        .unwrap();
        let keys: Vec<_> = ring
            .signing_secrets("421300")
            .unwrap()
            .iter()
            .map(|version| SigningKey::from_secret(&version.secret).verifying_key())
            .collect();

        assert_eq!(empty.content_type, "text/plain; charset=utf-8");
        let checkpoint = open_checkpoint(&empty.bytes, &origin, &keys).unwrap();
        assert_eq!(checkpoint.size(), 0);

        let entries: Vec<LogEntry> = (0..10).map(credential).collect();
        let head = node
            .store()
            .append_to_log(&tenant, &entries, node.app().clock.now())
            .await
            .unwrap();
        let answer = node.download("/log/421300/checkpoint", None).await;
        assert_eq!(answer.status, 200);
        let checkpoint = open_checkpoint(&answer.bytes, &origin, &keys).unwrap();
        assert_eq!((checkpoint.size(), *checkpoint.hash()), (10, Hash(head.root)));
        let text = String::from_utf8(answer.bytes.clone()).unwrap();
        assert!(text.starts_with(&format!("{origin}\n10\n")), "{text}");

        // Another tenant's keys open none of it; another tenant's log is its own.
        let stranger = [SigningKey::from_seed([7; 32]).verifying_key()];
        assert_eq!(
            open_checkpoint(&answer.bytes, &origin, &stranger).unwrap_err(),
            LogError::Unsigned
        );
        let ezhou = node.download("/log/420700/checkpoint", None).await;
        assert_eq!(ezhou.status, 200);
        assert!(matches!(
            open_checkpoint(&ezhou.bytes, &origin, &keys).unwrap_err(),
            LogError::OtherLog { .. }
        ));

        // A tenant the node does not have, and a code that is none.
        node.download("/log/420100/checkpoint", None).await.assert_problem(404, "not_found");
        node.download("/log/4213/checkpoint", None).await.assert_problem(400, "bad_path_parameter");
    }
}

on_both_databases! {
    async fn writers_appending_at_once_take_turns_and_lose_nothing(node: &TestNode) {
        let tenant = TenantCode::parse("421300").unwrap();
        let store = node.store();
        let now = node.app().clock.now();
        let batches: Vec<Vec<LogEntry>> = (0..8u64)
            .map(|writer| (writer * 50..writer * 50 + 50).map(credential).collect())
            .collect();
        let appended = futures::future::join_all(
            batches
                .iter()
                .map(|batch| store.append_to_log(&tenant, batch, now)),
        )
        .await;
        for result in appended {
            result.unwrap();
        }

        // Whatever order the writers took, every entry is in once and the head is the tree of
        // the entries as stored.
        let head = store.log_head(&tenant).await.unwrap();
        assert_eq!(head.size, 400);
        let mut by_position = vec![None; 400];
        for entry in batches.iter().flatten() {
            let (position, stored) = store.log_entry(&tenant, &entry.credential_id).await.unwrap();
            assert_eq!(&stored, entry);
            assert!(by_position[position as usize].replace(entry.clone()).is_none(), "{position} twice");
        }
        let mut rebuilt = MemoryTree::default();
        for entry in by_position {
            rebuilt.append(entry_hash(&entry.expect("every position filled"))).unwrap();
        }
        assert_eq!(Hash(head.root), rebuilt.root(400).unwrap());
    }
}

on_both_databases! {
    async fn an_auditor_rebuilds_the_log_from_its_tiles_and_checks_every_proof_over_http(node: &TestNode) {
        let tenant = TenantCode::parse("421300").unwrap();
        let origin = zhiyuan_app::log::origin(&node.app().settings.public_url, &tenant);
        let ring = zhiyuan_keys::KeyRing::new(
            &node.config.data_keys,
            Some(node.config.data_dir.join("keys")),
        )
        .unwrap();
        let store = node.store();
        let now = node.app().clock.now();
        // Before anything is appended the first tile does not exist yet.
        node.download("/log/421300/tile/entries/000.p/1", None).await.assert_problem(404, "not_found");

        let first: Vec<LogEntry> = (0..300).map(credential).collect();
        store.append_to_log(&tenant, &first, now).await.unwrap();
        let kept = node.download("/log/421300/checkpoint", None).await;
        let rest: Vec<LogEntry> = (300..70_000).map(credential).collect();
        store.append_to_log(&tenant, &rest, now).await.unwrap();
        let latest = node.download("/log/421300/checkpoint", None).await;
        // The key is made when the first checkpoint is signed.
        let keys = [SigningKey::from_secret(&ring.signing_secret("421300").unwrap().secret).verifying_key()];
        let kept = open_checkpoint(&kept.bytes, &origin, &keys).unwrap();
        let latest = open_checkpoint(&latest.bytes, &origin, &keys).unwrap();
        assert_eq!((kept.size(), latest.size()), (300, 70_000));

        // Every tile, fetched as an auditor would, rebuilds the checkpoint's tree.
        let mut tiles = std::collections::HashMap::new();
        for path in tile_paths(latest.size()) {
            let answer = node.download(&format!("/log/421300/{path}"), None).await;
            assert_eq!(answer.status, 200, "{path}");
            assert_eq!(answer.content_type, "application/octet-stream");
            let cache = answer.headers["cache-control"].to_str().unwrap();
            assert!(cache.contains("immutable"), "{path}: {cache}");
            tiles.insert(path, answer.bytes);
        }
        // 70,000 entries: 273 full bundles and one of 112; 273 hashes of level 8, in a full
        // tile and one of 17; one hash of level 16.
        for path in ["tile/entries/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"] {
            assert!(tiles.contains_key(path), "{path}");
        }
        let fetch = |path: &str| tiles.get(path).cloned().ok_or_else(|| "not fetched".to_owned());
        let entries = check_tiles(&latest, fetch).unwrap();
        assert_eq!(entries.len(), 70_000);
        assert_eq!(entries[69_999], credential(69_999).to_bytes());

        // A tile changed by one byte, a bundle cut short, or an entry swapped is caught.
        let mut changed = tiles.clone();
        changed.get_mut("tile/0/000").unwrap()[5] ^= 1;
        assert_eq!(
            check_tiles(&latest, |path: &str| Ok(changed[path].clone())).unwrap_err(),
            LogError::TileMismatch("tile/0/000".into())
        );
        let mut short = tiles.clone();
        short.get_mut("tile/entries/000").unwrap().pop();
        assert_eq!(
            check_tiles(&latest, |path: &str| Ok(short[path].clone())).unwrap_err(),
            LogError::MalformedBundle("tile/entries/000".into())
        );
        let mut swapped = tiles.clone();
        let other = credential(1_000_000).to_bytes();
        let bundle = swapped.get_mut("tile/entries/100").unwrap();
        bundle[2..2 + other.len()].copy_from_slice(&other);
        assert!(matches!(
            check_tiles(&latest, |path: &str| Ok(swapped[path].clone())).unwrap_err(),
            LogError::RootMismatch { .. }
        ));

        // The inclusion of a credential, at the latest size and at the size of the kept
        // checkpoint; the consistency of the kept checkpoint with the latest.
        for (position, checkpoint) in [(0, &latest), (299, &latest), (69_999, &latest), (42, &kept)] {
            let entry = credential(position);
            let answer = node
                .download(
                    &format!("/log/421300/proof/inclusion?credential={}&size={}", entry.credential_id, checkpoint.size()),
                    None,
                )
                .await;
            assert_eq!(answer.status, 200, "{:?}", answer.body);
            assert_eq!(answer.body["index"], position);
            let proof: Vec<Hash> = answer.body["hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|hash| Hash(base64(hash).try_into().unwrap()))
                .collect();
            assert_eq!(base64(&answer.body["entry"]), entry.to_bytes());
            check_inclusion(&proof, checkpoint.size(), *checkpoint.hash(), position, entry_hash(&entry)).unwrap();
        }
        let latest_only = node
            .download(&format!("/log/421300/proof/inclusion?credential={}", credential(7).credential_id), None)
            .await;
        assert_eq!(latest_only.body["size"], 70_000);
        let consistency = node.download("/log/421300/proof/consistency?from=300&to=70000", None).await;
        assert_eq!(consistency.status, 200, "{:?}", consistency.body);
        let proof: Vec<Hash> = consistency.body["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hash| Hash(base64(hash).try_into().unwrap()))
            .collect();
        check_consistency(&proof, &kept, &latest).unwrap();

        // What the log does not hold is not found; what is not a tile or a size is refused.
        for path in [
            "/log/421300/tile/entries/x001/017",
            "/log/421300/tile/0/x001/017.p/7",
            "/log/421300/tile/2/000.p/2",
            &format!("/log/421300/proof/inclusion?credential={}", credential(70_000).credential_id),
            &format!("/log/421300/proof/inclusion?credential={}&size=100", credential(100).credential_id),
            "/log/421300/proof/consistency?from=300&to=70001",
            "/log/421300/proof/consistency?from=301&to=300",
            "/log/420100/tile/0/000",
        ] {
            node.download(path, None).await.assert_problem(404, "not_found");
        }
        for path in ["/log/421300/tile/0/1", "/log/421300/tile/9/000", "/log/421300/tile/0/000.p/0", "/log/421300/tile/data/000"] {
            node.download(path, None).await.assert_problem(400, "bad_path_parameter");
        }
        node.download("/log/421300/proof/consistency?from=x", None).await.assert_problem(400, "bad_query");
    }
}

fn base64(value: &serde_json::Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().unwrap())
        .unwrap()
}

on_both_databases! {
    async fn an_auditor_audits_a_log_from_the_command_line_and_catches_its_fork(node: &TestNode) {
        let tenant = TenantCode::parse("421300").unwrap();
        let now = node.app().clock.now();
        let first: Vec<LogEntry> = (0..700).map(credential).collect();
        node.store().append_to_log(&tenant, &first, now).await.unwrap();
        let ring = zhiyuan_keys::KeyRing::new(&node.config.data_keys, Some(node.config.data_dir.join("keys"))).unwrap();
        let operator = SigningKey::from_secret(&ring.signing_secret("node").unwrap().secret).verifying_key().to_multibase();
        let folder = tempfile::tempdir().unwrap();
        let state = folder.path().join("421300.checkpoint");
        let state = state.to_str().unwrap();
        let url = format!("{}/log/421300", node.base_url);
        let audit = |extra: &[&str]| {
            let mut args = vec!["audit", "log", url.as_str(), "--state", state];
            args.extend_from_slice(extra);
            node.command(&args)
        };

        let (ok, out, err) = audit(&["--operator-key", &operator]);
        assert!(ok, "{out}{err}");
        assert!(out.contains(": 700 entries") && out.contains("the tree rebuilt from"), "{out}");
        assert!(std::fs::read_to_string(state).unwrap().contains("\n700\n"), "the checkpoint is kept");

        // The log grows: the next audit checks it extends the kept checkpoint.
        let more: Vec<LogEntry> = (700..1_000).map(credential).collect();
        node.store().append_to_log(&tenant, &more, now).await.unwrap();
        let (ok, out, err) = audit(&[]);
        assert!(ok, "{out}{err}");
        assert!(out.contains("extends the checkpoint of 700 entries"), "{out}");

        // Another operator's key: the tenant's document is not vouched for.
        let stranger = SigningKey::from_seed([8; 32]).verifying_key().to_multibase();
        let (ok, _, err) = audit(&["--operator-key", &stranger]);
        assert!(!ok && err.contains("none of the keys given"), "{err}");

        // The node shows a tree of the same size with another root: the audit names the fork
        // and keeps the checkpoint it had.
        let kept = std::fs::read_to_string(state).unwrap();
        let literal = if node.config.database_url.as_deref().is_some_and(|url| url.starts_with("postgres")) {
            format!("'\\x{}'::bytea", "07".repeat(32))
        } else {
            format!("x'{}'", "07".repeat(32))
        };
        node.execute(&format!("UPDATE log_heads SET root = {literal} WHERE tenant_code = '421300'")).await;
        let (ok, _, err) = audit(&[]);
        assert!(!ok && err.contains("forked"), "{err}");
        assert_eq!(std::fs::read_to_string(state).unwrap(), kept);
    }
}
