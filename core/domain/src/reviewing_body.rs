use crate::stored::stored_names;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{LocalizedName, RegionCode};

/// The kinds of body that review applications, each at the level of its own region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewingBodyKind {
    /// A volunteer service federation or association (志愿服务联合会/协会): the liaison team of
    /// unregistered teams in its region.
    Federation,
    /// The civil affairs bureau (民政局) of a region: reviews teams registered as legal persons.
    RegistrationAuthority,
    /// The civilisation office (文明办) of a region: verifies volunteers' real names.
    CivilisationOffice,
}

stored_names!(ReviewingBodyKind {
    Federation = "federation",
    RegistrationAuthority = "registration_authority",
    CivilisationOffice = "civilisation_office",
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewingBody {
    pub id: Uuid,
    pub kind: ReviewingBodyKind,
    pub name: LocalizedName,
    pub region: RegionCode,
}
