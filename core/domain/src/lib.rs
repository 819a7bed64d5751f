//! Domain types and rules of Zhiyuan.
//!
//! Everything here is parsed from untrusted input at the boundary ("parse, don't validate"): a
//! `RegionCode` or a `Username` that exists is a valid one. This crate knows nothing of HTTP,
//! SQL, WebAssembly or signatures; what it needs from them it states as ports (see `ports`).

mod account;
mod area_codes;
#[cfg(test)]
mod check_tables;
mod clock;
mod codes;
mod error;
mod identity;
mod localized;
pub mod ports;
pub mod region;
mod reviewing_body;
mod stored;
mod team;
pub mod tenant;
mod unit;
mod volunteer;

pub use account::{Actor, Password, Role, Username};
pub use area_codes::{is_known as is_known_area_code, name_of as area_code_name};
pub use clock::{Clock, FixedClock, Timestamp};
pub use codes::{CreditCode, OrgCode};
pub use error::{InvalidInput, Rule};
pub use identity::{Gender, IdDocumentKind, IdNumber, ResidentIdFacts, mask};
pub use localized::LocalizedName;
pub use region::{Region, RegionCode, RegionLevel};
pub use reviewing_body::{ReviewingBody, ReviewingBodyKind};
pub use team::{
    LegalStatus, LiaisonCandidate, RegionTree, TeamStatus, check_authority, check_liaison,
    parse_team_name,
};
pub use tenant::{TenantCode, TenantConfig, TenantSpec};
pub use unit::{CivilisationLevel, Staff, Unit, UnitKind};
pub use volunteer::{
    MobileNumber, PersonName, ServiceCategory, VolunteerNumber, VolunteerStatus, birth_month,
    parse_tags,
};
