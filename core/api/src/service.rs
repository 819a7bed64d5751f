//! Use cases shared by the HTTP API and the node's command line, so that both go one way:
//! a tenant file loaded at start-up passes the same schema and rules as a tenant posted by an
//! operator, and `zhiyuan admin create-user` makes the same account the API would.

use serde_json::Value;
use uuid::Uuid;
use zhiyuan_domain::ports::{Binding, PluginManifest, PluginPackage, PolicyHost};
use zhiyuan_domain::{
    Actor, InvalidInput, Password, Role, Rule, TenantCode, TenantConfig, TenantSpec, Timestamp,
    Username,
};
use zhiyuan_store::{NewPlugin, NewUser, Store, StoreError, StoredUser};

use crate::auth::hash_password;
use crate::schemas::{SchemaId, Schemas};
use crate::{ApiError, AppState};

/// Checks a tenant document (as JSON, whatever it was written in) against its schema and the
/// domain's rules.
pub fn parse_tenant_document(schemas: &Schemas, document: Value) -> Result<TenantSpec, ApiError> {
    schemas.check(SchemaId::TenantConfig, &document)?;
    let config: TenantConfig = serde_json::from_value(document).map_err(|e| ApiError::Schema {
        field: "/".into(),
        detail: e.to_string(),
    })?;
    Ok(config.parse()?)
}

/// An account to create, as given by an office admin, an operator or the command line.
#[derive(Debug, Clone)]
pub struct AccountRequest {
    pub tenant: Option<TenantCode>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub reviewing_body: Option<Uuid>,
    pub password: String,
}

pub async fn create_account(
    store: &Store,
    request: AccountRequest,
    actor: &Actor,
    at: Timestamp,
) -> Result<StoredUser, ApiError> {
    let username = Username::parse(&request.username, "/username")?;
    let password = Password::parse(&request.password, "/password")?;
    match (request.role, &request.tenant, request.reviewing_body) {
        (Role::Operator, Some(_), _) => {
            return Err(InvalidInput::new("/role", Rule::OperatorHasNoTenant).into());
        }
        (role, None, _) if role != Role::Operator => {
            return Err(InvalidInput::new("/tenant", Rule::TenantRoleNeedsTenant).into());
        }
        (Role::Reviewer, _, None) => {
            return Err(InvalidInput::new("/reviewing_body_id", Rule::ReviewerNeedsBody).into());
        }
        (role, _, Some(_)) if role != Role::Reviewer => {
            return Err(InvalidInput::new("/reviewing_body_id", Rule::BodyOnlyForReviewer).into());
        }
        _ => {}
    }
    if let Some(tenant) = &request.tenant {
        store.tenant(tenant).await.map_err(|error| match error {
            zhiyuan_store::StoreError::NotFound => {
                ApiError::Invalid(InvalidInput::new("/tenant", Rule::TenantUnknown))
            }
            other => other.into(),
        })?;
    }
    let display_name = request.display_name.trim();
    if display_name.is_empty() {
        return Err(InvalidInput::new("/display_name", Rule::NameEmpty).into());
    }
    let new_user = NewUser {
        tenant: request.tenant,
        username,
        display_name: display_name.to_owned(),
        role: request.role,
        reviewing_body: request.reviewing_body,
        password_hash: hash_password(&password).await?,
    };
    Ok(store.create_user(&new_user, actor, at).await?)
}

/// Registers a volunteer's application, with the account they sign in with when they give one.
pub async fn register_volunteer(
    state: &AppState,
    tenant: &TenantCode,
    application: zhiyuan_store::VolunteerApplication,
    account: Option<(String, String)>,
) -> Result<zhiyuan_store::VolunteerRecord, ApiError> {
    let now = state.clock.now();
    let volunteer = application.parse(now.shanghai_date())?;
    let (actor, account) = match account {
        Some((username, password)) => {
            let username = Username::parse(&username, "/username")?;
            let password = Password::parse(&password, "/password")?;
            let actor = Actor {
                user_id: None,
                name: format!("applicant:{}", username.as_str()),
            };
            let account = NewUser {
                tenant: Some(tenant.clone()),
                display_name: volunteer.name.as_str().to_owned(),
                username,
                role: Role::Volunteer,
                reviewing_body: None,
                password_hash: hash_password(&password).await?,
            };
            (actor, Some(account))
        }
        None => (Actor::system("import"), None),
    };
    Ok(state
        .store
        .register_volunteer(tenant, &volunteer, account.as_ref(), &actor, now)
        .await?)
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// A rejection needs its reason; an approval of a volunteer passes the identity check and
/// gives the volunteer their public number.
pub async fn decide_volunteer(
    state: &AppState,
    tenant: &TenantCode,
    id: Uuid,
    decision: Decision,
    reason: Option<String>,
    actor: &Actor,
) -> Result<zhiyuan_store::VolunteerRecord, ApiError> {
    let now = state.clock.now();
    let reason = reason
        .map(|reason| reason.trim().to_owned())
        .filter(|reason| !reason.is_empty());
    let stored = match decision {
        Decision::Reject => {
            let reason =
                reason.ok_or_else(|| InvalidInput::new("/reason", Rule::ReasonRequired))?;
            let decision = zhiyuan_store::VolunteerDecision::Reject { reason };
            state
                .store
                .decide_volunteer(tenant, id, &decision, actor, now)
                .await?
        }
        Decision::Approve => {
            let record = state.store.volunteer(tenant, id).await?;
            if record.status != zhiyuan_domain::VolunteerStatus::Pending {
                return Err(ApiError::WrongState(Rule::AlreadyDecided));
            }
            let number = state.store.reveal_id_number(tenant, id, actor, now).await?;
            let name = zhiyuan_domain::PersonName::parse(&record.name, "/name")?;
            let id_number = zhiyuan_domain::IdNumber::parse(
                record.id_kind,
                &number,
                now.shanghai_date(),
                "/id_number",
            )?;
            let claim = zhiyuan_domain::ports::IdentityClaim {
                name: &name,
                id_number: &id_number,
            };
            state
                .identity_check
                .check(&claim)
                .map_err(ApiError::Policy)?;
            // Nine random digits: a clash with an existing number is rare and simply redrawn.
            let mut attempt = 0;
            loop {
                let number = zhiyuan_domain::VolunteerNumber::new(tenant, rand::random::<u32>());
                let decision = zhiyuan_store::VolunteerDecision::Verify(number);
                match state
                    .store
                    .decide_volunteer(tenant, id, &decision, actor, now)
                    .await
                {
                    Err(zhiyuan_store::StoreError::Unique(
                        zhiyuan_store::UniqueField::VolunteerNumber,
                    )) if attempt < 5 => {
                        attempt += 1;
                    }
                    other => break other?,
                }
            }
        }
    };
    Ok(stored)
}

/// What a volunteer card shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VolunteerCard {
    pub volunteer_number: String,
    pub name: String,
    pub tenant: TenantCode,
    /// The text of the card's QR code; teams scan it to record service.
    pub qr_payload: String,
}

