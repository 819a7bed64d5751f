//! A tenant's policy at one revision of its bindings: bound hooks run their plugin, the rest run
//! the built-in default. Requests take it whole, so that a switch never gives one request a mix.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use wasmtime::Store;
use wasmtime::component::Instance;
use zhiyuan_domain::ports::{
    FailureReason, Hook, MatchProfile, OnFailure, PluginRefusal, Policy, PolicyError,
    PolicyFailure, PolicyRevision, RegionFacts, ServiceRecordFacts, ServiceSummary, SwitchOff,
    TargetRatio, UnitFacts,
};
use zhiyuan_domain::{StarLevel, TenantCode, UnitKind};

use crate::host::{Compiled, HostInner, WasmHost};
use crate::wit::v0_1_0::exports::zhiyuan::policy::{
    matching, registration_targets, service_records, star_levels, team_naming,
};
use crate::wit::v0_1_0::zhiyuan::policy::types::{self, Setting};
use crate::wit::{self, CallState};
use crate::{BUILTIN_NAME, BuiltinPolicy};

pub(crate) struct TenantPolicy {
    host: Arc<HostInner>,
    tenant: String,
    /// Where switch-offs are reported; none for trials, whose failures count against nothing.
    installed_for: Option<TenantCode>,
    revision: u64,
    bound: HashMap<Hook, Bound>,
}

struct Bound {
    plugin: Arc<Compiled>,
    name: String,
    version: String,
    settings: Vec<Setting>,
    on_failure: OnFailure,
    /// Failures since the last answer.
    failures: AtomicU32,
    /// Why the hook was switched off, once it was.
    off: OnceLock<String>,
}

impl TenantPolicy {
    pub(crate) fn new(host: &WasmHost, revision: &PolicyRevision) -> Result<Self, PluginRefusal> {
        let mut bound = HashMap::new();
        for (binding, package) in &revision.bindings {
            let plugin = host.compile_stored(package)?;
            if !plugin.hooks.contains(&binding.hook) {
                return Err(PluginRefusal::MissingHook { hook: binding.hook });
            }
            let off = OnceLock::new();
            if let Some((_, reason)) = revision
                .switched_off
                .iter()
                .find(|(hook, _)| *hook == binding.hook)
            {
                let _ = off.set(reason.clone());
            }
            bound.insert(
                binding.hook,
                Bound {
                    plugin,
                    name: package.name.clone(),
                    version: package.version.clone(),
                    settings: settings_list(&binding.settings),
                    on_failure: binding.on_failure,
                    failures: AtomicU32::new(0),
                    off,
                },
            );
        }
        Ok(TenantPolicy {
            host: host.inner().clone(),
            tenant: revision.tenant.to_string(),
            installed_for: Some(revision.tenant.clone()),
            revision: revision.revision,
            bound,
        })
    }

    /// A policy binding every hook `plugin` exports, for conformance checks and dry runs.
    pub(crate) fn trial(
        host: &WasmHost,
        tenant: &str,
        plugin: Arc<Compiled>,
        name: &str,
        version: &str,
        settings: &BTreeMap<String, String>,
        on_failure: OnFailure,
    ) -> TenantPolicy {
        let bound = plugin
            .hooks
            .iter()
            .map(|hook| {
                (
                    *hook,
                    Bound {
                        plugin: plugin.clone(),
                        name: name.to_owned(),
                        version: version.to_owned(),
                        settings: settings_list(settings),
                        on_failure,
                        failures: AtomicU32::new(0),
                        off: OnceLock::new(),
                    },
                )
            })
            .collect();
        TenantPolicy {
            host: host.inner().clone(),
            tenant: tenant.to_owned(),
            installed_for: None,
            revision: 0,
            bound,
        }
    }

    /// Runs a bound hook. None: the built-in default answers (unbound, switched off, or a failure
    /// where the binding falls back).
    fn run<R>(
        &self,
        hook: Hook,
        call: impl FnOnce(
            &mut Store<CallState>,
            &Instance,
            &Compiled,
            &[Setting],
        ) -> wasmtime::Result<R>,
        check: impl FnOnce(&R) -> Result<(), String>,
    ) -> Option<Result<R, PolicyFailure>> {
        let bound = self.bound.get(&hook)?;
        if let Some(why) = bound.off.get() {
            // Off: the plugin no longer runs. A binding that falls back answers with the
            // default; one that fails closed keeps refusing, since a default answer is what it
            // was bound to prevent.
            return match bound.on_failure {
                OnFailure::FallBack => None,
                OnFailure::FailClosed => Some(Err(PolicyFailure {
                    tenant: self.tenant.clone(),
                    plugin: bound.name.clone(),
                    version: bound.version.clone(),
                    hook,
                    reason: FailureReason::SwitchedOff { why: why.clone() },
                })),
            };
        }
        let state = CallState::new(self.host.config.memory_cap, &self.tenant, &bound.name, hook);
        let answer = WasmHost::invoke(&self.host, &bound.plugin, state, |store, instance| {
            call(store, instance, &bound.plugin, &bound.settings)
        })
        .and_then(|answer| match check(&answer) {
            Ok(()) => Ok(answer),
            Err(detail) => Err(FailureReason::BadAnswer { detail }),
        });
        match answer {
            Ok(answer) => {
                bound.failures.store(0, Ordering::Relaxed);
                Some(Ok(answer))
            }
            Err(reason) => {
                let failure = PolicyFailure {
                    tenant: self.tenant.clone(),
                    plugin: bound.name.clone(),
                    version: bound.version.clone(),
                    hook,
                    reason,
                };
                tracing::warn!(%failure, "plugin failure");
                self.count_failure(hook, bound, &failure);
                match bound.on_failure {
                    OnFailure::FailClosed => Some(Err(failure)),
                    OnFailure::FallBack => None,
                }
            }
        }
    }

