//! What core needs from the parts that must not leak into it. The `zhiyuan-plugins` crate
//! implements `Policy` (built-in defaults now, WebAssembly plugins per tenant behind the same
//! trait); the node binary chooses the implementation.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::{CivilisationLevel, RegionCode, TenantCode, UnitKind};

/// A target registration ratio, in basis points of the denominator (1300 = 13%).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Violation {
    pub code: String,
    /// The field at fault, as a JSON Pointer, where one is.
    pub field: Option<String>,
    pub message_zh: String,
    pub message_en: String,
}

/// The points where a tenant's policy decides. Each is a pure function of its inputs.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    /// R12: is this a proper name for the team?
    TeamName,
    /// R16: the share of an area's residents that should be registered.
    RegionTarget,
    /// R17: the share of a unit's staff that should be registered.
    UnitTarget,
    /// Star level from service time and tenure.
    StarLevel,
    /// Does a service record count?
    ServiceRecord,
    /// How well a volunteer fits a project.
    MatchScore,
}

impl Hook {
    pub const ALL: [Hook; 6] = [
        Hook::TeamName,
        Hook::RegionTarget,
        Hook::UnitTarget,
        Hook::StarLevel,
        Hook::ServiceRecord,
        Hook::MatchScore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hook::TeamName => "team-name",
            Hook::RegionTarget => "region-target",
            Hook::UnitTarget => "unit-target",
            Hook::StarLevel => "star-level",
            Hook::ServiceRecord => "service-record",
            Hook::MatchScore => "match-score",
        }
    }

    pub fn parse(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|hook| hook.as_str() == name)
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An area, as its registration target is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionFacts {
    pub code: RegionCode,
    pub resident_population: u64,
}

/// A unit, as its registration target is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitFacts {
    pub kind: UnitKind,
    pub civilisation_level: CivilisationLevel,
    pub staff: u64,
}

/// What star levels are computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSummary {
    pub service_minutes: crate::Minutes,
    /// The day the volunteer's registration was verified.
    pub registered_on: Date,
    /// The day the level is asked for.
    pub as_of: Date,
}

/// A service record to check before it counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRecordFacts {
    /// Unix milliseconds.
    pub started_at: i64,
    pub ended_at: i64,
    /// The shift the project planned, if it planned one.
    pub shift: Option<(i64, i64)>,
    /// Minutes recorded for the volunteer earlier on the same day (China Standard Time).
    pub same_day_minutes: crate::Minutes,
    /// Whether the volunteer checked out; false for an attendance whose check-out never came,
    /// whose end is then the shift's. Plugins of WIT 0.1.0 do not see it.
    #[serde(default = "checked_out")]
    pub checked_out: bool,
}

fn checked_out() -> bool {
    true
}

/// A volunteer's or a project's side of a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchProfile {
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    /// GB/T 2260 code of the area.
    pub region: String,
    /// On a project's side: metres from where the volunteer searched. Plugins of WIT 0.1.0 do
    /// not see it; the built-in policy weighs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<u32>,
    /// On a project's side: its shifts still to come with a free place and no clash with the
    /// volunteer's own. Plugins of WIT 0.1.0 do not see it; the built-in policy weighs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_shifts: Option<u32>,
}

/// Why a plugin gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FailureReason {
    #[error("ran past its deadline of {ms} ms")]
    Deadline { ms: u64 },
    #[error("used up its fuel of {fuel} units")]
    Fuel { fuel: u64 },
    #[error("asked for more than its memory cap of {bytes} bytes")]
    MemoryCap { bytes: u64 },
    #[error("trapped: {message}")]
    Trap { message: String },
    #[error("answered out of range: {detail}")]
    BadAnswer { detail: String },
    /// The node could not run the call (no instance free, no CPU time): not held against the
    /// plugin.
    #[error("could not be run: {detail}")]
    HostBusy { detail: String },
    /// Switched off after failing too often; a binding that fails closed keeps failing.
    #[error("is switched off: {why}")]
    SwitchedOff { why: String },
}

