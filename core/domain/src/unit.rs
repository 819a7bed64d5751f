use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{InvalidInput, LocalizedName, RegionCode, Rule};

/// What kind of employer a unit (单位) is; the same kinds classify teams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

impl UnitKind {
    pub const ALL: [UnitKind; 8] = [
        UnitKind::Organ,
        UnitKind::PeoplesOrganisation,
        UnitKind::Enterprise,
        UnitKind::PublicInstitution,
        UnitKind::SocialOrganisation,
        UnitKind::Community,
        UnitKind::School,
        UnitKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Organ => "organ",
            UnitKind::PeoplesOrganisation => "peoples_organisation",
            UnitKind::Enterprise => "enterprise",
            UnitKind::PublicInstitution => "public_institution",
            UnitKind::SocialOrganisation => "social_organisation",
            UnitKind::Community => "community",
            UnitKind::School => "school",
            UnitKind::Other => "other",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        UnitKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// The civilised-unit title (文明单位) a unit holds; it sets the unit's registration target (R17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CivilisationLevel {
    National,
    Provincial,
    Municipal,
    Other,
}

impl CivilisationLevel {
    pub const ALL: [CivilisationLevel; 4] = [
        CivilisationLevel::National,
        CivilisationLevel::Provincial,
        CivilisationLevel::Municipal,
        CivilisationLevel::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CivilisationLevel::National => "national",
            CivilisationLevel::Provincial => "provincial",
            CivilisationLevel::Municipal => "municipal",
            CivilisationLevel::Other => "other",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        CivilisationLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == value)
    }
}

/// A unit's headcount (干部职工), the denominator of its registration ratio: never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub id: Uuid,
    pub name: LocalizedName,
    pub region: RegionCode,
    pub kind: UnitKind,
    pub civilisation_level: CivilisationLevel,
    pub staff: Staff,
}
