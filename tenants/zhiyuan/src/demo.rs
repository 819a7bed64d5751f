//! The demo data set: one account of every role, with fresh passwords printed at each start,
//! so that a first look at a node shows something real.

use anyhow::{Context, anyhow};
use rand::Rng;
use rand::distributions::Alphanumeric;
use zhiyuan_api::auth::hash_password;
use zhiyuan_api::service::{AccountRequest, create_account};
use zhiyuan_domain::{Actor, Clock, Password, ReviewingBodyKind, Role, TenantCode, Username};
use zhiyuan_store::Store;

/// A demo account and the password it was given this time.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub tenant: Option<TenantCode>,
    pub username: String,
    pub role: Role,
    pub password: String,
}

struct PlannedAccount {
    tenant: Option<TenantCode>,
    username: &'static str,
    display_name: &'static str,
    role: Role,
    reviewing_body: Option<uuid::Uuid>,
}

const SUIZHOU: &str = "421300";
const EZHOU: &str = "420700";

/// Creates the demo accounts, or gives existing ones a new password.
pub async fn seed(store: &Store, clock: &dyn Clock) -> anyhow::Result<Vec<DemoAccount>> {
    let suizhou = TenantCode::parse(SUIZHOU).map_err(|e| anyhow!("{e:?}"))?;
    let ezhou = TenantCode::parse(EZHOU).map_err(|e| anyhow!("{e:?}"))?;
    let city_federation = store
        .reviewing_bodies(&suizhou)
        .await?
        .into_iter()
        .find(|body| body.kind == ReviewingBodyKind::Federation && body.region == *suizhou.region())
        .context("the Suizhou tenant has no city federation; is it loaded?")?;

    let account = |tenant: Option<&TenantCode>,
                   username: &'static str,
                   display_name: &'static str,
                   role: Role| {
        PlannedAccount {
            tenant: tenant.cloned(),
            username,
            display_name,
            role,
            reviewing_body: None,
        }
    };
    let plan = [
        account(None, "operator", "湖北省运营方", Role::Operator),
        account(
            Some(&suizhou),
            "office",
            "随州市文明办管理员",
            Role::OfficeAdmin,
        ),
        PlannedAccount {
            reviewing_body: Some(city_federation.id),
            ..account(
                Some(&suizhou),
                "federation.reviewer",
                "随州市志愿服务联合会审核员",
                Role::Reviewer,
            )
        },
        account(
            Some(&suizhou),
            "team.admin",
            "志愿服务队管理员",
            Role::TeamAdmin,
        ),
        account(Some(&suizhou), "volunteer", "张三", Role::Volunteer),
        account(Some(&suizhou), "auditor", "审计员", Role::Auditor),
        account(
            Some(&ezhou),
            "office",
            "鄂州市文明办管理员",
            Role::OfficeAdmin,
        ),
    ];
    let actor = Actor::system("demo");
    let mut accounts = Vec::new();
    for PlannedAccount {
        tenant,
        username,
        display_name,
        role,
        reviewing_body,
    } in plan
    {
        let tenant = tenant.as_ref();
        let password: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(16)
            .map(char::from)
            .collect();
        let parsed_username = Username::parse(username, "/username")?;
        match store.user_for_login(tenant, &parsed_username).await? {
            Some((user, _)) => {
                let hash = hash_password(&Password::parse(&password, "/password")?)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                store
                    .set_password_hash(user.id, &hash, &actor, clock.now())
                    .await?;
            }
            None => {
                let request = AccountRequest {
                    tenant: tenant.cloned(),
                    username: username.to_owned(),
                    display_name: display_name.to_owned(),
                    role,
                    reviewing_body,
                    password: password.clone(),
                };
                create_account(store, request, &actor, clock.now())
                    .await
                    .map_err(|e| anyhow!("demo account {username}: {e}"))?;
            }
        }
        accounts.push(DemoAccount {
            tenant: tenant.cloned(),
            username: username.to_owned(),
            role,
            password,
        });
    }
    Ok(accounts)
}

/// The printed table of demo credentials.
pub fn credentials_table(accounts: &[DemoAccount]) -> String {
    let mut table = String::from("Demo accounts (passwords are new at every start):\n");
    table.push_str(&format!(
        "  {:<8} {:<22} {:<14} {}\n",
        "tenant", "username", "role", "password"
    ));
    for account in accounts {
        let tenant = account
            .tenant
            .as_ref()
            .map(TenantCode::as_str)
            .unwrap_or("(node)");
        table.push_str(&format!(
            "  {:<8} {:<22} {:<14} {}\n",
            tenant,
            account.username,
            account.role.as_str(),
            account.password
        ));
    }
    table
}