impl FailureReason {
    /// Whether the failure is the plugin's own, and counts toward switching it off.
    pub fn counts_against_plugin(&self) -> bool {
        !matches!(
            self,
            FailureReason::HostBusy { .. } | FailureReason::SwitchedOff { .. }
        )
    }
}

/// A plugin failed to answer a hook. Names everything an office needs to find the culprit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("plugin {plugin} {version} of tenant {tenant} failed in hook {hook}: {reason}")]
pub struct PolicyFailure {
    pub tenant: String,
    pub plugin: String,
    pub version: String,
    pub hook: Hook,
    pub reason: FailureReason,
}

/// A hook refused its input, or could not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    Violation(Violation),
    Failed(PolicyFailure),
}

impl From<PolicyFailure> for PolicyError {
    fn from(failure: PolicyFailure) -> Self {
        PolicyError::Failed(failure)
    }
}

/// A city's local rules. Pure functions of their inputs, so they can run anywhere, in any order.
/// A request takes one `Policy` and asks it everything, so that it never mixes two versions.
pub trait Policy: Send + Sync {
    /// Which rule answers this hook, as reports name it: the built-in default, or a plugin with
    /// its version and the revision of the tenant's bindings.
    fn source(&self, hook: Hook) -> String;

    /// Why a bound hook was switched off, if it was.
    fn switched_off(&self, _hook: Hook) -> Option<String> {
        None
    }

    /// Whether a plugin answers the hook (a call that may run as long as its fuel lasts)
    /// rather than the built-in rule (a few comparisons).
    fn runs_plugin(&self, _hook: Hook) -> bool {
        false
    }

    /// The revision of the tenant's bindings this policy is; 0 for the built-in default alone.
    fn revision(&self) -> u64 {
        0
    }

    /// R12: is this a proper name for a team of this kind and unit?
    fn check_team_name(
        &self,
        kind: UnitKind,
        team_name: &str,
        unit_name: Option<&str>,
    ) -> Result<(), PolicyError>;

    /// R16: the share of each area's resident population that should be registered, one answer
    /// per area in order. A report asks for all of them at once.
    fn region_targets(
        &self,
        regions: &[RegionFacts],
    ) -> Result<Vec<Option<TargetRatio>>, PolicyFailure>;

    /// R17: the share of each unit's staff that should be registered, one answer per unit.
    fn unit_targets(&self, units: &[UnitFacts]) -> Result<Vec<Option<TargetRatio>>, PolicyFailure>;

    /// One area's target.
    fn region_target(
        &self,
        region: &RegionCode,
        resident_population: u64,
    ) -> Result<Option<TargetRatio>, PolicyFailure> {
        let facts = RegionFacts {
            code: region.clone(),
            resident_population,
        };
        Ok(self.region_targets(&[facts])?.pop().flatten())
    }

    /// One unit's target.
    fn unit_target(
        &self,
        kind: UnitKind,
        civilisation_level: CivilisationLevel,
        staff: u64,
    ) -> Result<Option<TargetRatio>, PolicyFailure> {
        let facts = UnitFacts {
            kind,
            civilisation_level,
            staff,
        };
        Ok(self.unit_targets(&[facts])?.pop().flatten())
    }

    /// The star level the service earns.
    fn star_level(&self, service: &ServiceSummary) -> Result<crate::StarLevel, PolicyFailure>;

    /// Does this service record count?
    fn check_service_record(&self, record: &ServiceRecordFacts) -> Result<(), PolicyError>;

    /// 0 (no fit) to 100 (best fit).
    fn match_score(
        &self,
        volunteer: &MatchProfile,
        project: &MatchProfile,
    ) -> Result<u8, PolicyFailure>;
}

/// One call of a hook, with its inputs: what a dry run takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "hook",
    content = "input",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub enum HookCall {
    TeamName {
        kind: UnitKind,
        name: String,
        unit_name: Option<String>,
    },
    RegionTarget {
        code: RegionCode,
        resident_population: u64,
    },
    UnitTarget {
        kind: UnitKind,
        civilisation_level: CivilisationLevel,
        staff: u64,
    },
    StarLevel(ServiceSummary),
    ServiceRecord(ServiceRecordFacts),
    MatchScore {
        volunteer: MatchProfile,
        project: MatchProfile,
    },
}

