use zhiyuan_domain::ports::{PluginRefusal, PolicyError, PolicyFailure, Violation};
use zhiyuan_domain::{InvalidInput, Rule};
use zhiyuan_store::{StoreError, UniqueField};

/// What a use case can fail with. Each interface maps these in one place: the HTTP API to
/// problem+json, the command line to a message and an exit code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule, with the field at fault.
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    /// Something unique exists already (a username, a unit's name, a verified registration).
    #[error("already exists: {0:?}")]
    Conflict(UniqueField),
    /// What was asked does not fit the state the resource is in (an application decided
    /// already, a card of a volunteer not verified yet).
    #[error("wrong state: {}", .0.code())]
    WrongState(Rule),
    #[error("not found")]
    NotFound,
    /// The permission table gives none of the principal's grants this action.
    #[error("forbidden")]
    Forbidden,
    /// A rule of who may act refused, with the rule that says why (deciding one's own
    /// application, uploading before being verified).
    #[error("refused: {}", .0.code())]
    Refused(Rule),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many attempts")]
    TooManyAttempts { retry_after_seconds: u64 },
    /// The node is at capacity for this kind of work; the client may try again shortly.
    #[error("busy")]
    Busy { retry_after_seconds: u64 },
    /// A rule of local policy (a plugin or the built-in default) refused the request.
    #[error("policy: {}", .0.code)]
    Policy(Violation),
    /// Something the node lacks stops this request (a font for PDFs); the rule says what.
    #[error("unavailable: {}", .0.code())]
    Unavailable(Rule),
    /// A plugin package refused at upload, or a binding to a plugin without the hook.
    #[error("plugin refused: {0}")]
    PluginRefused(PluginRefusal),
    /// A plugin bound to fail closed gave no answer.
    #[error("{0}")]
    PluginFailed(PolicyFailure),
    /// A file given to a command is not what it takes (a CSV list without its columns).
    #[error("bad file: {detail}")]
    BadFile { detail: String },
    /// A failure of the node, not of the request; its cause is logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Unique(field) => AppError::Conflict(field),
            StoreError::Invalid(invalid)
                if matches!(
                    invalid.rule,
                    Rule::AlreadyDecided
                        | Rule::MembershipExists
                        | Rule::ProjectState
                        | Rule::EnrollmentExists
                        | Rule::EnrollmentState
                ) =>
            {
                AppError::WrongState(invalid.rule)
            }
            StoreError::Refused(rule) => AppError::Refused(rule),
            StoreError::Invalid(invalid) => AppError::Invalid(invalid),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<PolicyError> for AppError {
    fn from(error: PolicyError) -> Self {
        match error {
            PolicyError::Violation(violation) => AppError::Policy(violation),
            PolicyError::Failed(failure) => AppError::PluginFailed(failure),
        }
    }
}

impl From<PolicyFailure> for AppError {
    fn from(failure: PolicyFailure) -> Self {
        AppError::PluginFailed(failure)
    }
}

impl From<zhiyuan_forms::FormError> for AppError {
    fn from(error: zhiyuan_forms::FormError) -> Self {
        AppError::BadFile {
            detail: error.to_string(),
        }
    }
}

impl AppError {
    /// A reference that does not resolve in the tenant, named as the field at fault rather
    /// than as a missing resource.
    pub(crate) fn unknown(
        field: impl Into<String>,
        rule: Rule,
    ) -> impl FnOnce(AppError) -> AppError {
        let field = field.into();
        move |error| match error {
            AppError::NotFound => AppError::Invalid(InvalidInput::new(field, rule)),
            other => other,
        }
    }
}
