//! What a hook costs through the WebAssembly host, beside the same policy compiled natively
//! (`BuiltinPolicy`), warm (compiled and pre-instantiated) and cold (a new host loading the
//! compiled artifact from its cache, or compiling from nothing); and how long a restarting node
//! takes to have ten tenants' plugins ready from the cache.
//!
//!   cargo bench -p zhiyuan --bench plugins

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use zhiyuan_domain::ports::{
    Binding, Hook, MatchProfile, OnFailure, PluginPackage, Policy, PolicyHost, PolicyRevision,
    ServiceRecordFacts, ServiceSummary, UnitFacts,
};
use zhiyuan_domain::{CivilisationLevel, RegionCode, TenantCode, UnitKind};
use zhiyuan_plugins::{BUNDLED, BuiltinPolicy, HostConfig, WasmHost};

fn package(name: &str, bytes: &[u8]) -> PluginPackage {
    PluginPackage {
        name: name.to_owned(),
        version: "0.1.0".to_owned(),
        signature: None,
        sha256: hex::encode(Sha256::digest(bytes)),
        bytes: Arc::from(bytes),
    }
}

fn misbehaving() -> PluginPackage {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plugins/dist/test/misbehaving.wasm"
    );
    package(
        "misbehaving",
        &std::fs::read(path).expect("plugins/dist/test/misbehaving.wasm"),
    )
}

fn bundled(name: &str) -> PluginPackage {
    let (_, _, bytes) = BUNDLED
        .iter()
        .find(|(n, _, _)| *n == name)
        .expect("bundled");
    package(name, bytes)
}

/// Every hook bound: the bundled plugins where one implements it, the test plugin otherwise.
fn revision(tenant: &TenantCode) -> PolicyRevision {
    let naming = bundled("suizhou-naming");
    let targets = bundled("suizhou-targets");
    let stars = bundled("star-levels");
    let other = misbehaving();
    let bind = |hook, package: &PluginPackage| {
        (
            Binding {
                hook,
                plugin: package.sha256.clone(),
                on_failure: OnFailure::FailClosed,
                settings: BTreeMap::new(),
            },
            package.clone(),
        )
    };
    PolicyRevision {
        tenant: tenant.clone(),
        revision: 1,
        bindings: vec![
            bind(Hook::TeamName, &naming),
            bind(Hook::RegionTarget, &targets),
            bind(Hook::UnitTarget, &targets),
            bind(Hook::StarLevel, &stars),
            bind(Hook::ServiceRecord, &other),
            bind(Hook::MatchScore, &other),
        ],
        switched_off: Vec::new(),
    }
}

fn call(policy: &dyn Policy, hook: Hook) {
    let date = time::Date::from_calendar_date(2026, time::Month::November, 29).unwrap();
    let ok = match hook {
        Hook::TeamName => policy
            .check_team_name(
                UnitKind::Organ,
                "随州市公安局志愿服务队",
                Some("随州市公安局"),
            )
            .is_ok(),
        Hook::RegionTarget => policy
            .region_target(&RegionCode::parse("421300").unwrap(), 2_046_000)
            .is_ok(),
        Hook::UnitTarget => policy
            .unit_target(UnitKind::Organ, CivilisationLevel::Provincial, 120)
            .is_ok(),
        Hook::StarLevel => policy
            .star_level(&ServiceSummary {
                service_minutes: zhiyuan_domain::Minutes::new(40_000),
                registered_on: date,
                as_of: date,
            })
            .is_ok(),
        Hook::ServiceRecord => policy
            .check_service_record(&ServiceRecordFacts {
                started_at: 1_780_000_000_000,
                ended_at: 1_780_014_400_000,
                shift: None,
                same_day_minutes: zhiyuan_domain::Minutes::ZERO,
                checked_out: true,
            })
            .is_ok(),
        Hook::MatchScore => {
            let profile = MatchProfile {
                distance_m: Some(1200),
                open_shifts: Some(2),
                categories: vec!["elderly_care".into()],
                tags: vec!["driving".into()],
                region: "421303".into(),
            };
            policy.match_score(&profile, &profile).is_ok()
        }
    };
    assert!(ok, "{hook} answered");
}

