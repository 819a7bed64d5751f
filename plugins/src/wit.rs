//! The WIT interfaces the host runs, one module per supported version, and the translation
//! between their types and the domain's.

use wasmtime::component::InstancePre;
use zhiyuan_domain::ports::Hook;
use zhiyuan_domain::{CivilisationLevel, UnitKind};

pub(crate) mod v0_1_0 {
    wasmtime::component::bindgen!({ path: "wit/0.1.0", world: "policy" });
}

use v0_1_0::exports::zhiyuan::policy::{
    matching, registration_targets, service_records, star_levels, team_naming,
};
use v0_1_0::zhiyuan::policy::{log, types};

/// What a call's store holds: its limits, and whose call it is for the log.
pub(crate) struct CallState {
    pub(crate) limiter: CapLimiter,
    /// Log lines and bytes the call has written; past the limits further lines are dropped.
    log_lines: u32,
    log_bytes: usize,
    /// The call was stopped by the wall-clock backstop: the machine, not the plugin, was slow.
    pub(crate) host_busy: bool,
    pub(crate) tenant: String,
    pub(crate) plugin: String,
    pub(crate) hook: Hook,
}

impl CallState {
    pub(crate) fn new(memory_cap: usize, tenant: &str, plugin: &str, hook: Hook) -> CallState {
        CallState {
            limiter: CapLimiter {
                cap: memory_cap,
                memory: 0,
                table_elements: 0,
                hit_cap: false,
            },
            log_lines: 0,
            log_bytes: 0,
            host_busy: false,
            tenant: tenant.to_owned(),
            plugin: plugin.to_owned(),
            hook,
        }
    }
}

/// Log lines one call may write, and their bytes in all.
const LOG_LINES: u32 = 32;
const LOG_BYTES: usize = 16 << 10;
/// Table elements one call may hold, over all its tables.
const TABLE_ELEMENTS: usize = crate::screen::MAX_TABLE_ELEMENTS as usize;

/// Refuses growth of a call's memories past the cap on their total, and of its tables past
/// theirs, and remembers that it did so that the failure is named.
pub(crate) struct CapLimiter {
    cap: usize,
    /// Bytes of every memory of the call, together.
    memory: usize,
    /// Elements of every table of the call, together.
    table_elements: usize,
    pub(crate) hit_cap: bool,
}

impl wasmtime::ResourceLimiter for CapLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory - current.min(self.memory) + desired;
        if total > self.cap {
            self.hit_cap = true;
            return Ok(false);
        }
        self.memory = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.table_elements - current.min(self.table_elements) + desired;
        if total > TABLE_ELEMENTS {
            return Ok(false);
        }
        self.table_elements = total;
        Ok(true)
    }
}

impl log::Host for CallState {
    fn write(&mut self, level: log::Level, message: String) {
        if self.log_lines >= LOG_LINES || self.log_bytes >= LOG_BYTES {
            return;
        }
        self.log_lines += 1;
        let message: String = message.chars().take(2000).collect();
        self.log_bytes += message.len();
        let (tenant, plugin, hook) = (&self.tenant, &self.plugin, self.hook.as_str());
        // The plugin's text goes into a field, escaped: a line break in it cannot forge a line.
        match level {
            log::Level::Debug => {
                tracing::debug!(tenant, plugin, hook, message = ?message, "plugin log")
            }
            log::Level::Info => {
                tracing::info!(tenant, plugin, hook, message = ?message, "plugin log")
            }
            log::Level::Warn => {
                tracing::warn!(tenant, plugin, hook, message = ?message, "plugin log")
            }
            log::Level::Error => {
                tracing::error!(tenant, plugin, hook, message = ?message, "plugin log")
            }
        }
    }
}

impl types::Host for CallState {}

/// The hook interfaces a component exports, looked up once when it is compiled.
pub(crate) struct Exports {
    pub(crate) naming: Option<team_naming::GuestIndices>,
    pub(crate) targets: Option<registration_targets::GuestIndices>,
    pub(crate) stars: Option<star_levels::GuestIndices>,
    pub(crate) records: Option<service_records::GuestIndices>,
    pub(crate) matching: Option<matching::GuestIndices>,
}

impl Exports {
    /// Looks up each interface the component exports; one that is exported but does not match
    /// its WIT is refused with the hook it serves.
    pub(crate) fn find(pre: &InstancePre<CallState>) -> Result<Exports, (Hook, wasmtime::Error)> {
        let has = |interface: &str| {
            pre.component()
                .get_export_index(None, format!("zhiyuan:policy/{interface}@0.1.0"))
                .is_some()
        };
        fn lookup<T>(
            hook: Hook,
            present: bool,
            indices: impl FnOnce() -> wasmtime::Result<T>,
        ) -> Result<Option<T>, (Hook, wasmtime::Error)> {
            if !present {
                return Ok(None);
            }
            indices().map(Some).map_err(|error| (hook, error))
        }
        Ok(Exports {
            naming: lookup(Hook::TeamName, has("team-naming"), || {
                team_naming::GuestIndices::new(pre)
            })?,
            targets: lookup(Hook::RegionTarget, has("registration-targets"), || {
                registration_targets::GuestIndices::new(pre)
            })?,
            stars: lookup(Hook::StarLevel, has("star-levels"), || {
                star_levels::GuestIndices::new(pre)
            })?,
            records: lookup(Hook::ServiceRecord, has("service-records"), || {
                service_records::GuestIndices::new(pre)
            })?,
            matching: lookup(Hook::MatchScore, has("matching"), || {
                matching::GuestIndices::new(pre)
            })?,
        })
    }

