//! Signed records (R6): every registration, service record and certificate a tenant makes is
//! issued as a Verifiable Credential, appended to the tenant's log, downloaded by its volunteer
//! and checked by an auditor with nothing but the DID documents the node publishes; every
//! change to a credential, and every key that had no right to sign it, is refused by name; a
//! rotated key leaves old credentials verifiable and signs the new ones.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zhiyuan_domain::{GrantKind, TenantCode, Timestamp};
use zhiyuan_federation::data_integrity::{ProofError, ProofOptions, add_proof};
use zhiyuan_federation::did::{CredentialError, DidKeys, verify_credential, verify_credentials};
use zhiyuan_federation::log::{Hash, check_inclusion, entry_hash, entry_of, open_checkpoint};
use zhiyuan_federation::{SigningKey, VerifyingKey};

use crate::support::{Backend, TestNode, approved_team, resident_id, service_record, volunteers};

const PUBLIC_URL: &str = "https://zhiyuan.test";
const TENANT_DID: &str = "did:web:zhiyuan.test:tenants:421300";
const OPERATOR_DID: &str = "did:web:zhiyuan.test";

/// A node whose public name does not change with its port, as a real node's does not.
async fn node_with_a_public_name(backend: Backend) -> TestNode {
    TestNode::spawn_configured(backend, |config| {
        config.public_url = Some(PUBLIC_URL.into());
    })
    .await
}

/// Issues what the tenant has not issued yet (the node's issuer does it every second; a test
/// does not wait for it).
async fn issue(node: &TestNode) {
    let tenant = TenantCode::parse("421300").unwrap();
    zhiyuan_app::credentials::issue_pending(
        node.app(),
        &tenant,
        Timestamp::from_unix_millis(0),
        1000,
    )
    .await
    .unwrap();
}

async fn json_of(node: &TestNode, path: &str) -> Value {
    let answer = node.download(path, None).await;
    assert_eq!(answer.status, 200, "{path}");
    serde_json::from_slice(&answer.bytes).unwrap()
}

/// The DID documents as an auditor fetches them: the operator's, pinned, and the tenant's,
/// checked against it.
async fn issuers(node: &TestNode) -> (Value, Value, Vec<DidKeys>) {
    let operator = json_of(node, "/.well-known/did.json").await;
    let tenant = json_of(node, "/tenants/421300/did.json").await;
    let operators = [DidKeys::read(&operator).unwrap()];
    let keys = DidKeys::read_endorsed(&tenant, &operators).unwrap();
    (operator, tenant, vec![keys])
}