/// Median time of one call, over batches.
fn per_call(policy: &dyn Policy, hook: Hook, calls: u32) -> Duration {
    for _ in 0..100 {
        call(policy, hook);
    }
    let mut batches: Vec<Duration> = (0..15)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..calls {
                call(policy, hook);
            }
            started.elapsed() / calls
        })
        .collect();
    batches.sort();
    batches[batches.len() / 2]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn main() {
    let cache = tempfile::tempdir().unwrap();
    let config = HostConfig {
        cache_dir: Some(cache.path().to_owned()),
        require_signatures: false,
        ..HostConfig::default()
    };
    let suizhou = TenantCode::parse("421300").unwrap();

    // Cold from nothing: compile every package (and write the artifact cache).
    let host = WasmHost::new(config.clone()).unwrap();
    let started = Instant::now();
    let policy = host.prepare(&revision(&suizhou)).unwrap();
    let compile = started.elapsed();
    println!(
        "host: pooling allocator {}",
        if host.pooling() { "on" } else { "off" }
    );
    println!(
        "compile 4 packages from nothing: {:.1} ms",
        compile.as_secs_f64() * 1e3
    );

    println!(
        "\n| hook | native | plugin, warm | ratio | plugin, cold (new host, cached artifact, first call) |"
    );
    println!("|---|---|---|---|---|");
    for hook in Hook::ALL {
        let native = per_call(&BuiltinPolicy, hook, 20_000);
        let warm = per_call(policy.as_ref(), hook, 2_000);
        // Cold: a new host, as after a restart, loading the artifact and answering once.
        let mut colds: Vec<Duration> = (0..5)
            .map(|_| {
                let fresh = WasmHost::new(config.clone()).unwrap();
                let started = Instant::now();
                let cold = fresh.prepare(&revision(&suizhou)).unwrap();
                call(cold.as_ref(), hook);
                started.elapsed()
            })
            .collect();
        colds.sort();
        println!(
            "| {hook} | {:.3} µs | {:.2} µs | {:.0}x | {:.2} ms |",
            micros(native),
            micros(warm),
            micros(warm) / micros(native).max(0.001),
            colds[2].as_secs_f64() * 1e3,
        );
    }

    // A city's report asks once for all its units.
    let levels = [
        CivilisationLevel::National,
        CivilisationLevel::Provincial,
        CivilisationLevel::Municipal,
        CivilisationLevel::Other,
    ];
    let units: Vec<UnitFacts> = (0..2000)
        .map(|i| UnitFacts {
            kind: UnitKind::Enterprise,
            civilisation_level: levels[i % 4],
            staff: 100 + i as u64 % 400,
        })
        .collect();
    let batch = |policy: &dyn Policy| {
        let mut times: Vec<Duration> = (0..21)
            .map(|_| {
                let started = Instant::now();
                assert_eq!(policy.unit_targets(&units).unwrap().len(), units.len());
                started.elapsed()
            })
            .collect();
        times.sort();
        times[10]
    };
    println!(
        "\nunit-target for 2,000 units in one call: native {:.1} µs, plugin {:.1} µs",
        micros(batch(&BuiltinPolicy)),
        micros(batch(policy.as_ref()))
    );

    // A restart: a new host puts ten tenants' policies in place from the artifact cache.
    let tenants: Vec<TenantCode> = [
        "420100", "420200", "420300", "420500", "420600", "420700", "420800", "420900", "421000",
        "421300",
    ]
    .iter()
    .map(|code| TenantCode::parse(code).unwrap())
    .collect();
    let mut restarts: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let fresh = WasmHost::new(config.clone()).unwrap();
            for tenant in &tenants {
                let policy = fresh.prepare(&revision(tenant)).unwrap();
                fresh.install(tenant, policy);
            }
            for tenant in &tenants {
                call(fresh.for_tenant(tenant).as_ref(), Hook::RegionTarget);
            }
            started.elapsed()
        })
        .collect();
    restarts.sort();
    println!(
        "\nrestart: 10 tenants x 6 hooks (4 packages) ready from the cache, first call answered: median {:.1} ms, slowest {:.1} ms",
        restarts[2].as_secs_f64() * 1e3,
        restarts[4].as_secs_f64() * 1e3
    );
}