pub fn volunteer_card(
    state: &AppState,
    tenant: &TenantCode,
    record: &zhiyuan_store::VolunteerRecord,
) -> Result<VolunteerCard, ApiError> {
    let Some(number) = record.volunteer_number.clone() else {
        return Err(ApiError::WrongState(Rule::VolunteerNotVerified));
    };
    Ok(VolunteerCard {
        qr_payload: state
            .store
            .card_payload(tenant, &number, record.card_serial)?,
        volunteer_number: number,
        name: record.name.clone(),
        tenant: tenant.clone(),
    })
}

/// The regions a civilisation office verifies: its own, and those under it whose nearest
/// office, walking up the hierarchy, is this one.
pub fn regions_served_by(
    regions: &[zhiyuan_domain::Region],
    bodies: &[zhiyuan_domain::ReviewingBody],
    office: &zhiyuan_domain::ReviewingBody,
) -> Vec<zhiyuan_domain::RegionCode> {
    let has_office = |code: &zhiyuan_domain::RegionCode| {
        bodies
            .iter()
            .any(|body| body.kind == office.kind && &body.region == code)
    };
    let parent_of = |code: &zhiyuan_domain::RegionCode| {
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

/// The bundled plugins a tenant document binds, checked before anything is written: each names a
/// plugin the node ships, which implements the hook, and no hook is bound twice.
pub fn check_bundled_bindings(
    host: &dyn PolicyHost,
    spec: &TenantSpec,
) -> Result<Vec<(Binding, PluginPackage, PluginManifest)>, ApiError> {
    let mut checked: Vec<(Binding, PluginPackage, PluginManifest)> = Vec::new();
    for (i, wanted) in spec.plugins.iter().enumerate() {
        if checked
            .iter()
            .any(|(binding, _, _)| binding.hook == wanted.hook)
        {
            return Err(
                InvalidInput::new(format!("/plugins/{i}/hook"), Rule::HookBoundTwice).into(),
            );
        }
        let (package, manifest) = host
            .bundled(&wanted.plugin)
            .ok_or_else(|| {
                InvalidInput::new(format!("/plugins/{i}/plugin"), Rule::PluginNotBundled)
            })?
            .map_err(|refusal| {
                ApiError::Internal(format!("bundled plugin {}: {refusal}", wanted.plugin))
            })?;
        if !manifest.hooks.contains(&wanted.hook) {
            return Err(
                InvalidInput::new(format!("/plugins/{i}/hook"), Rule::PluginLacksHook).into(),
            );
        }
        let binding = Binding {
            hook: wanted.hook,
            plugin: package.sha256.clone(),
            on_failure: wanted.on_failure,
            settings: wanted.settings.clone(),
        };
        checked.push((binding, package, manifest));
    }
    Ok(checked)
}

/// Creates a tenant with the checked bundled plugins its document binds as its first policy
/// revision, in one transaction.
pub async fn create_tenant(
    store: &Store,
    spec: &TenantSpec,
    bundled: &[(Binding, PluginPackage, PluginManifest)],
    actor: &Actor,
    at: Timestamp,
) -> Result<(), StoreError> {
    let plugins: Vec<NewPlugin<'_>> = bundled
        .iter()
        .map(|(_, package, manifest)| NewPlugin {
            name: &package.name,
            version: &package.version,
            manifest,
            content: &package.bytes,
            signature: None,
        })
        .collect();
    let bindings: Vec<Binding> = bundled
        .iter()
        .map(|(binding, _, _)| binding.clone())
        .collect();
    store
        .create_tenant_with_policy(spec, &plugins, &bindings, actor, at)
        .await
}