    /// Runs one of the two target hooks: one answer per thing asked about, each at most 100%.
    fn run_targets(
        &self,
        hook: Hook,
        asked: usize,
        call: impl FnOnce(
            &registration_targets::Guest,
            &mut Store<CallState>,
            &[Setting],
        ) -> wasmtime::Result<Vec<Option<u32>>>,
    ) -> Option<Result<Vec<Option<TargetRatio>>, PolicyFailure>> {
        let answer = self.run(
            hook,
            |store, instance, plugin, settings| {
                let indices = plugin
                    .exports
                    .targets
                    .as_ref()
                    .expect("bound hooks are exported");
                let guest = indices.load(&mut *store, instance)?;
                call(&guest, store, settings)
            },
            |targets| check_targets(targets, asked),
        );
        answer.map(|answer| answer.map(into_ratios))
    }

    fn count_failure(&self, hook: Hook, bound: &Bound, failure: &PolicyFailure) {
        let Some(tenant) = &self.installed_for else {
            return;
        };
        if !failure.reason.counts_against_plugin() {
            return;
        }
        let failures = bound.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures < self.host.config.failure_threshold {
            return;
        }
        let reason = format!("{failures} failures in a row; the last: {}", failure.reason);
        if bound.off.set(reason.clone()).is_ok() {
            tracing::error!(tenant = %self.tenant, plugin = %bound.name, %hook, %reason,
                "plugin switched off; the built-in default answers until the tenant binds again");
            let mut queue = self
                .host
                .switch_offs
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            queue.push(SwitchOff {
                tenant: tenant.clone(),
                revision: self.revision,
                hook,
                reason,
            });
        }
    }
}