/// A hook's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HookAnswer {
    /// The input passes.
    Accepted,
    Refused(Violation),
    /// Basis points, or none for no target.
    Target(Option<TargetRatio>),
    Stars(crate::StarLevel),
    Score(u8),
}

impl HookCall {
    pub fn hook(&self) -> Hook {
        match self {
            HookCall::TeamName { .. } => Hook::TeamName,
            HookCall::RegionTarget { .. } => Hook::RegionTarget,
            HookCall::UnitTarget { .. } => Hook::UnitTarget,
            HookCall::StarLevel(_) => Hook::StarLevel,
            HookCall::ServiceRecord(_) => Hook::ServiceRecord,
            HookCall::MatchScore { .. } => Hook::MatchScore,
        }
    }

    /// Asks `policy` this call's question.
    pub fn run(&self, policy: &dyn Policy) -> Result<HookAnswer, PolicyFailure> {
        let verdict = |result: Result<(), PolicyError>| match result {
            Ok(()) => Ok(HookAnswer::Accepted),
            Err(PolicyError::Violation(violation)) => Ok(HookAnswer::Refused(violation)),
            Err(PolicyError::Failed(failure)) => Err(failure),
        };
        match self {
            HookCall::TeamName {
                kind,
                name,
                unit_name,
            } => verdict(policy.check_team_name(*kind, name, unit_name.as_deref())),
            HookCall::RegionTarget {
                code,
                resident_population,
            } => policy
                .region_target(code, *resident_population)
                .map(HookAnswer::Target),
            HookCall::UnitTarget {
                kind,
                civilisation_level,
                staff,
            } => policy
                .unit_target(*kind, *civilisation_level, *staff)
                .map(HookAnswer::Target),
            HookCall::StarLevel(service) => policy.star_level(service).map(HookAnswer::Stars),
            HookCall::ServiceRecord(record) => verdict(policy.check_service_record(record)),
            HookCall::MatchScore { volunteer, project } => policy
                .match_score(volunteer, project)
                .map(HookAnswer::Score),
        }
    }
}

/// What a tenant does when a bound plugin fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// Refuse the request with an error naming the plugin: a wrong answer is worse than none.
    #[default]
    FailClosed,
    /// Answer with the built-in default, and log the failure.
    FallBack,
}

/// A hook bound to a plugin of the tenant's, with the settings it is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub hook: Hook,
    /// SHA-256 of the plugin package, in hex.
    pub plugin: String,
    #[serde(default)]
    pub on_failure: OnFailure,
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
}

/// A plugin package as a tenant stored it.
#[derive(Debug, Clone)]
pub struct PluginPackage {
    pub name: String,
    pub version: String,
    /// The signature it was uploaded with, checked again whenever it is bound or loaded.
    pub signature: Option<String>,
    /// SHA-256 of `bytes`, in hex.
    pub sha256: String,
    pub bytes: std::sync::Arc<[u8]>,
}

/// What a checked package is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginManifest {
    pub sha256: String,
    /// The version of the zhiyuan:policy package it was built against.
    pub wit_version: String,
    pub hooks: Vec<Hook>,
    /// The Multikey of the trusted key that signed it, when it was signed.
    pub signed_by: Option<String>,
}

/// Why a plugin package was refused. Refusals come before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginRefusal {
    #[error(
        "this node accepts only plugins signed by a key it trusts; the package has no signature"
    )]
    Unsigned,
    #[error("the signature is not a valid Ed25519 signature by a key this node trusts")]
    BadSignature,
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    #[error("the component exports no zhiyuan:policy hooks (it exports: {exports})")]
    WrongWorld { exports: String },
    #[error(
        "the component was built against zhiyuan:policy@{version}, which this node does not support (it supports {supported})"
    )]
    UnknownVersion { version: String, supported: String },
    #[error("the component imports {import}, which plugins may not use (only the log interface)")]
    ForbiddenImport { import: String },
    #[error("hook {hook} failed its conformance input: {detail}")]
    Conformance { hook: Hook, detail: String },
    #[error("the plugin does not implement hook {hook}")]
    MissingHook { hook: Hook },
    /// Refused before compiling: more functions, code, memory or tables than a policy needs.
    #[error("the component is larger than this node takes: {detail}")]
    TooLarge { detail: String },
}

