//! What core needs from the parts that must not leak into it. The `zhiyuan-plugins` crate
//! implements `Policy` (built-in defaults now, WebAssembly plugins per tenant behind the same
//! trait); the node binary chooses the implementation.

use crate::{CivilisationLevel, UnitKind};

/// A target registration ratio, in basis points of the denominator (1300 = 13%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TargetRatio(pub u32);

impl TargetRatio {
    /// The registrations a denominator needs to meet the target, rounded up.
    pub fn needed(self, denominator: u64) -> u64 {
        (denominator * u64::from(self.0)).div_ceil(10_000)
    }

    pub fn as_fraction(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }
}

/// A policy violation worth showing to the person who caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: String,
    /// The field at fault, as a JSON Pointer, where one is.
    pub field: Option<String>,
    pub message_zh: String,
    pub message_en: String,
}

/// A city's local rules. Pure functions of their inputs, so they can run anywhere, in any order.
pub trait Policy: Send + Sync {
    /// Which policy this is, as reports name it (the built-in default, or a plugin and version).
    fn name(&self) -> String;

    /// R12: is this a proper name for a team of this kind and unit?
    fn check_team_name(
        &self,
        kind: UnitKind,
        team_name: &str,
        unit_name: Option<&str>,
    ) -> Result<(), Violation>;

    /// R16: the share of a region's resident population that should be registered.
    fn region_target(&self) -> Option<TargetRatio>;

    /// R17: the share of a unit's staff that should be registered.
    fn unit_target(&self, kind: UnitKind, level: CivilisationLevel) -> Option<TargetRatio>;
}

/// An identity claim to check: the name and document an applicant gave.
#[derive(Debug, Clone)]
pub struct IdentityClaim<'a> {
    pub name: &'a crate::PersonName,
    pub id_number: &'a crate::IdNumber,
}

/// Checks that a person is who they say (实名认证). The built-in check is the verifier's own
/// attestation, made when they approve; an identity service of the public security system can
/// be plugged in behind this port.
pub trait IdentityCheck: Send + Sync {
    fn check(&self, claim: &IdentityClaim<'_>) -> Result<(), Violation>;
}

/// The verifier saw the document in person or on a certified copy; nothing more is asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifierAttestation;

impl IdentityCheck for VerifierAttestation {
    fn check(&self, _claim: &IdentityClaim<'_>) -> Result<(), Violation> {
        Ok(())
    }
}