    pub(crate) fn hooks(&self) -> Vec<Hook> {
        let mut hooks = Vec::new();
        if self.naming.is_some() {
            hooks.push(Hook::TeamName);
        }
        if self.targets.is_some() {
            hooks.extend([Hook::RegionTarget, Hook::UnitTarget]);
        }
        if self.stars.is_some() {
            hooks.push(Hook::StarLevel);
        }
        if self.records.is_some() {
            hooks.push(Hook::ServiceRecord);
        }
        if self.matching.is_some() {
            hooks.push(Hook::MatchScore);
        }
        hooks
    }
}

pub(crate) fn unit_kind(kind: UnitKind) -> types::UnitKind {
    match kind {
        UnitKind::Organ => types::UnitKind::Organ,
        UnitKind::PeoplesOrganisation => types::UnitKind::PeoplesOrganisation,
        UnitKind::Enterprise => types::UnitKind::Enterprise,
        UnitKind::PublicInstitution => types::UnitKind::PublicInstitution,
        UnitKind::SocialOrganisation => types::UnitKind::SocialOrganisation,
        UnitKind::Community => types::UnitKind::Community,
        UnitKind::School => types::UnitKind::School,
        UnitKind::Other => types::UnitKind::Other,
    }
}

pub(crate) fn civilisation_level(level: CivilisationLevel) -> types::CivilisationLevel {
    match level {
        CivilisationLevel::National => types::CivilisationLevel::National,
        CivilisationLevel::Provincial => types::CivilisationLevel::Provincial,
        CivilisationLevel::Municipal => types::CivilisationLevel::Municipal,
        CivilisationLevel::Other => types::CivilisationLevel::Other,
    }
}

pub(crate) fn date(date: time::Date) -> types::Date {
    types::Date {
        year: date.year().clamp(0, u16::MAX.into()) as u16,
        month: date.month() as u8,
        day: date.day(),
    }
}

pub(crate) fn violation(violation: types::Violation) -> zhiyuan_domain::ports::Violation {
    zhiyuan_domain::ports::Violation {
        code: violation.code,
        field: violation.field,
        message_zh: violation.message_zh,
        message_en: violation.message_en,
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter;

    use super::*;

    fn call() -> CallState {
        CallState::new(16 << 20, "421300", "test", Hook::RegionTarget)
    }

    #[test]
    fn memories_are_capped_together_not_each() {
        let mut state = call();
        let limiter = &mut state.limiter;
        // Two memories of 10 MiB each: the second passes the cap of 16 MiB on their total.
        assert!(limiter.memory_growing(0, 10 << 20, None).unwrap());
        assert!(!limiter.memory_growing(0, 10 << 20, None).unwrap());
        assert!(limiter.hit_cap, "the refusal is named as the cap");
        // Growing the first within the cap still works: its own size counts once.
        assert!(limiter.memory_growing(10 << 20, 16 << 20, None).unwrap());
        assert!(
            !limiter
                .memory_growing(16 << 20, (16 << 20) + 1, None)
                .unwrap()
        );
    }

    #[test]
    fn tables_are_capped_together() {
        let mut state = call();
        let limiter = &mut state.limiter;
        assert!(limiter.table_growing(0, TABLE_ELEMENTS - 10, None).unwrap());
        assert!(limiter.table_growing(0, 10, None).unwrap());
        assert!(
            !limiter.table_growing(0, 1, None).unwrap(),
            "a third table past the total"
        );
        assert!(!limiter.table_growing(10, 11, None).unwrap());
        assert!(
            !limiter.hit_cap,
            "only memory is reported as the memory cap"
        );
    }

    #[test]
    fn a_call_writes_a_bounded_log() {
        let mut state = call();
        for _ in 0..1000 {
            log::Host::write(&mut state, log::Level::Warn, "x".repeat(100_000));
        }
        // Each line is cut to 2,000 characters, and lines stop once 16 KiB are written: the
        // last line may pass the limit by one line's length, never more.
        assert!(state.log_lines <= LOG_LINES);
        assert!(
            state.log_bytes <= LOG_BYTES + 2000,
            "{} bytes",
            state.log_bytes
        );
        let mut state = call();
        for _ in 0..1000 {
            log::Host::write(&mut state, log::Level::Info, "short".into());
        }
        assert_eq!(state.log_lines, LOG_LINES);
    }
}
