//! The conformance inputs that ship with each WIT version: every hook a plugin declares must
//! answer them, in range, without failing, before the plugin is stored.

use std::sync::{Arc, LazyLock};

use zhiyuan_domain::ports::{Hook, HookCall, OnFailure, PluginRefusal};

use crate::host::{Compiled, WasmHost};
use crate::tenant::TenantPolicy;

static INPUTS_0_1_0: LazyLock<Vec<HookCall>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../wit/0.1.0/conformance.json"))
        .expect("the conformance inputs of zhiyuan:policy@0.1.0 parse")
});

pub(crate) fn inputs(wit_version: &str) -> &'static [HookCall] {
    match wit_version {
        "0.1.0" => &INPUTS_0_1_0,
        _ => &[],
    }
}

pub(crate) fn check(
    host: &WasmHost,
    tenant: &str,
    plugin: &Arc<Compiled>,
) -> Result<(), PluginRefusal> {
    let policy = TenantPolicy::trial(
        host,
        tenant,
        plugin.clone(),
        "the uploaded plugin",
        "",
        &Default::default(),
        OnFailure::FailClosed,
    );
    for call in inputs(plugin.wit_version) {
        let hook: Hook = call.hook();
        if !plugin.hooks.contains(&hook) {
            continue;
        }
        call.run(&policy)
            .map_err(|failure| PluginRefusal::Conformance {
                hook,
                detail: failure.reason.to_string(),
            })?;
    }
    Ok(())
}