fn schema(kind: &str) -> jsonschema::Validator {
    let file = match kind {
        "registration" => "registration",
        "service_record" => "service-record",
        _ => "certificate",
    };
    let path = format!(
        "{}/../../schemas/credentials/{file}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// What a tenant records is issued, logged, downloaded and verified by an auditor.
async fn issued_logged_downloaded_and_verified(node: &TestNode) {
    let (team, _admin) = approved_team(node, "东关社区敬老志愿服务队", "19880101").await;
    let team = Uuid::parse_str(&team).unwrap();
    let people = volunteers(node, "421303", "19950301", 2).await;
    let volunteer = Uuid::parse_str(&people[0].id).unwrap();
    let entered = service_record(node, volunteer, team, 20, None).await;
    let corrected = service_record(node, volunteer, team, 20, Some(entered)).await;
    issue(node).await;
    // Issuing again finds nothing new: each record has one credential.
    issue(node).await;

    // The volunteer downloads theirs: a registration and both entries of service.
    let mine = node
        .get(
            "/api/v1/tenants/421300/volunteers/me/credentials",
            &people[0].token,
        )
        .await;
    let mine = mine.assert_ok().clone();
    let items = mine["items"].as_array().unwrap();
    let kinds: Vec<&str> = items
        .iter()
        .map(|item| item["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["registration", "service_record", "service_record"],
        "{mine:#}"
    );
    let subjects: Vec<&str> = items[1..]
        .iter()
        .map(|item| item["subject_id"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, [entered.to_string(), corrected.to_string()]);
    for item in items {
        let credential = &item["credential"];
        let errors: Vec<String> = schema(item["kind"].as_str().unwrap())
            .iter_errors(credential)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {credential:#}");
        assert_eq!(credential["issuer"], TENANT_DID);
        assert_eq!(credential["id"], item["id"]);
    }
    assert_eq!(
        items[2]["credential"]["credentialSubject"]["corrects"],
        entered.to_string()
    );
    assert_eq!(items[2]["credential"]["credentialSubject"]["minutes"], 170);

    // No identity number in any credential: a commitment the volunteer can open with their salt.
    let id_number = resident_id("42130319950301100");
    let text = serde_json::to_string(&mine).unwrap();
    assert!(
        !text.contains(&id_number) && !text.contains(&id_number[6..14]),
        "the number leaks: {text}"
    );
    let salt = URL_SAFE_NO_PAD
        .decode(mine["identity_salt"].as_str().unwrap())
        .unwrap();
    let mut commitment = Sha256::new();
    commitment.update(&salt);
    commitment.update(format!("resident_id_card:{id_number}").as_bytes());
    assert_eq!(
        items[0]["credential"]["credentialSubject"]["identityDocument"]["commitment"],
        URL_SAFE_NO_PAD.encode(commitment.finalize())
    );
    // Another volunteer's salt is another salt.
    let theirs = node
        .get(
            "/api/v1/tenants/421300/volunteers/me/credentials",
            &people[1].token,
        )
        .await;
    assert_ne!(theirs.assert_ok()["identity_salt"], mine["identity_salt"]);

    // The auditor: DID documents fetched, the tenant's checked against the pinned operator's.
    let (operator, tenant_did, keys) = issuers(node).await;
    assert_eq!(tenant_did["id"], TENANT_DID);
    assert_eq!(tenant_did["controller"], OPERATOR_DID);
    assert_eq!(operator["id"], OPERATOR_DID);
    let credentials: Vec<Value> = items
        .iter()
        .map(|item| item["credential"].clone())
        .collect();
    for result in verify_credentials(&credentials, &keys) {
        result.unwrap();
    }

    // Each is in the tenant's log: its entry is its id and the SHA-256 of its canonical form.
    let ring = zhiyuan_keys::KeyRing::new(
        &node.config.data_keys,
        Some(node.config.data_dir.join("keys")),
    )
    .unwrap();
    let tenant_keys: Vec<VerifyingKey> = ring
        .signing_secrets("421300")
        .unwrap()
        .iter()
        .map(|version| SigningKey::from_secret(&version.secret).verifying_key())
        .collect();
    let note = node.download("/log/421300/checkpoint", None).await;
    let checkpoint = open_checkpoint(&note.bytes, "zhiyuan.test/log/421300", &tenant_keys).unwrap();
    for credential in &credentials {
        let canonical = serde_json_canonicalizer::to_vec(credential).unwrap();
        let entry = entry_of(credential["id"].as_str().unwrap(), &canonical);
        let proof = node
            .download(
                &format!(
                    "/log/421300/proof/inclusion?credential={}&size={}",
                    entry.credential_id,
                    checkpoint.size()
                ),
                None,
            )
            .await;
        let proof: Value = serde_json::from_slice(&proof.bytes).unwrap();
        let hashes: Vec<Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hash| {
                Hash(
                    STANDARD
                        .decode(hash.as_str().unwrap())
                        .unwrap()
                        .try_into()
                        .unwrap(),
                )
            })
            .collect();
        check_inclusion(
            &hashes,
            checkpoint.size(),
            *checkpoint.hash(),
            proof["index"].as_u64().unwrap(),
            entry_hash(&entry),
        )
        .unwrap();
    }

    // The office and auditors read all of the tenant's; a volunteer does not.
    let office = node
        .account_as(Some("421300"), "office.credentials", GrantKind::OfficeAdmin)
        .await;
    let auditor = node
        .account_as(Some("421300"), "auditor.credentials", GrantKind::Auditor)
        .await;
    for token in [&office, &auditor] {
        let all = node
            .get("/api/v1/tenants/421300/credentials?limit=2", token)
            .await;
        let page = all.assert_ok()["items"].as_array().unwrap().clone();
        assert_eq!(page.len(), 2);
        let last = page[1]["id"].as_str().unwrap();
        let rest = node
            .get(
                &format!("/api/v1/tenants/421300/credentials?after={last}"),
                token,
            )
            .await;
        // Every registration (the team's founder's too) and both entries of service.
        let issued = node.count("credentials").await as usize;
        assert_eq!(issued, 5);
        assert_eq!(
            rest.assert_ok()["items"].as_array().unwrap().len(),
            issued - 2
        );
    }
    node.get("/api/v1/tenants/421300/credentials", &people[0].token)
        .await
        .assert_problem(403, "forbidden");

    // What an auditor refuses, and says why.
    let registration = &credentials[0];
    let mut changed = registration.clone();
    changed["credentialSubject"]["region"] = "421381".into();
    assert!(matches!(
        verify_credential(&changed, &keys),
        Err(CredentialError::Proof {
            error: ProofError::BadSignature,
            ..
        })
    ));
    // One byte of the credential as stored and sent (its canonical text) changed: the last
    // digit of the volunteer's number.
    let text = String::from_utf8(serde_json_canonicalizer::to_vec(registration).unwrap()).unwrap();
    let number = registration["credentialSubject"]["volunteerNumber"]
        .as_str()
        .unwrap();
    let at = text.find(number).unwrap() + number.len() - 1;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    let one_byte: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(matches!(
        verify_credential(&one_byte, &keys),
        Err(CredentialError::Proof {
            error: ProofError::BadSignature,
            ..
        })
    ));
    let mut other_suite = registration.clone();
    other_suite["proof"]["cryptosuite"] = "ecdsa-jcs-2019".into();
    assert!(matches!(
        verify_credential(&other_suite, &keys),
        Err(CredentialError::Proof {
            error: ProofError::WrongSuite,
            ..
        })
    ));
    let stranger = SigningKey::from_seed([9; 32]);
    let mut unsigned = registration.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let forged = add_proof(
        &unsigned,
        &ProofOptions {
            created: node.app().clock.now().to_utc_rfc3339(),
            verification_method: format!("{TENANT_DID}#key-9"),
            proof_purpose: "assertionMethod".into(),
        },
        &stranger,
    )
    .unwrap();
    assert_eq!(
        verify_credential(&forged, &keys),
        Err(CredentialError::UnknownKey(format!("{TENANT_DID}#key-9")))
    );
    let borrowed = add_proof(
        &unsigned,
        &ProofOptions {
            created: node.app().clock.now().to_utc_rfc3339(),
            verification_method: format!("{OPERATOR_DID}#key-1"),
            proof_purpose: "assertionMethod".into(),
        },
        &stranger,
    )
    .unwrap();
    assert!(
        matches!(
            verify_credential(&borrowed, &keys),
            Err(CredentialError::UnknownKey(_))
        ),
        "another DID's key does not sign for the tenant"
    );
    // A tenant document the node changed on its own is not the operator's.
    let mut tampered = tenant_did.clone();
    tampered["verificationMethod"][0]["publicKeyMultibase"] =
        stranger.verifying_key().to_multibase().into();
    assert_eq!(
        DidKeys::read_endorsed(&tampered, &[DidKeys::read(&operator).unwrap()]),
        Err(CredentialError::NotEndorsed(TENANT_DID.into()))
    );

    // The command line checks a downloaded file offline, and names what it refuses.
    let folder = tempfile::tempdir().unwrap();
    let write = |name: &str, value: &Value| {
        let path = folder.path().join(name);
        std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
        path.display().to_string()
    };
    let file = write("mine.json", &mine);
    let did = write("tenant.did.json", &tenant_did);
    let operator_file = write("operator.did.json", &operator);
    let log = format!("{}/log/421300", node.base_url);
    let (ok, out, err) = node.command(&[
        "audit",
        "verify",
        &file,
        "--did",
        &did,
        "--operator",
        &operator_file,
        "--log",
        &log,
    ]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("3 credentials: 3 verified, 0 refused")
            && out.contains("checked against the log"),
        "{out}"
    );
    // A credential the tenant signed but never logged is refused when the log is asked.
    let mut unlogged = mine.clone();
    let mut hidden = unsigned_of(&credentials[1]);
    hidden["id"] = "urn:uuid:0193a5b0-0000-7000-8000-00000000dead".into();
    unlogged["items"][1]["credential"] = resign(node, &hidden);
    let unlogged_file = write("unlogged.json", &unlogged);
    let (ok, out, _) = node.command(&[
        "audit",
        "verify",
        &unlogged_file,
        "--did",
        &did,
        "--log",
        &log,
    ]);
    assert!(!ok && out.contains("is not in its issuer's log"), "{out}");
    let mut bad = mine.clone();
    bad["items"][1]["credential"]["credentialSubject"]["minutes"] = 1440.into();
    let bad_file = write("bad.json", &bad);
    let (ok, out, _) = node.command(&["audit", "verify", &bad_file, "--did", &did]);
    assert!(!ok);
    assert!(
        out.contains(&format!(
            "REFUSED {}",
            credentials[1]["id"].as_str().unwrap()
        )) && out.contains("signature does not match"),
        "{out}"
    );

    // Offline, the download is evidence enough: it carries the log's checkpoint and a proof
    // for each credential, checked with the tenant's DID document alone.
    let size = note_size(mine["checkpoint"].as_str().unwrap().as_bytes());
    let (ok, out, err) = node.command(&["audit", "verify", &file, "--did", &did]);
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.matches(&format!("in its log of {size} entries"))
            .count(),
        3,
        "{out}"
    );
    let (ok, out, _) = node.command(&["audit", "verify", &unlogged_file, "--did", &did]);
    assert!(
        !ok && out.contains(
            "REFUSED urn:uuid:0193a5b0-0000-7000-8000-00000000dead: \
             urn:uuid:0193a5b0-0000-7000-8000-00000000dead is not in its issuer's log: \
             the bundle has no proof of its inclusion"
        ),
        "{out}"
    );
    // A checkpoint the tenant did not sign refuses the bundle, by name.
    let stranger_note = zhiyuan_federation::log::sign_checkpoint(
        "zhiyuan.test/log/421300",
        checkpoint.size(),
        *checkpoint.hash(),
        &stranger,
    )
    .unwrap();
    let with_checkpoint = |name: &str, note: &[u8]| {
        let path = folder.path().join(name);
        std::fs::write(&path, note).unwrap();
        node.command(&[
            "audit",
            "verify",
            &file,
            "--did",
            &did,
            "--checkpoint",
            &path.display().to_string(),
        ])
    };
    let (ok, out, err) = with_checkpoint("stranger.checkpoint", stranger_note.as_bytes());
    assert!(
        !ok && err.contains("the checkpoint of zhiyuan.test/log/421300"),
        "{out}{err}"
    );
    // The auditor's own checkpoint, kept from later: the download's proofs are for another
    // size, and the command says so rather than passing them.
    service_record(node, volunteer, team, 30, None).await;
    issue(node).await;
    let later = node.download("/log/421300/checkpoint", None).await;
    let (ok, out, _) = with_checkpoint("later.checkpoint", &later.bytes);
    assert!(
        !ok && out.contains(&format!(
            "the proof is for the tree of {size} entries, the checkpoint is of {}",
            size + 1
        )),
        "{out}"
    );

    // The node's audit endpoint runs the same checks for anyone, signed in or not; the
    // download posts as it is.
    let audited = node
        .call(
            Method::POST,
            "/api/v1/audit/credentials",
            None,
            Some(mine.clone()),
        )
        .await;
    let audited = audited.assert_ok();
    assert_eq!(
        (audited["verified"].as_u64(), audited["refused"].as_u64()),
        (Some(3), Some(0))
    );
    for (finding, credential) in audited["items"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&credentials)
    {
        assert_eq!(finding["id"], credential["id"]);
        assert_eq!(finding["issuer"], TENANT_DID);
        assert_eq!(finding["logged_in"], size);
    }
    // Credentials alone: the node shows them in its own tenant's log as it stands now.
    let bare =
        json!({ "items": [{ "credential": credentials[0] }, { "credential": credentials[2] }] });
    let audited = node
        .call(Method::POST, "/api/v1/audit/credentials", None, Some(bare))
        .await;
    let now = note_size(&later.bytes);
    for finding in audited.assert_ok()["items"].as_array().unwrap() {
        assert_eq!(finding["logged_in"], now, "{finding:#}");
    }
    // Each refusal names what failed: a changed byte, a credential never logged, an issuer
    // the node does not know.
    let mut foreign = unsigned_of(&credentials[1]);
    foreign["issuer"] = "did:web:elsewhere.example:tenants:420100".into();
    let foreign = add_proof(
        &foreign,
        &ProofOptions {
            created: node.app().clock.now().to_utc_rfc3339(),
            verification_method: "did:web:elsewhere.example:tenants:420100#key-1".into(),
            proof_purpose: "assertionMethod".into(),
        },
        &stranger,
    )
    .unwrap();
    let mixed = json!({ "items": [
        { "credential": bad["items"][1]["credential"] },
        { "credential": unlogged["items"][1]["credential"] },
        { "credential": foreign },
    ] });
    let audited = node
        .call(Method::POST, "/api/v1/audit/credentials", None, Some(mixed))
        .await;
    let audited = audited.assert_ok();
    assert_eq!(audited["refused"], 3, "{audited:#}");
    let refusals: Vec<&str> = audited["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["refusal"].as_str().unwrap())
        .collect();
    assert!(
        refusals[0].contains("signature does not match"),
        "{refusals:?}"
    );
    assert!(
        refusals[1].contains("is not in its issuer's log"),
        "{refusals:?}"
    );
    assert_eq!(
        refusals[2],
        "no DID document of did:web:elsewhere.example:tenants:420100 was given"
    );
    // A proof that does not read refuses its credential alone.
    let mut unread = mine.clone();
    unread["inclusion"][0]["hashes"][0] = "not base64!".into();
    let audited = node
        .call(
            Method::POST,
            "/api/v1/audit/credentials",
            None,
            Some(unread),
        )
        .await;
    let audited = audited.assert_ok();
    assert_eq!(
        (audited["verified"].as_u64(), audited["refused"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(
        audited["items"][0]["refusal"]
            .as_str()
            .unwrap()
            .ends_with("is not in its issuer's log: a hash of the proof is not base64"),
        "{audited:#}"
    );
    // A checkpoint the tenant did not sign is refused by name, and nothing is judged on it.
    let mut forged = mine.clone();
    forged["checkpoint"] = stranger_note.into();
    node.call(
        Method::POST,
        "/api/v1/audit/credentials",
        None,
        Some(forged),
    )
    .await
    .assert_problem(422, "checkpoint_refused");

    node.verify().await;
}

/// The size a checkpoint note states (its second line).
fn note_size(note: &[u8]) -> u64 {
    String::from_utf8_lossy(note)
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_tenant_records_is_issued_logged_downloaded_and_verified_on_sqlite() {
    let node = node_with_a_public_name(Backend::Sqlite).await;
    issued_logged_downloaded_and_verified(&node).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_tenant_records_is_issued_logged_downloaded_and_verified_on_postgres() {
    let node = node_with_a_public_name(Backend::Postgres).await;
    issued_logged_downloaded_and_verified(&node).await;
    node.stop().await;
}

/// Two issuers at once (two nodes on one database, or a round beside the background one): each
/// record gets one credential and one log entry, whichever stored it first.
async fn two_issuers_at_once(node: &TestNode) {
    let (team, _admin) = approved_team(node, "两个签发者志愿服务队", "19870101").await;
    let team = Uuid::parse_str(&team).unwrap();
    let people = volunteers(node, "421303", "19960301", 30).await;
    for person in &people {
        service_record(node, Uuid::parse_str(&person.id).unwrap(), team, 20, None).await;
    }
    let tenant = TenantCode::parse("421300").unwrap();
    let round = || {
        zhiyuan_app::credentials::issue_pending(
            node.app(),
            &tenant,
            Timestamp::from_unix_millis(0),
            1000,
        )
    };
    let (first, second) = tokio::join!(round(), round());
    let (first, second) = (first.unwrap(), second.unwrap());
    let credentials = node.count("credentials").await;
    // The node's own issuer, a round a second, is a third issuer beside these two.
    assert!(
        (first.issued + second.issued) as i64 <= credentials,
        "{first:?} {second:?}"
    );
    assert_eq!(node.count("log_entries").await, credentials);
    let subjects = node
        .count("(SELECT DISTINCT kind, subject_id FROM credentials) issued")
        .await;
    assert_eq!(subjects, credentials, "a record with two credentials");
    // 30 registrations, 30 entries and the team admin's registration at least.
    assert!(credentials >= 61, "{credentials}");
    node.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_issuers_at_once_issue_each_record_once_on_sqlite() {
    let node = node_with_a_public_name(Backend::Sqlite).await;
    two_issuers_at_once(&node).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_issuers_at_once_issue_each_record_once_on_postgres() {
    let node = node_with_a_public_name(Backend::Postgres).await;
    two_issuers_at_once(&node).await;
    node.stop().await;
}

/// A tenant's key is rotated between two credentials: the old one still verifies, by the
/// window in which its key signed; the new one is signed by the new key; the old key signing
/// after its retirement is refused.
async fn rotation(mut node: TestNode) {
    let people = volunteers(&node, "421303", "19900101", 1).await;
    issue(&node).await;
    let before = node
        .get(
            "/api/v1/tenants/421300/volunteers/me/credentials",
            &people[0].token,
        )
        .await;
    let old = before.assert_ok()["items"][0]["credential"].clone();
    assert_eq!(
        old["proof"]["verificationMethod"],
        format!("{TENANT_DID}#key-1")
    );

    // The operator rotates the tenant's key while the node is stopped; it starts an hour later.
    node.halt().await;
    let ring = zhiyuan_keys::KeyRing::new(
        &node.config.data_keys,
        Some(node.config.data_dir.join("keys")),
    )
    .unwrap();
    let retired = SigningKey::from_secret(&ring.signing_secret("421300").unwrap().secret);
    assert_eq!(ring.rotate_signing_secret("421300").unwrap().version, 2);
    node.clock.advance_seconds(3600);
    node.resume().await.unwrap();
    let rotated_at = node.app().clock.now().to_utc_rfc3339();

    let later = volunteers(&node, "421303", "19910101", 1).await;
    issue(&node).await;
    let after = node
        .get(
            "/api/v1/tenants/421300/volunteers/me/credentials",
            &later[0].token,
        )
        .await;
    let new = after.assert_ok()["items"][0]["credential"].clone();
    assert_eq!(
        new["proof"]["verificationMethod"],
        format!("{TENANT_DID}#key-2")
    );

    // The DID document lists both keys, the first closed when the second opened.
    let (_, document, keys) = issuers(&node).await;
    let methods = document["verificationMethod"].as_array().unwrap();
    assert_eq!(methods.len(), 2);
    assert_eq!(methods[0]["validUntil"], rotated_at.as_str());
    assert_eq!(methods[1]["validFrom"], rotated_at.as_str());
    assert!(methods[1].get("validUntil").is_none());
    assert_eq!(
        document["assertionMethod"],
        json!([format!("{TENANT_DID}#key-1"), format!("{TENANT_DID}#key-2")])
    );
    for credential in [&old, &new] {
        verify_credential(credential, &keys).unwrap();
    }

    // The retired key, in the hands of whoever kept it, signs no more for the tenant.
    let mut unsigned = old.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let late = add_proof(
        &unsigned,
        &ProofOptions {
            created: node.app().clock.now().to_utc_rfc3339(),
            verification_method: format!("{TENANT_DID}#key-1"),
            proof_purpose: "assertionMethod".into(),
        },
        &retired,
    )
    .unwrap();
    match verify_credential(&late, &keys) {
        Err(CredentialError::OutsideWindow {
            key, valid_until, ..
        }) => {
            assert_eq!(key, format!("{TENANT_DID}#key-1"));
            assert_eq!(valid_until, rotated_at);
        }
        other => panic!("{other:?}"),
    }
    // Nor did the new key sign before it was the tenant's.
    let rotated = SigningKey::from_secret(&ring.signing_secret("421300").unwrap().secret);
    let early = add_proof(
        &unsigned,
        &ProofOptions {
            created: "2026-01-01T00:00:00.000Z".into(),
            verification_method: format!("{TENANT_DID}#key-2"),
            proof_purpose: "assertionMethod".into(),
        },
        &rotated,
    )
    .unwrap();
    assert!(matches!(
        verify_credential(&early, &keys),
        Err(CredentialError::OutsideWindow { .. })
    ));

    // The log's checkpoint is signed by the new key now.
    let note = node.download("/log/421300/checkpoint", None).await;
    open_checkpoint(
        &note.bytes,
        "zhiyuan.test/log/421300",
        &[rotated.verifying_key()],
    )
    .unwrap();
    node.verify().await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_leaves_old_credentials_verifiable_and_signs_new_ones_on_sqlite() {
    rotation(node_with_a_public_name(Backend::Sqlite).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_leaves_old_credentials_verifiable_and_signs_new_ones_on_postgres() {
    rotation(node_with_a_public_name(Backend::Postgres).await).await;
}

fn unsigned_of(credential: &Value) -> Value {
    let mut unsigned = credential.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    unsigned
}

/// Signs a document with the tenant's current key, as the node would, without the node.
fn resign(node: &TestNode, unsigned: &Value) -> Value {
    let ring = zhiyuan_keys::KeyRing::new(
        &node.config.data_keys,
        Some(node.config.data_dir.join("keys")),
    )
    .unwrap();
    let key = ring.signing_secret("421300").unwrap();
    add_proof(
        unsigned,
        &ProofOptions {
            created: node.app().clock.now().to_utc_rfc3339(),
            verification_method: format!("{TENANT_DID}#key-{}", key.version),
            proof_purpose: "assertionMethod".into(),
        },
        &SigningKey::from_secret(&key.secret),
    )
    .unwrap()
}
