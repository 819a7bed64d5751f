use crate::stored::stored_names;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{InvalidInput, LocalizedName, RegionCode, Rule};

/// What kind of employer a unit (单位) is; the same kinds classify teams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Party or government organ (党政机关).
    Organ,
    /// People's organisation (人民团体).
    PeoplesOrganisation,
    /// Enterprise (企业).
    Enterprise,
    /// Public institution (事业单位).
    PublicInstitution,
    /// Social organisation (社会组织).
    SocialOrganisation,
    /// Community (社区).
    Community,
    /// School (学校).
    School,
    Other,
}

stored_names!(UnitKind {
    Organ = "organ",
    PeoplesOrganisation = "peoples_organisation",
    Enterprise = "enterprise",
    PublicInstitution = "public_institution",
    SocialOrganisation = "social_organisation",
    Community = "community",
    School = "school",
    Other = "other",
});

/// The civilised-unit title (文明单位) a unit holds; it sets the unit's registration target (R17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CivilisationLevel {
    National,
    Provincial,
    Municipal,
    Other,
}

stored_names!(CivilisationLevel {
    National = "national",
    Provincial = "provincial",
    Municipal = "municipal",
    Other = "other",
});

/// A unit's headcount (干部职工), the denominator of its registration ratio: never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Staff(u32);

impl Staff {
    pub fn parse(value: i64, field: &str) -> Result<Self, InvalidInput> {
        u32::try_from(value)
            .ok()
            .filter(|staff| *staff > 0)
            .map(Staff)
            .ok_or_else(|| InvalidInput::new(field, Rule::StaffPositive))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// An employer whose staff register as volunteers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: Uuid,
    pub name: LocalizedName,
    pub region: RegionCode,
    pub kind: UnitKind,
    pub civilisation_level: CivilisationLevel,
    pub staff: Staff,
}
