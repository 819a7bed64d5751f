//! A plugin for the host's tests. It implements every hook; the binding's `mode` setting makes
//! each call misbehave: `loop` spins forever, `hungry` allocates without bound, `trap` panics,
//! `log` writes a message first. Otherwise it answers with plain, recognisable values: every
//! team name passes, targets are `region-bp` (default 1000) and `unit-bp` (default 5000) basis
//! points, one star, every record valid, a match score of 50.

wit_bindgen::generate!({ path: "../../wit/0.1.0", world: "policy" });

use exports::zhiyuan::policy::matching::{self, ProjectProfile, VolunteerProfile};
use exports::zhiyuan::policy::registration_targets::{self, Region, Unit};
use exports::zhiyuan::policy::service_records::{self, ServiceRecord};
use exports::zhiyuan::policy::star_levels::{self, ServiceSummary};
use exports::zhiyuan::policy::team_naming::{self, TeamName};
use zhiyuan::policy::log::{Level, write};
use zhiyuan::policy::types::{Setting, Violation};

struct Misbehaving;

fn setting<'a>(settings: &'a [Setting], key: &str) -> Option<&'a str> {
    settings.iter().find(|s| s.key == key).map(|s| s.value.as_str())
}

/// Does what the `mode` setting asks before answering.
fn behave(settings: &[Setting], hook: &str) {
    match setting(settings, "mode") {
        Some("loop") => {
            let mut n: u64 = 0;
            loop {
                n = core::hint::black_box(n.wrapping_add(1));
            }
        }
        Some("hungry") => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(core::hint::black_box(vec![1u8; 1 << 20]));
            }
        }
        Some("trap") => panic!("{hook} was asked to trap"),
        Some("log") => write(Level::Warn, &format!("{hook} called")),
        _ => {}
    }
}

impl team_naming::Guest for Misbehaving {
    fn check_team_name(settings: Vec<Setting>, _team: TeamName) -> Result<(), Violation> {
        behave(&settings, "check-team-name");
        Ok(())
    }
}

impl registration_targets::Guest for Misbehaving {
    fn region_targets(settings: Vec<Setting>, regions: Vec<Region>) -> Vec<Option<u32>> {
        behave(&settings, "region-targets");
        let target = setting(&settings, "region-bp").and_then(|v| v.parse().ok()).unwrap_or(1000);
        regions.iter().map(|_| Some(target)).collect()
    }

    fn unit_targets(settings: Vec<Setting>, units: Vec<Unit>) -> Vec<Option<u32>> {
        behave(&settings, "unit-targets");
        let target = setting(&settings, "unit-bp").and_then(|v| v.parse().ok()).unwrap_or(5000);
        units.iter().map(|_| Some(target)).collect()
    }
}

impl star_levels::Guest for Misbehaving {
    fn star_level(settings: Vec<Setting>, _service: ServiceSummary) -> u8 {
        behave(&settings, "star-level");
        1
    }
}

impl service_records::Guest for Misbehaving {
    fn validate_service_record(settings: Vec<Setting>, _record: ServiceRecord) -> Result<(), Violation> {
        behave(&settings, "validate-service-record");
        Ok(())
    }
}

impl matching::Guest for Misbehaving {
    fn match_score(settings: Vec<Setting>, _v: VolunteerProfile, _p: ProjectProfile) -> u8 {
        behave(&settings, "match-score");
        50
    }
}

#[global_allocator]
static ALLOCATOR: zhiyuan_plugin_arena::Arena = zhiyuan_plugin_arena::Arena::new();

export!(Misbehaving);
