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

/// What a call's store holds: the memory cap, and whose call it is for the log.
pub(crate) struct CallState {
    pub(crate) limiter: CapLimiter,
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
                hit_cap: false,
            },
            host_busy: false,
            tenant: tenant.to_owned(),
            plugin: plugin.to_owned(),
            hook,
        }
    }
}

/// Refuses growth past the cap, and remembers that it did so that the failure is named.
pub(crate) struct CapLimiter {
    cap: usize,
    pub(crate) hit_cap: bool,
}

impl wasmtime::ResourceLimiter for CapLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.hit_cap = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl log::Host for CallState {
    fn write(&mut self, level: log::Level, message: String) {
        let message: String = message.chars().take(2000).collect();
        let (tenant, plugin, hook) = (&self.tenant, &self.plugin, self.hook.as_str());
        match level {
            log::Level::Debug => tracing::debug!(tenant, plugin, hook, "plugin: {message}"),
            log::Level::Info => tracing::info!(tenant, plugin, hook, "plugin: {message}"),
            log::Level::Warn => tracing::warn!(tenant, plugin, hook, "plugin: {message}"),
            log::Level::Error => tracing::error!(tenant, plugin, hook, "plugin: {message}"),
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
