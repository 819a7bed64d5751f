//! A volunteer moves (R3): their registration and hours go with them, between two tenants of
//! one node or between nodes, by signed records checked at the destination, exactly once.
//! Real nodes on loopback ports, each on its own database; every refusal changes nothing.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;
use zhiyuan_domain::{TenantCode, TotalsScope};
use zhiyuan_federation::SigningKey;
use zhiyuan_federation::http_signature::sign_request;

use crate::support::{
    Backend, Person, TestNode, approved_team, did, eventually, federation, ring, service_record,
    volunteers,
};

/// Volunteers of Suizhou with hours: each with two entries, the second corrected (in force:
/// 180 + 170 minutes), everything signed by the node's issuer.
pub async fn volunteers_with_hours(node: &TestNode, born: &str, count: usize) -> Vec<Person> {
    let (team, _admin) = approved_team(node, "东关社区敬老志愿服务队", "19880101").await;
    let team = Uuid::parse_str(&team).unwrap();
    let people = volunteers(node, "421303", born, count).await;
    for person in &people {
        let volunteer = Uuid::parse_str(&person.id).unwrap();
        service_record(node, volunteer, team, 10, None).await;
        let second = service_record(node, volunteer, team, 11, None).await;
        service_record(node, volunteer, team, 12, Some(second)).await;
    }
    let tenant = TenantCode::parse("421300").unwrap();
    for person in &people {
        let volunteer = Uuid::parse_str(&person.id).unwrap();
        assert!(
            eventually(|| async {
                node.store()
                    .unsigned_records(&tenant, volunteer)
                    .await
                    .unwrap()
                    == 0
                    && node
                        .store()
                        .credentials_of_volunteer(&tenant, volunteer)
                        .await
                        .unwrap()
                        .len()
                        == 4
            })
            .await,
            "the issuer signs the registration and the three entries"
        );
    }
    people
}

async fn ask(
    node: &TestNode,
    tenant: &str,
    person: &Person,
    destination: &str,
) -> crate::support::Answer {
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/{tenant}/volunteers/me/transfers"),
        Some(&person.token),
        Some(json!({ "destination": destination, "consent": true })),
    )
    .await
}

async fn own_transfers(node: &TestNode, tenant: &str, person: &Person) -> Value {
    node.get(
        &format!("/api/v1/tenants/{tenant}/volunteers/me/transfers"),
        &person.token,
    )
    .await
    .assert_ok()
    .clone()
}

