use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{Actor, InvalidInput, Role, Rule, TenantCode, Timestamp, Username};

use crate::audit::{AuditRecord, record};
use crate::rows::{enumerated, optional_text, optional_uuid, text, timestamp, uuid};
use crate::{Store, StoreError};

/// An account to create; the password is already hashed (PHC string).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub tenant: Option<TenantCode>,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub reviewing_body: Option<Uuid>,
    pub password_hash: String,
}

/// An account as stored, without its password hash.
#[derive(Debug, Clone, Serialize)]
pub struct StoredUser {
    pub id: Uuid,
    pub tenant: Option<TenantCode>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub reviewing_body: Option<Uuid>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: StoredUser,
    pub expires_at: Timestamp,
}

/// Recent failed logins, counted by account and by client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailureCounts {
    pub account: u32,
    pub address: u32,
}

const USER_COLUMNS: &str = "users.id, users.tenant_code, users.username, users.display_name, users.role, \
     users.reviewing_body_id, users.created_at";

impl Store {
    pub async fn create_user(
        &self,
        new: &NewUser,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<StoredUser, StoreError> {
        let mut tx = self.begin_write().await?;
        if let (Some(tenant), Some(body)) = (&new.tenant, new.reviewing_body) {
            let known =
                sqlx::query("SELECT 1 FROM reviewing_bodies WHERE tenant_code = $1 AND id = $2")
                    .bind(tenant.as_str())
                    .bind(body.to_string())
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
            if !known {
                return Err(StoreError::Invalid(InvalidInput::new(
                    "/reviewing_body_id",
                    Rule::ReviewingBodyUnknown,
                )));
            }
        }
        let user = insert_user(&mut tx, new, actor, at).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Replaces an account's password hash, e.g. when the demo data set is laid anew.
    pub async fn set_password_hash(
        &self,
        user_id: Uuid,
        password_hash: &str,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(user_id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let user = stored_user(&row)?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: user.tenant.as_ref(),
                actor,
                action: "user.set_password",
                entity_kind: "user",
                entity_id: user_id.to_string(),
                before: None,
                after: None,
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The accounts of a tenant, or the node-wide ones when `tenant` is `None`.
    pub async fn users(&self, tenant: Option<&TenantCode>) -> Result<Vec<StoredUser>, StoreError> {
        let rows =
            match tenant {
                Some(tenant) => {
                    sqlx::query(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE tenant_code = $1 ORDER BY username"
                    ))
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?
                }
                None => sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE tenant_code IS NULL ORDER BY username"
                ))
                .fetch_all(&self.pool)
                .await?,
            };
        rows.iter().map(stored_user).collect()
    }

    pub async fn user(&self, tenant: &TenantCode, id: Uuid) -> Result<StoredUser, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_code = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        stored_user(&row)
    }

    /// The account and its password hash, for checking a login.
    pub async fn user_for_login(
        &self,
        tenant: Option<&TenantCode>,
        username: &Username,
    ) -> Result<Option<(StoredUser, String)>, StoreError> {
        let row = match tenant {
            Some(tenant) => {
                sqlx::query(&format!(
                    "SELECT {USER_COLUMNS}, users.password_hash FROM users \
                     WHERE tenant_code = $1 AND username = $2"
                ))
                .bind(tenant.as_str())
                .bind(username.as_str())
                .fetch_optional(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {USER_COLUMNS}, users.password_hash FROM users \
                     WHERE tenant_code IS NULL AND username = $1"
                ))
                .bind(username.as_str())
                .fetch_optional(&self.pool)
                .await?
            }
        };
        row.map(|row| Ok((stored_user(&row)?, text(&row, "password_hash")?)))
            .transpose()
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: Uuid,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id.to_string())
        .bind(at.unix_millis())
        .bind(expires_at.unix_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this token hash, if any.
    pub async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, sessions.expires_at FROM sessions \
             JOIN users ON users.id = sessions.user_id \
             WHERE sessions.token_hash = $1 AND sessions.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now.unix_millis())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Session {
                user: stored_user(&row)?,
                expires_at: timestamp(&row, "expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a sign-in attempt as failed; answers its id, so that it can be forgotten if the
    /// attempt succeeds after all.
    pub async fn record_login_failure(
        &self,
        account_key: &str,
        address: &str,
        at: Timestamp,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO login_failures (id, account_key, address, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.to_string())
        .bind(account_key)
        .bind(address)
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn login_failures_since(
        &self,
        account_key: &str,
        address: &str,
        since: Timestamp,
    ) -> Result<LoginFailureCounts, StoreError> {
        let count = |column: &'static str, value: &str| {
            let statement =
                format!("SELECT COUNT(*) AS n FROM login_failures WHERE {column} = $1 AND at > $2");
            let value = value.to_owned();
            async move {
                let row = sqlx::query(&statement)
                    .bind(value)
                    .bind(since.unix_millis())
                    .fetch_one(&self.pool)
                    .await?;
                let n = crate::rows::int(&row, "n")?;
                Ok::<u32, StoreError>(u32::try_from(n).unwrap_or(u32::MAX))
            }
        };
        Ok(LoginFailureCounts {
            account: count("account_key", account_key).await?,
            address: count("address", address).await?,
        })
    }

    /// Forgets an attempt that succeeded; earlier failures still count until they expire.
    pub async fn forget_login_attempt(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Inserts an account and its audit event in the caller's transaction.
pub(crate) async fn insert_user(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    new: &NewUser,
    actor: &Actor,
    at: Timestamp,
) -> Result<StoredUser, StoreError> {
    let user = StoredUser {
        id: Uuid::now_v7(),
        tenant: new.tenant.clone(),
        username: new.username.as_str().to_owned(),
        display_name: new.display_name.clone(),
        role: new.role,
        reviewing_body: new.reviewing_body,
        created_at: at,
    };
    sqlx::query(
        "INSERT INTO users (id, tenant_code, username, display_name, role, \
             reviewing_body_id, password_hash, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user.id.to_string())
    .bind(
        user.tenant
            .as_ref()
            .map(|tenant| tenant.as_str().to_owned()),
    )
    .bind(&user.username)
    .bind(&user.display_name)
    .bind(user.role.as_str())
    .bind(user.reviewing_body.map(|id| id.to_string()))
    .bind(&new.password_hash)
    .bind(at.unix_millis())
    .bind(&actor.name)
    .execute(&mut **tx)
    .await?;
    record(
        tx,
        AuditRecord {
            tenant: user.tenant.as_ref(),
            actor,
            action: "user.create",
            entity_kind: "user",
            entity_id: user.id.to_string(),
            before: None,
            after: Some(json!(user)),
            reason: None,
            at,
        },
    )
    .await?;
    Ok(user)
}

fn stored_user(row: &AnyRow) -> Result<StoredUser, StoreError> {
    let tenant = optional_text(row, "tenant_code")?
        .map(|code| {
            TenantCode::parse(&code).map_err(|_| StoreError::Corrupt(format!("tenant {code:?}")))
        })
        .transpose()?;
    Ok(StoredUser {
        id: uuid(row, "id")?,
        tenant,
        username: text(row, "username")?,
        display_name: text(row, "display_name")?,
        role: enumerated(row, "role", Role::from_db)?,
        reviewing_body: optional_uuid(row, "reviewing_body_id")?,
        created_at: timestamp(row, "created_at")?,
    })
}
