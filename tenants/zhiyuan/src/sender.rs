//! The node's side of messages between tenants: the sender that delivers what the tenants'
//! outboxes hold, and the peers' DID documents it and the receiver check keys with.
//!
//! A message due is composed as it is sent (a transfer's personal data is read then and kept
//! nowhere else), signed (RFC 9421) with the sending tenant's key and posted to the
//! destination's inbox; a destination that is a tenant of this node is given it directly,
//! through the same checks and receipts. An answer settles the message in the transaction that
//! records it delivered; a refusal settles it too; a failure holds every message to that
//! destination for a backoff that doubles with each attempt (with jitter, so that nodes coming
//! back are not all retried at once), until the message is dead after the configured attempts
//! and the operator sees it.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use zhiyuan_app::App;
use zhiyuan_app::transfers::{self, Answer, Destination, TransferMessage};
use zhiyuan_domain::TenantCode;
use zhiyuan_domain::ports::Signer;
use zhiyuan_federation::did::DidKeys;
use zhiyuan_store::{Delivery, PendingMessage, TRANSFER_MESSAGE};

use crate::cards::TenantCards;
use crate::config::{PeerConfig, TransfersConfig};
use crate::witness::{get_json, pinned_operator};

/// Messages looked at in one round.
const ROUND: u32 = 200;
/// Destinations delivered to at once.
const CONCURRENT_DESTINATIONS: usize = 8;

/// What one attempt came to.
enum Attempt {
    Answered(Answer),
    /// Not ready to send: what it carries is still being signed.
    NotReady,
    Failed(String),
}

/// Fetches each peer's tenants' DID documents, checks each against the operator keys pinned
/// for the peer, and keeps those that hold; a peer that cannot be reached keeps what was kept.
pub async fn refresh_peers(app: &App, peers: &[PeerConfig], client: &reqwest::Client) {
    for peer in peers {
        match peer_documents(peer, client).await {
            Ok(documents) => {
                if let Err(error) = app
                    .store
                    .replace_peer_documents(&peer.url, &documents, app.clock.now())
                    .await
                {
                    tracing::warn!(peer = %peer.url, %error, "cannot keep a peer's DID documents");
                }
            }
            Err(error) => {
                tracing::warn!(peer = %peer.url, error = %format!("{error:#}"), "cannot read a peer's DID documents")
            }
        }
    }
}

async fn peer_documents(
    peer: &PeerConfig,
    client: &reqwest::Client,
) -> anyhow::Result<Vec<(String, String)>> {
    let base = peer.url.trim_end_matches('/');
    let operator = pinned_operator(peer, client).await?;
    let tenants = get_json(client, &format!("{base}/api/v1/tenants")).await?;
    let mut documents = Vec::new();
    for tenant in tenants["items"].as_array().into_iter().flatten() {
        let Some(code) = tenant["code"].as_str() else {
            continue;
        };
        let document = get_json(client, &format!("{base}/tenants/{code}/did.json")).await?;
        match DidKeys::read_endorsed(&document, std::slice::from_ref(&operator)) {
            Ok(keys) => documents.push((keys.did, document.to_string())),
            Err(error) => {
                tracing::warn!(peer = %base, tenant = code, %error, "a peer tenant's DID document is not endorsed by its operator")
            }
        }
    }
    Ok(documents)
}

/// The backoff after `attempts` failed attempts: doubling from the base up to the cap, then a
/// random part of it between a half and the whole.
fn backoff(config: &TransfersConfig, attempts: u32) -> Duration {
    let base = config.retry_base_ms.max(1);
    let full = base
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(30))
        .min(config.retry_max_seconds.saturating_mul(1000).max(base));
    let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), full / 2..=full);
    Duration::from_millis(jitter)
}

/// One round: the messages due, each destination's in order, several destinations at once.
/// Answers how many were settled.
pub async fn deliver_round(
    app: &App,
    cards: &TenantCards,
    client: &reqwest::Client,
    config: &TransfersConfig,
) -> anyhow::Result<usize> {
    let due = app.store.due_messages(app.clock.now(), ROUND).await?;
    let mut by_destination: BTreeMap<String, Vec<PendingMessage>> = BTreeMap::new();
    for message in due {
        by_destination
            .entry(message.message.destination.clone())
            .or_default()
            .push(message);
    }
    let mut settled = 0;
    let groups: Vec<Vec<PendingMessage>> = by_destination.into_values().collect();
    for batch in groups.chunks(CONCURRENT_DESTINATIONS) {
        let rounds = batch
            .iter()
            .map(|messages| deliver_to(app, cards, client, config, messages));
        for count in futures::future::join_all(rounds).await {
            settled += count;
        }
    }
    Ok(settled)
}

/// Delivers one destination's messages in order, stopping at the first failure (the
/// destination is then held).
async fn deliver_to(
    app: &App,
    cards: &TenantCards,
    client: &reqwest::Client,
    config: &TransfersConfig,
    messages: &[PendingMessage],
) -> usize {
    let mut settled = 0;
    let mut failed = HashSet::new();
    for message in messages {
        let destination = &message.message.destination;
        if failed.contains(destination) {
            continue;
        }
        let id = message.message.id;
        match attempt(app, cards, client, message).await {
            Attempt::Answered(answer) => match transfers::settle(app, message, answer).await {
                Ok(_) => settled += 1,
                Err(error) => {
                    fail(app, config, message, &format!("{error}")).await;
                    failed.insert(destination.clone());
                }
            },
            Attempt::NotReady => {
                let until = app.clock.now().plus_seconds(1);
                if let Err(error) = app.store.postpone_message(&message.sender, id, until).await {
                    tracing::warn!(%error, "cannot postpone a message");
                }
            }
            Attempt::Failed(error) => {
                fail(app, config, message, &error).await;
                failed.insert(destination.clone());
            }
        }
    }
    settled
}