/// A tenant's bindings at one revision, with the packages they name.
#[derive(Debug, Clone)]
pub struct PolicyRevision {
    pub tenant: TenantCode,
    pub revision: u64,
    pub bindings: Vec<(Binding, PluginPackage)>,
    /// Hooks of this revision switched off after failing too often, with the reason.
    pub switched_off: Vec<(Hook, String)>,
}

/// A bound hook was switched off after failing too often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchOff {
    pub tenant: TenantCode,
    pub revision: u64,
    pub hook: Hook,
    pub reason: String,
}

/// Runs tenants' policies: the built-in default, or WebAssembly plugins where a tenant bound them.
pub trait PolicyHost: Send + Sync {
    /// The tenant's policy as it stands; a request asks it everything.
    fn for_tenant(&self, tenant: &TenantCode) -> std::sync::Arc<dyn Policy>;

    /// Checks a package: its signature where signatures are required (before compiling), that it
    /// compiles, exports hooks of a supported version, imports nothing but the log, and that its
    /// hooks answer the conformance inputs.
    fn admit(
        &self,
        tenant: &TenantCode,
        package: &[u8],
        signature: Option<&str>,
    ) -> Result<PluginManifest, PluginRefusal>;

    /// Runs one call through a package bound as `binding` says, for an office to try it out.
    /// Nothing is put in place and nothing is counted against the plugin.
    fn dry_run(
        &self,
        tenant: &TenantCode,
        package: &PluginPackage,
        binding: &Binding,
        call: &HookCall,
    ) -> Result<Result<HookAnswer, PolicyFailure>, PluginRefusal>;

    /// A plugin that ships with the node, checked as an upload is but for the signature: it is
    /// trusted as the node's binary is. None when the node ships no plugin of that name.
    fn bundled(&self, name: &str)
    -> Option<Result<(PluginPackage, PluginManifest), PluginRefusal>>;

    /// Builds a tenant's policy from a revision of its bindings, without putting it in place.
    fn prepare(
        &self,
        revision: &PolicyRevision,
    ) -> Result<std::sync::Arc<dyn Policy>, PluginRefusal>;

    /// Puts a prepared policy in place, at once for every request that starts after.
    fn install(&self, tenant: &TenantCode, policy: std::sync::Arc<dyn Policy>);

    /// Hooks switched off since the last call, for the node to store so that they stay off.
    fn take_switch_offs(&self) -> Vec<SwitchOff>;
}

/// An identity claim to check: the name and document an applicant gave.
#[derive(Debug, Clone)]
pub struct IdentityClaim<'a> {
    pub name: &'a crate::PersonName,
    pub id_number: &'a crate::IdNumber,
}

/// Checks that a person is who they say (实名认证). The built-in check is the reviewer's own
/// attestation, made when they approve; an identity service of the public security system can
/// be plugged in behind this port.
pub trait IdentityCheck: Send + Sync {
    fn check(&self, claim: &IdentityClaim<'_>) -> Result<(), Violation>;
}

/// The reviewer saw the document in person or on a certified copy; nothing more is asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReviewerAttestation;

impl IdentityCheck for ReviewerAttestation {
    fn check(&self, _claim: &IdentityClaim<'_>) -> Result<(), Violation> {
        Ok(())
    }
}

/// Who signs a document: a tenant with its key, or the node's operator with the node's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Signer {
    Tenant(crate::TenantCode),
    Operator,
}

impl Signer {
    /// Where the signer's keys are kept: the tenant's code, or the node's reserved realm.
    pub fn realm(&self) -> &str {
        match self {
            Signer::Tenant(tenant) => tenant.as_str(),
            Signer::Operator => "node",
        }
    }
}

/// A signer's public keys as the node holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerKeys {
    /// The version that signs now.
    pub current: u32,
    /// Every version, oldest first, with its public key as a Multikey (`z6Mk...`).
    pub versions: Vec<(u32, String)>,
}

