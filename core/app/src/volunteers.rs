//! Volunteers: real-name registration, verification by the civilisation office of their region
//! (never another level's), voiding a registration, the volunteer card.
//!
//! Registration answers alike whether or not the document is registered already: another
//! application with the same document is simply one more pending application, and only one
//! registration per document can ever be verified. So the public learns nothing of who is
//! registered, and a stranger's application with someone's document blocks nobody: the office
//! sees both, verifies the real one and voids the other.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::{
    AgeGroup, GrantKind, IdDocumentKind, InvalidInput, Password, PersonName, Principal, RegionCode,
    ReviewingBodyKind, Rule, Scope, ServiceCategory, TenantCode, Username, VolunteerApplication,
    VolunteerNumber, VolunteerStatus, check_text, mask, regions_served_by,
};
use zhiyuan_store::{
    NewAccount, Registrant, UniqueField, VolunteerDecision, VolunteerFilter, VolunteerRecord,
};

use crate::accounts::THROTTLE_WINDOW;
use crate::views::VolunteerView;
use crate::{App, AppError};

/// A real-name application as a person gives it, with the account they will sign in with
/// when they are not signed in already.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    pub name: String,
    pub id_kind: IdDocumentKind,
    pub id_number: String,
    pub mobile: String,
    pub region: String,
    pub unit_id: Option<Uuid>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub service_categories: Vec<ServiceCategory>,
    pub availability: Option<String>,
    /// For a new account; left out when the applicant is signed in.
    pub username: Option<String>,
    pub password: Option<String>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// A decision on an application, with the reason a rejection needs.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Decision,
    pub reason: Option<String>,
}

/// Why a registration is voided.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    pub reason: String,
}

/// Which volunteers to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<VolunteerStatus>,
    pub unit_id: Option<Uuid>,
    pub limit: u32,
    pub offset: u32,
}

/// How much of a volunteer the person asking sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Viewer {
    /// The volunteer themselves: everything but the identity number in the clear.
    Themselves,
    /// Reviewers and the office: masked, with the other registrations of the same document.
    Staff,
    /// Anyone else who may see the record.
    Other,
}

pub(crate) fn view(app: &App, record: VolunteerRecord, viewer: Viewer) -> VolunteerView {
    let today = app.clock.now().shanghai_date();
    let themselves = viewer == Viewer::Themselves;
    VolunteerView {
        id: record.id,
        account_id: record.account_id,
        volunteer_number: record.volunteer_number,
        name: record.name,
        id_kind: record.id_kind,
        id_number_masked: record.id_number_masked,
        age_group: record
            .birth_date
            .map(|birth_date| AgeGroup::of(birth_date, today)),
        birth_date: record.birth_date.filter(|_| themselves),
        gender: record.gender,
        mobile: if themselves {
            record.mobile
        } else {
            mask(&record.mobile, 3, 4)
        },
        region: record.region,
        unit: record.unit,
        skills: record.skills,
        service_categories: record.service_categories,
        availability: record.availability,
        status: record.status,
        decision_reason: record.decision_reason,
        applied_at: record.applied_at,
        decided_at: record.decided_at,
        same_document: (viewer == Viewer::Staff).then_some(record.same_document),
    }
}

