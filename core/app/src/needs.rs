//! Needs (R4, R14): a resident, a community or a unit posts what help it needs; the office or
//! a reviewing body of the need's region curates it; a team answers it with a project; it is
//! closed as met or not. Needs are public once curated, their contact's number masked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::{
    AuditAction, CoordinateSystem, GrantKind, InvalidInput, NeedPost, NeedStatus, Principal,
    ProjectContext, RegionCode, RegionTree, Rule, Scope, TenantCode, Timestamp, mask,
};
use zhiyuan_store::NeedRecord;

use crate::projects::{parse_reason, place_view};
use crate::views::{AnsweringProjectView, NeedPage, NeedView};
use crate::volunteers::{Decision, DecisionRequest};
use crate::{App, AppError};

/// How a need ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NeedOutcome {
    Met,
    Unmet,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureRequest {
    pub outcome: NeedOutcome,
    /// What happened, in a few words.
    pub note: Option<String>,
}

/// Which needs to list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NeedQuery {
    pub status: Option<NeedStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub system: Option<CoordinateSystem>,
}

/// The needs a principal curates: the office every need; a reviewer those of its body's region
/// and the regions under it. Read once a request, however many needs it shows.
enum Curation {
    Every,
    Regions(Vec<RegionCode>),
}

impl Curation {
    async fn of(
        app: &App,
        principal: &Principal,
        tenant: &TenantCode,
    ) -> Result<Curation, AppError> {
        if principal.holds_in(GrantKind::OfficeAdmin, Some(tenant)) {
            return Ok(Curation::Every);
        }
        if !principal.holds_in(GrantKind::Reviewer, Some(tenant)) {
            return Ok(Curation::Regions(Vec::new()));
        }
        let bodies = app.store.reviewing_bodies(tenant).await?;
        let regions = app.store.regions(tenant).await?;
        let tree = RegionTree::new(&regions);
        let reviewed: Vec<&RegionCode> = bodies
            .iter()
            .filter(|body| {
                principal.holds(GrantKind::Reviewer, Scope::ReviewingBody(body.id), tenant)
            })
            .map(|body| &body.region)
            .collect();
        Ok(Curation::Regions(
            regions
                .iter()
                .filter(|region| {
                    reviewed
                        .iter()
                        .any(|top| **top == region.code || tree.is_above(top, &region.code))
                })
                .map(|region| region.code.clone())
                .collect(),
        ))
    }

    fn covers(&self, need: &NeedRecord) -> bool {
        match self {
            Curation::Every => true,
            Curation::Regions(regions) => regions.contains(&need.region),
        }
    }
}

fn is_poster(principal: Option<&Principal>, tenant: &TenantCode, need: &NeedRecord) -> bool {
    principal.is_some_and(|principal| {
        principal.belongs_to(tenant) && principal.account_id == need.posted_by
    })
}

async fn view(
    app: &App,
    tenant: &TenantCode,
    need: NeedRecord,
    insider: bool,
    system: CoordinateSystem,
) -> Result<NeedView, AppError> {
    let now = app.clock.now();
    let answered_by = app
        .store
        .projects_of_need(tenant, need.id)
        .await?
        .into_iter()
        .map(|project| AnsweringProjectView {
            project_id: project.id,
            team_id: project.team_id,
            state: project
                .status
                .state(project.starts_at, project.ends_at, now),
            title: project.title,
        })
        .collect();
    Ok(NeedView {
        id: need.id,
        place: need.place.map(|place| place_view(&place, system)),
        title: need.title,
        description: need.description,
        service_categories: need.service_categories,
        region: need.region,
        address: need.address,
        starts_at: need.starts_at,
        ends_at: need.ends_at,
        people_needed: need.people_needed,
        contact_name: need.contact_name,
        contact_mobile: if insider {
            need.contact_mobile
        } else {
            mask(&need.contact_mobile, 3, 4)
        },
        poster: need.poster,
        unit_id: need.unit,
        status: need.status,
        decision_reason: need.decision_reason,
        posted_at: need.posted_at,
        answered_by,
    })
}

