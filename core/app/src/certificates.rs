//! Certificates of service (志愿服务记录证明, R19): a volunteer asks, and whoever recorded the
//! service certifies it (谁记录谁证明): the team whose entries they are, or the office for all
//! of the tenant's. What a certificate states is fixed when it is issued and numbered in the
//! tenant's register of the year; it is shown as a page and a PDF, and anyone can check that
//! it stands on its public verification page.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::{
    CertificateFacts, CertificateLine, CertificateNumber, CertificateStatus, GrantKind,
    InvalidInput, Minutes, Principal, Rule, Scope, TenantCode, Timestamp, VolunteerStatus,
};
use zhiyuan_forms::certificate::{CertificateDocument, escape, hours};
use zhiyuan_store::{CertificatesOf, RecordsOf, ServiceCertificate, ServiceRecord};

use crate::projects::parse_reason;
use crate::service::RevocationRequest;
use crate::views::ServiceCertificateView;
use crate::volunteers::own_record;
use crate::{App, AppError, blocking};

/// A volunteer's request: the period, and the team that recorded the service (none: the
/// office certifies all of it).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {
    pub team_id: Option<Uuid>,
    /// The first and last day of the service to certify (YYYY-MM-DD, China Standard Time).
    pub from: String,
    pub to: String,
    /// What the certificate is for (a school, an employer).
    pub purpose: Option<String>,
}

/// Who stands behind an issued certificate.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub person_in_charge: String,
    pub handler: String,
    pub contact: String,
}

/// What the public verification page shows: the facts, masked, and whether it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateVerification {
    pub number: CertificateNumber,
    pub stands: bool,
    pub status: CertificateStatus,
    pub volunteer_name: String,
    pub volunteer_number: String,
    pub id_number_masked: String,
    pub issuer: String,
    pub period_from: String,
    pub period_to: String,
    pub hours: String,
    pub issued_on: String,
    pub revoked_at: Option<Timestamp>,
}

/// The start of a day given as YYYY-MM-DD, in China Standard Time.
fn start_of_day(text: &str, field: &str) -> Result<Timestamp, AppError> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(at, b)| {
            if at == 4 || at == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped
        .then(|| Timestamp::parse_rfc3339(&format!("{text}T00:00:00+08:00")))
        .flatten()
        .ok_or_else(|| InvalidInput::new(field, Rule::TimeFormat).into())
}

fn view(certificate: ServiceCertificate) -> ServiceCertificateView {
    ServiceCertificateView {
        verification_path: certificate
            .number
            .as_ref()
            .map(|number| format!("/verify/{number}")),
        facts: certificate
            .facts
            .and_then(|facts| serde_json::from_value(facts).ok()),
        id: certificate.id,
        number: certificate.number,
        volunteer_id: certificate.volunteer_id,
        team_id: certificate.team_id,
        period_from: certificate.period_from,
        period_to: certificate.period_to,
        purpose: certificate.purpose,
        status: certificate.status,
        requested_at: certificate.requested_at,
        issued_at: certificate.issued_at,
        revoked_at: certificate.revoked_at,
        revocation_reason: certificate.revocation_reason,
    }
}

/// The entries a certificate of `team` (or the office) over a period counts: those in force
/// with time; refused if there are none, or if any is disputed and unsettled.
async fn counted(
    app: &App,
    tenant: &TenantCode,
    volunteer: Uuid,
    team: Option<Uuid>,
    period: (Timestamp, Timestamp),
) -> Result<Vec<ServiceRecord>, AppError> {
    let entries: Vec<ServiceRecord> = app
        .store
        .service_records(tenant, RecordsOf::Volunteer(volunteer), true, Some(period))
        .await?
        .into_iter()
        .filter(|entry| {
            entry.minutes > Minutes::ZERO && team.is_none_or(|team| entry.team_id == team)
        })
        .collect();
    if entries.is_empty() {
        return Err(InvalidInput::new("/from", Rule::NoServiceInPeriod).into());
    }
    if entries.iter().any(|entry| entry.disputed) {
        return Err(AppError::WrongState(Rule::HoursNotConfirmed));
    }
    Ok(entries)
}

