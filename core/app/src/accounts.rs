//! Accounts: creating them with their grants, signing in and out, changing grants, and the
//! audit trail.
//!
//! Sign-in is throttled by counters kept in the database, so that replicas share them, and
//! counted and checked in one statement, so that guesses sent at once are counted one after
//! another: per account and client address (a hard limit), per client address (a hard limit),
//! and per account from anywhere (a delay, never a lock: the right password from another
//! address still signs in, so nobody can lock a person out by failing on purpose).

use std::time::Duration;

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::{
    Action, Actor, Grant, GrantKind, Password, Principal, Rule, Scope, TenantCode, Username,
    check_text, redact_numbers,
};
use zhiyuan_store::{Account, AuditEvent, NewAccount};

use crate::passwords::DECOY_HASH;
use crate::sessions::{new_token, token_hash};
use crate::views::{AccountView, AuditEventView, SignedIn, SignedOutEverywhere};
use crate::{App, AppError};

/// Failed attempts are counted over this window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures one client address may have on one account within the window.
pub const MAX_FAILURES_PER_PAIR: u64 = 5;
/// Failures one client address may have on all accounts within the window.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 30;
/// Failures an account may have from anywhere before each further attempt waits.
pub const FAILURES_BEFORE_DELAY: u64 = 5;
/// The longest an attempt on a much-failed account waits.
pub const MAX_DELAY: Duration = Duration::from_secs(5);

/// An account to create, as an office admin, an operator or the command line gives it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// What the account may do, each a grant over a scope.
    #[serde(default)]
    pub grants: Vec<GrantRequest>,
}

/// A grant as asked for: a kind and, where the kind needs one, what it applies to.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub kind: GrantKind,
    /// `node`, `tenant`, `reviewing_body:<id>`, `team:<id>` or `project:<id>`; a kind that
    /// applies to one scope only may leave it out.
    #[serde(default)]
    pub scope: Option<Scope>,
}

impl GrantRequest {
    /// The grant, for an account of a tenant or of the node.
    pub fn parse(self, node_wide: bool, field: &str) -> Result<Grant, AppError> {
        let scope = match (self.scope, self.kind) {
            (Some(scope), _) => scope,
            (None, GrantKind::Operator) => Scope::Node,
            (None, GrantKind::Auditor) if node_wide => Scope::Node,
            (None, GrantKind::Auditor | GrantKind::OfficeAdmin) => Scope::Tenant,
            (None, _) => {
                return Err(zhiyuan_domain::InvalidInput::new(
                    format!("{field}/scope"),
                    Rule::GrantScope,
                )
                .into());
            }
        };
        Ok(Grant::new(self.kind, scope, node_wide, field)?)
    }
}

/// A sign-in as given.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The tenant's code; absent for an account of the node.
    pub tenant: Option<String>,
    pub username: String,
    pub password: String,
}

/// Changes to an account's grants.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantChanges {
    #[serde(default)]
    pub add: Vec<GrantRequest>,
    #[serde(default)]
    pub revoke: Vec<GrantRequest>,
}

pub(crate) fn view(account: Account) -> AccountView {
    AccountView {
        id: account.id,
        tenant: account.tenant,
        username: account.username,
        display_name: account.display_name,
        grants: account.grants,
        volunteer_id: account.volunteer_id,
        created_at: account.created_at,
    }
}

/// Creates an account of a tenant (or of the node, for `tenant` `None`) with its grants. The
/// grants an office admin may give stay within its tenant; an operator may give any.
pub async fn create_account(
    app: &App,
    tenant: Option<&TenantCode>,
    request: AccountRequest,
    actor: &Actor,
) -> Result<AccountView, AppError> {
    let username = Username::parse(&request.username, "/username")?;
    let display_name = request.display_name.trim();
    if display_name.is_empty() {
        return Err(zhiyuan_domain::InvalidInput::new("/display_name", Rule::NameEmpty).into());
    }
    check_text(display_name, 100, "/display_name")?;
    let password = Password::parse(&request.password, "/password")?;
    let grants = request
        .grants
        .iter()
        .enumerate()
        .map(|(index, grant)| grant.parse(tenant.is_none(), &format!("/grants/{index}")))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(tenant) = tenant {
        app.store
            .tenant(tenant)
            .await
            .map_err(|error| AppError::unknown("/tenant", Rule::TenantUnknown)(error.into()))?;
    }
    // A taken username is refused before the password is hashed, which costs far more.
    if app
        .store
        .account_for_sign_in(tenant, &username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(zhiyuan_store::UniqueField::Username));
    }
    let new = NewAccount {
        tenant: tenant.cloned(),
        username,
        display_name: display_name.to_owned(),
        password_hash: app.passwords.hash(&password).await?,
        grants,
    };
    let account = app
        .store
        .create_account(&new, actor, app.clock.now())
        .await?;
    Ok(view(account))
}

