//! The demo data set: accounts holding every kind of grant, with fresh passwords printed at
//! each start, a team with a need it answers and projects recruiting near the city centre, and
//! registered volunteers, so that a first look at a node shows something real. Everything is made through the same use cases as over the API.

use anyhow::{Context, anyhow};
use rand::Rng;
use rand::distributions::Alphanumeric;
use zhiyuan_app::App;
use zhiyuan_app::accounts::{AccountRequest, GrantRequest};
use zhiyuan_domain::{
    Actor, GrantKind, IdDocumentKind, LegalStatus, Password, ReviewingBodyKind, Scope,
    ServiceCategory, TeamApplication, TeamStatus, TenantCode, UnitKind, Username,
    VolunteerApplication, VolunteerNumber,
};
use zhiyuan_store::{MembershipStatus, NewAccount, Registrant, VolunteerDecision, VolunteerFilter};

/// A demo account and the password it was given this time.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub tenant: Option<TenantCode>,
    pub username: String,
    /// What it may do, in words.
    pub grants: String,
    pub password: String,
}

const SUIZHOU: &str = "421300";
const EZHOU: &str = "420700";

/// The demo team, which the demo volunteer administers.
const DEMO_TEAM: &str = "曾都区阳光志愿服务队";

fn password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

fn tenant(code: &str) -> anyhow::Result<TenantCode> {
    TenantCode::parse(code).map_err(|rule| anyhow!("{code}: {}", rule.message_en()))
}

fn grant(kind: GrantKind, scope: Option<Scope>) -> GrantRequest {
    GrantRequest { kind, scope }
}

/// Creates the demo accounts, or gives existing ones a new password.
pub async fn seed(app: &App) -> anyhow::Result<Vec<DemoAccount>> {
    let suizhou = tenant(SUIZHOU)?;
    let ezhou = tenant(EZHOU)?;
    let bodies = app.store.reviewing_bodies(&suizhou).await?;
    let city_body = |kind: ReviewingBodyKind| {
        bodies
            .iter()
            .find(|body| body.kind == kind && body.region == *suizhou.region())
            .map(|body| Scope::ReviewingBody(body.id))
            .with_context(|| format!("the Suizhou tenant has no city {}", kind.as_str()))
    };
    let plan: Vec<(Option<&TenantCode>, &str, &str, Vec<GrantRequest>)> = vec![
        (
            None,
            "operator",
            "湖北省运营方",
            vec![grant(GrantKind::Operator, None)],
        ),
        (
            Some(&suizhou),
            "office",
            "随州市文明办管理员",
            vec![grant(GrantKind::OfficeAdmin, None)],
        ),
        (
            Some(&suizhou),
            "reviewer",
            "随州市文明办审核员",
            vec![grant(
                GrantKind::Reviewer,
                Some(city_body(ReviewingBodyKind::CivilisationOffice)?),
            )],
        ),
        (
            Some(&suizhou),
            "association.reviewer",
            "随州市志愿服务联合会审核员",
            vec![grant(
                GrantKind::Reviewer,
                Some(city_body(ReviewingBodyKind::Association)?),
            )],
        ),
        (
            Some(&suizhou),
            "auditor",
            "审计员",
            vec![grant(GrantKind::Auditor, None)],
        ),
        (
            Some(&ezhou),
            "office",
            "鄂州市文明办管理员",
            vec![grant(GrantKind::OfficeAdmin, None)],
        ),
    ];
    let actor = Actor::system("demo");
    let mut accounts = Vec::new();
    for (tenant, username, display_name, grants) in plan {
        let password = password();
        let described = describe(&grants);
        set_or_create(app, tenant, username, &password, &actor, || {
            AccountRequest {
                username: username.to_owned(),
                display_name: display_name.to_owned(),
                password: password.clone(),
                grants,
            }
        })
        .await?;
        accounts.push(DemoAccount {
            tenant: tenant.cloned(),
            username: username.to_owned(),
            grants: described,
            password,
        });
    }
    accounts.push(seed_volunteer(app, &suizhou, &actor).await?);
    Ok(accounts)
}