/// The signed-in volunteer asks for a certificate of their service in a period.
pub async fn request(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    request: CertificateRequest,
) -> Result<ServiceCertificateView, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    if volunteer.status != VolunteerStatus::Verified {
        return Err(AppError::Refused(Rule::VolunteerNotVerified));
    }
    let from = start_of_day(&request.from, "/from")?;
    let to = start_of_day(&request.to, "/to")?.plus_seconds(24 * 3600);
    if to <= from {
        return Err(InvalidInput::new("/to", Rule::EndsBeforeStart).into());
    }
    if let Some(team) = request.team_id {
        app.store.team(tenant, team).await.map_err(|error| {
            AppError::unknown("/team_id", Rule::GrantTargetUnknown)(error.into())
        })?;
    }
    let purpose = parse_reason(request.purpose, false, "/purpose")?;
    counted(app, tenant, volunteer.id, request.team_id, (from, to)).await?;
    let certificate = app
        .store
        .request_certificate(
            tenant,
            volunteer.id,
            request.team_id,
            (from, to),
            purpose.as_deref(),
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    Ok(view(certificate))
}

/// Whether the principal issues (and revokes) a certificate: a team's admins or certificate
/// issuers for the team's; the office or a reviewing body's certificate issuer for the
/// office's.
fn issues(principal: &Principal, tenant: &TenantCode, certificate: &ServiceCertificate) -> bool {
    match certificate.team_id {
        Some(team) => {
            principal.holds(GrantKind::TeamAdmin, Scope::Team(team), tenant)
                || principal.holds(GrantKind::CertificateIssuer, Scope::Team(team), tenant)
        }
        None => {
            principal.holds_in(GrantKind::OfficeAdmin, Some(tenant))
                || (principal.belongs_to(tenant)
                    && principal.grants.iter().any(|grant| {
                        grant.kind == GrantKind::CertificateIssuer
                            && matches!(grant.scope, Scope::ReviewingBody(_))
                    }))
        }
    }
}