/// Signs in: checks the password under the throttle and starts a session.
pub async fn sign_in(
    app: &App,
    request: SignInRequest,
    client_address: &str,
) -> Result<SignedIn, AppError> {
    let tenant = request
        .tenant
        .as_deref()
        .map(|code| {
            TenantCode::parse(code)
                .map_err(|rule| AppError::from(zhiyuan_domain::InvalidInput::new("/tenant", rule)))
        })
        .transpose()?;
    let now = app.clock.now();
    let realm = tenant.as_ref().map_or("node", TenantCode::as_str);
    // What is kept of the name typed (throttle keys, the audit trail, the log) never holds an
    // identity or mobile number typed in its place: no username holds one, so nothing is lost.
    let typed = redact_numbers(&request.username);
    let account_key = format!("account:{realm}/{typed}");
    let pair_key = format!("pair:{realm}/{typed}@{client_address}");
    let address_key = format!("address:{client_address}");
    let window = THROTTLE_WINDOW.as_millis() as i64;

    // The attempt counts as failed until it succeeds, and is counted before anything else is
    // looked at: of attempts sent at once, only those within the limits are ever checked.
    let counts = app
        .store
        .count_attempt(&[pair_key.clone(), address_key.clone()], window, now)
        .await?;
    if counts[0] > MAX_FAILURES_PER_PAIR || counts[1] > MAX_FAILURES_PER_ADDRESS {
        return Err(AppError::TooManyAttempts {
            retry_after_seconds: THROTTLE_WINDOW.as_secs(),
        });
    }
    let account_failures = app.store.attempts(&account_key, window, now).await?;
    if account_failures >= FAILURES_BEFORE_DELAY {
        let extra = account_failures + 1 - FAILURES_BEFORE_DELAY;
        tokio::time::sleep(Duration::from_secs(extra).min(MAX_DELAY)).await;
    }

    // A username that cannot exist is checked like one that does not, at the same cost.
    let found = match Username::parse(&request.username, "/username") {
        Ok(username) => {
            app.store
                .account_for_sign_in(tenant.as_ref(), &username)
                .await?
        }
        Err(_) => None,
    };
    let hash = found
        .as_ref()
        .map_or(DECOY_HASH, |(_, hash)| hash.as_str())
        .to_owned();
    let verified = match app.passwords.verify(&request.password, &hash).await {
        // Not checked, so not an attempt: given back, so that a busy node locks no one out.
        Err(busy @ AppError::Busy { .. }) => {
            app.store.add_to_counter(&pair_key, -1, window, now).await?;
            app.store
                .add_to_counter(&address_key, -1, window, now)
                .await?;
            return Err(busy);
        }
        checked => checked?,
    };
    let Some((account, _)) = found.filter(|_| verified) else {
        app.store.count_attempt(&[account_key], window, now).await?;
        app.store
            .record_refused_sign_in(tenant.as_ref(), &typed, client_address, now)
            .await?;
        tracing::info!(
            tenant = realm,
            username = ?typed,
            address = ?client_address,
            "refused sign-in"
        );
        return Err(AppError::BadCredentials);
    };
    // Only failures count against the pair and the address: this one is given back.
    app.store.clear_attempts(&[pair_key]).await?;
    app.store
        .add_to_counter(&address_key, -1, window, now)
        .await?;
    let token = new_token();
    let ttl = i64::try_from(app.settings.session_ttl.as_secs()).unwrap_or(i64::MAX / 1000);
    let expires_at = now.plus_seconds(ttl);
    app.store
        .create_session(&account, &token_hash(&token), now, expires_at)
        .await?;
    Ok(SignedIn {
        token,
        expires_at,
        account: view(account),
    })
}

/// The principal a session token signs in, if its session is live.
pub async fn principal(app: &App, token: &str) -> Result<Option<Principal>, AppError> {
    app.sessions
        .principal(&app.store, token, app.clock.now())
        .await
}

/// The signed-in account.
pub async fn current(app: &App, principal: &Principal) -> Result<AccountView, AppError> {
    Ok(view(
        app.store
            .account(principal.tenant.as_ref(), principal.account_id)
            .await?,
    ))
}

