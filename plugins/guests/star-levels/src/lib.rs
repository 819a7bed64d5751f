//! Star volunteers (星级志愿者): one to five stars at 100, 300, 600, 1,000 and 1,500 hours of
//! verified service, the thresholds many provinces publish.
//!
//! Settings: `hours`, five comma-separated thresholds in hours (default `100,300,600,1000,1500`);
//! `tenure-months`, five comma-separated minimum months since registration for each level
//! (default `0,0,0,0,0`: no tenure condition). A malformed setting stops the call.

wit_bindgen::generate!({ path: "../../wit/0.1.0", world: "stars" });

use exports::zhiyuan::policy::star_levels::{Guest, ServiceSummary};
use zhiyuan::policy::log::{Level, write};
use zhiyuan::policy::types::{Date, Setting};

struct StarLevels;

impl Guest for StarLevels {
    fn star_level(settings: Vec<Setting>, service: ServiceSummary) -> u8 {
        let hours = five(&settings, "hours", [100, 300, 600, 1000, 1500]);
        let tenure = five(&settings, "tenure-months", [0; 5]);
        let months = months_between(&service.registered_on, &service.as_of);
        let mut level = 0;
        for (i, (h, t)) in hours.iter().zip(tenure.iter()).enumerate() {
            if service.service_minutes >= h * 60 && months >= *t {
                level = i as u8 + 1;
            } else {
                break;
            }
        }
        level
    }
}

/// Whole months from one date to a later one; 0 when the later one is earlier.
fn months_between(from: &Date, to: &Date) -> u64 {
    let months = (i64::from(to.year) - i64::from(from.year)) * 12 + i64::from(to.month)
        - i64::from(from.month)
        - i64::from(to.day < from.day);
    months.max(0) as u64
}

fn five(settings: &[Setting], key: &str, default: [u64; 5]) -> [u64; 5] {
    let Some(value) = settings.iter().find(|s| s.key == key).map(|s| s.value.as_str()) else {
        return default;
    };
    let parsed: Option<Vec<u64>> = value.split(',').map(|v| v.trim().parse().ok()).collect();
    match parsed.and_then(|v| <[u64; 5]>::try_from(v).ok()) {
        Some(levels) if levels.windows(2).all(|w| w[0] <= w[1]) => levels,
        _ => {
            write(Level::Error, &format!("setting {key} must be five rising whole numbers"));
            panic!("bad setting {key}");
        }
    }
}

#[global_allocator]
static ALLOCATOR: zhiyuan_plugin_arena::Arena = zhiyuan_plugin_arena::Arena::new();

export!(StarLevels);
