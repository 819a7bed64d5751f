//! Domain types and rules of Zhiyuan.
//!
//! Everything here is parsed from untrusted input at the boundary ("parse, don't validate"): a
//! `RegionCode` or a `Username` that exists is a valid one. This crate knows nothing of HTTP,
//! SQL, WebAssembly or signatures; what it needs from them it states as ports (see `ports`).

pub mod access;
mod account;
mod area_codes;
mod audit;
#[cfg(test)]
mod check_tables;
mod clock;
mod codes;
mod error;
mod geo;
mod identity;
mod localized;
mod log;
pub mod ports;
pub mod project;
pub mod region;
mod reviewing_body;
mod schema;
mod service;
mod stored;
mod team;
pub mod tenant;
mod text;
mod unit;
mod volunteer;

pub use access::{Action, Grant, GrantKind, PERMISSIONS, Principal, Scope, Who};
pub use account::{
    Actor, NUMBER_RUN_PATTERN, Password, USERNAME_PATTERN, Username, redact_numbers,
};
pub use area_codes::{is_known as is_known_area_code, name_of as area_code_name};
pub use audit::AuditAction;
pub use clock::{Clock, FixedClock, Timestamp};
pub use codes::{CreditCode, OrgCode};
pub use error::{InvalidInput, Rule};
pub use geo::{CoordinateSystem, Coordinates};
pub use identity::{Gender, IdDocumentKind, IdNumber, ResidentIdFacts, mask, resident_birth_date};
pub use localized::LocalizedName;
pub use log::{CredentialKind, LogEntry};
pub use project::{
    Acceptance, EnrollmentStatus, GuardianConsent, GuardianConsentInput, MinorsPolicy, NeedPost,
    NeedPoster, NeedStatus, NewNeed, NewProject, NewShift, PlaceInput, ProjectContext,
    ProjectDraft, ProjectState, ProjectStatus, ShiftDraft, parse_instant,
};
pub use region::{REGION_CODE_PATTERN, Region, RegionCode, RegionLevel};
pub use reviewing_body::{ReviewingBody, ReviewingBodyKind, regions_served_by};
pub use schema::CERTIFICATE_NUMBER as CERTIFICATE_NUMBER_PATTERN;
pub use service::{
    CARD_CLOCK_SKEW_SECONDS, CARD_CODE_SECONDS, CardKind, CardToken, CardUse, CertificateFacts,
    CertificateLine, CertificateNumber, CertificateStatus, DisputeStatus, Minutes, ScanDirection,
    ServiceRecordKind, StarLevel, TotalsScope,
};
pub use team::{
    KnownTeam, LegalStatus, LiaisonCandidate, NewTeam, RegionTree, TeamApplication,
    TeamApplicationContext, TeamStatus, check_authority, check_liaison, parse_team_name,
};
pub use tenant::{TENANT_CODE_PATTERN, TenantCode, TenantConfig, TenantSpec};
pub use text::{NO_CONTROL_CHARACTERS, check_characters, check_text, is_forbidden_character};
pub use unit::{CivilisationLevel, Staff, Unit, UnitKind};
pub use volunteer::{
    AgeGroup, MOBILE_PATTERN, MobileNumber, NewVolunteer, PersonName, ServiceCategory,
    TransferStatus, VolunteerApplication, VolunteerNumber, VolunteerStatus, parse_tags,
};
