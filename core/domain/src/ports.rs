//! What core needs from the parts that must not leak into it. The `zhiyuan-plugins` crate
//! implements `Policy` (built-in defaults now, WebAssembly plugins per tenant behind the same
//! trait); the node binary chooses the implementation.

use crate::{CivilisationLevel, UnitKind};

/// A target registration ratio, in basis points of the denominator (1300 = 13%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TargetRatio(pub u32);

/// A policy violation worth showing to the person who caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// A city's local rules. Pure functions of their inputs, so they can run anywhere, in any order.
pub trait Policy: Send + Sync {
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