fn settings_list(settings: &BTreeMap<String, String>) -> Vec<Setting> {
    settings
        .iter()
        .map(|(key, value)| Setting {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

fn in_range(value: u64, max: u64, what: &str) -> Result<(), String> {
    if value <= max {
        Ok(())
    } else {
        Err(format!("{what} {value} is above {max}"))
    }
}

/// One target for each thing asked about, each at most 100%.
fn check_targets(targets: &[Option<u32>], asked: usize) -> Result<(), String> {
    if targets.len() != asked {
        return Err(format!("{} targets for {asked} questions", targets.len()));
    }
    targets.iter().try_for_each(|target| {
        in_range(
            u64::from(target.unwrap_or(0)),
            10_000,
            "a target in basis points",
        )
    })
}

fn into_ratios(targets: Vec<Option<u32>>) -> Vec<Option<TargetRatio>> {
    targets
        .into_iter()
        .map(|target| target.map(TargetRatio))
        .collect()
}

/// A pass-or-refuse hook's answer in the domain's terms; none where the default answers.
fn verdict(
    answer: Option<Result<Result<(), types::Violation>, PolicyFailure>>,
) -> Option<Result<(), PolicyError>> {
    answer.map(|answer| match answer {
        Ok(Ok(())) => Ok(()),
        Ok(Err(violation)) => Err(PolicyError::Violation(wit::violation(violation))),
        Err(failure) => Err(PolicyError::Failed(failure)),
    })
}

fn no_violation_blanks(result: &Result<(), types::Violation>) -> Result<(), String> {
    match result {
        Err(v) if v.code.is_empty() || v.message_zh.is_empty() || v.message_en.is_empty() => {
            Err("a violation needs a code and messages in Chinese and English".into())
        }
        _ => Ok(()),
    }
}

impl Policy for TenantPolicy {
    fn runs_plugin(&self, hook: Hook) -> bool {
        self.bound.contains_key(&hook)
    }

    fn source(&self, hook: Hook) -> String {
        match self.bound.get(&hook) {
            Some(bound) => {
                let plugin = format!(
                    "{} {} (sha256 {}), revision {}",
                    bound.name,
                    bound.version,
                    &bound.plugin.sha256[..12],
                    self.revision
                );
                match (bound.off.get(), bound.on_failure) {
                    (Some(reason), OnFailure::FallBack) => {
                        format!("{BUILTIN_NAME}: {plugin} is switched off: {reason}")
                    }
                    (Some(reason), OnFailure::FailClosed) => {
                        format!("{plugin}, switched off (requests fail): {reason}")
                    }
                    (None, _) => plugin,
                }
            }
            None => BUILTIN_NAME.to_owned(),
        }
    }

    fn revision(&self) -> u64 {
        self.revision
    }

    fn switched_off(&self, hook: Hook) -> Option<String> {
        self.bound
            .get(&hook)
            .and_then(|bound| bound.off.get().cloned())
    }

    fn check_team_name(
        &self,
        kind: UnitKind,
        team_name: &str,
        unit_name: Option<&str>,
    ) -> Result<(), PolicyError> {
        let team = team_naming::TeamName {
            kind: wit::unit_kind(kind),
            name: team_name.to_owned(),
            unit_name: unit_name.map(str::to_owned),
        };
        let answer = self.run(
            Hook::TeamName,
            |store, instance, plugin, settings| {
                let indices = plugin
                    .exports
                    .naming
                    .as_ref()
                    .expect("bound hooks are exported");
                indices.load(&mut *store, instance)?.call_check_team_name(
                    &mut *store,
                    settings,
                    &team,
                )
            },
            no_violation_blanks,
        );
        verdict(answer).unwrap_or_else(|| BuiltinPolicy.check_team_name(kind, team_name, unit_name))
    }

    fn region_targets(
        &self,
        regions: &[RegionFacts],
    ) -> Result<Vec<Option<TargetRatio>>, PolicyFailure> {
        let input: Vec<registration_targets::Region> = regions
            .iter()
            .map(|region| registration_targets::Region {
                code: region.code.as_str().to_owned(),
                resident_population: region.resident_population,
            })
            .collect();
        let answer = self.run_targets(Hook::RegionTarget, input.len(), |guest, store, settings| {
            guest.call_region_targets(store, settings, &input)
        });
        answer.unwrap_or_else(|| BuiltinPolicy.region_targets(regions))
    }

    fn unit_targets(&self, units: &[UnitFacts]) -> Result<Vec<Option<TargetRatio>>, PolicyFailure> {
        let input: Vec<registration_targets::Unit> = units
            .iter()
            .map(|unit| registration_targets::Unit {
                kind: wit::unit_kind(unit.kind),
                civilisation_level: wit::civilisation_level(unit.civilisation_level),
                staff: unit.staff,
            })
            .collect();
        let answer = self.run_targets(Hook::UnitTarget, input.len(), |guest, store, settings| {
            guest.call_unit_targets(store, settings, &input)
        });
        answer.unwrap_or_else(|| BuiltinPolicy.unit_targets(units))
    }

    fn star_level(&self, service: &ServiceSummary) -> Result<StarLevel, PolicyFailure> {
        let input = star_levels::ServiceSummary {
            service_minutes: service.service_minutes.get(),
            registered_on: wit::date(service.registered_on),
            as_of: wit::date(service.as_of),
        };
        let answer = self.run(
            Hook::StarLevel,
            |store, instance, plugin, settings| {
                let indices = plugin
                    .exports
                    .stars
                    .as_ref()
                    .expect("bound hooks are exported");
                indices
                    .load(&mut *store, instance)?
                    .call_star_level(&mut *store, settings, input)
            },
            |stars| in_range(u64::from(*stars), 5, "a star level"),
        );
        match answer {
            // Checked to be at most five just above.
            Some(answer) => answer.map(|stars| StarLevel::new(stars).unwrap_or(StarLevel::MAX)),
            None => BuiltinPolicy.star_level(service),
        }
    }

    fn check_service_record(&self, record: &ServiceRecordFacts) -> Result<(), PolicyError> {
        let input = service_records::ServiceRecord {
            started_at: record.started_at,
            ended_at: record.ended_at,
            shift_start: record.shift.map(|(start, _)| start),
            shift_end: record.shift.map(|(_, end)| end),
            same_day_minutes: record.same_day_minutes.get(),
        };
        let answer = self.run(
            Hook::ServiceRecord,
            |store, instance, plugin, settings| {
                let indices = plugin
                    .exports
                    .records
                    .as_ref()
                    .expect("bound hooks are exported");
                indices
                    .load(&mut *store, instance)?
                    .call_validate_service_record(&mut *store, settings, input)
            },
            no_violation_blanks,
        );
        verdict(answer).unwrap_or_else(|| BuiltinPolicy.check_service_record(record))
    }

    fn match_score(
        &self,
        volunteer: &MatchProfile,
        project: &MatchProfile,
    ) -> Result<u8, PolicyFailure> {
        let volunteer_input = matching::VolunteerProfile {
            categories: volunteer.categories.clone(),
            tags: volunteer.tags.clone(),
            region: volunteer.region.clone(),
        };
        let project_input = matching::ProjectProfile {
            categories: project.categories.clone(),
            tags: project.tags.clone(),
            region: project.region.clone(),
        };
        let answer = self.run(
            Hook::MatchScore,
            |store, instance, plugin, settings| {
                let indices = plugin
                    .exports
                    .matching
                    .as_ref()
                    .expect("bound hooks are exported");
                indices.load(&mut *store, instance)?.call_match_score(
                    &mut *store,
                    settings,
                    &volunteer_input,
                    &project_input,
                )
            },
            |score| in_range(u64::from(*score), 100, "a match score"),
        );
        answer.unwrap_or_else(|| BuiltinPolicy.match_score(volunteer, project))
    }
}
