//! Registration ratios against their targets (R16-R18): what the city office's bulletin ranks.

use std::collections::HashMap;

use uuid::Uuid;
use zhiyuan_domain::ports::{Hook, RegionFacts, TargetRatio, UnitFacts};
use zhiyuan_domain::{RegionCode, RegionTree, TenantCode};

use crate::views::{RegistrationReport, ReportLine, ReportPolicy};
use crate::{App, AppError, blocking};

impl ReportLine {
    fn new(verified: u64, denominator: u64, target: Option<TargetRatio>) -> ReportLine {
        ReportLine {
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
pub async fn registration(app: &App, tenant: &TenantCode) -> Result<RegistrationReport, AppError> {
    let regions = app.store.regions(tenant).await?;
    let units = app.store.units(tenant).await?;
    let (by_region, by_unit) = app.store.verified_counts(tenant).await?;
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
    // once for every area and once for every unit.
    let policy = app.policies.for_tenant(tenant);
    blocking(move || -> Result<RegistrationReport, AppError> {
        let facts: Vec<RegionFacts> = regions
            .iter()
            .map(|region| RegionFacts {
                code: region.code.clone(),
                resident_population: region.resident_population,
            })
            .collect();
        let targets = policy.region_targets(&facts)?;
        let mut region_lines: Vec<ReportLine> = regions
            .iter()
            .zip(targets)
            .map(|(region, target)| ReportLine {
                code: Some(region.code.clone()),
                name: region.name.zh.clone(),
                ..ReportLine::new(
                    area_counts.get(&region.code).copied().unwrap_or(0),
                    region.resident_population,
                    target,
                )
            })
            .collect();
        region_lines.sort_by_key(ReportLine::behind);

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
        let mut unit_lines: Vec<ReportLine> = units
            .iter()
            .zip(facts.iter().zip(targets))
            .map(|(unit, (facts, target))| ReportLine {
                id: Some(unit.id),
                name: unit.name.zh.clone(),
                kind: Some(unit.kind),
                civilisation_level: Some(unit.civilisation_level),
                ..ReportLine::new(
                    unit_counts.get(&unit.id).copied().unwrap_or(0),
                    facts.staff,
                    target,
                )
            })
            .collect();
        unit_lines.sort_by_key(ReportLine::behind);
        Ok(RegistrationReport {
            policy: ReportPolicy {
                region_target: policy.source(Hook::RegionTarget),
                unit_target: policy.source(Hook::UnitTarget),
            },
            regions: region_lines,
            units: unit_lines,
        })
    })
    .await?
}
