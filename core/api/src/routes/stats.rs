//! Registration ratios against their targets (R16-R18): what the city office's bulletin ranks.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;
use zhiyuan_domain::ports::{Hook, RegionFacts, TargetRatio, UnitFacts};
use zhiyuan_domain::{CivilisationLevel, RegionCode, RegionTree, Role, UnitKind};

use crate::auth::CurrentUser;
use crate::extract::PathParams;
use crate::{ApiError, AppState};

/// One line of the report: an area or a unit against its target.
#[derive(Debug, Serialize)]
struct Line {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<RegionCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Uuid>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<UnitKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    civilisation_level: Option<CivilisationLevel>,
    /// Verified volunteers.
    verified: u64,
    /// Resident population of an area, staff of a unit.
    denominator: u64,
    /// verified / denominator.
    ratio: f64,
    /// The target ratio, where the policy sets one.
    target: Option<f64>,
    /// Volunteers still needed to meet the target (0 when met).
    shortfall: u64,
}

impl Line {
    fn new(verified: u64, denominator: u64, target: Option<TargetRatio>) -> Line {
        Line {
            code: None,
            id: None,
            name: String::new(),
            kind: None,
            civilisation_level: None,
            verified,
            denominator,
            ratio: if denominator == 0 {
                0.0
            } else {
                verified as f64 / denominator as f64
            },
            target: target.map(TargetRatio::as_fraction),
            shortfall: target
                .map(|target| target.needed(denominator).saturating_sub(verified))
                .unwrap_or(0),
        }
    }

    /// Progress toward the target: lowest first, then the largest shortfall.
    fn behind(&self) -> (u64, std::cmp::Reverse<u64>) {
        let progress = match self.target {
            Some(target) if target > 0.0 => ((self.ratio / target) * 1_000_000.0) as u64,
            _ => u64::MAX,
        };
        (progress, std::cmp::Reverse(self.shortfall))
    }
}

/// Verified volunteers per area (counting those of the areas below it) and per unit, against
/// the targets of the tenant's policy; those furthest behind first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/stats/registration", tag = "stats",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "regions and units against their targets, furthest behind first")))]
pub(crate) async fn registration(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(
        &tenant,
        &[
            Role::OfficeAdmin,
            Role::Auditor,
            Role::Operator,
            Role::Reviewer,
        ],
    )?;
    let regions = state.store.regions(&tenant).await?;
    let units = state.store.units(&tenant).await?;
    let (by_region, by_unit) = state.store.verified_counts(&tenant).await?;
    // A volunteer of a district counts for the district and for every area above it.
    let mut area_counts: HashMap<RegionCode, u64> = HashMap::new();
    let tree = RegionTree::new(&regions);
    for (code, count) in &by_region {
        let mut current = Some(code);
        while let Some(region) = current {
            *area_counts.entry(region.clone()).or_default() += count;
            current = tree.parent(region);
        }
    }
    // One policy for the whole report, so that a switch of revision never gives it a mix, asked
    // once for every area and once for every unit; its hooks may run plugins, which is work for
    // the blocking pool.
    let policy = state.policies.for_tenant(&tenant);
    let report = tokio::task::spawn_blocking(move || -> Result<Value, ApiError> {
        let facts: Vec<RegionFacts> = regions
            .iter()
            .map(|region| RegionFacts {
                code: region.code.clone(),
                resident_population: region.resident_population,
            })
            .collect();
        let targets = policy.region_targets(&facts)?;
        let mut region_lines: Vec<Line> = regions
            .iter()
            .zip(targets)
            .map(|(region, target)| Line {
                code: Some(region.code.clone()),
                name: region.name.zh.clone(),
                ..Line::new(
                    area_counts.get(&region.code).copied().unwrap_or(0),
                    region.resident_population,
                    target,
                )
            })
            .collect();
        region_lines.sort_by_key(Line::behind);

        let unit_counts: HashMap<Uuid, u64> = by_unit.into_iter().collect();
        let facts: Vec<UnitFacts> = units
            .iter()
            .map(|unit| UnitFacts {
                kind: unit.kind,
                civilisation_level: unit.civilisation_level,
                staff: u64::from(unit.staff.get()),
            })
            .collect();
        let targets = policy.unit_targets(&facts)?;
        let mut unit_lines: Vec<Line> = units
            .iter()
            .zip(facts.iter().zip(targets))
            .map(|(unit, (facts, target))| Line {
                id: Some(unit.id),
                name: unit.name.zh.clone(),
                kind: Some(unit.kind),
                civilisation_level: Some(unit.civilisation_level),
                ..Line::new(
                    unit_counts.get(&unit.id).copied().unwrap_or(0),
                    facts.staff,
                    target,
                )
            })
            .collect();
        unit_lines.sort_by_key(Line::behind);

        Ok(json!({
            "policy": {
                "region_target": policy.source(Hook::RegionTarget),
                "unit_target": policy.source(Hook::UnitTarget),
            },
            "regions": region_lines,
            "units": unit_lines,
        }))
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))??;
    Ok(Json(report))
}