/// Any account of the tenant posts a need; it waits for curation.
pub async fn post(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    post: NeedPost,
    system: CoordinateSystem,
) -> Result<NeedView, AppError> {
    if !principal.belongs_to(tenant) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let regions = app.store.regions(tenant).await?;
    let settings = app.store.project_settings(tenant).await?;
    let need = post.parse(&ProjectContext {
        regions: &regions,
        categories: &settings.service_categories,
        now: app.clock.now(),
    })?;
    let posted = app
        .store
        .post_need(
            tenant,
            &need,
            principal.account_id,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    view(app, tenant, posted, true, system).await
}

/// A need: public once curated; before that, to its poster and its curators.
pub async fn read(
    app: &App,
    principal: Option<&Principal>,
    tenant: &TenantCode,
    id: Uuid,
    system: CoordinateSystem,
) -> Result<NeedView, AppError> {
    let need = app.store.need(tenant, id).await?;
    let curator = match principal {
        Some(principal) => Curation::of(app, principal, tenant).await?.covers(&need),
        None => false,
    };
    let insider = curator || is_poster(principal, tenant, &need);
    if !insider && !need.status.is_public() {
        return Err(AppError::NotFound);
    }
    view(app, tenant, need, insider, system).await
}

fn encode_cursor(need: &NeedView) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", need.posted_at.unix_millis(), need.id))
}

fn decode_cursor(cursor: &str) -> Result<(Timestamp, Uuid), AppError> {
    let invalid = || AppError::from(InvalidInput::new("query/cursor", Rule::CursorInvalid));
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?)
        .map_err(|_| invalid())?;
    let (at, id) = text.split_once('.').ok_or_else(invalid)?;
    Ok((
        Timestamp::from_unix_millis(at.parse().map_err(|_| invalid())?),
        Uuid::parse_str(id).map_err(|_| invalid())?,
    ))
}

/// Needs, newest first: the public ones; curators see those waiting and set aside too, and a
/// poster their own.
pub async fn list(
    app: &App,
    principal: Option<&Principal>,
    tenant: &TenantCode,
    query: NeedQuery,
) -> Result<NeedPage, AppError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(InvalidInput::new("query/limit", Rule::PageSize).into());
    }
    let curator = principal.is_some_and(|principal| {
        principal.holds_in(GrantKind::OfficeAdmin, Some(tenant))
            || principal.holds_in(GrantKind::Reviewer, Some(tenant))
    });
    let visible: Vec<NeedStatus> = NeedStatus::ALL
        .iter()
        .copied()
        .filter(|status| curator || status.is_public())
        .filter(|status| query.status.is_none_or(|wanted| wanted == *status))
        .collect();
    let posted_by = principal
        .filter(|principal| principal.belongs_to(tenant) && query.status.is_none())
        .map(|principal| principal.account_id);
    let before = query
        .cursor
        .as_deref()
        .filter(|cursor| !cursor.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let system = query.system.unwrap_or(CoordinateSystem::Wgs84);
    let mut needs = app
        .store
        .needs(tenant, &visible, posted_by, before, limit + 1)
        .await?;
    let more = needs.len() > limit as usize;
    needs.truncate(limit as usize);
    let curation = match principal {
        Some(principal) => Some(Curation::of(app, principal, tenant).await?),
        None => None,
    };
    let mut items = Vec::with_capacity(needs.len());
    for need in needs {
        let insider = is_poster(principal, tenant, &need)
            || curation
                .as_ref()
                .is_some_and(|curation| curation.covers(&need));
        items.push(view(app, tenant, need, insider, system).await?);
    }
    let next_cursor = if more {
        items.last().map(encode_cursor)
    } else {
        None
    };
    Ok(NeedPage { items, next_cursor })
}

/// A curator opens a posted need to the public, or sets it aside with a reason.
pub async fn curate(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: DecisionRequest,
) -> Result<NeedView, AppError> {
    let need = app.store.need(tenant, id).await?;
    if !Curation::of(app, principal, tenant).await?.covers(&need) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let reason = parse_reason(
        request.reason,
        request.decision == Decision::Reject,
        "/reason",
    )?;
    let (to, action) = match request.decision {
        Decision::Approve => (NeedStatus::Open, AuditAction::NeedOpen),
        Decision::Reject => (NeedStatus::Rejected, AuditAction::NeedReject),
    };
    let curated = app
        .store
        .change_need_status(
            tenant,
            id,
            &[NeedStatus::Submitted],
            to,
            action,
            reason,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    view(app, tenant, curated, true, CoordinateSystem::Wgs84).await
}

/// Its poster or a curator closes an open need as met or not.
pub async fn close(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: ClosureRequest,
) -> Result<NeedView, AppError> {
    let need = app.store.need(tenant, id).await?;
    let allowed = is_poster(Some(principal), tenant, &need)
        || Curation::of(app, principal, tenant).await?.covers(&need);
    if !allowed {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let note = parse_reason(request.note, false, "/note")?;
    let to = match request.outcome {
        NeedOutcome::Met => NeedStatus::Met,
        NeedOutcome::Unmet => NeedStatus::Unmet,
    };
    let closed = app
        .store
        .change_need_status(
            tenant,
            id,
            &[NeedStatus::Open],
            to,
            AuditAction::NeedClose,
            note,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    view(app, tenant, closed, true, CoordinateSystem::Wgs84).await
}