/// What the tenants and the node's operator sign for others to check (`docs/federation.md`):
/// the checkpoints of each tenant's transparency log as C2SP signed notes, and documents
/// (credentials, DID documents) with W3C Data Integrity proofs of the `eddsa-jcs-2022`
/// cryptosuite. The node's binary fills it with federation's code; core knows nothing of
/// signatures.
pub trait RecordSigner: Send + Sync {
    /// The signed note of the checkpoint of the log named `origin` at `size` entries and
    /// `root`.
    fn sign_checkpoint(
        &self,
        tenant: &crate::TenantCode,
        origin: &str,
        size: u64,
        root: [u8; 32],
    ) -> Result<String, String>;

    /// The signer's keys.
    fn keys(&self, signer: &Signer) -> Result<SignerKeys, String>;
    /// The JSON document `document` with a proof by the signer's current key, named
    /// `<did>#key-<version>`, made at `at`; answered in its canonical form (RFC 8785).
    fn secure(
        &self,
        signer: &Signer,
        did: &str,
        document: &str,
        at: crate::Timestamp,
    ) -> Result<String, String>;
}

/// What an auditor's checks found of one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialFinding {
    /// The credential's id, as it says.
    pub id: String,
    /// Its issuer, where it verified.
    pub issuer: Option<String>,
    /// The size of the issuer's log checkpoint it was shown to be in, where it was.
    pub logged_in: Option<u64>,
    /// Why it was refused, in the words an auditor reads; none where it verified.
    pub refusal: Option<String>,
}

/// Checks credentials as an auditor does, trusting no node. The node's binary fills it with
/// federation's checks, the ones `zhiyuan audit verify` runs; core knows nothing of
/// signatures.
pub trait RecordVerifier: Send + Sync {
    /// Checks each credential of `bundle` (JSON: one credential, a list, or a download with
    /// the log's checkpoint and proofs) against its issuer's DID document among
    /// `did_documents` (JSON each), and its inclusion in the issuer's log where the bundle
    /// carries that log's checkpoint. `Err` names why the bundle was refused as a whole (a
    /// checkpoint that does not open).
    fn audit(
        &self,
        bundle: serde_json::Value,
        did_documents: &[String],
    ) -> Result<Vec<CredentialFinding>, String>;

    /// Checks the signature of a request another node sent (RFC 9421, in the profile of
    /// `docs/federation.md`) by a key of one of `did_documents` in its window, made within
    /// `skew_seconds` of `now_seconds`: answers who signed it. `Err` says why it was refused.
    fn verify_request(
        &self,
        request: &SignedRequest,
        now_seconds: i64,
        skew_seconds: i64,
        did_documents: &[String],
    ) -> Result<RequestSignature, String>;
}

/// A request another node signed, as it arrived: what its signature is checked over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub method: String,
    /// The URI it was sent to, as the sender signed it: this node's public URL and the path.
    pub target_uri: String,
    pub content_digest: Option<String>,
    pub signature_input: Option<String>,
    pub signature: Option<String>,
    pub body: Vec<u8>,
}

/// Who signed a request whose signature verified, when, and with which nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSignature {
    /// The signing tenant's DID.
    pub did: String,
    /// The DID URL of its key.
    pub key_id: String,
    /// When it was signed, in seconds since the epoch.
    pub created: i64,
    pub nonce: String,
}

/// Signs and opens the codes of volunteer cards with each tenant's signing key. The node's
/// binary fills it with federation's envelope (COSE_Sign1 with CWT claims); core knows nothing
/// of signatures.
pub trait CardSigner: Send + Sync {
    /// The text a card's QR carries, signed with the tenant's current key.
    fn seal(&self, claims: &crate::CardToken) -> Result<String, String>;
    /// What a scanned code says, if a key of `tenant` signed it: otherwise `CardTokenFormat`
    /// (not a card's code), `CardCodeOtherTenant` or `CardCodeForged` (altered, or signed by
    /// a key the tenant never had). Whether it stands at a given time is
    /// `CardToken::check_time`'s.
    fn open(&self, tenant: &crate::TenantCode, code: &str)
    -> Result<crate::CardToken, crate::Rule>;
}