/// Registers an application. Signed in, it is the signed-in account's; otherwise a new account
/// is created with it. Public registrations are limited per client address, and everything
/// that can refuse an application is checked before the password is hashed.
pub async fn register(
    app: &App,
    principal: Option<&Principal>,
    tenant: &TenantCode,
    request: RegistrationRequest,
    client_address: &str,
) -> Result<VolunteerView, AppError> {
    app.store.tenant(tenant).await?;
    let now = app.clock.now();
    let application = VolunteerApplication {
        name: request.name,
        id_kind: request.id_kind,
        id_number: request.id_number,
        mobile: request.mobile,
        region: request.region,
        unit: request.unit_id,
        skills: request.skills,
        service_categories: request.service_categories,
        availability: request.availability,
    };
    let volunteer = application.parse(now.shanghai_date())?;
    let (registrant, actor) = match principal {
        Some(principal) => {
            if !principal.belongs_to(tenant) {
                return Err(AppError::Refused(Rule::OutsideGrantScope));
            }
            if principal.volunteer_id.is_some() {
                return Err(AppError::WrongState(Rule::VolunteerRecordExists));
            }
            (Registrant::Account(principal.account_id), principal.actor())
        }
        None => {
            let (Some(username), Some(password)) = (request.username, request.password) else {
                return Err(InvalidInput::new("/username", Rule::AccountDetailsRequired).into());
            };
            let username = Username::parse(&username, "/username")?;
            let password = Password::parse(&password, "/password")?;
            let window = THROTTLE_WINDOW.as_millis() as i64;
            let count = app
                .store
                .count_attempt(&[format!("register:{client_address}")], window, now)
                .await?;
            if count[0] > app.settings.registrations_per_address {
                return Err(AppError::TooManyAttempts {
                    retry_after_seconds: THROTTLE_WINDOW.as_secs(),
                });
            }
            if app
                .store
                .account_for_sign_in(Some(tenant), &username)
                .await?
                .is_some()
            {
                return Err(AppError::Conflict(UniqueField::Username));
            }
            let actor = zhiyuan_domain::Actor {
                account_id: None,
                name: format!("applicant:{}", username.as_str()),
            };
            let account = NewAccount {
                tenant: Some(tenant.clone()),
                display_name: volunteer.name.as_str().to_owned(),
                username,
                password_hash: app.passwords.hash(&password).await?,
                grants: Vec::new(),
            };
            (Registrant::NewAccount(account), actor)
        }
    };
    let record = app
        .store
        .register_volunteer(tenant, &volunteer, &registrant, &actor, now)
        .await?;
    if let Some(principal) = principal {
        app.sessions.forget_account(principal.account_id);
    }
    Ok(view(app, record, Viewer::Themselves))
}

/// Volunteers of the tenant to those who read it all (office, auditors, operators), or the
/// queue of a reviewer: those whose region its civilisation office is responsible for.
pub async fn list(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    query: ListQuery,
) -> Result<Vec<VolunteerView>, AppError> {
    let region_within = if reads_everything(principal, tenant) {
        None
    } else {
        Some(reviewer_regions(app, principal, tenant).await?)
    };
    let filter = VolunteerFilter {
        status: query.status,
        region_within,
        unit: query.unit_id,
        limit: query.limit,
        offset: query.offset,
    };
    Ok(app
        .store
        .volunteers(tenant, &filter)
        .await?
        .into_iter()
        .map(|record| {
            let viewer = viewer_of(principal, &record);
            view(app, record, viewer)
        })
        .collect())
}

