//! Accounts, their grants and sessions, and the counters that throttle sign-in.

use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, AuditAction, Grant, GrantKind, InvalidInput, Principal, Rule, Scope, TenantCode,
    Timestamp, Username,
};

use crate::audit::{AuditRecord, record};
use crate::rows::{int, optional_uuid, text, timestamp, uuid};
use crate::{NODE_REALM, Store, StoreError, realm};

/// Sessions an account keeps at once; signing in again ends the oldest.
pub const SESSIONS_PER_ACCOUNT: i64 = 10;

/// An account to create; the password is already hashed (PHC string).
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The tenant it belongs to; `None` for an account of the node.
    pub tenant: Option<TenantCode>,
    pub username: Username,
    pub display_name: String,
    pub password_hash: String,
    pub grants: Vec<Grant>,
}

/// An account as stored, with its grants and volunteer record, without its password hash.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: Uuid,
    pub tenant: Option<TenantCode>,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub volunteer_id: Option<Uuid>,
    pub created_at: Timestamp,
}

impl Account {
    pub fn principal(&self) -> Principal {
        Principal {
            account_id: self.id,
            tenant: self.tenant.clone(),
            username: self.username.clone(),
            grants: self.grants.clone(),
            volunteer_id: self.volunteer_id,
        }
    }
}

/// A live session: who it signs in, until when.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub expires_at: Timestamp,
}

const ACCOUNT_COLUMNS: &str = "accounts.tenant_code, accounts.id, accounts.username, \
     accounts.display_name, accounts.created_at, volunteers.id AS volunteer_id";

const ACCOUNT_FROM: &str = "accounts LEFT JOIN volunteers \
     ON volunteers.tenant_code = accounts.tenant_code AND volunteers.account_id = accounts.id";

