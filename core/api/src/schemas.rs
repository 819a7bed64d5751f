//! The JSON Schemas of `schemas/`, compiled once at start-up. Every request body is checked
//! against its schema before any domain type is parsed from it.

use jsonschema::{Validator, error::ValidationErrorKind};
use serde_json::Value;
use zhiyuan_domain::{
    IdDocumentKind, MOBILE_PATTERN, NUMBER_RUN_PATTERN, REGION_CODE_PATTERN, Rule,
    TENANT_CODE_PATTERN, USERNAME_PATTERN,
};

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
    ProjectDraft,
    NeedPost,
    NeedClosure,
    TakeDown,
    Enrollment,
    EnrollmentDecision,
    ProjectGrant,
    Scan,
    ScanBatch,
    ServiceRecord,
    Correction,
    Dispute,
    DisputeAnswer,
    Settlement,
    CertificateRequest,
    CertificateIssue,
    CredentialAudit,
    TransferRequest,
    TransferMessage,
}

impl SchemaId {
    pub const ALL: [SchemaId; 35] = [
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
        SchemaId::ProjectDraft,
        SchemaId::NeedPost,
        SchemaId::NeedClosure,
        SchemaId::TakeDown,
        SchemaId::Enrollment,
        SchemaId::EnrollmentDecision,
        SchemaId::ProjectGrant,
        SchemaId::Scan,
        SchemaId::ScanBatch,
        SchemaId::ServiceRecord,
        SchemaId::Correction,
        SchemaId::Dispute,
        SchemaId::DisputeAnswer,
        SchemaId::Settlement,
        SchemaId::CertificateRequest,
        SchemaId::CertificateIssue,
        SchemaId::CredentialAudit,
        SchemaId::TransferRequest,
        SchemaId::TransferMessage,
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
            SchemaId::ProjectDraft => "ProjectDraft",
            SchemaId::NeedPost => "NeedPost",
            SchemaId::NeedClosure => "NeedClosure",
            SchemaId::TakeDown => "TakeDown",
            SchemaId::Enrollment => "Enrollment",
            SchemaId::EnrollmentDecision => "EnrollmentDecision",
            SchemaId::ProjectGrant => "ProjectGrant",
            SchemaId::Scan => "Scan",
            SchemaId::ScanBatch => "ScanBatch",
            SchemaId::ServiceRecord => "ServiceRecord",
            SchemaId::Correction => "Correction",
            SchemaId::Dispute => "Dispute",
            SchemaId::DisputeAnswer => "DisputeAnswer",
            SchemaId::Settlement => "Settlement",
            SchemaId::CertificateRequest => "CertificateRequest",
            SchemaId::CertificateIssue => "CertificateIssue",
            SchemaId::CredentialAudit => "CredentialAudit",
            SchemaId::TransferRequest => "TransferRequest",
            SchemaId::TransferMessage => "TransferMessage",
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
            SchemaId::ProjectDraft => "project-draft.schema.json",
            SchemaId::NeedPost => "need-post.schema.json",
            SchemaId::NeedClosure => "need-closure.schema.json",
            SchemaId::TakeDown => "take-down.schema.json",
            SchemaId::Enrollment => "enrollment.schema.json",
            SchemaId::EnrollmentDecision => "enrollment-decision.schema.json",
            SchemaId::ProjectGrant => "project-grant.schema.json",
            SchemaId::Scan => "scan.schema.json",
            SchemaId::ScanBatch => "scan-batch.schema.json",
            SchemaId::ServiceRecord => "service-record.schema.json",
            SchemaId::Correction => "correction.schema.json",
            SchemaId::Dispute => "dispute.schema.json",
            SchemaId::DisputeAnswer => "dispute-answer.schema.json",
            SchemaId::Settlement => "settlement.schema.json",
            SchemaId::CertificateRequest => "certificate-request.schema.json",
            SchemaId::CertificateIssue => "certificate-issue.schema.json",
            SchemaId::CredentialAudit => "credential-audit.schema.json",
            SchemaId::TransferRequest => "transfer-request.schema.json",
            SchemaId::TransferMessage => "transfer-message.schema.json",
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
            SchemaId::ProjectDraft => {
                include_str!("../../../schemas/project-draft.schema.json")
            }
            SchemaId::NeedPost => {
                include_str!("../../../schemas/need-post.schema.json")
            }
            SchemaId::NeedClosure => {
                include_str!("../../../schemas/need-closure.schema.json")
            }
            SchemaId::TakeDown => {
                include_str!("../../../schemas/take-down.schema.json")
            }
            SchemaId::Enrollment => {
                include_str!("../../../schemas/enrollment.schema.json")
            }
            SchemaId::EnrollmentDecision => {
                include_str!("../../../schemas/enrollment-decision.schema.json")
            }
            SchemaId::ProjectGrant => {
                include_str!("../../../schemas/project-grant.schema.json")
            }
            SchemaId::Scan => include_str!("../../../schemas/scan.schema.json"),
            SchemaId::ScanBatch => include_str!("../../../schemas/scan-batch.schema.json"),
            SchemaId::ServiceRecord => include_str!("../../../schemas/service-record.schema.json"),
            SchemaId::Correction => include_str!("../../../schemas/correction.schema.json"),
            SchemaId::Dispute => include_str!("../../../schemas/dispute.schema.json"),
            SchemaId::DisputeAnswer => include_str!("../../../schemas/dispute-answer.schema.json"),
            SchemaId::Settlement => include_str!("../../../schemas/settlement.schema.json"),
            SchemaId::CertificateRequest => {
                include_str!("../../../schemas/certificate-request.schema.json")
            }
            SchemaId::CertificateIssue => {
                include_str!("../../../schemas/certificate-issue.schema.json")
            }
            SchemaId::CredentialAudit => {
                include_str!("../../../schemas/credential-audit.schema.json")
            }
            SchemaId::TransferRequest => {
                include_str!("../../../schemas/transfer-request.schema.json")
            }
            SchemaId::TransferMessage => {
                include_str!("../../../schemas/transfer-message.schema.json")
            }
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
        if let Some((field, rule)) = domain_rule(id, &path, error.kind()) {
            return Err(ApiError::App(zhiyuan_app::AppError::Invalid(
                zhiyuan_domain::InvalidInput::new(field, rule),
            )));
        }
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

/// The domain rule a schema states, where a violation is one: the schemas say in patterns what
/// the parsers check, and a person is told the rule (in both languages) rather than a pattern.
fn domain_rule(id: SchemaId, path: &str, kind: &ValidationErrorKind) -> Option<(String, Rule)> {
    let rule = match kind {
        // A text that must say something: a reason, a tag, or anything else named.
        ValidationErrorKind::Pattern { pattern } if pattern == r"\S" => {
            if path.ends_with("/reason") {
                Rule::ReasonRequired
            } else if path.contains("/skills/") {
                Rule::TagLength
            } else {
                Rule::NameEmpty
            }
        }
        ValidationErrorKind::Pattern { pattern } => pattern_rule(pattern)?,
        ValidationErrorKind::Required { property } => {
            let rule = match property.as_str()? {
                "reason" => Rule::ReasonRequired,
                "scope" => Rule::GrantScope,
                "registration_authority_id" => Rule::RegisteredTeamTakesAuthority,
                "liaison_team_id" => Rule::UnregisteredTeamTakesLiaison,
                "certificates" => Rule::CertificatesRequired,
                "unit_id" => Rule::NeedUnit,
                _ => return None,
            };
            return Some((format!("{path}/{}", property.as_str()?), rule));
        }
        // What a value must not match: a username holding an identity or mobile number.
        ValidationErrorKind::Not { schema } => {
            pattern_rule(schema.get("pattern").and_then(Value::as_str)?)?
        }
        // The one constant among the schemas: the scope of a tenant-wide grant.
        ValidationErrorKind::Constant { .. } if path.ends_with("/scope") => Rule::GrantScope,
        // What a team's legal status rules out.
        ValidationErrorKind::FalseSchema if path == "/liaison_team_id" => {
            Rule::RegisteredTeamTakesAuthority
        }
        ValidationErrorKind::FalseSchema if path == "/registration_authority_id" => {
            Rule::UnregisteredTeamTakesLiaison
        }
        ValidationErrorKind::MinItems { .. } if path == "/certificates" => {
            Rule::CertificatesRequired
        }
        // What the schemas of projects, needs and sign-ups state by range and type.
        ValidationErrorKind::Type { .. }
            if path.ends_with("/longitude") || path.ends_with("/latitude") =>
        {
            Rule::CoordinatesNotNumbers
        }
        ValidationErrorKind::Minimum { .. } | ValidationErrorKind::Maximum { .. }
            if path.ends_with("/longitude") || path.ends_with("/latitude") =>
        {
            Rule::CoordinatesOutsideChina
        }
        ValidationErrorKind::Format { format } if format == "date-time" => Rule::TimeFormat,
        // A unit names itself; nobody else names a unit.
        ValidationErrorKind::FalseSchema if path == "/unit_id" => Rule::NeedUnit,
        ValidationErrorKind::Minimum { .. } | ValidationErrorKind::Maximum { .. }
            if path.ends_with("/capacity") || path == "/people_needed" =>
        {
            Rule::ShiftCapacity
        }
        ValidationErrorKind::Maximum { .. } if path == "/withdrawal_cutoff_hours" => {
            Rule::WithdrawalCutoff
        }
        ValidationErrorKind::Maximum { .. } if path.contains("/check_in_") => Rule::CheckInWindow,
        ValidationErrorKind::MinItems { .. } | ValidationErrorKind::MaxItems { .. }
            if path == "/shifts" =>
        {
            Rule::ShiftCount
        }
        ValidationErrorKind::MinItems { .. } if path == "/service_categories" => {
            Rule::CategoryRequired
        }
        // A registered team's credit code or organisation code.
        ValidationErrorKind::AnyOf { .. } if id == SchemaId::TeamApply && path.is_empty() => {
            return Some(("/credit_code".to_owned(), Rule::RegisteredTeamNeedsCode));
        }
        _ => return None,
    };
    Some((path.to_owned(), rule))
}

/// The rule behind each pattern of the schemas that a parser of the domain checks too.
fn pattern_rule(pattern: &str) -> Option<Rule> {
    let simple = [
        (REGION_CODE_PATTERN, Rule::RegionCodeFormat),
        (TENANT_CODE_PATTERN, Rule::TenantCodeFormat),
        (MOBILE_PATTERN, Rule::MobileFormat),
        (USERNAME_PATTERN, Rule::UsernameFormat),
        // Under `not`: what a username must not hold.
        (NUMBER_RUN_PATTERN, Rule::UsernameHoldsNumber),
        // A reason must say something.
        (r"\S", Rule::ReasonRequired),
        // A day, as certificates are asked for.
        ("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", Rule::TimeFormat),
    ];
    if let Some((_, rule)) = simple.iter().find(|(known, _)| *known == pattern) {
        return Some(*rule);
    }
    if let Some(kind) = IdDocumentKind::ALL
        .iter()
        .find(|kind| kind.number_patterns().contains(&pattern))
    {
        return Some(kind.format_rule());
    }
    // The scopes grants of each kind take.
    pattern
        .starts_with("^(tenant|")
        .then_some(Rule::GrantScope)
        .or_else(|| {
            [
                "^reviewing_body:",
                "^team:",
                "^project:",
                "^(team|reviewing_body):",
            ]
            .contains(&pattern)
            .then_some(Rule::GrantScope)
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use zhiyuan_domain::{
        NO_CONTROL_CHARACTERS, REGION_CODE_PATTERN, RegionCode, TENANT_CODE_PATTERN, TenantCode,
        is_forbidden_character,
    };

    /// Every pattern of the schemas is a domain rule the node names when it is broken, but for
    /// the two that are syntax alone (a SHA-256, a plugin's name or setting's key).
    #[test]
    fn every_pattern_of_the_schemas_names_its_rule() {
        fn patterns(value: &serde_json::Value, found: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(members) => {
                    for (key, member) in members {
                        match (key.as_str(), member.as_str()) {
                            ("pattern", Some(pattern)) => found.push(pattern.to_owned()),
                            _ => patterns(member, found),
                        }
                    }
                }
                serde_json::Value::Array(items) => {
                    items.iter().for_each(|item| patterns(item, found))
                }
                _ => {}
            }
        }
        let syntax = ["^[0-9a-f]{64}$", "^[a-z][a-z0-9-]{0,39}$"];
        let mut found = Vec::new();
        for id in super::SchemaId::ALL {
            patterns(&serde_json::from_str(id.source()).unwrap(), &mut found);
        }
        assert!(found.len() > 20, "{found:?}");
        for pattern in found {
            assert!(
                super::pattern_rule(&pattern).is_some() || syntax.contains(&pattern.as_str()),
                "{pattern} states no rule the node names"
            );
        }
        // Each kind of document has its own patterns in the registration's schema.
        let register = serde_json::to_string(
            &serde_json::from_str::<serde_json::Value>(super::SchemaId::VolunteerRegister.source())
                .unwrap(),
        )
        .unwrap();
        for kind in zhiyuan_domain::IdDocumentKind::ALL {
            for pattern in kind.number_patterns() {
                assert!(
                    register.contains(&serde_json::to_string(pattern).unwrap()),
                    "{kind:?}: {pattern}"
                );
            }
        }
    }

    /// The patterns stated for identity documents and mobile numbers accept what the parsers
    /// accept, as people type them.
    #[test]
    fn document_and_mobile_patterns_agree_with_the_parsers() {
        use zhiyuan_domain::{IdDocumentKind, IdNumber, MOBILE_PATTERN, MobileNumber};
        let matches = |patterns: &[&str], text: &str| {
            patterns.iter().all(|pattern| {
                jsonschema::validator_for(&json!({ "type": "string", "pattern": pattern }))
                    .unwrap()
                    .is_valid(&json!(text))
            })
        };
        let today = time::Date::from_calendar_date(2026, time::Month::November, 30).unwrap();
        let documents = [
            (IdDocumentKind::ResidentIdCard, "42130319900101001X"),
            (IdDocumentKind::ResidentIdCard, "421303 1990 0101 001x"),
            (IdDocumentKind::ResidentIdCard, "4213031990010100"),
            (IdDocumentKind::HongKongMacaoPermit, "h1234-5678"),
            (IdDocumentKind::HongKongMacaoPermit, "M123456789"),
            (IdDocumentKind::TaiwanPermit, "12345678"),
            (IdDocumentKind::TaiwanPermit, "123456789"),
            (IdDocumentKind::Passport, "e1234 5678"),
            (IdDocumentKind::Passport, "ABCDEFGH"),
            (IdDocumentKind::Passport, "E123"),
            (
                IdDocumentKind::ForeignPermanentResidentId,
                "usa123456789012",
            ),
            (
                IdDocumentKind::ForeignPermanentResidentId,
                "US1234567890123",
            ),
        ];
        for (kind, number) in documents {
            let parsed = IdNumber::parse(kind, number, today, "/id_number");
            // A resident ID's area, date and check character are the parser's alone.
            let shape_only = matches!(&parsed, Err(invalid) if invalid.rule != kind.format_rule());
            assert_eq!(
                matches(kind.number_patterns(), number),
                parsed.is_ok() || shape_only,
                "{kind:?} {number}"
            );
        }
        for mobile in [
            "13800001234",
            "138-0000-1234",
            "+86 138 0000 1234",
            "+4915112345678",
            "12345",
            "23800001234",
            "+1234567",
            "138****1234",
        ] {
            assert_eq!(
                matches(&[MOBILE_PATTERN], mobile),
                MobileNumber::parse(mobile, "/mobile").is_ok(),
                "{mobile}"
            );
        }
    }

    /// The pattern the document puts on free texts refuses exactly the characters the node
    /// refuses.
    #[test]
    fn the_control_character_pattern_agrees_with_the_rule() {
        let pattern = jsonschema::validator_for(
            &json!({ "type": "string", "pattern": NO_CONTROL_CHARACTERS }),
        )
        .unwrap();
        for c in (0u32..0x3000)
            .chain([0xFEFF, 0x10FFFF])
            .filter_map(char::from_u32)
        {
            let text = format!("志愿{c}服务");
            assert_eq!(
                pattern.is_valid(&json!(text)),
                !is_forbidden_character(c),
                "U+{:04X}",
                c as u32
            );
        }
    }

    /// The patterns the document gives clients say what the parsers say: a code a client
    /// checks by the pattern is one the node accepts, and the other way round.
    #[test]
    fn code_patterns_agree_with_the_parsers() {
        let region =
            jsonschema::validator_for(&json!({ "type": "string", "pattern": REGION_CODE_PATTERN }))
                .unwrap();
        let tenant =
            jsonschema::validator_for(&json!({ "type": "string", "pattern": TENANT_CODE_PATTERN }))
                .unwrap();
        let mut codes: Vec<String> = (0..1_000_000u32)
            .step_by(997)
            .map(|n| format!("{n:06}"))
            .collect();
        for edge in [
            "000000", "000001", "001234", "010000", "010001", "090000", "100000", "420000",
            "421300", "421303", "990000", "999999", "42130", "4213000", "42130a",
        ] {
            codes.push(edge.to_owned());
        }
        for code in &codes {
            let value = json!(code);
            assert_eq!(
                region.is_valid(&value),
                RegionCode::parse(code).is_ok(),
                "region {code}"
            );
            assert_eq!(
                tenant.is_valid(&value),
                TenantCode::parse(code).is_ok(),
                "tenant {code}"
            );
        }
    }
}
