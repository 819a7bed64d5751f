//! The node as a witness of its peers' transparency logs (C2SP tlog-cosignature), in rounds:
//! for each peer, its operator's DID document must hold a key this node was configured to
//! trust; each tenant's DID document must carry that operator's proof; each tenant's
//! checkpoint must be signed by one of the tenant's keys and extend the checkpoint this node
//! cosigned before (a consistency proof from the peer, checked here). Then it is cosigned with
//! the operator's key and kept. A log that forked, shrank or stopped extending what was
//! cosigned raises an alarm: an error in the log, the `zhiyuan_witness_alarms` metric, and the
//! alarm with its two checkpoints on `/witness/logs`, where the operator and anyone else sees
//! it. Fetching and checking live here; what is kept is the store's.

use anyhow::{Context, anyhow, bail};
use serde_json::Value;
use zhiyuan_app::App;
use zhiyuan_federation::SigningKey;
use zhiyuan_federation::did::{DidKeys, log_origin};
use zhiyuan_federation::log::{Checkpoint, check_consistency, open_checkpoint};
use zhiyuan_federation::witness::{cosign, note_text};

use crate::audit::{get, proof_hashes};
use crate::config::PeerConfig;

/// What a round made of one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// Cosigned at this size.
    Cosigned { origin: String, size: u64 },
    /// Nothing new since the checkpoint cosigned last.
    Unchanged { origin: String },
    /// The alarm was raised (or had been): what the log did.
    Alarm { origin: String, alarm: String },
}

/// The witness's name in its cosignatures: the node's public host and `/witness`.
pub fn witness_name(app: &App) -> String {
    format!(
        "{}/witness",
        zhiyuan_app::log::host(&app.settings.public_url)
    )
}

async fn get_text(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    String::from_utf8(get(client, url).await?).with_context(|| format!("GET {url}"))
}

pub(crate) async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    serde_json::from_str(&get_text(client, url).await?).with_context(|| format!("GET {url}"))
}

/// A peer's operator's DID document, which must hold one of the keys pinned for the peer.
pub(crate) async fn pinned_operator(
    peer: &PeerConfig,
    client: &reqwest::Client,
) -> anyhow::Result<DidKeys> {
    let base = peer.url.trim_end_matches('/');
    let operator =
        DidKeys::read(&get_json(client, &format!("{base}/.well-known/did.json")).await?)?;
    let trusted = operator.keys.iter().any(|published| {
        peer.operator_keys
            .iter()
            .any(|pinned| *pinned == published.key.to_multibase())
    });
    if !trusted {
        bail!("the operator document of {base} holds none of the keys configured for it");
    }
    Ok(operator)
}

/// One round over every peer: each of their tenants' logs checked, cosigned or flagged.
pub async fn witness_round(
    app: &App,
    peers: &[PeerConfig],
    key: &SigningKey,
    client: &reqwest::Client,
) -> Vec<Observed> {
    let mut observed = Vec::new();
    for peer in peers {
        match witness_peer(app, peer, key, client).await {
            Ok(mut logs) => observed.append(&mut logs),
            Err(error) => {
                tracing::warn!(peer = %peer.url, error = %format!("{error:#}"), "cannot witness a peer's logs")
            }
        }
    }
    observed
}