/// The signed-in account's own volunteer record.
pub async fn own(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<VolunteerView, AppError> {
    let record = own_record(app, principal, tenant).await?;
    Ok(view(app, record, Viewer::Themselves))
}

/// One volunteer: to themselves, to those who read the whole tenant, and to the reviewer
/// responsible for them.
pub async fn read(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<VolunteerView, AppError> {
    let record = app.store.volunteer(tenant, id).await?;
    let viewer = viewer_of(principal, &record);
    if viewer == Viewer::Other
        || (viewer == Viewer::Staff
            && !reads_everything(principal, tenant)
            && !reviewer_regions(app, principal, tenant)
                .await?
                .contains(&record.region))
    {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    Ok(view(app, record, viewer))
}

/// Verifies or rejects a pending application (实名认证): the city office, or a reviewer of the
/// civilisation office responsible for the volunteer's region, never another level's; nobody
/// their own. A verification passes the identity check and gives the volunteer their public
/// number; a document verified already cannot be verified twice.
pub async fn decide(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: DecisionRequest,
) -> Result<VolunteerView, AppError> {
    let record = app.store.volunteer(tenant, id).await?;
    if principal.volunteer_id == Some(id) || record.account_id == Some(principal.account_id) {
        return Err(AppError::Refused(Rule::OwnApplication));
    }
    if !principal.holds(GrantKind::OfficeAdmin, Scope::Tenant, tenant)
        && !reviewer_regions(app, principal, tenant)
            .await?
            .contains(&record.region)
    {
        return Err(InvalidInput::new("/decision", Rule::OutsideReviewerLevel).into());
    }
    let actor = principal.actor();
    let now = app.clock.now();
    let reason = request
        .reason
        .map(|reason| reason.trim().to_owned())
        .filter(|reason| !reason.is_empty());
    if let Some(reason) = &reason {
        check_text(reason, 500, "/reason")?;
    }
    let decided = match request.decision {
        Decision::Reject => {
            let reason =
                reason.ok_or_else(|| InvalidInput::new("/reason", Rule::ReasonRequired))?;
            let decision = VolunteerDecision::Reject { reason };
            app.store
                .decide_volunteer(tenant, id, &decision, &actor, now)
                .await?
        }
        Decision::Approve => {
            if record.status != VolunteerStatus::Pending {
                return Err(AppError::WrongState(Rule::AlreadyDecided));
            }
            let number = app.store.reveal_id_number(tenant, id, &actor, now).await?;
            let name = PersonName::parse(&record.name, "/name")?;
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
            app.identity_check.check(&claim).map_err(AppError::Policy)?;
            // Nine random digits: a clash with an existing number is rare and simply redrawn.
            let mut attempt = 0;
            loop {
                let number = VolunteerNumber::new(tenant, rand::random::<u32>());
                let decision = VolunteerDecision::Verify(number);
                match app
                    .store
                    .decide_volunteer(tenant, id, &decision, &actor, now)
                    .await
                {
                    Err(zhiyuan_store::StoreError::Unique(UniqueField::VolunteerNumber))
                        if attempt < 5 =>
                    {
                        attempt += 1;
                    }
                    Err(zhiyuan_store::StoreError::Unique(UniqueField::IdNumber)) => {
                        return Err(AppError::WrongState(Rule::IdNumberRegistered));
                    }
                    other => break other?,
                }
            }
        }
    };
    if let Some(account) = decided.account_id {
        app.sessions.forget_account(account);
    }
    Ok(view(app, decided, Viewer::Staff))
}

/// Voids a registration (pending or verified) made with someone else's document, or challenged
/// by the person presenting it at the office; the reason is recorded in the audit trail.
pub async fn void(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: VoidRequest,
) -> Result<VolunteerView, AppError> {
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(InvalidInput::new("/reason", Rule::ReasonRequired).into());
    }
    check_text(reason, 500, "/reason")?;
    let record = app.store.volunteer(tenant, id).await?;
    if record.account_id == Some(principal.account_id) {
        return Err(AppError::Refused(Rule::OwnApplication));
    }
    let voided = app
        .store
        .void_volunteer(tenant, id, reason, &principal.actor(), app.clock.now())
        .await?;
    if let Some(account) = voided.account_id {
        app.sessions.forget_account(account);
    }
    Ok(view(app, voided, Viewer::Staff))
}

pub(crate) async fn own_record(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<VolunteerRecord, AppError> {
    if !principal.belongs_to(tenant) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    Ok(app
        .store
        .volunteer_of_account(tenant, principal.account_id)
        .await?)
}

/// Office admins, auditors and operators read every volunteer of the tenant.
fn reads_everything(principal: &Principal, tenant: &TenantCode) -> bool {
    [
        GrantKind::OfficeAdmin,
        GrantKind::Auditor,
        GrantKind::Operator,
    ]
    .into_iter()
    .any(|kind| principal.holds_in(kind, Some(tenant)))
}

fn viewer_of(principal: &Principal, record: &VolunteerRecord) -> Viewer {
    if record.account_id == Some(principal.account_id) {
        Viewer::Themselves
    } else if principal
        .grants
        .iter()
        .any(|grant| grant.kind != GrantKind::TeamAdmin)
    {
        Viewer::Staff
    } else {
        Viewer::Other
    }
}

/// The regions whose volunteers the principal verifies as a reviewer of civilisation offices:
/// for each office, its own region and those below it with no office of their own. A
/// principal who reviews for no civilisation office verifies no one.
pub(crate) async fn reviewer_regions(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<Vec<RegionCode>, AppError> {
    let offices: Vec<Uuid> = principal
        .grants
        .iter()
        .filter(|grant| grant.kind == GrantKind::Reviewer && principal.belongs_to(tenant))
        .filter_map(|grant| match grant.scope {
            Scope::ReviewingBody(id) => Some(id),
            _ => None,
        })
        .collect();
    if offices.is_empty() {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let regions = app.store.regions(tenant).await?;
    let bodies = app.store.reviewing_bodies(tenant).await?;
    let mut served = Vec::new();
    for office in bodies.iter().filter(|body| {
        offices.contains(&body.id) && body.kind == ReviewingBodyKind::CivilisationOffice
    }) {
        served.extend(regions_served_by(&regions, &bodies, office));
    }
    if served.is_empty() {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    Ok(served)
}
