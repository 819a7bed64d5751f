use crate::stored::stored_names;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{LocalizedName, RegionCode};

/// The kinds of body that review applications, each at the level of its own region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewingBodyKind {
    /// A volunteer service association (志愿服务联合会/协会): the liaison team of unregistered
    /// teams in its region.
    Association,
    /// The civil affairs bureau (民政局) of a region: reviews teams registered as legal persons.
    RegistrationAuthority,
    /// The civilisation office (文明办) of a region: verifies volunteers' real names.
    CivilisationOffice,
}

stored_names!(ReviewingBodyKind {
    Association = "association",
    RegistrationAuthority = "registration_authority",
    CivilisationOffice = "civilisation_office",
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReviewingBody {
    pub id: Uuid,
    pub kind: ReviewingBodyKind,
    pub name: LocalizedName,
    pub region: RegionCode,
}

/// The regions a civilisation office verifies the volunteers of: its own, and those under it
/// whose nearest office, walking up the hierarchy, is this one. Reviewers act at their own
/// level only.
pub fn regions_served_by(
    regions: &[crate::Region],
    bodies: &[ReviewingBody],
    office: &ReviewingBody,
) -> Vec<RegionCode> {
    let has_office = |code: &RegionCode| {
        bodies
            .iter()
            .any(|body| body.kind == office.kind && &body.region == code)
    };
    let parent_of = |code: &RegionCode| {
        regions
            .iter()
            .find(|region| &region.code == code)
            .and_then(|region| region.parent.clone())
    };
    regions
        .iter()
        .filter(|region| {
            let mut current = Some(region.code.clone());
            while let Some(code) = current {
                if has_office(&code) {
                    return code == office.region;
                }
                current = parent_of(&code);
            }
            false
        })
        .map(|region| region.code.clone())
        .collect()
}
