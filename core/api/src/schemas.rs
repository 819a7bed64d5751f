//! The JSON Schemas of `schemas/`, compiled once at start-up. Every request body is checked
//! against its schema before any domain type is parsed from it.

use jsonschema::{Validator, error::ValidationErrorKind};
use serde_json::Value;

use crate::ApiError;

/// A document the node accepts, by the schema file that describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaId {
    TenantConfig,
    Login,
    UnitCreate,
    UnitUpdate,
    RegionUpdate,
    AccountCreate,
    GrantChanges,
    VolunteerRegister,
    Decision,
    TeamApply,
    MembershipDecision,
    AdminAppoint,
    PolicyBindings,
    PolicySwitch,
    PluginDryRun,
    Void,
}

impl SchemaId {
    pub const ALL: [SchemaId; 16] = [
        SchemaId::TenantConfig,
        SchemaId::Login,
        SchemaId::UnitCreate,
        SchemaId::UnitUpdate,
        SchemaId::RegionUpdate,
        SchemaId::AccountCreate,
        SchemaId::GrantChanges,
        SchemaId::VolunteerRegister,
        SchemaId::Decision,
        SchemaId::TeamApply,
        SchemaId::MembershipDecision,
        SchemaId::AdminAppoint,
        SchemaId::PolicyBindings,
        SchemaId::PolicySwitch,
        SchemaId::PluginDryRun,
        SchemaId::Void,
    ];

    /// The schema's title, which is also its name among the OpenAPI components.
    pub fn title(self) -> &'static str {
        match self {
            SchemaId::TenantConfig => "TenantConfig",
            SchemaId::Login => "Login",
            SchemaId::UnitCreate => "UnitCreate",
            SchemaId::UnitUpdate => "UnitUpdate",
            SchemaId::RegionUpdate => "RegionUpdate",
            SchemaId::AccountCreate => "AccountCreate",
            SchemaId::GrantChanges => "GrantChanges",
            SchemaId::VolunteerRegister => "VolunteerRegister",
            SchemaId::Decision => "Decision",
            SchemaId::TeamApply => "TeamApply",
            SchemaId::MembershipDecision => "MembershipDecision",
            SchemaId::AdminAppoint => "AdminAppoint",
            SchemaId::PolicyBindings => "PolicyBindings",
            SchemaId::PolicySwitch => "PolicySwitch",
            SchemaId::PluginDryRun => "PluginDryRun",
            SchemaId::Void => "Void",
        }
    }

    /// The schema's file in `schemas/`.
    pub fn file(self) -> &'static str {
        match self {
            SchemaId::TenantConfig => "tenant-config.schema.json",
            SchemaId::Login => "login.schema.json",
            SchemaId::UnitCreate => "unit-create.schema.json",
            SchemaId::UnitUpdate => "unit-update.schema.json",
            SchemaId::RegionUpdate => "region-update.schema.json",
            SchemaId::AccountCreate => "account-create.schema.json",
            SchemaId::GrantChanges => "grant-changes.schema.json",
            SchemaId::VolunteerRegister => "volunteer-register.schema.json",
            SchemaId::Decision => "decision.schema.json",
            SchemaId::TeamApply => "team-apply.schema.json",
            SchemaId::MembershipDecision => "membership-decision.schema.json",
            SchemaId::AdminAppoint => "admin-appoint.schema.json",
            SchemaId::PolicyBindings => "policy-bindings.schema.json",
            SchemaId::PolicySwitch => "policy-switch.schema.json",
            SchemaId::PluginDryRun => "plugin-dry-run.schema.json",
            SchemaId::Void => "void.schema.json",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            SchemaId::TenantConfig => include_str!("../../../schemas/tenant-config.schema.json"),
            SchemaId::Login => include_str!("../../../schemas/login.schema.json"),
            SchemaId::UnitCreate => include_str!("../../../schemas/unit-create.schema.json"),
            SchemaId::UnitUpdate => include_str!("../../../schemas/unit-update.schema.json"),
            SchemaId::RegionUpdate => include_str!("../../../schemas/region-update.schema.json"),
            SchemaId::AccountCreate => {
                include_str!("../../../schemas/account-create.schema.json")
            }
            SchemaId::GrantChanges => include_str!("../../../schemas/grant-changes.schema.json"),
            SchemaId::VolunteerRegister => {
                include_str!("../../../schemas/volunteer-register.schema.json")
            }
            SchemaId::Decision => include_str!("../../../schemas/decision.schema.json"),
            SchemaId::TeamApply => include_str!("../../../schemas/team-apply.schema.json"),
            SchemaId::MembershipDecision => {
                include_str!("../../../schemas/membership-decision.schema.json")
            }
            SchemaId::AdminAppoint => include_str!("../../../schemas/admin-appoint.schema.json"),
            SchemaId::PolicyBindings => {
                include_str!("../../../schemas/policy-bindings.schema.json")
            }
            SchemaId::PolicySwitch => include_str!("../../../schemas/policy-switch.schema.json"),
            SchemaId::PluginDryRun => include_str!("../../../schemas/plugin-dry-run.schema.json"),
            SchemaId::Void => include_str!("../../../schemas/void.schema.json"),
        }
    }
}

/// The compiled schemas.
pub struct Schemas {
    validators: Vec<(SchemaId, Validator)>,
}

impl Schemas {
    /// Compiles every schema; a schema that does not compile is a defect of this build, so the
    /// node refuses to start rather than accept unchecked documents.
    pub fn compile() -> Result<Schemas, String> {
        let validators = SchemaId::ALL
            .into_iter()
            .map(|id| {
                let schema: Value = serde_json::from_str(id.source())
                    .map_err(|e| format!("schema {}: {e}", id.title()))?;
                let validator = jsonschema::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .map_err(|e| format!("schema {}: {e}", id.title()))?;
                Ok((id, validator))
            })
            .collect::<Result<_, String>>()?;
        Ok(Schemas { validators })
    }

    /// Checks a document; the first violation becomes the error, with its field as a JSON
    /// Pointer. Messages never repeat the offending value, which may be personal data.
    pub fn check(&self, id: SchemaId, document: &Value) -> Result<(), ApiError> {
        let validator = self
            .validators
            .iter()
            .find(|(candidate, _)| *candidate == id)
            .map(|(_, validator)| validator)
            .ok_or_else(|| ApiError::Internal(format!("schema {} not compiled", id.title())))?;
        let Some(error) = validator.iter_errors(document).next() else {
            return Ok(());
        };
        let path = error.instance_path().as_str().to_owned();
        let (field, detail) = match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => (
                format!(
                    "{path}/{}",
                    unexpected.first().map(String::as_str).unwrap_or("")
                ),
                "unknown field".to_owned(),
            ),
            ValidationErrorKind::Required { property } => (
                format!("{path}/{}", property.as_str().unwrap_or("")),
                "required field is missing".to_owned(),
            ),
            _ => (
                if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                },
                error.masked().to_string(),
            ),
        };
        Err(ApiError::Schema { field, detail })
    }
}
