use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::region::parse_population;
use crate::{
    CivilisationLevel, InvalidInput, LocalizedName, Region, RegionCode, RegionLevel,
    ReviewingBodyKind, Rule, Staff, UnitKind,
};

/// A tenant is named by the division code of the city or county it serves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantCode(RegionCode);

/// The rule of `TenantCode::parse` as a JSON Schema pattern: a region code whose last four
/// digits are not all zero (a province is not a tenant).
pub const TENANT_CODE_PATTERN: &str =
    "^(0[1-9]|[1-9][0-9])([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])$";

impl TenantCode {
    pub fn parse(code: &str) -> Result<Self, Rule> {
        let region = RegionCode::parse(code).map_err(|_| Rule::TenantCodeFormat)?;
        if region.is_province() {
            return Err(Rule::TenantCodeFormat);
        }
        Ok(TenantCode(region))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn region(&self) -> &RegionCode {
        &self.0
    }
}

impl fmt::Display for TenantCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant's configuration document as written (TOML on disk, JSON over the API), after its
/// JSON Schema (`schemas/tenant-config.schema.json`) accepted it. `TenantConfig::parse` turns it
/// into a `TenantSpec` whose cross-references hold.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub code: String,
    pub name: LocalizedName,
    pub regions: Vec<RegionConfig>,
    #[serde(default)]
    pub units: Vec<UnitConfig>,
    #[serde(default)]
    pub reviewing_bodies: Vec<ReviewingBodyConfig>,
    /// Hooks bound, when the tenant is first created, to plugins bundled with the node.
    #[serde(default)]
    pub plugins: Vec<BundledBinding>,
    #[serde(default)]
    pub projects: ProjectRules,
    #[serde(default)]
    pub transfers: TransferRules,
}

/// How the tenant takes volunteers who move to it from another tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRules {
    /// The office reviews each volunteer who arrives, rather than taking them as verified on
    /// the strength of the source's signed registration.
    #[serde(default)]
    pub review: bool,
}

/// How the tenant runs projects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectRules {
    /// The office approves each project before it recruits.
    #[serde(default)]
    pub approval: bool,
    /// The service categories projects and needs may name; every national category if absent.
    #[serde(default)]
    pub service_categories: Option<Vec<crate::ServiceCategory>>,
}

