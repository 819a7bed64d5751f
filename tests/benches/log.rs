//! A tenant's transparency log under load, on SQLite and on PostgreSQL:
//!
//! - appending: 100,000 entries, in batches of 1,000 (what one checkpoint's second gathers at a
//!   busy tenant), each batch one transaction; beside it, the same entries hashed into a tree
//!   in memory (the hashing alone);
//! - proving: the log grown to 1,000,000 entries, then inclusion proofs of 1,000 entries picked
//!   across it, each read from the database; beside it, the log's head read the same way (one
//!   row by primary key); then the same proofs asked of the node over HTTP, beside its
//!   checkpoint asked the same way;
//! - verifying: 10,000 credentials checked in one call (`verify_credentials`, spread over the
//!   cores), beside the same checked one at a time on one thread.
//!
//! `cargo bench -p zhiyuan --bench log` (ZHIYUAN_BENCH_LOG to change the 1,000,000 entries,
//! ZHIYUAN_BENCH_BACKEND=sqlite or postgres to run on one database only).

#[path = "../it/described.rs"]
#[allow(dead_code)]
mod described;
#[allow(dead_code)]
#[path = "measure.rs"]
mod measure;
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../it/support.rs"]
mod support;

use std::time::Instant;

use measure::{backends, ms, quantile, setting};
use support::{Backend, TestNode};
use zhiyuan_domain::{LogEntry, TenantCode};
use zhiyuan_federation::log::{Hash, MemoryTree, check_inclusion, entry_hash, entry_of};

const BATCH: u64 = 1_000;
const APPENDED: u64 = 100_000;

fn credential(number: u64) -> LogEntry {
    entry_of(
        &format!("urn:uuid:0193a5b0-0000-7000-8000-{number:012}"),
        format!("{{\"n\":{number}}}").as_bytes(),
    )
}

fn batch(from: u64) -> Vec<LogEntry> {
    (from..from + BATCH).map(credential).collect()
}

async fn run(node: &TestNode, total: u64) {
    let tenant = TenantCode::parse("421300").unwrap();
    let store = node.store();
    let now = node.app().clock.now();

    let started = Instant::now();
    let mut rebuilt = MemoryTree::default();
    for from in (0..APPENDED).step_by(BATCH as usize) {
        for entry in batch(from) {
            rebuilt.append(entry_hash(&entry)).unwrap();
        }
    }
    let in_memory = started.elapsed();

    let started = Instant::now();
    let mut head = store.log_head(&tenant).await.unwrap();
    for from in (0..APPENDED).step_by(BATCH as usize) {
        head = store
            .append_to_log(&tenant, &batch(from), now)
            .await
            .unwrap();
    }
    let appending = started.elapsed();
    assert_eq!(
        Hash(head.root),
        rebuilt.root(APPENDED).unwrap(),
        "the node's root is the rebuilt one"
    );
    println!(
        "| appending {APPENDED} entries in batches of {BATCH}: {:.0} entries/s (beside: hashed in memory, {:.0} entries/s) | {:.2} s | | {:.2} s | |",
        APPENDED as f64 / appending.as_secs_f64(),
        APPENDED as f64 / in_memory.as_secs_f64(),
        appending.as_secs_f64(),
        in_memory.as_secs_f64(),
    );

    let growing = Instant::now();
    for from in (APPENDED..total).step_by(BATCH as usize) {
        head = store
            .append_to_log(&tenant, &batch(from), now)
            .await
            .unwrap();
    }
    eprintln!(
        "log grown to {} entries in {:.1} s",
        head.size,
        growing.elapsed().as_secs_f64()
    );

    let mut proofs = Vec::new();
    let mut heads = Vec::new();
    for pick in 0..1_000u64 {
        let position = (pick * 7_919 * 127) % head.size;
        let started = Instant::now();
        let proof = store
            .log_inclusion_proof(&tenant, head.size, position)
            .await
            .unwrap();
        proofs.push(started.elapsed());
        let proof: Vec<Hash> = proof.into_iter().map(Hash).collect();
        check_inclusion(
            &proof,
            head.size,
            Hash(head.root),
            position,
            entry_hash(&credential(position)),
        )
        .unwrap();
        let started = Instant::now();
        store.log_head(&tenant).await.unwrap();
        heads.push(started.elapsed());
    }
    println!(
        "| inclusion proof at {} entries, 1,000 entries (beside: the head read) | {} | {} | {} | {} |",
        head.size,
        ms(quantile(&mut proofs, 0.5)),
        ms(quantile(&mut proofs, 0.99)),
        ms(quantile(&mut heads, 0.5)),
        ms(quantile(&mut heads, 0.99)),
    );

    // The same proofs through the whole stack: HTTP on loopback, routing, the use case, JSON.
    let client = reqwest::Client::new();
    let mut served = Vec::new();
    let mut checkpoints = Vec::new();
    for pick in 0..1_000u64 {
        let position = (pick * 7_919 * 127) % head.size;
        let url = format!(
            "{}/log/421300/proof/inclusion?credential={}&size={}",
            node.base_url,
            credential(position).credential_id,
            head.size
        );
        let started = Instant::now();
        let answer = client.get(&url).send().await.unwrap();
        assert!(answer.status().is_success());
        let proof: serde_json::Value = answer.json().await.unwrap();
        served.push(started.elapsed());
        assert_eq!(proof["index"], position);
        let started = Instant::now();
        let answer = client
            .get(format!("{}/log/421300/checkpoint", node.base_url))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
        answer.bytes().await.unwrap();
        checkpoints.push(started.elapsed());
    }
    println!(
        "| inclusion proof over HTTP at {} entries, 1,000 entries (beside: the signed checkpoint over HTTP) | {} | {} | {} | {} |",
        head.size,
        ms(quantile(&mut served, 0.5)),
        ms(quantile(&mut served, 0.99)),
        ms(quantile(&mut checkpoints, 0.5)),
        ms(quantile(&mut checkpoints, 0.99)),
    );
}