impl Store {
    pub async fn create_account(
        &self,
        new: &NewAccount,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Account, StoreError> {
        let mut tx = self.begin_write().await?;
        let account = insert_account(&mut tx, new, actor, at).await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Replaces an account's password hash and ends its sessions.
    pub async fn set_password_hash(
        &self,
        tenant: Option<&TenantCode>,
        account_id: Uuid,
        password_hash: &str,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE accounts SET password_hash = $1 WHERE tenant_code = $2 AND id = $3",
        )
        .bind(password_hash)
        .bind(realm(tenant))
        .bind(account_id.to_string())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE tenant_code = $1 AND account_id = $2")
            .bind(realm(tenant))
            .bind(account_id.to_string())
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant,
                actor,
                action: AuditAction::AccountSetPassword,
                entity_id: account_id.to_string(),
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

    /// The accounts of a tenant, or of the node when `tenant` is `None`.
    pub async fn accounts(&self, tenant: Option<&TenantCode>) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNT_FROM} \
             WHERE accounts.tenant_code = $1 ORDER BY accounts.username"
        ))
        .bind(realm(tenant))
        .fetch_all(&self.pool)
        .await?;
        let mut grants = grants_of_realm(&self.pool, realm(tenant)).await?;
        rows.iter()
            .map(|row| {
                let mut account = account(row)?;
                account.grants = grants.remove(&account.id).unwrap_or_default();
                Ok(account)
            })
            .collect()
    }

    pub async fn account(
        &self,
        tenant: Option<&TenantCode>,
        id: Uuid,
    ) -> Result<Account, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNT_FROM} \
             WHERE accounts.tenant_code = $1 AND accounts.id = $2"
        ))
        .bind(realm(tenant))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut account = account(&row)?;
        account.grants = grants_of(&self.pool, realm(tenant), id).await?;
        Ok(account)
    }

    /// The account and its password hash, for checking a sign-in.
    pub async fn account_for_sign_in(
        &self,
        tenant: Option<&TenantCode>,
        username: &Username,
    ) -> Result<Option<(Account, String)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, accounts.password_hash FROM {ACCOUNT_FROM} \
             WHERE accounts.tenant_code = $1 AND accounts.username = $2"
        ))
        .bind(realm(tenant))
        .bind(username.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut found = account(&row)?;
        found.grants = grants_of(&self.pool, realm(tenant), found.id).await?;
        Ok(Some((found, text(&row, "password_hash")?)))
    }

    /// Starts a session, ending the account's oldest ones beyond `SESSIONS_PER_ACCOUNT`, and
    /// records the sign-in.
    pub async fn create_session(
        &self,
        account: &Account,
        token_hash: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let trail = realm(account.tenant.as_ref());
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (tenant_code, token_hash, account_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(trail)
        .bind(token_hash)
        .bind(account.id.to_string())
        .bind(at.unix_millis())
        .bind(expires_at.unix_millis())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE tenant_code = $1 AND account_id = $2 \
             AND token_hash NOT IN ( \
               SELECT token_hash FROM sessions WHERE tenant_code = $1 AND account_id = $2 \
               ORDER BY created_at DESC, token_hash LIMIT $3)",
        )
        .bind(trail)
        .bind(account.id.to_string())
        .bind(SESSIONS_PER_ACCOUNT)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: account.tenant.as_ref(),
                actor: &account.principal().actor(),
                action: AuditAction::SignIn,
                entity_id: account.id.to_string(),
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

    /// The live session with this token hash, with the principal it signs in.
    pub async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, sessions.expires_at FROM sessions \
             JOIN accounts ON accounts.tenant_code = sessions.tenant_code \
               AND accounts.id = sessions.account_id \
             LEFT JOIN volunteers ON volunteers.tenant_code = accounts.tenant_code \
               AND volunteers.account_id = accounts.id \
             WHERE sessions.token_hash = $1 AND sessions.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now.unix_millis())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut found = account(&row)?;
        found.grants = grants_of(&self.pool, realm(found.tenant.as_ref()), found.id).await?;
        Ok(Some(Session {
            principal: found.principal(),
            expires_at: timestamp(&row, "expires_at")?,
        }))
    }

    /// Ends one session (signing out), recorded in the account's trail.
    pub async fn end_session(
        &self,
        principal: &Principal,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE tenant_code = $1 AND token_hash = $2")
            .bind(realm(principal.tenant.as_ref()))
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        record_account_event(&mut tx, principal, AuditAction::SignOut, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of an account (signing out everywhere); answers how many.
    pub async fn end_all_sessions(
        &self,
        principal: &Principal,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE tenant_code = $1 AND account_id = $2")
            .bind(realm(principal.tenant.as_ref()))
            .bind(principal.account_id.to_string())
            .execute(&mut *tx)
            .await?;
        record_account_event(&mut tx, principal, AuditAction::SignOutEverywhere, at).await?;
        tx.commit().await?;
        Ok(ended.rows_affected())
    }

    /// Records a refused sign-in (never the password) in the trail of the tenant it was for.
    pub async fn record_refused_sign_in(
        &self,
        tenant: Option<&TenantCode>,
        username: &str,
        address: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // A sign-in to a tenant the node does not serve has no trail of its own: the node's
        // trail records it, with the tenant that was named.
        let hosted = match tenant {
            Some(tenant) => sqlx::query("SELECT 1 AS one FROM tenants WHERE code = $1")
                .bind(tenant.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .is_some(),
            None => true,
        };
        let (trail, entity_id) = match tenant {
            Some(tenant) if !hosted => (None, format!("{tenant}/{username}")),
            _ => (tenant, username.to_owned()),
        };
        record(
            &mut tx,
            AuditRecord {
                tenant: trail,
                actor: &Actor {
                    account_id: None,
                    name: format!("sign-in:{address}"),
                },
                action: AuditAction::SignInRefused,
                entity_id,
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

    /// Adds a grant to an account of a tenant, checking that what it is scoped to is the
    /// tenant's. Adding a grant the account holds already changes nothing.
    pub async fn add_grant(
        &self,
        tenant: &TenantCode,
        account_id: Uuid,
        grant: Grant,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Account, StoreError> {
        let mut tx = self.begin_write().await?;
        require_account(&mut tx, tenant.as_str(), account_id).await?;
        check_grant_target(&mut tx, tenant.as_str(), grant, "/grant").await?;
        let added = insert_grant(&mut tx, tenant.as_str(), account_id, grant, actor, at).await?;
        if added {
            record(
                &mut tx,
                AuditRecord {
                    tenant: Some(tenant),
                    actor,
                    action: AuditAction::GrantAdd,
                    entity_id: account_id.to_string(),
                    before: None,
                    after: Some(json!(grant)),
                    reason: None,
                    at,
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.account(Some(tenant), account_id).await
    }

    /// Takes a grant away; taking one the account does not hold changes nothing.
    pub async fn revoke_grant(
        &self,
        tenant: &TenantCode,
        account_id: Uuid,
        grant: Grant,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Account, StoreError> {
        let mut tx = self.begin_write().await?;
        require_account(&mut tx, tenant.as_str(), account_id).await?;
        let removed = sqlx::query(
            "DELETE FROM grants WHERE tenant_code = $1 AND account_id = $2 AND kind = $3 \
             AND scope = $4",
        )
        .bind(tenant.as_str())
        .bind(account_id.to_string())
        .bind(grant.kind.as_str())
        .bind(grant.scope.to_text())
        .execute(&mut *tx)
        .await?;
        if removed.rows_affected() > 0 {
            record(
                &mut tx,
                AuditRecord {
                    tenant: Some(tenant),
                    actor,
                    action: AuditAction::GrantRevoke,
                    entity_id: account_id.to_string(),
                    before: Some(json!(grant)),
                    after: None,
                    reason: None,
                    at,
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.account(Some(tenant), account_id).await
    }

    /// The accounts of the tenant holding a grant of `kind` over `scope`.
    pub async fn holders(
        &self,
        tenant: &TenantCode,
        kind: GrantKind,
        scope: Scope,
    ) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id FROM grants WHERE tenant_code = $1 AND kind = $2 AND scope = $3 \
             ORDER BY granted_at, account_id",
        )
        .bind(tenant.as_str())
        .bind(kind.as_str())
        .bind(scope.to_text())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| uuid(row, "account_id")).collect()
    }

    /// Counts an attempt (a sign-in, a registration) against each throttle key and answers
    /// the counts, each incremented and read in one statement, so that attempts sent at once
    /// are counted one after another. A key's window starts again once `window_millis` have
    /// passed.
    pub async fn count_attempt(
        &self,
        keys: &[String],
        window_millis: i64,
        now: Timestamp,
    ) -> Result<Vec<u64>, StoreError> {
        let mut counts = Vec::with_capacity(keys.len());
        for key in keys {
            counts.push(self.add_to_counter(key, 1, window_millis, now).await?);
        }
        Ok(counts)
    }

    /// Adds `amount` to a throttle counter (bytes uploaded, say; a negative amount gives back
    /// an attempt that succeeded) and answers its total in the current window, in one
    /// statement.
    pub async fn add_to_counter(
        &self,
        key: &str,
        amount: i64,
        window_millis: i64,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO throttle (key, window_start, n) VALUES ($1, $2, $4) \
             ON CONFLICT (key) DO UPDATE SET \
               n = CASE WHEN throttle.window_start <= $3 THEN $4 \
                               ELSE throttle.n + $4 END, \
               window_start = CASE WHEN throttle.window_start <= $3 THEN $2 \
                                   ELSE throttle.window_start END \
             RETURNING n",
        )
        .bind(key)
        .bind(now.unix_millis())
        .bind(now.unix_millis() - window_millis)
        .bind(amount)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(int(&row, "n")?).unwrap_or(0))
    }

    /// The attempts counted against a key in its current window, without counting one.
    pub async fn attempts(
        &self,
        key: &str,
        window_millis: i64,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT n FROM throttle WHERE key = $1 AND window_start > $2")
            .bind(key)
            .bind(now.unix_millis() - window_millis)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => u64::try_from(int(&row, "n")?).unwrap_or(0),
            None => 0,
        })
    }

    /// Forgets the counts of keys (after a successful sign-in).
    pub async fn clear_attempts(&self, keys: &[String]) -> Result<(), StoreError> {
        for key in keys {
            sqlx::query("DELETE FROM throttle WHERE key = $1")
                .bind(key)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Deletes expired sessions and throttle counters whose window has passed; answers how
    /// many rows of each went.
    pub async fn purge_expired(
        &self,
        now: Timestamp,
        window_millis: i64,
    ) -> Result<(u64, u64), StoreError> {
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.unix_millis())
            .execute(&self.pool)
            .await?
            .rows_affected();
        let counters = sqlx::query("DELETE FROM throttle WHERE window_start <= $1")
            .bind(now.unix_millis() - window_millis)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok((sessions, counters))
    }
}

/// Inserts an account, its grants and its audit event in the caller's transaction.
pub(crate) async fn insert_account(
    tx: &mut AnyConnection,
    new: &NewAccount,
    actor: &Actor,
    at: Timestamp,
) -> Result<Account, StoreError> {
    let trail = realm(new.tenant.as_ref());
    let account = Account {
        id: Uuid::now_v7(),
        tenant: new.tenant.clone(),
        username: new.username.as_str().to_owned(),
        display_name: new.display_name.clone(),
        grants: new.grants.clone(),
        volunteer_id: None,
        created_at: at,
    };
    sqlx::query(
        "INSERT INTO accounts (tenant_code, id, username, display_name, password_hash, \
         created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(trail)
    .bind(account.id.to_string())
    .bind(&account.username)
    .bind(&account.display_name)
    .bind(&new.password_hash)
    .bind(at.unix_millis())
    .bind(&actor.name)
    .execute(&mut *tx)
    .await?;
    for (index, grant) in new.grants.iter().enumerate() {
        check_grant_target(tx, trail, *grant, &format!("/grants/{index}")).await?;
        insert_grant(tx, trail, account.id, *grant, actor, at).await?;
    }
    record(
        tx,
        AuditRecord {
            tenant: new.tenant.as_ref(),
            actor,
            action: AuditAction::AccountCreate,
            entity_id: account.id.to_string(),
            before: None,
            after: Some(json!(account)),
            reason: None,
            at,
        },
    )
    .await?;
    Ok(account)
}

/// Inserts a grant in the caller's transaction; answers whether it is new.
pub(crate) async fn insert_grant(
    tx: &mut AnyConnection,
    trail: &str,
    account_id: Uuid,
    grant: Grant,
    actor: &Actor,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO grants (tenant_code, account_id, kind, scope, granted_at, granted_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_code, account_id, kind, scope) DO NOTHING",
    )
    .bind(trail)
    .bind(account_id.to_string())
    .bind(grant.kind.as_str())
    .bind(grant.scope.to_text())
    .bind(at.unix_millis())
    .bind(&actor.name)
    .execute(&mut *tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// What a grant is scoped to must be the tenant's own: a reviewing body or team of another
/// tenant is simply unknown.
async fn check_grant_target(
    tx: &mut AnyConnection,
    trail: &str,
    grant: Grant,
    field: &str,
) -> Result<(), StoreError> {
    let (table, id) = match grant.scope {
        Scope::Node | Scope::Tenant => return Ok(()),
        Scope::ReviewingBody(id) => ("reviewing_bodies", id),
        Scope::Team(id) => ("teams", id),
        Scope::Project(id) => ("projects", id),
    };
    let known = sqlx::query(&format!(
        "SELECT 1 FROM {table} WHERE tenant_code = $1 AND id = $2"
    ))
    .bind(trail)
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .is_some();
    if known {
        Ok(())
    } else {
        Err(StoreError::Invalid(InvalidInput::new(
            field,
            Rule::GrantTargetUnknown,
        )))
    }
}

async fn require_account(
    tx: &mut AnyConnection,
    trail: &str,
    account_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM accounts WHERE tenant_code = $1 AND id = $2")
        .bind(trail)
        .bind(account_id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

async fn record_account_event(
    tx: &mut AnyConnection,
    principal: &Principal,
    action: AuditAction,
    at: Timestamp,
) -> Result<(), StoreError> {
    record(
        tx,
        AuditRecord {
            tenant: principal.tenant.as_ref(),
            actor: &principal.actor(),
            action,
            entity_id: principal.account_id.to_string(),
            before: None,
            after: None,
            reason: None,
            at,
        },
    )
    .await
}

async fn grants_of(
    pool: &sqlx::AnyPool,
    trail: &str,
    account_id: Uuid,
) -> Result<Vec<Grant>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, scope FROM grants WHERE tenant_code = $1 AND account_id = $2 \
         ORDER BY kind, scope",
    )
    .bind(trail)
    .bind(account_id.to_string())
    .fetch_all(pool)
    .await?;
    rows.iter().map(grant).collect()
}

async fn grants_of_realm(
    pool: &sqlx::AnyPool,
    trail: &str,
) -> Result<std::collections::HashMap<Uuid, Vec<Grant>>, StoreError> {
    let rows = sqlx::query(
        "SELECT account_id, kind, scope FROM grants WHERE tenant_code = $1 \
         ORDER BY account_id, kind, scope",
    )
    .bind(trail)
    .fetch_all(pool)
    .await?;
    let mut grants: std::collections::HashMap<Uuid, Vec<Grant>> = Default::default();
    for row in &rows {
        grants
            .entry(uuid(row, "account_id")?)
            .or_default()
            .push(grant(row)?);
    }
    Ok(grants)
}

fn grant(row: &AnyRow) -> Result<Grant, StoreError> {
    let kind = text(row, "kind")?;
    let scope = text(row, "scope")?;
    let kind = GrantKind::from_db(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("grant kind {kind:?}")))?;
    let scope =
        Scope::parse(&scope).ok_or_else(|| StoreError::Corrupt(format!("scope {scope:?}")))?;
    Ok(Grant { kind, scope })
}

fn account(row: &AnyRow) -> Result<Account, StoreError> {
    let trail = text(row, "tenant_code")?;
    let tenant = if trail == NODE_REALM {
        None
    } else {
        Some(
            TenantCode::parse(&trail)
                .map_err(|_| StoreError::Corrupt(format!("tenant {trail:?}")))?,
        )
    };
    Ok(Account {
        id: uuid(row, "id")?,
        tenant,
        username: text(row, "username")?,
        display_name: text(row, "display_name")?,
        grants: Vec::new(),
        volunteer_id: optional_uuid(row, "volunteer_id")?,
        created_at: timestamp(row, "created_at")?,
    })
}
