//! Use cases shared by the HTTP API and the node's command line, so that both go one way:
//! a tenant file loaded at start-up passes the same schema and rules as a tenant posted by an
//! operator, and `zhiyuan admin create-user` makes the same account the API would.

use serde_json::Value;
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, InvalidInput, Password, Role, Rule, TenantCode, TenantConfig, TenantSpec, Timestamp,
    Username,
};
use zhiyuan_store::{NewUser, Store, StoredUser};

use crate::ApiError;
use crate::auth::hash_password;
use crate::schemas::{SchemaId, Schemas};

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
        password_hash: hash_password(&password)?,
    };
    Ok(store.create_user(&new_user, actor, at).await?)
}