async fn witness_peer(
    app: &App,
    peer: &PeerConfig,
    key: &SigningKey,
    client: &reqwest::Client,
) -> anyhow::Result<Vec<Observed>> {
    let base = peer.url.trim_end_matches('/');
    let operator = pinned_operator(peer, client).await?;
    let tenants = get_json(client, &format!("{base}/api/v1/tenants")).await?;
    let mut observed = Vec::new();
    for tenant in tenants["items"].as_array().into_iter().flatten() {
        let Some(code) = tenant["code"].as_str() else {
            continue;
        };
        let document = get_json(client, &format!("{base}/tenants/{code}/did.json")).await?;
        let keys = DidKeys::read_endorsed(&document, std::slice::from_ref(&operator))?;
        let origin = log_origin(&keys.did, code)?;
        let note = get_text(client, &format!("{base}/log/{code}/checkpoint")).await?;
        let verifying: Vec<_> = keys
            .keys
            .iter()
            .map(|published| published.key.clone())
            .collect();
        let checkpoint = open_checkpoint(note.as_bytes(), &origin, &verifying)
            .with_context(|| format!("the checkpoint of {origin}"))?;
        let seen = Seen {
            origin: &origin,
            note: &note,
            checkpoint: &checkpoint,
            did_document: &document.to_string(),
        };
        observed.push(observe(app, base, &seen, key, client).await?);
    }
    Ok(observed)
}

/// A peer tenant's checkpoint as fetched and checked, with the DID document it was checked with.
struct Seen<'a> {
    origin: &'a str,
    note: &'a str,
    checkpoint: &'a Checkpoint,
    did_document: &'a str,
}

/// Checks one new checkpoint against the one cosigned before; cosigns it or raises the alarm.
async fn observe(
    app: &App,
    base: &str,
    seen: &Seen<'_>,
    key: &SigningKey,
    client: &reqwest::Client,
) -> anyhow::Result<Observed> {
    let Seen {
        origin,
        note,
        checkpoint,
        did_document,
    } = *seen;
    let now = app.clock.now();
    let root = checkpoint.hash().to_string();
    let cosigned = |note: &str| -> anyhow::Result<String> {
        let seconds = u64::try_from(now.unix_millis().div_euclid(1000)).unwrap_or(0);
        Ok(cosign(note, &witness_name(app), key, seconds)?)
    };
    let Some(kept) = app.store.witnessed_log(origin).await? else {
        // The first checkpoint seen of a log is taken as it is: from now on it must grow from it.
        app.store
            .record_cosigned(
                origin,
                checkpoint.size(),
                &root,
                &cosigned(note)?,
                did_document,
                now,
            )
            .await?;
        return Ok(Observed::Cosigned {
            origin: origin.to_owned(),
            size: checkpoint.size(),
        });
    };
    if let Some(alarm) = kept.alarm {
        return Ok(Observed::Alarm {
            origin: origin.to_owned(),
            alarm,
        });
    }
    let earlier = Checkpoint::from_bytes(note_text(&kept.checkpoint)?.as_bytes())
        .map_err(|_| anyhow!("the checkpoint kept for {origin} is not one"))?;
    if earlier.size() == checkpoint.size() && earlier.hash() == checkpoint.hash() {
        return Ok(Observed::Unchanged {
            origin: origin.to_owned(),
        });
    }
    let proof = if checkpoint.size() > earlier.size() && earlier.size() > 0 {
        let code = origin.rsplit('/').next().unwrap_or_default();
        let answer = get_json(
            client,
            &format!(
                "{base}/log/{code}/proof/consistency?from={}&to={}",
                earlier.size(),
                checkpoint.size()
            ),
        )
        .await?;
        proof_hashes(&answer)?
    } else {
        Vec::new()
    };
    match check_consistency(&proof, &earlier, checkpoint) {
        Ok(()) => {
            app.store
                .record_cosigned(
                    origin,
                    checkpoint.size(),
                    &root,
                    &cosigned(note)?,
                    did_document,
                    now,
                )
                .await?;
            Ok(Observed::Cosigned {
                origin: origin.to_owned(),
                size: checkpoint.size(),
            })
        }
        Err(refusal) => {
            let alarm = refusal.to_string();
            let evidence = format!("{}\n{note}", kept.checkpoint);
            app.store
                .raise_witness_alarm(origin, &alarm, &evidence, now)
                .await?;
            tracing::error!(%origin, %alarm, "a witnessed log no longer extends what this node cosigned");
            Ok(Observed::Alarm {
                origin: origin.to_owned(),
                alarm,
            })
        }
    }
}
