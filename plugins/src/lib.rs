//! Local policy of Zhiyuan tenants. `BuiltinPolicy` is the default every tenant falls back to:
//! the rules of the Suizhou notice (随文明办〔2018〕9号). `WasmHost` runs the WebAssembly plugins
//! a tenant binds to replace any of its rules, behind the same `Policy` port. This is the only
//! crate that links wasmtime.

mod builtin;
mod conformance;
mod host;
mod screen;
mod signature;
mod tenant;
mod wit;

pub use builtin::{BUILTIN_NAME, BuiltinPolicy, TEAM_SUFFIX};
pub use host::{HostConfig, HostError, SUPPORTED_VERSIONS, WasmHost};
pub use screen::{MAX_FUNCTIONS, MAX_TABLE_ELEMENTS, screen};
pub use signature::{sign_package, verify_package};

/// The plugins that ship with the node, built from plugins/guests by `scripts/build-plugins`:
/// (name, version, component). The node trusts them as it trusts its own binary.
pub const BUNDLED: &[(&str, &str, &[u8])] = &[
    (
        "suizhou-naming",
        "0.1.0",
        include_bytes!("../dist/suizhou-naming.wasm"),
    ),
    (
        "suizhou-targets",
        "0.1.0",
        include_bytes!("../dist/suizhou-targets.wasm"),
    ),
    (
        "star-levels",
        "0.1.0",
        include_bytes!("../dist/star-levels.wasm"),
    ),
];
