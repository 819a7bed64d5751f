//! R16 and R17 of the Suizhou notice (随文明办〔2018〕9号): registered volunteers should reach
//! 13% of each area's resident population, and of a unit's staff 95% in national civilised units,
//! 90% in provincial, 85% in municipal and 80% in the others.
//!
//! Settings, each a percentage with up to two decimals: `region-percent` (13), `national-percent`
//! (95), `provincial-percent` (90), `municipal-percent` (85), `other-percent` (80). A setting that
//! is not a percentage stops the call: a wrong target is worse than none.

wit_bindgen::generate!({ path: "../../wit/0.1.0", world: "targets" });

use exports::zhiyuan::policy::registration_targets::{Guest, Region, Unit};
use zhiyuan::policy::log::{Level, write};
use zhiyuan::policy::types::{CivilisationLevel, Setting};

struct SuizhouTargets;

impl Guest for SuizhouTargets {
    fn region_targets(settings: Vec<Setting>, regions: Vec<Region>) -> Vec<Option<u32>> {
        let target = percent(&settings, "region-percent", 1300);
        regions.iter().map(|_| Some(target)).collect()
    }

    fn unit_targets(settings: Vec<Setting>, units: Vec<Unit>) -> Vec<Option<u32>> {
        let national = percent(&settings, "national-percent", 9500);
        let provincial = percent(&settings, "provincial-percent", 9000);
        let municipal = percent(&settings, "municipal-percent", 8500);
        let other = percent(&settings, "other-percent", 8000);
        units
            .iter()
            .map(|unit| {
                Some(match unit.civilisation_level {
                    CivilisationLevel::National => national,
                    CivilisationLevel::Provincial => provincial,
                    CivilisationLevel::Municipal => municipal,
                    CivilisationLevel::Other => other,
                })
            })
            .collect()
    }
}

/// A percentage setting in basis points: "13" is 1300, "12.5" is 1250.
fn percent(settings: &[Setting], key: &str, default: u32) -> u32 {
    let Some(value) = settings.iter().find(|s| s.key == key).map(|s| s.value.trim()) else {
        return default;
    };
    match basis_points(value) {
        Some(bp) => bp,
        None => {
            write(Level::Error, &format!("setting {key} must be a percentage from 0 to 100"));
            panic!("bad setting {key}");
        }
    }
}

fn basis_points(value: &str) -> Option<u32> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty() || fraction.len() > 2 {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let fraction: u32 = if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().ok()? };
    let bp = whole.checked_mul(100)?.checked_add(fraction)?;
    (bp <= 10_000).then_some(bp)
}

#[global_allocator]
static ALLOCATOR: zhiyuan_plugin_arena::Arena = zhiyuan_plugin_arena::Arena::new();

export!(SuizhouTargets);
