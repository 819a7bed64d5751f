//! Tenants' local policy on this node: the WebAssembly host built from the node's configuration,
//! the bundled plugins bound when a tenant is first created, and each tenant's revision in force
//! put in place at start-up.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::anyhow;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zhiyuan_app::App;
use zhiyuan_domain::TenantCode;
use zhiyuan_domain::ports::PolicyHost;
use zhiyuan_federation::multikey::VerifyingKey;
use zhiyuan_plugins::{HostConfig, WasmHost};
use zhiyuan_store::Store;

use crate::NodeConfig;

/// The host, as the node's configuration sets it up.
pub fn open_host(config: &NodeConfig) -> anyhow::Result<WasmHost> {
    let plugins = &config.plugins;
    let mut trusted_keys = plugins
        .trusted_keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            VerifyingKey::from_multibase(key).map_err(|e| anyhow!("plugins.trusted_keys[{i}]: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The node's operator signs with the key its DID document publishes: every version of it
    // is trusted, as signing lives on one set of keys.
    let ring = config.key_ring()?;
    // Made here if the node has none yet, so that the first start trusts it as every later one.
    ring.signing_secret(zhiyuan_store::NODE_REALM)?;
    for version in ring.signing_secrets(zhiyuan_store::NODE_REALM)? {
        trusted_keys
            .push(zhiyuan_federation::SigningKey::from_secret(&version.secret).verifying_key());
    }
    let host = WasmHost::new(HostConfig {
        cache_dir: Some(
            plugins
                .cache_dir
                .clone()
                .unwrap_or_else(|| config.data_dir.join("plugin-cache")),
        ),
        deadline: Duration::from_millis(plugins.deadline_ms),
        memory_cap: (plugins.memory_cap_mib as usize) << 20,
        failure_threshold: plugins.failure_threshold,
        trusted_keys,
        require_signatures: plugins.require_signatures,
        ..HostConfig::default()
    })?;
    Ok(host)
}

/// Puts each tenant's revision in force in place. A revision that no longer loads leaves the
/// tenant on the built-in default, loudly, rather than keeping the node from starting.
pub async fn activate_all(store: &Store, host: &WasmHost) -> anyhow::Result<()> {
    for (tenant, revision, _) in store.active_policy_revisions().await? {
        activate(store, host, &tenant, revision).await?;
    }
    Ok(())
}

async fn activate(
    store: &Store,
    host: &WasmHost,
    tenant: &TenantCode,
    revision: u64,
) -> anyhow::Result<()> {
    let revision = store.policy_revision(tenant, revision).await?;
    let prepared = {
        let host = host.clone();
        tokio::task::spawn_blocking(move || host.prepare(&revision)).await?
    };
    match prepared {
        Ok(policy) => host.install(tenant, policy),
        Err(refusal) => {
            tracing::error!(%tenant, %refusal, "the tenant's policy does not load; the built-in default applies")
        }
    }
    Ok(())
}

/// Keeps this node's policies what the database says is in force, and the database told of the
/// hooks this node switches off. Replicas sharing one database see a change made through any of
/// them within a second or two. Runs until `stop` turns true.
pub fn keep_policies_current(
    app: App,
    host: WasmHost,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = HashMap::new();
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.changed() => return,
            }
            let store = &app.store;
            let mut unrecorded = Vec::new();
            for switch_off in host.take_switch_offs() {
                if let Err(error) = store.record_switch_off(&switch_off, app.clock.now()).await {
                    tracing::error!(tenant = %switch_off.tenant, %error, "cannot record a switch-off; retrying");
                    unrecorded.push(switch_off);
                }
            }
            host.requeue_switch_offs(unrecorded);
            let _change = app.policy_changes.lock().await;
            let active = match store.active_policy_revisions().await {
                Ok(active) => active,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the policies in force");
                    continue;
                }
            };
            for (tenant, revision, changed_at) in active {
                if seen.get(&tenant) == Some(&(revision, changed_at)) {
                    continue;
                }
                seen.insert(tenant.clone(), (revision, changed_at));
                // Put in place already (by this node's API, or at start): a revision never
                // changes, and reloading it would forget the failures counted so far.
                if host.for_tenant(&tenant).revision() == revision {
                    continue;
                }
                if let Err(error) = activate(store, &host, &tenant, revision).await {
                    tracing::error!(%tenant, %error, "cannot load the policy in force");
                }
            }
        }
    })
}