/// A hook bound to a plugin that ships with the node, by the plugin's name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BundledBinding {
    pub hook: crate::ports::Hook,
    pub plugin: String,
    #[serde(default)]
    pub on_failure: crate::ports::OnFailure,
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    pub code: String,
    #[serde(default)]
    pub parent: Option<String>,
    pub name: LocalizedName,
    pub level: RegionLevel,
    #[serde(default)]
    pub local: bool,
    pub resident_population: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UnitConfig {
    pub name: LocalizedName,
    pub region: String,
    pub kind: UnitKind,
    pub civilisation_level: CivilisationLevel,
    pub staff: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewingBodyConfig {
    pub kind: ReviewingBodyKind,
    pub name: LocalizedName,
    pub region: String,
}

/// A tenant ready to be stored: every code parsed, every reference resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSpec {
    pub code: TenantCode,
    pub name: LocalizedName,
    /// Parents come before their children.
    pub regions: Vec<Region>,
    pub units: Vec<UnitSpec>,
    pub reviewing_bodies: Vec<ReviewingBodySpec>,
    pub plugins: Vec<BundledBinding>,
    pub projects: ProjectRules,
    pub transfers: TransferRules,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSpec {
    pub name: LocalizedName,
    pub region: RegionCode,
    pub kind: UnitKind,
    pub civilisation_level: CivilisationLevel,
    pub staff: Staff,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewingBodySpec {
    pub kind: ReviewingBodyKind,
    pub name: LocalizedName,
    pub region: RegionCode,
}

impl TenantConfig {
    pub fn parse(&self) -> Result<TenantSpec, InvalidInput> {
        let code =
            TenantCode::parse(&self.code).map_err(|rule| InvalidInput::new("/code", rule))?;
        let name = LocalizedName::parse(&self.name.zh, self.name.en.as_deref(), "/name")?;

        // Parents come first, so the tenant's own region, the root, comes first of all.
        if self.regions.first().map(|region| region.code.as_str()) != Some(code.as_str()) {
            return Err(InvalidInput::new(
                "/regions/0/code",
                Rule::TenantRegionMissing,
            ));
        }
        let mut regions = Vec::with_capacity(self.regions.len());
        let mut known: HashSet<RegionCode> = HashSet::new();
        for (index, region) in self.regions.iter().enumerate() {
            let field = format!("/regions/{index}");
            let region = region.parse(&code, &known).map_err(|e| e.under(&field))?;
            if !known.insert(region.code.clone()) {
                return Err(InvalidInput::new(
                    format!("{field}/code"),
                    Rule::RegionCodeDuplicate,
                ));
            }
            regions.push(region);
        }

        let mut unit_names = HashSet::new();
        let mut units = Vec::with_capacity(self.units.len());
        for (index, unit) in self.units.iter().enumerate() {
            let field = format!("/units/{index}");
            let unit = UnitSpec {
                name: LocalizedName::parse(
                    &unit.name.zh,
                    unit.name.en.as_deref(),
                    &format!("{field}/name"),
                )?,
                region: known_region(&unit.region, &known, &format!("{field}/region"))?,
                kind: unit.kind,
                civilisation_level: unit.civilisation_level,
                staff: Staff::parse(unit.staff, &format!("{field}/staff"))?,
            };
            if !unit_names.insert(unit.name.zh.clone()) {
                return Err(InvalidInput::new(
                    format!("{field}/name/zh"),
                    Rule::NameDuplicate,
                ));
            }
            units.push(unit);
        }

        let mut body_names = HashSet::new();
        let mut reviewing_bodies = Vec::with_capacity(self.reviewing_bodies.len());
        for (index, body) in self.reviewing_bodies.iter().enumerate() {
            let field = format!("/reviewing_bodies/{index}");
            let body = ReviewingBodySpec {
                kind: body.kind,
                name: LocalizedName::parse(
                    &body.name.zh,
                    body.name.en.as_deref(),
                    &format!("{field}/name"),
                )?,
                region: known_region(&body.region, &known, &format!("{field}/region"))?,
            };
            if !body_names.insert(body.name.zh.clone()) {
                return Err(InvalidInput::new(
                    format!("{field}/name/zh"),
                    Rule::NameDuplicate,
                ));
            }
            reviewing_bodies.push(body);
        }

        Ok(TenantSpec {
            code,
            name,
            regions,
            units,
            reviewing_bodies,
            plugins: self.plugins.clone(),
            projects: self.projects.clone(),
            transfers: self.transfers.clone(),
        })
    }
}

impl RegionConfig {
    fn parse(
        &self,
        tenant: &TenantCode,
        known: &HashSet<RegionCode>,
    ) -> Result<Region, InvalidInput> {
        let code =
            RegionCode::parse(&self.code).map_err(|rule| InvalidInput::new("/code", rule))?;
        let is_tenant_region = &code == tenant.region();
        let parent = match (&self.parent, is_tenant_region) {
            (Some(_), true) => return Err(InvalidInput::new("/parent", Rule::TenantRegionNotRoot)),
            (None, true) => None,
            (None, false) => return Err(InvalidInput::new("/parent", Rule::RegionParentMissing)),
            (Some(parent), false) => {
                let parent =
                    RegionCode::parse(parent).map_err(|rule| InvalidInput::new("/parent", rule))?;
                if !known.contains(&parent) {
                    return Err(InvalidInput::new("/parent", Rule::RegionParentUnknown));
                }
                Some(parent)
            }
        };
        Ok(Region {
            code,
            parent,
            name: LocalizedName::parse(&self.name.zh, self.name.en.as_deref(), "/name")?,
            level: self.level,
            local: self.local,
            resident_population: parse_population(
                self.resident_population,
                "/resident_population",
            )?,
        })
    }
}

fn known_region(
    code: &str,
    known: &HashSet<RegionCode>,
    field: &str,
) -> Result<RegionCode, InvalidInput> {
    let code = RegionCode::parse(code).map_err(|rule| InvalidInput::new(field, rule))?;
    if !known.contains(&code) {
        return Err(InvalidInput::new(field, Rule::RegionUnknown));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A region's code and its parent's.
    type RegionRow<'a> = (&'a str, Option<&'a str>);

    fn config(regions: &[RegionRow]) -> TenantConfig {
        TenantConfig {
            code: "421300".into(),
            name: LocalizedName {
                zh: "随州市".into(),
                en: None,
            },
            regions: regions
                .iter()
                .map(|(code, parent)| RegionConfig {
                    code: (*code).into(),
                    parent: parent.map(Into::into),
                    name: LocalizedName {
                        zh: format!("区划{code}"),
                        en: None,
                    },
                    level: RegionLevel::County,
                    local: false,
                    resident_population: 1000,
                })
                .collect(),
            units: vec![],
            reviewing_bodies: vec![],
            plugins: Vec::new(),
            projects: ProjectRules::default(),
            transfers: TransferRules::default(),
        }
    }

    #[test]
    fn a_tree_rooted_at_the_tenant_parses() {
        let spec = config(&[("421300", None), ("421303", Some("421300"))])
            .parse()
            .unwrap();
        assert_eq!(spec.regions.len(), 2);
    }

    #[test]
    fn broken_trees_name_the_field_and_rule() {
        let cases: &[(&[RegionRow], &str, Rule)] = &[
            (
                &[("421303", Some("421300"))],
                "/regions/0/code",
                Rule::TenantRegionMissing,
            ),
            (
                &[("421300", None), ("421381", Some("421303"))],
                "/regions/1/parent",
                Rule::RegionParentUnknown,
            ),
            (
                &[("421300", Some("420000"))],
                "/regions/0/parent",
                Rule::TenantRegionNotRoot,
            ),
            (
                &[("421300", None), ("421303", None)],
                "/regions/1/parent",
                Rule::RegionParentMissing,
            ),
            (
                &[("421300", None), ("421300", None)],
                "/regions/1/code",
                Rule::RegionCodeDuplicate,
            ),
            (
                &[
                    ("421300", None),
                    ("421303", Some("421300")),
                    ("421303", Some("421300")),
                ],
                "/regions/2/code",
                Rule::RegionCodeDuplicate,
            ),
            (
                &[("421300", None), ("42130x", Some("421300"))],
                "/regions/1/code",
                Rule::RegionCodeFormat,
            ),
        ];
        for (regions, field, rule) in cases {
            let error = config(regions).parse().unwrap_err();
            assert_eq!(
                (error.field.as_str(), error.rule),
                (*field, *rule),
                "{regions:?}"
            );
        }
    }

    #[test]
    fn a_province_is_no_tenant() {
        assert_eq!(TenantCode::parse("420000"), Err(Rule::TenantCodeFormat));
        assert!(TenantCode::parse("421300").is_ok());
        assert!(TenantCode::parse("421381").is_ok());
    }
}