fn describe(grants: &[GrantRequest]) -> String {
    grants
        .iter()
        .map(|grant| grant.kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Gives an existing account a new password, or creates it.
async fn set_or_create(
    app: &App,
    tenant: Option<&TenantCode>,
    username: &str,
    password: &str,
    actor: &Actor,
    request: impl FnOnce() -> AccountRequest,
) -> anyhow::Result<bool> {
    let parsed = Username::parse(username, "/username")?;
    match app.store.account_for_sign_in(tenant, &parsed).await? {
        Some((account, _)) => {
            let hash = app
                .passwords
                .hash(&Password::parse(password, "/password")?)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            app.store
                .set_password_hash(tenant, account.id, &hash, actor, app.clock.now())
                .await?;
            Ok(false)
        }
        None => {
            zhiyuan_app::accounts::create_account(app, tenant, request(), actor)
                .await
                .map_err(|e| anyhow!("demo account {username}: {e}"))?;
            Ok(true)
        }
    }
}

/// The demo volunteer: one account that is a verified volunteer with a card and the admin of
/// an approved team.
async fn seed_volunteer(
    app: &App,
    suizhou: &TenantCode,
    actor: &Actor,
) -> anyhow::Result<DemoAccount> {
    let username = "volunteer";
    let password = password();
    let parsed = Username::parse(username, "/username")?;
    match app
        .store
        .account_for_sign_in(Some(suizhou), &parsed)
        .await?
    {
        Some((account, _)) => {
            let hash = app
                .passwords
                .hash(&Password::parse(&password, "/password")?)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            app.store
                .set_password_hash(Some(suizhou), account.id, &hash, actor, app.clock.now())
                .await?;
        }
        None => {
            let account = NewAccount {
                tenant: Some(suizhou.clone()),
                username: parsed,
                display_name: "张三".to_owned(),
                password_hash: app
                    .passwords
                    .hash(&Password::parse(&password, "/password")?)
                    .await
                    .map_err(|e| anyhow!("{e}"))?,
                grants: Vec::new(),
            };
            let person = DemoPerson {
                name: "张三",
                first17: "42130319900307123",
                region: "421303",
                unit: None,
                verified: true,
            };
            let account_id = person
                .register(app, suizhou, Registrant::NewAccount(account), actor)
                .await?
                .context("the demo volunteer has an account")?;
            seed_team(app, suizhou, account_id, actor).await?;
        }
    }
    Ok(DemoAccount {
        tenant: Some(suizhou.clone()),
        username: username.to_owned(),
        grants: "volunteer, team_admin".to_owned(),
        password,
    })
}

/// A team of Zengdu district, its liaison the district's association, approved.
async fn seed_team(
    app: &App,
    suizhou: &TenantCode,
    admin: uuid::Uuid,
    actor: &Actor,
) -> anyhow::Result<()> {
    let liaison = app
        .store
        .teams(suizhou)
        .await?
        .into_iter()
        .find(|team| team.association && team.region.as_str() == "421303")
        .context("Zengdu district has no volunteer service association")?;
    let application = TeamApplication {
        name: DEMO_TEAM.to_owned(),
        kind: UnitKind::SocialOrganisation,
        association: false,
        unit_id: None,
        region: "421303".to_owned(),
        contact_name: "张三".to_owned(),
        contact_mobile: "13800001234".to_owned(),
        legal_status: LegalStatus::Unregistered,
        parent_team_id: None,
        liaison_team_id: Some(liaison.id),
        registration_authority_id: None,
        credit_code: None,
        org_code: None,
        certificates: Vec::new(),
    };
    let team = zhiyuan_app::teams::check_application(app, suizhou, application, None)
        .await
        .map_err(|e| anyhow!("demo team: {e}"))?;
    let created = app
        .store
        .create_team(suizhou, &team, admin, actor, app.clock.now())
        .await?;
    app.store
        .decide_team(
            suizhou,
            created.id,
            TeamStatus::Approved,
            None,
            actor,
            app.clock.now(),
        )
        .await?;
    // Its founder serves in it too: a member, whose service the team records.
    let founder = app.store.volunteer_of_account(suizhou, admin).await?;
    app.store
        .apply_membership(suizhou, created.id, founder.id, actor, app.clock.now())
        .await?;
    app.store
        .change_membership(
            suizhou,
            created.id,
            founder.id,
            &[MembershipStatus::Applied],
            MembershipStatus::Member,
            actor,
            app.clock.now(),
        )
        .await?;
    seed_projects(app, suizhou, created.id, actor).await
}

/// A community's need, curated, and two projects of the demo team recruiting near Suizhou's
/// centre, one answering the need; their shifts start days from now.
async fn seed_projects(
    app: &App,
    suizhou: &TenantCode,
    team: uuid::Uuid,
    actor: &Actor,
) -> anyhow::Result<()> {
    let now = app.clock.now();
    let day = |days: i64, hour: i64| {
        let midnight = now.unix_millis() - (now.unix_millis() + 8 * 3_600_000) % 86_400_000;
        zhiyuan_domain::Timestamp::from_unix_millis(midnight + days * 86_400_000 + hour * 3_600_000)
            .to_shanghai_rfc3339()
    };
    let regions = app.store.regions(suizhou).await?;
    let settings = app.store.project_settings(suizhou).await?;
    let context = zhiyuan_domain::ProjectContext {
        regions: &regions,
        categories: &settings.service_categories,
        now,
    };
    let need = zhiyuan_domain::NeedPost {
        title: "西城敬老院周末陪伴".to_owned(),
        description: "敬老院希望每周末有志愿者陪老人聊天、读报。".to_owned(),
        service_categories: vec![ServiceCategory::ElderlyAndDisabled],
        region: "421303".to_owned(),
        address: "随州市曾都区西城街道敬老院".to_owned(),
        place: None,
        starts_at: day(1, 8),
        ends_at: day(30, 18),
        people_needed: 6,
        contact_name: "王五".to_owned(),
        contact_mobile: "13700003333".to_owned(),
        poster: zhiyuan_domain::NeedPoster::Community,
        unit_id: None,
    }
    .parse(&context)
    .map_err(|e| anyhow!("demo need: {e}"))?;
    let poster = app
        .store
        .team(suizhou, team)
        .await?
        .applicant
        .context("the demo team has its founder")?;
    let need = app
        .store
        .post_need(suizhou, &need, poster, actor, now)
        .await?;
    app.store
        .change_need_status(
            suizhou,
            need.id,
            &[zhiyuan_domain::NeedStatus::Submitted],
            zhiyuan_domain::NeedStatus::Open,
            zhiyuan_domain::AuditAction::NeedOpen,
            None,
            actor,
            now,
        )
        .await?;
    let projects = [
        (
            "西城敬老院陪伴",
            Some(need.id),
            (113.3712, 31.7003),
            ServiceCategory::ElderlyAndDisabled,
        ),
        (
            "白云湖环保行",
            None,
            (113.3956, 31.7251),
            ServiceCategory::Environment,
        ),
    ];
    for (title, need, (longitude, latitude), category) in projects {
        let shift = |days: i64| zhiyuan_domain::ShiftDraft {
            starts_at: day(days, 9),
            ends_at: day(days, 12),
            address: None,
            place: None,
            capacity: 10,
            skills: Vec::new(),
            check_in_before_minutes: 30,
            check_in_after_minutes: 30,
        };
        let project = zhiyuan_domain::ProjectDraft {
            title: title.to_owned(),
            summary: "周末半天,欢迎报名".to_owned(),
            description: String::new(),
            service_categories: vec![category],
            skills: Vec::new(),
            region: "421303".to_owned(),
            address: "随州市曾都区".to_owned(),
            place: zhiyuan_domain::PlaceInput {
                longitude,
                latitude,
                system: zhiyuan_domain::CoordinateSystem::Wgs84,
            },
            starts_at: day(1, 0),
            ends_at: day(30, 0),
            contact_name: "张三".to_owned(),
            contact_mobile: "13800001234".to_owned(),
            minors: zhiyuan_domain::MinorsPolicy::NotAllowed,
            acceptance: zhiyuan_domain::Acceptance::Automatic,
            withdrawal_cutoff_hours: 2,
            need_id: need,
            shifts: vec![shift(3), shift(10)],
        }
        .parse(&context)
        .map_err(|e| anyhow!("demo project: {e}"))?;
        let created = app
            .store
            .create_project(suizhou, team, &project, actor, now)
            .await?;
        app.store
            .change_project_status(
                suizhou,
                created.id,
                &[zhiyuan_domain::ProjectStatus::Draft],
                zhiyuan_domain::ProjectStatus::Published,
                zhiyuan_domain::AuditAction::ProjectPublish,
                None,
                actor,
                now,
            )
            .await?;
    }
    Ok(())
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
    /// Registers the person and, if so planned, verifies them; answers their account's id.
    async fn register(
        &self,
        app: &App,
        tenant: &TenantCode,
        registrant: Registrant,
        actor: &Actor,
    ) -> anyhow::Result<Option<uuid::Uuid>> {
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
            Some(name) => app
                .store
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
        let now = app.clock.now();
        let volunteer = application
            .parse(now.shanghai_date())
            .map_err(|e| anyhow!("demo person {}: {e}", self.name))?;
        let record = app
            .store
            .register_volunteer(tenant, &volunteer, &registrant, actor, now)
            .await?;
        if self.verified {
            let number = VolunteerNumber::new(tenant, rand::random::<u32>());
            app.store
                .decide_volunteer(
                    tenant,
                    record.id,
                    &VolunteerDecision::Verify(number),
                    actor,
                    now,
                )
                .await?;
        }
        Ok(record.account_id)
    }
}

/// Volunteers, verified and pending, for a first look at the Suizhou tenant, once.
pub async fn seed_people(app: &App) -> anyhow::Result<usize> {
    let suizhou = tenant(SUIZHOU)?;
    let filter = VolunteerFilter {
        limit: 100,
        ..VolunteerFilter::default()
    };
    if app.store.volunteers(&suizhou, &filter).await?.len() > 1 {
        return Ok(0);
    }
    let actor = Actor::system("demo");
    for person in &PEOPLE {
        person
            .register(app, &suizhou, Registrant::Listed, &actor)
            .await?;
    }
    Ok(PEOPLE.len())
}

/// The printed table of demo credentials.
pub fn credentials_table(accounts: &[DemoAccount]) -> String {
    let mut table = String::from("Demo accounts (passwords are new at every start):\n");
    table.push_str(&format!(
        "  {:<8} {:<22} {:<24} {}\n",
        "tenant", "username", "grants", "password"
    ));
    for account in accounts {
        let tenant = account
            .tenant
            .as_ref()
            .map(TenantCode::as_str)
            .unwrap_or("(node)");
        table.push_str(&format!(
            "  {:<8} {:<22} {:<24} {}\n",
            tenant, account.username, account.grants, account.password
        ));
    }
    table
}