/// 10,000 credentials of one tenant, as its node signs them, verified by an auditor at once.
fn verifying() {
    use serde_json::json;
    use zhiyuan_federation::did::{DidKeys, verify_credential, verify_credentials};
    use zhiyuan_federation::{ProofOptions, SigningKey, add_proof};
    const COUNT: usize = 10_000;
    let did = "did:web:zhiyuan.example:tenants:421300";
    let key = SigningKey::from_seed([42; 32]);
    let document = json!({
        "id": did,
        "verificationMethod": [{
            "id": format!("{did}#key-1"), "type": "Multikey", "controller": did,
            "publicKeyMultibase": key.verifying_key().to_multibase(),
            "validFrom": "2026-01-01T00:00:00.000Z",
        }],
    });
    let issuers = [DidKeys::read(&document).unwrap()];
    let options = ProofOptions {
        created: "2026-11-29T02:00:00.000Z".into(),
        verification_method: format!("{did}#key-1"),
        proof_purpose: "assertionMethod".into(),
    };
    let credentials: Vec<serde_json::Value> = (0..COUNT)
        .map(|n| {
            let credential = json!({
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": format!("urn:uuid:0193a5b0-0000-7000-8000-{n:012}"),
                "type": ["VerifiableCredential", "ServiceRecordCredential"],
                "issuer": did,
                "validFrom": "2026-11-29T01:00:00.000Z",
                "credentialSubject": {
                    "type": "ServiceRecord", "volunteerNumber": format!("421300{n:010}"),
                    "record": "0193a5b0-0000-7000-8000-000000000001", "kind": "scan",
                    "team": "0193a5b0-0000-7000-8000-000000000002", "region": "421303",
                    "startedAt": "2026-11-29T01:00:00.000Z", "endedAt": "2026-11-29T04:00:00.000Z",
                    "minutes": 180, "content": "社区敬老服务", "recordedAt": "2026-11-29T04:00:05.000Z",
                },
            });
            add_proof(&credential, &options, &key).unwrap()
        })
        .collect();
    let started = Instant::now();
    let results = verify_credentials(&credentials, &issuers);
    let batch = started.elapsed();
    assert!(results.iter().all(Result::is_ok));
    let started = Instant::now();
    for credential in &credentials {
        verify_credential(credential, &issuers).unwrap();
    }
    let one_by_one = started.elapsed();
    println!(
        "| verifying {COUNT} credentials in one call (beside: one at a time, one thread) | {:.3} s | | {:.3} s | |",
        batch.as_secs_f64(),
        one_by_one.as_secs_f64(),
    );
}

fn main() {
    let total = setting("ZHIYUAN_BENCH_LOG", 1_000_000).max(APPENDED);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("| case | p50 or time | p99 | beside: p50 or time | beside: p99 |");
        println!("|---|---:|---:|---:|---:|");
        verifying();
        for backend in backends() {
            println!(
                "| **{}** | | | | |",
                match backend {
                    Backend::Sqlite => "SQLite",
                    Backend::Postgres => "PostgreSQL",
                }
            );
            let node = TestNode::spawn(backend).await;
            run(&node, total).await;
            node.stop().await;
        }
    });
}