/// Who reads a certificate's page and PDF: its volunteer, its issuers, the office, auditors.
async fn readable(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    certificate: &ServiceCertificate,
) -> Result<bool, AppError> {
    if issues(principal, tenant, certificate)
        || [
            GrantKind::OfficeAdmin,
            GrantKind::Auditor,
            GrantKind::Operator,
        ]
        .into_iter()
        .any(|kind| principal.holds_in(kind, Some(tenant)))
    {
        return Ok(true);
    }
    match own_record(app, principal, tenant).await {
        Ok(volunteer) => Ok(volunteer.id == certificate.volunteer_id),
        Err(AppError::NotFound | AppError::Refused(_)) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Issues a requested certificate: the facts it states are gathered and fixed now.
pub async fn issue(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: IssueRequest,
) -> Result<ServiceCertificateView, AppError> {
    let certificate = app.store.certificate(tenant, id).await?;
    if !issues(principal, tenant, &certificate) {
        return Err(AppError::Refused(Rule::CertificateIssuer));
    }
    if certificate.status != CertificateStatus::Requested {
        return Err(AppError::WrongState(Rule::CertificateState));
    }
    let field = |text: &str, field: &str, max: usize| -> Result<String, AppError> {
        let text = text.trim();
        zhiyuan_domain::check_text(text, max, field)?;
        if text.is_empty() {
            return Err(InvalidInput::new(field, Rule::NameEmpty).into());
        }
        Ok(text.to_owned())
    };
    let person_in_charge = field(&request.person_in_charge, "/person_in_charge", 50)?;
    let handler = field(&request.handler, "/handler", 50)?;
    let contact = field(&request.contact, "/contact", 100)?;
    let period = (certificate.period_from, certificate.period_to);
    let entries = counted(
        app,
        tenant,
        certificate.volunteer_id,
        certificate.team_id,
        period,
    )
    .await?;
    let volunteer = app
        .store
        .volunteer(tenant, certificate.volunteer_id)
        .await?;
    let tenant_name = app.store.tenant(tenant).await?.name.zh;
    let issuer = match certificate.team_id {
        Some(team) => app.store.team(tenant, team).await?.name,
        None => format!("{tenant_name}志愿服务管理机构"),
    };
    let mut by_content: BTreeMap<(String, String), CertificateLine> = BTreeMap::new();
    for entry in &entries {
        let key = (
            entry
                .project_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            entry.content.clone(),
        );
        let day = entry.started_at.shanghai_date().to_string();
        let line = by_content.entry(key).or_insert_with(|| CertificateLine {
            content: entry.content.clone(),
            first_day: day.clone(),
            last_day: day.clone(),
            minutes: Minutes::ZERO,
            entries: 0,
        });
        line.first_day = line.first_day.clone().min(day.clone());
        line.last_day = line.last_day.clone().max(day);
        line.minutes = line.minutes.saturating_add(entry.minutes);
        line.entries += 1;
    }
    let mut lines: Vec<CertificateLine> = by_content.into_values().collect();
    lines.sort_by(|a, b| (&a.first_day, &a.content).cmp(&(&b.first_day, &b.content)));
    let now = app.clock.now();
    let facts = CertificateFacts {
        volunteer_name: volunteer.name,
        id_kind: volunteer.id_kind,
        id_number_masked: volunteer.id_number_masked,
        volunteer_number: volunteer
            .volunteer_number
            .map(|number| number.to_string())
            .unwrap_or_default(),
        issuer,
        person_in_charge,
        handler,
        contact,
        period_from: certificate.period_from.shanghai_date().to_string(),
        period_to: certificate
            .period_to
            .plus_seconds(-1)
            .shanghai_date()
            .to_string(),
        total_minutes: lines.iter().fold(Minutes::ZERO, |total, line| {
            total.saturating_add(line.minutes)
        }),
        lines,
        issued_on: now.shanghai_date().to_string(),
        tenant_name,
    };
    let facts =
        serde_json::to_value(&facts).map_err(|error| AppError::Internal(error.to_string()))?;
    let counted: Vec<Uuid> = entries.iter().map(|entry| entry.id).collect();
    let issued = app
        .store
        .issue_certificate(tenant, id, &facts, &counted, &principal.actor(), now)
        .await?;
    Ok(view(issued))
}

/// Revokes an issued certificate, with a reason: its verification page says so from now on.
pub async fn revoke(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: RevocationRequest,
) -> Result<ServiceCertificateView, AppError> {
    let certificate = app.store.certificate(tenant, id).await?;
    if !issues(principal, tenant, &certificate) {
        return Err(AppError::Refused(Rule::CertificateIssuer));
    }
    let reason = parse_reason(Some(request.reason), true, "/reason")?.unwrap_or_default();
    let revoked = app
        .store
        .revoke_certificate(tenant, id, &reason, &principal.actor(), app.clock.now())
        .await?;
    Ok(view(revoked))
}

/// The signed-in volunteer's certificates.
pub async fn own(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<Vec<ServiceCertificateView>, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    Ok(app
        .store
        .certificates(tenant, CertificatesOf::Volunteer(volunteer.id))
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// The register: a team's certificates to its admins and issuers, all of the tenant's to the
/// office, auditors and reviewing bodies' issuers.
pub async fn register(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team: Option<Uuid>,
) -> Result<Vec<ServiceCertificateView>, AppError> {
    let office = [
        GrantKind::OfficeAdmin,
        GrantKind::Auditor,
        GrantKind::Operator,
    ]
    .into_iter()
    .any(|kind| principal.holds_in(kind, Some(tenant)))
        || (principal.belongs_to(tenant)
            && principal.grants.iter().any(|grant| {
                grant.kind == GrantKind::CertificateIssuer
                    && matches!(grant.scope, Scope::ReviewingBody(_))
            }));
    let of = match team {
        Some(team)
            if office
                || principal.holds(GrantKind::TeamAdmin, Scope::Team(team), tenant)
                || principal.holds(GrantKind::CertificateIssuer, Scope::Team(team), tenant) =>
        {
            CertificatesOf::Team(team)
        }
        None if office => CertificatesOf::Tenant,
        _ => return Err(AppError::Refused(Rule::OutsideGrantScope)),
    };
    Ok(app
        .store
        .certificates(tenant, of)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// An issued certificate, for its page or PDF.
async fn issued(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<(CertificateNumber, CertificateFacts, Option<String>), AppError> {
    let certificate = app.store.certificate(tenant, id).await?;
    if !readable(app, principal, tenant, &certificate).await? {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let (Some(number), Some(facts)) = (certificate.number, certificate.facts) else {
        return Err(AppError::WrongState(Rule::CertificateState));
    };
    let facts: CertificateFacts =
        serde_json::from_value(facts).map_err(|error| AppError::Internal(error.to_string()))?;
    Ok((number, facts, certificate.revocation_reason))
}

fn verify_url(app: &App, number: &CertificateNumber) -> String {
    format!(
        "{}/verify/{number}",
        app.settings.public_url.trim_end_matches('/')
    )
}

/// The certificate as a printable page.
pub async fn page(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<String, AppError> {
    let (number, facts, revoked) = issued(app, principal, tenant, id).await?;
    let url = verify_url(app, &number);
    zhiyuan_forms::certificate::html(&CertificateDocument {
        number: number.as_str(),
        facts: &facts,
        verify_url: &url,
        revoked: revoked.as_deref(),
    })
    .map_err(AppError::Internal)
}

/// The certificate as a PDF, its Chinese text in an embedded subset of the node's CJK font.
pub async fn pdf(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<Vec<u8>, AppError> {
    let font = app
        .pdf_font
        .clone()
        .ok_or(AppError::Unavailable(Rule::CertificateFontMissing))?;
    let (number, facts, revoked) = issued(app, principal, tenant, id).await?;
    let url = verify_url(app, &number);
    blocking(move || {
        zhiyuan_forms::certificate::pdf(
            &CertificateDocument {
                number: number.as_str(),
                facts: &facts,
                verify_url: &url,
                revoked: revoked.as_deref(),
            },
            &font,
        )
    })
    .await?
    .map_err(AppError::Internal)
}

/// What anyone sees of a certificate by its number: whether it stands, and its facts masked.
pub async fn verify(
    app: &App,
    number: &CertificateNumber,
) -> Result<CertificateVerification, AppError> {
    let certificate = app.store.certificate_by_number(number).await?;
    let facts: CertificateFacts = certificate
        .facts
        .and_then(|facts| serde_json::from_value(facts).ok())
        .ok_or(AppError::NotFound)?;
    let masked_name: String = facts
        .volunteer_name
        .chars()
        .enumerate()
        .map(|(at, c)| if at == 0 { c } else { '*' })
        .collect();
    Ok(CertificateVerification {
        stands: certificate.status == CertificateStatus::Issued,
        status: certificate.status,
        volunteer_name: masked_name,
        volunteer_number: zhiyuan_domain::mask(&facts.volunteer_number, 6, 2),
        id_number_masked: facts.id_number_masked,
        issuer: facts.issuer,
        period_from: facts.period_from,
        period_to: facts.period_to,
        hours: hours(facts.total_minutes),
        issued_on: facts.issued_on,
        revoked_at: certificate.revoked_at,
        number: number.clone(),
    })
}

/// The public verification page of a certificate.
pub fn verification_page(verification: &CertificateVerification) -> String {
    let (verdict, colour) = if verification.stands {
        ("本证明有效", "#060")
    } else {
        ("本证明已撤销,不再有效", "#c00")
    };
    let rows = [
        ("证明编号", verification.number.to_string()),
        ("志愿者", verification.volunteer_name.clone()),
        ("志愿者编号", verification.volunteer_number.clone()),
        ("证件号码", verification.id_number_masked.clone()),
        ("出具单位", verification.issuer.clone()),
        (
            "服务期间",
            format!("{} 至 {}", verification.period_from, verification.period_to),
        ),
        ("服务时长(小时)", verification.hours.clone()),
        ("出具日期", verification.issued_on.clone()),
    ]
    .iter()
    .map(|(label, value)| format!("<tr><th>{label}</th><td>{}</td></tr>\n", escape(value)))
    .collect::<String>();
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width\">\n\
         <title>志愿服务记录证明核验 {number}</title>\n\
         <style>body {{ font-family: sans-serif; max-width: 40em; margin: 2em auto; }} \
         th {{ text-align: left; padding-right: 1em; }} .verdict {{ color: {colour}; font-size: 1.4em; }}</style>\n\
         </head>\n<body>\n<h1>志愿服务记录证明核验</h1>\n<p class=\"verdict\">{verdict}</p>\n\
         <table>\n{rows}</table>\n</body>\n</html>\n",
        number = escape(verification.number.as_str()),
    )
}