/// Waits for the volunteer's latest transfer to settle; answers it.
async fn settled(node: &TestNode, tenant: &str, person: &Person) -> Value {
    let mut latest = Value::Null;
    for _ in 0..300 {
        latest = own_transfers(node, tenant, person).await["items"][0].clone();
        if latest["status"] != "sending" {
            return latest;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the transfer settles: {latest:#}");
}

/// The volunteer's row at a tenant, by their public number: (id, status, account).
async fn registered(node: &TestNode, tenant: &str, number: &str) -> Option<(Uuid, String)> {
    let tenant = TenantCode::parse(tenant).unwrap();
    let page = node
        .store()
        .volunteers(
            &tenant,
            &zhiyuan_store::VolunteerFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    page.into_iter()
        .find(|volunteer| {
            volunteer
                .volunteer_number
                .as_ref()
                .is_some_and(|n| n.as_str() == number)
        })
        .map(|volunteer| (volunteer.id, volunteer.status.as_str().to_owned()))
}

async fn total(node: &TestNode, tenant: &str, volunteer: Uuid) -> u64 {
    node.store()
        .service_totals(
            &TenantCode::parse(tenant).unwrap(),
            TotalsScope::Volunteer,
            &volunteer.to_string(),
        )
        .await
        .unwrap()
        .minutes
        .get()
}

async fn number_of(node: &TestNode, tenant: &str, volunteer: &str) -> String {
    node.store()
        .volunteer(
            &TenantCode::parse(tenant).unwrap(),
            Uuid::parse_str(volunteer).unwrap(),
        )
        .await
        .unwrap()
        .volunteer_number
        .unwrap()
        .as_str()
        .to_owned()
}

/// A session for the account a transfer moved: the volunteer signs in at the destination.
async fn session_at(node: &TestNode, tenant: &str, volunteer: Uuid) -> Person {
    let tenant = TenantCode::parse(tenant).unwrap();
    let record = node.store().volunteer(&tenant, volunteer).await.unwrap();
    let account = node
        .store()
        .account(Some(&tenant), record.account_id.expect("the account moved"))
        .await
        .unwrap();
    let token = zhiyuan_app::sessions::new_token();
    let now = node.app().clock.now();
    node.store()
        .create_session(
            &account,
            &zhiyuan_app::sessions::token_hash(&token),
            now,
            now.plus_seconds(24 * 3600),
        )
        .await
        .unwrap();
    Person {
        id: volunteer.to_string(),
        token,
    }
}

/// Between two tenants of one node: the same records and receipts, without the network.
async fn between_two_tenants_of_one_node(backend: Backend) {
    let nodes = federation(&[backend]).await;
    let node = &nodes[0];
    let people = volunteers_with_hours(node, "19900101", 1).await;
    let person = &people[0];
    let number = number_of(node, "421300", &person.id).await;
    let ezhou = did(node, "420700");
    ask(node, "421300", person, &ezhou).await.assert_ok();
    let transfer = settled(node, "421300", person).await;
    assert_eq!(transfer["status"], "completed", "{transfer:#}");
    let (arrived, status) = registered(node, "420700", &number).await.unwrap();
    assert_eq!(status, "verified");
    assert_eq!(total(node, "420700", arrived).await, 350);
    let (_, left) = registered(node, "421300", &number).await.unwrap();
    assert_eq!(left, "transferred");
    for node in nodes {
        node.verify().await;
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn between_two_tenants_of_one_node_on_sqlite() {
    between_two_tenants_of_one_node(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn between_two_tenants_of_one_node_on_postgres() {
    between_two_tenants_of_one_node(Backend::Postgres).await;
}

/// The message a source sends for a transfer, composed again as its sender composes it.
async fn composed(node: &TestNode, transfer: &str) -> Value {
    let body = zhiyuan_app::transfers::compose(
        node.app(),
        &TenantCode::parse("421300").unwrap(),
        Uuid::parse_str(transfer).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Posts a message to a tenant's inbox signed by `key` named `key_id`, with `nonce`.
async fn post_signed(
    to: &TestNode,
    tenant: &str,
    body: &[u8],
    key_id: &str,
    key: &SigningKey,
    nonce: &str,
) -> (u16, Value) {
    let target = format!(
        "{}/federation/v1/tenants/{tenant}/inbox",
        to.config.public_url.as_ref().unwrap()
    );
    let created = to.app().clock.now().unix_millis() / 1000;
    let signed = sign_request("POST", &target, body, key_id, key, created, nonce).unwrap();
    let response = reqwest::Client::new()
        .post(&target)
        .header("content-type", "application/json")
        .header("content-digest", signed.content_digest)
        .header("signature-input", signed.signature_input)
        .header("signature", signed.signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// What a destination holds of transfers: nothing changes when it refuses one.
async fn holdings(node: &TestNode) -> (i64, i64, i64, i64) {
    (
        node.count("volunteers").await,
        node.count("transfers_in").await,
        node.count("inbox").await,
        node.count("accounts").await,
    )
}

/// From one node to another, then every refusal: each with nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn between_two_nodes_with_every_refusal() {
    let nodes = federation(&[Backend::Sqlite, Backend::Postgres]).await;
    let (suizhou, ezhou) = (&nodes[0], &nodes[1]);
    let people = volunteers_with_hours(suizhou, "19910101", 3).await;
    let person = &people[0];
    let number = number_of(suizhou, "421300", &person.id).await;
    let destination = did(ezhou, "420700");

    // Where it may not go.
    ask(
        suizhou,
        "421300",
        person,
        "did:web:nowhere.test:tenants:420700",
    )
    .await
    .assert_problem(422, "transfer_destination_unknown");
    ask(suizhou, "421300", person, &did(suizhou, "421300"))
        .await
        .assert_problem(422, "transfer_to_itself");
    // Without consent: the request is not one.
    let unconsented = suizhou
        .call(
            Method::POST,
            "/api/v1/tenants/421300/volunteers/me/transfers",
            Some(&person.token),
            Some(json!({ "destination": destination, "consent": false })),
        )
        .await;
    assert_eq!(unconsented.status, 422, "{:#}", unconsented.body);
    assert_eq!(suizhou.count("transfers_out").await, 0);
    assert_eq!(suizhou.count("outbox").await, 0);

    // The transfer: sending, then completed with the destination's receipt.
    let asked = ask(suizhou, "421300", person, &destination).await;
    assert_eq!(asked.status, 201, "{:#}", asked.body);
    assert_eq!(asked.body["status"], "sending");
    let transfer_id = asked.body["id"].as_str().unwrap().to_owned();
    // Asked once: a second request while it is under way is refused.
    ask(suizhou, "421300", person, &destination)
        .await
        .assert_problem(409, "transfer_under_way");
    let transfer = settled(suizhou, "421300", person).await;
    assert_eq!(transfer["status"], "completed", "{transfer:#}");
    let receipt = &transfer["receipt"];
    assert_eq!(receipt["issuer"], destination.as_str());
    assert_eq!(receipt["credentialSubject"]["minutes"], 350);
    assert_eq!(receipt["credentialSubject"]["records"], 2);
    assert_eq!(
        receipt["credentialSubject"]["volunteerNumber"],
        number.as_str()
    );

    // The destination: verified, with the hours once; the source: transferred, read-only,
    // no longer counted.
    let (arrived, status) = registered(ezhou, "420700", &number).await.unwrap();
    assert_eq!(status, "verified");
    assert_eq!(total(ezhou, "420700", arrived).await, 350);
    let (_, left) = registered(suizhou, "421300", &number).await.unwrap();
    assert_eq!(left, "transferred");
    ask(suizhou, "421300", person, &destination)
        .await
        .assert_problem(409, "transfer_under_way");
    // The personal data arrived sealed: the number is nowhere in the clear.
    let id_number = ezhou
        .store()
        .reveal_id_number(
            &TenantCode::parse("420700").unwrap(),
            arrived,
            &zhiyuan_domain::Actor::system("test"),
            ezhou.app().clock.now(),
        )
        .await
        .unwrap();
    assert!(ezhou.scan_database_for(&id_number).await.is_empty());
    assert!(suizhou.scan_database_for(&id_number).await.is_empty());

    // The same message again, as a sender that crashed before it saw the answer sends it:
    // answered with the same receipt, applied once.
    let message = composed(suizhou, &transfer_id).await;
    let key = SigningKey::from_secret(&ring(suizhou).signing_secret("421300").unwrap().secret);
    let key_id = format!("{}#key-1", did(suizhou, "421300"));
    let before = holdings(ezhou).await;
    let body = serde_json::to_vec(&message).unwrap();
    let (status, again) = post_signed(ezhou, "420700", &body, &key_id, &key, "again-1").await;
    assert_eq!(status, 200, "{again:#}");
    assert_eq!(again["receipt"], *receipt);
    assert_eq!(holdings(ezhou).await, before);
    assert_eq!(total(ezhou, "420700", arrived).await, 350);

    // A replay of that request, byte for byte: refused by its nonce.
    let (status, replay) = post_signed(ezhou, "420700", &body, &key_id, &key, "again-1").await;
    assert_eq!(status, 403, "{replay:#}");
    assert_eq!(replay["code"], "request_signature_refused");

    // The same bundle under another transfer's id: a registration arrives once.
    let mut second = message.clone();
    second["transfer"] = json!(Uuid::now_v7());
    let (status, refused) = post_signed(
        ezhou,
        "420700",
        &serde_json::to_vec(&second).unwrap(),
        &key_id,
        &key,
        "second-1",
    )
    .await;
    assert_eq!(status, 409, "{refused:#}");
    assert_eq!(refused["code"], "transfer_received_already");
    assert_eq!(holdings(ezhou).await, before);

    // Another volunteer's transfer, tampered with: a record's minutes raised.
    let other = &people[1];
    ask(suizhou, "421300", other, &destination)
        .await
        .assert_ok();
    let other_transfer = settled(suizhou, "421300", other).await;
    assert_eq!(other_transfer["status"], "completed");
    let base = composed(suizhou, other_transfer["id"].as_str().unwrap()).await;
    let fresh = |message: &Value| {
        let mut message = message.clone();
        message["transfer"] = json!(Uuid::now_v7());
        message
    };
    // (Its registration arrived: a fresh destination tenant would take it; the checks below
    // come before that rule, so each is refused for what it is.)
    let mut tampered = fresh(&base);
    let items = tampered["parts"][0]["items"].as_array_mut().unwrap();
    let record = items
        .iter_mut()
        .find(|item| item["credentialSubject"]["type"] == "ServiceRecord")
        .unwrap();
    record["credentialSubject"]["minutes"] = json!(1800);
    let (status, refused) = post_signed(
        ezhou,
        "420700",
        &serde_json::to_vec(&tampered).unwrap(),
        &key_id,
        &key,
        "tampered-1",
    )
    .await;
    assert_eq!(status, 422, "{refused:#}");
    assert_eq!(refused["code"], "transfer_bundle_refused");

    // A record signed by a key the source's DID never had, named as its key.
    let mut forged = fresh(&base);
    let items = forged["parts"][0]["items"].as_array_mut().unwrap();
    let record = items
        .iter_mut()
        .find(|item| item["credentialSubject"]["type"] == "ServiceRecord")
        .unwrap();
    let mut unsigned = record.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    unsigned["credentialSubject"]["minutes"] = json!(1800);
    let stranger = SigningKey::from_seed([9; 32]);
    let options = zhiyuan_federation::data_integrity::ProofOptions {
        verification_method: format!("{}#key-1", did(suizhou, "421300")),
        proof_purpose: "assertionMethod".into(),
        created: record["proof"]["created"].as_str().unwrap().to_owned(),
    };
    *record =
        zhiyuan_federation::data_integrity::add_proof(&unsigned, &options, &stranger).unwrap();
    let (status, refused) = post_signed(
        ezhou,
        "420700",
        &serde_json::to_vec(&forged).unwrap(),
        &key_id,
        &key,
        "forged-1",
    )
    .await;
    assert_eq!(status, 422, "{refused:#}");
    assert_eq!(refused["code"], "transfer_bundle_refused");

    // A request signed by a key no trusted operator endorsed.
    let (status, refused) = post_signed(
        ezhou,
        "420700",
        &serde_json::to_vec(&fresh(&base)).unwrap(),
        &key_id,
        &stranger,
        "stranger-1",
    )
    .await;
    assert_eq!(status, 403, "{refused:#}");
    assert_eq!(refused["code"], "request_signature_refused");
    let (status, refused) = post_signed(
        ezhou,
        "420700",
        &serde_json::to_vec(&fresh(&base)).unwrap(),
        "did:web:nowhere.test:tenants:421300#key-1",
        &stranger,
        "stranger-2",
    )
    .await;
    assert_eq!(status, 403, "{refused:#}");
    // The identity sent is not the one the registration commits to.
    let mut impostor = fresh(&base);
    impostor["volunteer"]["id_number"] = json!(crate::support::resident_id("42130319800101123"));
    let (status, refused) = post_signed(
        ezhou,
        "420700",
        &serde_json::to_vec(&impostor).unwrap(),
        &key_id,
        &key,
        "impostor-1",
    )
    .await;
    assert_eq!(status, 422, "{refused:#}");
    assert_eq!(refused["code"], "transfer_identity_mismatch");

    assert_eq!(
        holdings(ezhou).await.1,
        2,
        "two transfers arrived, and nothing of the refused ones"
    );

    // The operator sees every message delivered, none pending or dead.
    let operator = suizhou
        .account_as(
            None,
            "operator.transfers",
            zhiyuan_domain::GrantKind::Operator,
        )
        .await;
    let outbox = suizhou.get("/api/v1/node/outbox", &operator).await;
    let items = outbox.assert_ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["destination"], destination.as_str());
    assert_eq!(items[0]["delivered"], 2);
    assert_eq!(items[0]["pending"], 0);
    assert_eq!(items[0]["dead"], 0);

    for node in nodes {
        node.verify().await;
        node.stop().await;
    }
}

/// A to B to C, three nodes on their own databases (B on PostgreSQL): the hours of A arrive
/// at C intact and counted once, and each step's credentials check at C by their own issuer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_transfers_across_three_nodes() {
    let nodes = federation(&[Backend::Sqlite, Backend::Postgres, Backend::Sqlite]).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let people = volunteers_with_hours(a, "19920101", 1).await;
    let person = &people[0];
    let number = number_of(a, "421300", &person.id).await;

    ask(a, "421300", person, &did(b, "420700"))
        .await
        .assert_ok();
    assert_eq!(settled(a, "421300", person).await["status"], "completed");
    let (at_b, _) = registered(b, "420700", &number).await.unwrap();
    assert_eq!(total(b, "420700", at_b).await, 350);
    // B signs its own registration of the volunteer before they move on.
    let ezhou = TenantCode::parse("420700").unwrap();
    assert!(
        eventually(|| async {
            b.store()
                .credentials_of_volunteer(&ezhou, at_b)
                .await
                .unwrap()
                .len()
                == 1
        })
        .await
    );
    let at_b_person = session_at(b, "420700", at_b).await;
    ask(b, "420700", &at_b_person, &did(c, "421300"))
        .await
        .assert_ok();
    let moved = settled(b, "420700", &at_b_person).await;
    assert_eq!(moved["status"], "completed", "{moved:#}");
    assert_eq!(moved["receipt"]["credentialSubject"]["minutes"], 350);

    let (at_c, status) = registered(c, "421300", &number).await.unwrap();
    assert_eq!(status, "verified");
    assert_eq!(
        total(c, "421300", at_c).await,
        350,
        "A's hours, counted once at C"
    );
    assert_eq!(
        registered(b, "420700", &number).await.unwrap().1,
        "transferred"
    );
    // What C keeps holds B's part and A's, each with its issuer's log evidence.
    let kept = c
        .store()
        .transfers_into(&TenantCode::parse("421300").unwrap(), at_c)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    let parts: Value = serde_json::from_str(&kept[0].bundle).unwrap();
    let issuers: Vec<&str> = parts["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| part["items"][0]["issuer"].as_str().unwrap())
        .collect();
    assert_eq!(issuers, [did(b, "420700"), did(a, "421300")]);
    // An auditor checks A's part against A's log through C's audit endpoint.
    let a_part = &parts["parts"][1];
    let audit = c
        .call(
            Method::POST,
            "/api/v1/audit/credentials",
            None,
            Some(json!({
                "items": a_part["items"].as_array().unwrap().iter().map(|credential| json!({ "credential": credential })).collect::<Vec<_>>(),
                "checkpoint": a_part["checkpoint"],
                "inclusion": a_part["inclusion"],
            })),
        )
        .await;
    let audit = audit.assert_ok();
    assert_eq!(audit["refused"], 0, "{audit:#}");
    assert_eq!(audit["verified"], 4);
    // And from the command line, with A's DID documents and A's log alone.
    let folder = tempfile::tempdir().unwrap();
    let write = |name: &str, value: &Value| {
        let path = folder.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.display().to_string()
    };
    let bundle = write(
        "a.json",
        &json!({
            "items": a_part["items"].as_array().unwrap().iter().map(|credential| json!({ "credential": credential })).collect::<Vec<_>>(),
            "checkpoint": a_part["checkpoint"],
            "inclusion": a_part["inclusion"],
        }),
    );
    let a_documents = |path: &'static str| async move {
        let answer = a.download(path, None).await;
        serde_json::from_slice::<Value>(&answer.bytes).unwrap()
    };
    let tenant_did = write(
        "tenant.did.json",
        &a_documents("/tenants/421300/did.json").await,
    );
    let operator_did = write(
        "operator.did.json",
        &a_documents("/.well-known/did.json").await,
    );
    let log = format!("{}/log/421300", a.base_url);
    let (ok, out, err) = c.command(&[
        "audit",
        "verify",
        &bundle,
        "--did",
        &tenant_did,
        "--operator",
        &operator_did,
        "--log",
        &log,
    ]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("4 credentials: 4 verified, 0 refused"),
        "{out}"
    );
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["issuer"] == did(a, "421300").as_str() && item["logged_in"].is_u64())
    );

    for node in nodes {
        node.verify().await;
        node.stop().await;
    }
}

/// Sets each node's clock to the machine's: for nodes that later run as processes, which keep
/// the machine's time, and whose sessions and signatures must agree with it.
fn keep_the_machine_time(nodes: &[TestNode]) {
    let real = zhiyuan_domain::Clock::now(&zhiyuan::SystemClock).unix_millis();
    for node in nodes {
        let behind = real - node.app().clock.now().unix_millis();
        if behind > 0 {
            node.clock.advance_seconds(behind / 1000);
        }
    }
}

/// Advances every node's clock by `seconds`, together: their signatures stay within the skew.
fn advance(nodes: &[TestNode], seconds: i64) {
    for node in nodes {
        node.clock.advance_seconds(seconds);
    }
}

/// B is down for a while: A keeps accepting transfers, tries, holds B with a growing backoff;
/// when B returns, A delivers everything it held, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_was_down_catches_up_when_it_returns() {
    let mut nodes = federation(&[Backend::Postgres, Backend::Sqlite]).await;
    let people = volunteers_with_hours(&nodes[0], "19930101", 5).await;
    let destination = did(&nodes[1], "420700");
    nodes[1].halt().await;
    for person in &people {
        let asked = ask(&nodes[0], "421300", person, &destination).await;
        assert_eq!(asked.status, 201, "{:#}", asked.body);
    }
    let a = &nodes[0];
    assert!(
        eventually(|| async {
            a.count("outbox WHERE attempts > 0 AND last_error IS NOT NULL")
                .await
                > 0
        })
        .await,
        "A tries and fails while B is down"
    );
    advance(&nodes, 3);
    let a = &nodes[0];
    assert!(
        eventually(|| async {
            // Tried twice: one message again, or another with the first held.
            a.count("outbox WHERE attempts > 1").await + a.count("outbox WHERE attempts > 0").await
                > 1
        })
        .await,
        "A tries again after its backoff"
    );
    for person in &people {
        assert_eq!(
            own_transfers(a, "421300", person).await["items"][0]["status"],
            "sending"
        );
    }
    assert_eq!(a.count("outbox WHERE dead_at IS NOT NULL").await, 0);

    nodes[1].resume().await.unwrap();
    let mut completed = 0;
    for _ in 0..100 {
        advance(&nodes, 3);
        completed = nodes[0]
            .count("transfers_out WHERE status = 'completed'")
            .await;
        if completed == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        completed, 5,
        "every transfer held while B was down completes"
    );
    let (a, b) = (&nodes[0], &nodes[1]);
    assert_eq!(b.count("transfers_in").await, 5);
    assert_eq!(b.count("inbox").await, 5);
    assert_eq!(
        a.count("outbox WHERE delivered_at IS NULL").await,
        0,
        "nothing left undelivered"
    );
    for person in &people {
        let number = number_of(a, "421300", &person.id).await;
        let (arrived, _) = registered(b, "420700", &number).await.unwrap();
        assert_eq!(total(b, "420700", arrived).await, 350);
    }
    for node in nodes {
        node.verify().await;
        node.stop().await;
    }
}

/// The configuration a node's process is started with: the test node's database, data folder
/// (and so its keys), address and peers, with short retries.
fn process_config(node: &TestNode) -> std::path::PathBuf {
    let config = &node.config;
    let mut text = format!(
        "listen = \"{}\"\ndata_dir = {:?}\npublic_url = \"{}\"\nsecure_cookies = false\n",
        config.listen,
        config.data_dir.display().to_string(),
        config.public_url.as_ref().unwrap()
    );
    if let Some(url) = &config.database_url {
        text.push_str(&format!("database_url = {url:?}\n"));
    }
    text.push_str(
        "[transfers]\ndeliver_every_ms = 50\nretry_base_ms = 100\nretry_max_seconds = 1\n\
         dead_after_attempts = 100000\npeer_refresh_seconds = 1\n",
    );
    for peer in &config.peers {
        text.push_str(&format!(
            "[[peers]]\nurl = \"{}\"\noperator_keys = [\"{}\"]\n",
            peer.url, peer.operator_keys[0]
        ));
    }
    let path = config.data_dir.join("node.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start_process(config: &std::path::Path) -> crate::lifecycle::Process {
    crate::lifecycle::Process::start_logging(
        config.parent().unwrap(),
        &["--config", config.to_str().unwrap()],
        "error",
        std::process::Stdio::null(),
    )
}

/// A hundred volunteers move from A to B at once while A and B, real processes, are each
/// killed with SIGKILL at random moments and started again, several times. Afterwards every
/// transfer completed exactly once, the totals on both sides equal a recount, and nothing is
/// left undelivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_complete_exactly_once_while_both_nodes_are_killed() {
    use rand::Rng;
    let mut nodes = federation(&[Backend::Sqlite, Backend::Postgres]).await;
    keep_the_machine_time(&nodes);
    let people = volunteers_with_hours(&nodes[0], "19940101", 100).await;
    let operator = nodes[0]
        .account_as(
            None,
            "operator.crashes",
            zhiyuan_domain::GrantKind::Operator,
        )
        .await;
    let destination = did(&nodes[1], "420700");
    // B is down while they ask: every transfer is still to deliver when the processes start.
    nodes[1].halt().await;
    let asked = futures::future::join_all(
        people
            .iter()
            .map(|person| ask(&nodes[0], "421300", person, &destination)),
    )
    .await;
    for answer in &asked {
        assert_eq!(answer.status, 201, "{:#}", answer.body);
    }
    nodes[0].halt().await;

    let configs: Vec<_> = nodes.iter().map(process_config).collect();
    let mut processes: Vec<_> = configs.iter().map(|config| start_process(config)).collect();
    let mut random = rand::thread_rng();
    for _ in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(random.gen_range(100..900))).await;
        let which = random.gen_range(0..2);
        processes[which].child.kill().unwrap();
        processes[which].child.wait().unwrap();
        processes[which] = start_process(&configs[which]);
    }

    // Then they are left to finish.
    let client = reqwest::Client::new();
    let outbox = format!("{}/api/v1/node/outbox", processes[0].base_url);
    let mut left = Value::Null;
    for _ in 0..600 {
        left = client
            .get(&outbox)
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        if left["items"][0]["pending"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left["items"][0]["pending"], 0, "{left:#}");
    assert_eq!(left["items"][0]["delivered"], 100, "{left:#}");
    assert_eq!(left["items"][0]["dead"], 0, "{left:#}");
    for process in processes.iter_mut() {
        assert_eq!(process.terminate(), Some(0));
    }

    for node in nodes.iter_mut() {
        node.resume().await.unwrap();
    }
    let (a, b) = (&nodes[0], &nodes[1]);
    assert_eq!(
        a.count("transfers_out WHERE status = 'completed'").await,
        100
    );
    assert_eq!(
        a.count("volunteers WHERE tenant_code = '421300' AND status = 'transferred'")
            .await,
        100
    );
    assert_eq!(b.count("transfers_in").await, 100, "each arrived once");
    assert_eq!(b.count("inbox").await, 100);
    assert_eq!(
        b.count("volunteers WHERE tenant_code = '420700' AND volunteer_number IS NOT NULL")
            .await,
        100
    );
    for person in &people {
        let number = number_of(a, "421300", &person.id).await;
        let (arrived, status) = registered(b, "420700", &number).await.unwrap();
        assert_eq!(status, "verified");
        assert_eq!(total(b, "420700", arrived).await, 350);
    }
    for node in nodes {
        // The totals on both sides against a recount, among the node's invariants.
        node.verify().await;
        node.stop().await;
    }
}

/// A tenant whose office reviews each volunteer who arrives (`[transfers] review = true` in its
/// tenant file): the volunteer arrives pending, with their number and hours, and the office's
/// verification keeps the number they came with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_that_reviews_arrivals_decides_on_them() {
    let folder = tempfile::tempdir().unwrap();
    let bundled = |city: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../{city}/tenant.toml"))
    };
    let reviewing = folder.path().join("ezhou.toml");
    let mut text = std::fs::read_to_string(bundled("ezhou")).unwrap();
    text.push_str("\n[transfers]\nreview = true\n");
    std::fs::write(&reviewing, text).unwrap();
    let port = crate::support::free_port();
    let node = TestNode::spawn_configured(Backend::Sqlite, |config| {
        config.listen = format!("127.0.0.1:{port}").parse().unwrap();
        config.public_url = Some(format!("http://127.0.0.1:{port}"));
        config.load_bundled_tenants = false;
        config.tenant_files = vec![bundled("suizhou"), reviewing.clone()];
        config.transfers.deliver_every_ms = 50;
    })
    .await;
    let people = volunteers_with_hours(&node, "19950101", 1).await;
    let person = &people[0];
    let number = number_of(&node, "421300", &person.id).await;
    ask(&node, "421300", person, &did(&node, "420700"))
        .await
        .assert_ok();
    let transfer = settled(&node, "421300", person).await;
    assert_eq!(transfer["status"], "completed");
    assert_eq!(
        transfer["receipt"]["credentialSubject"]["registration"],
        "pending"
    );
    let (arrived, status) = registered(&node, "420700", &number).await.unwrap();
    assert_eq!(status, "pending");
    assert_eq!(total(&node, "420700", arrived).await, 350);

    let office = node
        .account_as(
            Some("420700"),
            "office.ezhou",
            zhiyuan_domain::GrantKind::OfficeAdmin,
        )
        .await;
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/420700/volunteers/{arrived}/decision"),
        Some(&office),
        Some(json!({ "decision": "approve" })),
    )
    .await
    .assert_ok();
    let (_, status) = registered(&node, "420700", &number)
        .await
        .expect("verified with the number they came with");
    assert_eq!(status, "verified");
    node.verify().await;
    node.stop().await;
}