/// Records a failed attempt: tried again after the backoff (the destination held till then),
/// or dead after the configured attempts.
async fn fail(app: &App, config: &TransfersConfig, message: &PendingMessage, error: &str) {
    let attempts = message.attempts + 1;
    let now = app.clock.now();
    let retry_at = (attempts < config.dead_after_attempts).then(|| {
        let wait = backoff(config, attempts);
        zhiyuan_domain::Timestamp::from_unix_millis(
            now.unix_millis()
                .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
        )
    });
    tracing::warn!(
        destination = %message.message.destination,
        message = %message.message.id,
        attempts,
        dead = retry_at.is_none(),
        error,
        "a message was not delivered"
    );
    let delivery = Delivery::Failed {
        error: error.to_owned(),
        retry_at,
    };
    if let Err(error) = app
        .store
        .record_delivery(&message.sender, message.message.id, &delivery, now)
        .await
    {
        tracing::warn!(%error, "cannot record a message's attempt");
    }
    if let Some(until) = retry_at
        && let Err(error) = app
            .store
            .hold_destination(&message.message.destination, until)
            .await
    {
        tracing::warn!(%error, "cannot hold a destination");
    }
}

async fn attempt(
    app: &App,
    cards: &TenantCards,
    client: &reqwest::Client,
    message: &PendingMessage,
) -> Attempt {
    if message.message.kind != TRANSFER_MESSAGE {
        return Attempt::Failed(format!(
            "no sender knows messages of kind {}",
            message.message.kind
        ));
    }
    let Ok(sender) = TenantCode::parse(&message.sender) else {
        return Attempt::Failed(format!("a message of {}", message.sender));
    };
    let body = match transfers::compose(app, &sender, message.message.id).await {
        Ok(Some(body)) => body,
        Ok(None) => return Attempt::NotReady,
        Err(error) => return Attempt::Failed(format!("composing: {error}")),
    };
    let origin =
        zhiyuan_app::credentials::did(&app.settings.public_url, &Signer::Tenant(sender.clone()));
    match transfers::destination(app, &message.message.destination).await {
        Ok(Some(Destination::Local(receiver))) => {
            let parsed: TransferMessage = match serde_json::from_str(&body) {
                Ok(parsed) => parsed,
                Err(error) => return Attempt::Failed(format!("composing: {error}")),
            };
            match transfers::apply(app, &receiver, &origin, parsed).await {
                Ok(answer) => Attempt::Answered(Answer::Receipt(answer.to_string())),
                Err(error) => match transfers::refusal(&error) {
                    Some(reason) => Attempt::Answered(Answer::Refused(reason)),
                    None => Attempt::Failed(error.to_string()),
                },
            }
        }
        Ok(Some(Destination::Peer { url, tenant })) => {
            post(app, cards, client, &sender, &origin, &url, &tenant, body).await
        }
        Ok(None) => Attempt::Failed(
            "the destination is not a tenant of this node or a configured peer".into(),
        ),
        Err(error) => Attempt::Failed(error.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn post(
    app: &App,
    cards: &TenantCards,
    client: &reqwest::Client,
    sender: &TenantCode,
    origin: &str,
    peer_url: &str,
    tenant: &str,
    body: String,
) -> Attempt {
    let target = format!(
        "{}/federation/v1/tenants/{tenant}/inbox",
        peer_url.trim_end_matches('/')
    );
    let created = app.clock.now().unix_millis() / 1000;
    let nonce = uuid::Uuid::new_v4().to_string();
    let signed = match cards.sign_request(sender, origin, &target, body.as_bytes(), created, &nonce)
    {
        Ok(signed) => signed,
        Err(error) => return Attempt::Failed(format!("signing: {error}")),
    };
    let response = client
        .post(&target)
        .header("content-type", "application/json")
        .header("content-digest", signed.content_digest)
        .header("signature-input", signed.signature_input)
        .header("signature", signed.signature)
        .body(body)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(error) => return Attempt::Failed(format!("POST {target}: {error}")),
    };
    let status = response.status().as_u16();
    let text = match response.text().await {
        Ok(text) => text,
        Err(error) => return Attempt::Failed(format!("POST {target}: {error}")),
    };
    if status == 200 {
        return Attempt::Answered(Answer::Receipt(text));
    }
    if transfers::is_final_refusal(status) {
        let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let reason = format!(
            "{} ({}): {}",
            problem["code"].as_str().unwrap_or("refused"),
            problem["field"].as_str().unwrap_or(""),
            problem["detail"].as_str().unwrap_or(&text)
        );
        return Attempt::Answered(Answer::Refused(reason));
    }
    Attempt::Failed(format!(
        "POST {target}: {status} {}",
        text.chars().take(300).collect::<String>()
    ))
}
