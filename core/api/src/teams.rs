//! Teams: the application and its checks against R11 and R12, shared by the HTTP API and the
//! bulk import.

use uuid::Uuid;
use zhiyuan_domain::{
    CreditCode, InvalidInput, LegalStatus, LiaisonCandidate, MobileNumber, OrgCode, PersonName,
    RegionCode, RegionTree, ReviewingBodyKind, Rule, TeamStatus, TenantCode, UnitKind,
    check_authority, check_liaison, parse_team_name,
};
use zhiyuan_store::{NewTeam, StoreError};

use crate::{ApiError, AppState};

/// A team's application as given, before parsing.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TeamApplication {
    pub name: String,
    pub kind: UnitKind,
    #[serde(default)]
    pub federation: bool,
    pub unit_id: Option<Uuid>,
    pub region: String,
    pub contact_name: String,
    pub contact_mobile: String,
    pub legal_status: LegalStatus,
    pub parent_team_id: Option<Uuid>,
    pub liaison_team_id: Option<Uuid>,
    pub registration_authority_id: Option<Uuid>,
    pub credit_code: Option<String>,
    pub org_code: Option<String>,
    #[serde(default)]
    pub certificates: Vec<String>,
}

fn invalid(field: &str, rule: Rule) -> ApiError {
    ApiError::Invalid(InvalidInput::new(field, rule))
}

