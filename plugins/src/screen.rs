//! What a package is, read by a parser before anything compiles it: compiling costs a core for
//! as long as the package makes it, and an upload must not be able to buy minutes of a node's
//! CPU. A package that is not a component, has more functions, memory or tables than a policy
//! needs, exports no policy hooks or imports anything but the log is refused here, in
//! milliseconds.

use wasmparser::{Encoding, Parser, Payload};
use zhiyuan_domain::ports::PluginRefusal;

/// Functions a policy plugin may define, over all its core modules: the bundled ones define a
/// few hundred, with their standard library.
pub const MAX_FUNCTIONS: u64 = 20_000;
/// Table elements a plugin may start with, over all its tables.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000;
/// Bytes of a WebAssembly page.
const PAGE: u64 = 64 << 10;

/// Refuses a package that no policy needs to be, before it is compiled.
pub fn screen(package: &[u8], memory_cap: usize) -> Result<(), PluginRefusal> {
    let refused = |error: wasmparser::BinaryReaderError| {
        PluginRefusal::NotAComponent(error.message().to_owned())
    };
    let too_large = |detail: String| PluginRefusal::TooLarge { detail };
    let mut depth = 0usize;
    let mut functions = 0u64;
    let mut memory = 0u64;
    let mut table_elements = 0u64;
    let mut policy_exports = 0usize;
    let mut other_exports = Vec::new();
    for payload in Parser::new(0).parse_all(package) {
        match payload.map_err(refused)? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    return Err(PluginRefusal::NotAComponent(
                        "a plugin is a component (wasm-tools component new), not a core module"
                            .into(),
                    ));
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::FunctionSection(reader) => {
                functions += u64::from(reader.count());
                if functions > MAX_FUNCTIONS {
                    return Err(too_large(format!("more than {MAX_FUNCTIONS} functions")));
                }
            }
            Payload::MemorySection(reader) => {
                for kind in reader {
                    memory =
                        memory.saturating_add(kind.map_err(refused)?.initial.saturating_mul(PAGE));
                }
                if memory > memory_cap as u64 {
                    return Err(too_large(format!(
                        "memories start larger than the cap of {memory_cap} bytes"
                    )));
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    table_elements =
                        table_elements.saturating_add(table.map_err(refused)?.ty.initial);
                }
                if table_elements > MAX_TABLE_ELEMENTS {
                    return Err(too_large(format!(
                        "tables start with more than {MAX_TABLE_ELEMENTS} elements"
                    )));
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let name = export.map_err(refused)?.name.name;
                    if name.starts_with("zhiyuan:policy/") {
                        policy_exports += 1;
                    } else {
                        other_exports.push(name.to_owned());
                    }
                }
            }
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let name = import.map_err(refused)?.name.name;
                    let allowed = ["zhiyuan:policy/log@", "zhiyuan:policy/types@"]
                        .iter()
                        .any(|prefix| name.starts_with(prefix));
                    if !allowed {
                        return Err(PluginRefusal::ForbiddenImport {
                            import: name.to_owned(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    if policy_exports == 0 {
        return Err(PluginRefusal::WrongWorld {
            exports: if other_exports.is_empty() {
                "nothing".into()
            } else {
                other_exports.join(", ")
            },
        });
    }
    Ok(())
}