/// Signs out: the token stops working at once on this node.
pub async fn sign_out(app: &App, principal: &Principal, token: &str) -> Result<(), AppError> {
    let hash = token_hash(token);
    app.store
        .end_session(principal, &hash, app.clock.now())
        .await?;
    app.sessions.forget_token(&hash);
    Ok(())
}

/// Signs out every session of the account, on every device.
pub async fn sign_out_everywhere(
    app: &App,
    principal: &Principal,
) -> Result<SignedOutEverywhere, AppError> {
    let ended = app
        .store
        .end_all_sessions(principal, app.clock.now())
        .await?;
    app.sessions.forget_account(principal.account_id);
    Ok(SignedOutEverywhere {
        sessions_ended: ended,
    })
}

/// The accounts of a tenant.
pub async fn list(app: &App, tenant: &TenantCode) -> Result<Vec<AccountView>, AppError> {
    Ok(app
        .store
        .accounts(Some(tenant))
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// The accounts of the node.
pub async fn list_node_accounts(app: &App) -> Result<Vec<AccountView>, AppError> {
    Ok(app
        .store
        .accounts(None)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// One account: to itself, and to those who manage or audit the tenant's accounts.
pub async fn read(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<AccountView, AppError> {
    let itself = principal.belongs_to(tenant) && principal.account_id == id;
    let manages = [
        GrantKind::OfficeAdmin,
        GrantKind::Auditor,
        GrantKind::Operator,
    ]
    .into_iter()
    .any(|kind| principal.holds_in(kind, Some(tenant)));
    if !itself && !manages {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    Ok(view(app.store.account(Some(tenant), id).await?))
}

/// Adds and takes away grants of an account of the tenant. Nobody changes their own grants.
pub async fn change_grants(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    account_id: Uuid,
    changes: GrantChanges,
) -> Result<AccountView, AppError> {
    if principal.belongs_to(tenant) && principal.account_id == account_id {
        return Err(AppError::Refused(Rule::OwnApplication));
    }
    let parse = |list: &[GrantRequest], name: &str| {
        list.iter()
            .enumerate()
            .map(|(index, grant)| grant.parse(false, &format!("/{name}/{index}")))
            .collect::<Result<Vec<_>, _>>()
    };
    let add = parse(&changes.add, "add")?;
    let revoke = parse(&changes.revoke, "revoke")?;
    let (actor, now) = (principal.actor(), app.clock.now());
    let mut account = None;
    for grant in add {
        account = Some(
            app.store
                .add_grant(tenant, account_id, grant, &actor, now)
                .await?,
        );
    }
    for grant in revoke {
        account = Some(
            app.store
                .revoke_grant(tenant, account_id, grant, &actor, now)
                .await?,
        );
    }
    app.sessions.forget_account(account_id);
    let account = match account {
        Some(account) => account,
        None => app.store.account(Some(tenant), account_id).await?,
    };
    Ok(view(account))
}

/// The tenant's audit trail, newest first, at most `limit` events.
pub async fn audit_trail(
    app: &App,
    tenant: &TenantCode,
    limit: u32,
) -> Result<Vec<AuditEventView>, AppError> {
    Ok(app
        .store
        .audit_events(tenant, limit)
        .await?
        .into_iter()
        .map(audit_view)
        .collect())
}

fn audit_view(event: AuditEvent) -> AuditEventView {
    AuditEventView {
        seq: event.seq,
        id: event.id,
        actor_account_id: event.actor_account_id,
        actor_name: event.actor_name,
        action: event.action,
        entity_kind: event.entity_kind,
        entity_id: event.entity_id,
        before: event.before,
        after: event.after,
        reason: event.reason,
        at: event.at,
        hash: event.hash,
    }
}

/// The longest window any counter is kept for: a day, for upload quotas.
const LONGEST_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// Deletes expired sessions and spent throttle counters; the node runs this now and then.
pub async fn purge_expired(app: &App) -> Result<(u64, u64), AppError> {
    Ok(app
        .store
        .purge_expired(app.clock.now(), LONGEST_WINDOW.as_millis() as i64)
        .await?)
}

/// Whether a principal may perform an action in a tenant (or outside any, for `None`), as the
/// permission table says; the interfaces ask this before they read a request.
pub fn may(principal: Option<&Principal>, action: Action, tenant: Option<&TenantCode>) -> bool {
    match principal {
        Some(principal) => principal.may(action, tenant),
        None => action.is_public(),
    }
}