/// Parses an application and checks who may review it (R11) and what it may be called (R12).
pub async fn check_team_application(
    state: &AppState,
    tenant: &TenantCode,
    application: TeamApplication,
    resubmitting: Option<Uuid>,
) -> Result<NewTeam, ApiError> {
    let name = parse_team_name(&application.name, "/name")?;
    let region = RegionCode::parse(&application.region).map_err(|rule| invalid("/region", rule))?;
    let contact_name = PersonName::parse(&application.contact_name, "/contact_name")?;
    let contact_mobile = MobileNumber::parse(&application.contact_mobile, "/contact_mobile")?;
    let regions = state.store.regions(tenant).await?;
    if !regions.iter().any(|candidate| candidate.code == region) {
        return Err(invalid("/region", Rule::RegionUnknown));
    }
    let tree = RegionTree::new(&regions);

    // R12: teams of organs, people's organisations, enterprises and public institutions are
    // named after their unit.
    let unit_name = match application.unit_id {
        Some(unit) => Some(
            state
                .store
                .unit(tenant, unit)
                .await
                .map_err(|error| match error {
                    StoreError::NotFound => invalid("/unit_id", Rule::UnitUnknown),
                    other => other.into(),
                })?
                .name
                .zh,
        ),
        None => None,
    };
    // The tenant's rule may be a plugin: its run is work for the blocking pool.
    let policy = state.policies.for_tenant(tenant);
    let (kind, team_name) = (application.kind, name.clone());
    tokio::task::spawn_blocking(move || {
        policy.check_team_name(kind, &team_name, unit_name.as_deref())
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))??;

    let teams = state.store.teams(tenant).await?;
    let mut new = NewTeam {
        name,
        kind: application.kind,
        federation: application.federation,
        unit: application.unit_id,
        region: region.clone(),
        contact_name: contact_name.as_str().to_owned(),
        contact_mobile: contact_mobile.as_str().to_owned(),
        legal_status: application.legal_status,
        parent_team: None,
        liaison_team: None,
        registration_authority: None,
        credit_code: None,
        org_code: None,
        certificates: Vec::new(),
    };
    if let Some(parent) = application.parent_team_id {
        let known = teams
            .iter()
            .any(|team| team.id == parent && Some(team.id) != resubmitting);
        if !known {
            return Err(invalid("/parent_team_id", Rule::ParentUnknown));
        }
        new.parent_team = Some(parent);
    }

    match application.legal_status {
        LegalStatus::Unregistered => {
            if application.registration_authority_id.is_some() {
                return Err(invalid(
                    "/registration_authority_id",
                    Rule::UnregisteredTeamTakesLiaison,
                ));
            }
            let Some(liaison_id) = application.liaison_team_id else {
                return Err(invalid(
                    "/liaison_team_id",
                    Rule::UnregisteredTeamTakesLiaison,
                ));
            };
            let liaison = teams
                .iter()
                .find(|team| team.id == liaison_id && Some(team.id) != resubmitting)
                .ok_or_else(|| invalid("/liaison_team_id", Rule::LiaisonUnknown))?;
            let candidate = LiaisonCandidate {
                status: liaison.status,
                federation: liaison.federation,
                region: liaison.region.clone(),
                declared_parent: new.parent_team == Some(liaison.id),
            };
            let has_federation = |code: &RegionCode| {
                teams.iter().any(|team| {
                    team.federation && team.status == TeamStatus::Approved && &team.region == code
                })
            };
            check_liaison(&tree, &region, &candidate, has_federation)
                .map_err(|rule| invalid("/liaison_team_id", rule))?;
            new.liaison_team = Some(liaison_id);
        }
        LegalStatus::Registered => {
            if application.liaison_team_id.is_some() {
                return Err(invalid(
                    "/liaison_team_id",
                    Rule::RegisteredTeamTakesAuthority,
                ));
            }
            let Some(authority_id) = application.registration_authority_id else {
                return Err(invalid(
                    "/registration_authority_id",
                    Rule::RegisteredTeamTakesAuthority,
                ));
            };
            let bodies = state.store.reviewing_bodies(tenant).await?;
            let authority = bodies
                .iter()
                .find(|body| body.id == authority_id)
                .ok_or_else(|| invalid("/registration_authority_id", Rule::ReviewingBodyUnknown))?;
            if authority.kind != ReviewingBodyKind::RegistrationAuthority {
                return Err(invalid(
                    "/registration_authority_id",
                    Rule::AuthorityWrongKind,
                ));
            }
            let has_authority = |code: &RegionCode| {
                bodies.iter().any(|body| {
                    body.kind == ReviewingBodyKind::RegistrationAuthority && &body.region == code
                })
            };
            check_authority(&tree, &region, &authority.region, has_authority)
                .map_err(|rule| invalid("/registration_authority_id", rule))?;
            new.registration_authority = Some(authority_id);

            match (&application.credit_code, &application.org_code) {
                (None, None) => return Err(invalid("/credit_code", Rule::RegisteredTeamNeedsCode)),
                (credit, org) => {
                    if let Some(credit) = credit {
                        let code = CreditCode::parse(credit)
                            .map_err(|rule| invalid("/credit_code", rule))?;
                        if !code.is_civil_affairs_registered() {
                            return Err(invalid("/credit_code", Rule::CreditCodeNotCivilAffairs));
                        }
                        new.credit_code = Some(code);
                    }
                    if let Some(org) = org {
                        new.org_code =
                            Some(OrgCode::parse(org).map_err(|rule| invalid("/org_code", rule))?);
                    }
                }
            }
            if application.certificates.is_empty() {
                return Err(invalid("/certificates", Rule::CertificatesRequired));
            }
            new.certificates = application.certificates;
        }
    }
    Ok(new)
}

/// Who decides a team's application: the reviewer of its registration authority, the reviewer
/// of the federation it chose as liaison, or an admin of the parent team it chose.
pub async fn may_decide(
    state: &AppState,
    tenant: &TenantCode,
    team: &zhiyuan_store::TeamRecord,
    user: &zhiyuan_store::StoredUser,
) -> Result<bool, ApiError> {
    if team.registration_authority.is_some() && team.registration_authority == user.reviewing_body {
        return Ok(true);
    }
    let Some(liaison) = team.liaison_team else {
        return Ok(false);
    };
    let liaison = state.store.team(tenant, liaison).await?;
    if liaison.reviewing_body.is_some() && liaison.reviewing_body == user.reviewing_body {
        return Ok(true);
    }
    Ok(state
        .store
        .is_team_admin(tenant, liaison.id, user.id)
        .await?)
}
