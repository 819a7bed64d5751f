//! The demo data set: one account of every role, with fresh passwords printed at each start,
//! so that a first look at a node shows something real.

use anyhow::{Context, anyhow};
use rand::Rng;
use rand::distributions::Alphanumeric;
use zhiyuan_api::auth::hash_password;
use zhiyuan_api::service::{AccountRequest, create_account};
use zhiyuan_domain::{
    Actor, Clock, IdDocumentKind, Password, ReviewingBodyKind, Role, ServiceCategory, TenantCode,
    Username, VolunteerNumber,
};
use zhiyuan_store::{NewUser, Store, VolunteerApplication, VolunteerDecision, VolunteerFilter};

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
            None if role == Role::Volunteer => {
                // The demo volunteer is a verified volunteer, with a number and a card.
                let hash = hash_password(&Password::parse(&password, "/password")?)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                let tenant = tenant.context("a volunteer belongs to a tenant")?;
                let account = NewUser {
                    tenant: Some(tenant.clone()),
                    username: parsed_username.clone(),
                    display_name: display_name.to_owned(),
                    role,
                    reviewing_body: None,
                    password_hash: hash,
                };
                let person = DemoPerson {
                    name: display_name,
                    first17: "42130319900307123",
                    region: "421303",
                    unit: None,
                    verified: true,
                };
                person
                    .register(store, tenant, Some(&account), &actor, clock)
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

/// A demo volunteer: a real-looking name and a valid resident ID number.
struct DemoPerson {
    name: &'static str,
    first17: &'static str,
    region: &'static str,
    unit: Option<&'static str>,
    verified: bool,
}

const PEOPLE: [DemoPerson; 6] = [
    DemoPerson {
        name: "李娜",
        first17: "42130319850612002",
        region: "421303",
        unit: Some("随州市公安局"),
        verified: true,
    },
    DemoPerson {
        name: "王强",
        first17: "42132119920815001",
        region: "421321",
        unit: None,
        verified: true,
    },
    DemoPerson {
        name: "阿卜杜勒·艾尼",
        first17: "42138119780301003",
        region: "421381",
        unit: None,
        verified: true,
    },
    DemoPerson {
        name: "陈晨",
        first17: "42130320010120004",
        region: "421303",
        unit: Some("随州市公安局"),
        verified: false,
    },
    DemoPerson {
        name: "刘洋",
        first17: "42130019960707005",
        region: "421371",
        unit: None,
        verified: false,
    },
    DemoPerson {
        name: "赵敏",
        first17: "42132119880909006",
        region: "421321",
        unit: None,
        verified: true,
    },
];

impl DemoPerson {
    /// Registers the person (with an account when given one) and, if so planned, verifies them.
    async fn register(
        &self,
        store: &Store,
        tenant: &TenantCode,
        account: Option<&NewUser>,
        actor: &Actor,
        clock: &dyn Clock,
    ) -> anyhow::Result<()> {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = self
            .first17
            .bytes()
            .zip(weights)
            .map(|(digit, weight)| u32::from(digit - b'0') * weight)
            .sum();
        let id_number = format!(
            "{}{}",
            self.first17,
            b"10X98765432"[(sum % 11) as usize] as char
        );
        let unit = match self.unit {
            Some(name) => store
                .units(tenant)
                .await?
                .into_iter()
                .find(|unit| unit.name.zh == name)
                .map(|unit| unit.id),
            None => None,
        };
        let application = VolunteerApplication {
            name: self.name.to_owned(),
            id_kind: IdDocumentKind::ResidentIdCard,
            id_number,
            mobile: "13800001234".to_owned(),
            region: self.region.to_owned(),
            unit,
            skills: vec!["急救".to_owned(), "普通话".to_owned()],
            service_categories: vec![
                ServiceCategory::Community,
                ServiceCategory::ElderlyAndDisabled,
            ],
            availability: Some("周末".to_owned()),
        };
        let volunteer = application
            .parse(clock.now().shanghai_date())
            .map_err(|e| anyhow!("demo person {}: {e}", self.name))?;
        let record = store
            .register_volunteer(tenant, &volunteer, account, actor, clock.now())
            .await?;
        if self.verified {
            let number = VolunteerNumber::new(tenant, rand::random::<u32>());
            store
                .decide_volunteer(
                    tenant,
                    record.id,
                    &VolunteerDecision::Verify(number),
                    actor,
                    clock.now(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Volunteers, verified and pending, for a first look at the Suizhou tenant, once.
pub async fn seed_people(store: &Store, clock: &dyn Clock) -> anyhow::Result<usize> {
    let suizhou = TenantCode::parse(SUIZHOU).map_err(|e| anyhow!("{e:?}"))?;
    let filter = VolunteerFilter {
        limit: 100,
        ..VolunteerFilter::default()
    };
    if store.volunteers(&suizhou, &filter).await?.len() > 1 {
        return Ok(0);
    }
    let actor = Actor::system("demo");
    for person in &PEOPLE {
        person
            .register(store, &suizhou, None, &actor, clock)
            .await?;
    }
    Ok(PEOPLE.len())
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
