use std::fmt;

use crate::stored::stored_names;
use serde::{Deserialize, Serialize};

use crate::{InvalidInput, LocalizedName, Rule};

/// A six-digit administrative division code (GB/T 2260), or a code a tenant assigns to one of its
/// functional zones in the same shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

/// The rule of `RegionCode::parse` as a JSON Schema pattern: six digits, not beginning with 00.
pub const REGION_CODE_PATTERN: &str = "^(0[1-9]|[1-9][0-9])[0-9]{4}$";

impl RegionCode {
    /// Parses a code; `REGION_CODE_PATTERN` says the same to clients.
    pub fn parse(code: &str) -> Result<Self, Rule> {
        let digits = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        if !digits || code.starts_with("00") {
            return Err(Rule::RegionCodeFormat);
        }
        Ok(RegionCode(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A province's code ends in four zeros; cities end in two.
    pub fn is_province(&self) -> bool {
        self.0.ends_with("0000")
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        RegionCode::parse(&code).map_err(|_| serde::de::Error::custom("not a six-digit area code"))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a region sits in a tenant's hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// A prefecture-level city (地级市).
    City,
    /// A county-level region: district, county or county-level city (县市区).
    County,
    /// A functional zone (功能区) such as a high-tech zone or a scenic area.
    Zone,
}

stored_names!(RegionLevel {
    City = "city",
    County = "county",
    Zone = "zone",
});

/// A region of a tenant with its resident population (常住人口), the denominator of its
/// registration ratio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Region {
    pub code: RegionCode,
    pub parent: Option<RegionCode>,
    pub name: LocalizedName,
    pub level: RegionLevel,
    /// True for a code the tenant assigned itself, which is not in GB/T 2260.
    pub local: bool,
    pub resident_population: u64,
}

/// A resident population: positive, as any region people live in has.
pub fn parse_population(value: i64, field: &str) -> Result<u64, InvalidInput> {
    u64::try_from(value)
        .ok()
        .filter(|population| *population > 0)
        .ok_or_else(|| InvalidInput::new(field, Rule::PopulationPositive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_are_six_digits() {
        for good in ["421300", "421303", "420700", "110101"] {
            assert!(RegionCode::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "42130",
            "4213000",
            "42130a",
            "000000",
            "00130x",
            "４２１３００",
        ] {
            assert_eq!(RegionCode::parse(bad), Err(Rule::RegionCodeFormat), "{bad}");
        }
    }
}
