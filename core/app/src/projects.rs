//! Projects (R13): a team's admins write one as a draft with its shifts and publish it, the
//! office approves it first where the tenant asks for that, and may take it down with a
//! reason; anyone finds them near a point (R7, R15), and a volunteer is suggested those that
//! fit them best by the tenant's matching policy. The project lead and the scanners of a
//! project are grants its team's admins give.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::ports::{Hook, MatchProfile};
use zhiyuan_domain::{
    AuditAction, CoordinateSystem, Coordinates, GrantKind, InvalidInput, NewProject, Principal,
    ProjectContext, ProjectDraft, ProjectState, ProjectStatus, RegionCode, RegionTree, Rule, Scope,
    ServiceCategory, TeamStatus, TenantCode, Timestamp, mask, parse_instant,
};
use zhiyuan_store::{GeoBox, ProjectFilter, ProjectRecord, ShiftRecord};

use crate::views::{
    PlaceView, ProjectGrantsView, ProjectPage, ProjectSummaryView, ProjectView, ShiftView,
    SuggestionView,
};
use crate::volunteers::{Decision, DecisionRequest, own_record};
use crate::{App, AppError, ask};

/// A search reaches at most this far from its point, and 10 km unless it says.
pub const RADIUS_MAX_M: u32 = 50_000;
const RADIUS_MIN_M: u32 = 100;
const RADIUS_DEFAULT_M: u32 = 10_000;
/// A page holds at most this many projects, and 20 unless the request says.
pub const PAGE_MAX: u32 = 100;
const PAGE_DEFAULT: u32 = 20;
/// Metres in a degree of latitude on the sphere `Coordinates::distance_m` uses.
const METRES_PER_DEGREE: f64 = 111_195.08;

/// Why the office takes a project down.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TakeDownRequest {
    pub reason: String,
}

/// A grant of a project given to, or taken from, a member of its team.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectGrantRequest {
    pub volunteer_id: Uuid,
    /// `project_lead` or `scanner`.
    pub kind: GrantKind,
    /// Take the grant away rather than give it.
    #[serde(default)]
    pub revoke: bool,
}

/// How a search orders what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchOrder {
    /// Nearest first; needs a point.
    Distance,
    /// Soonest first.
    Start,
}

/// A search for projects, as its query gives it. Values are parsed here, so that each one at
/// fault is named with its rule.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectSearch {
    pub longitude: Option<String>,
    pub latitude: Option<String>,
    /// The system of the point given and of the places answered: `wgs84` (default) or `gcj02`.
    pub system: Option<CoordinateSystem>,
    pub radius_m: Option<u32>,
    pub region: Option<String>,
    pub category: Option<ServiceCategory>,
    pub skill: Option<String>,
    /// Only projects that run within this span.
    pub from: Option<String>,
    pub until: Option<String>,
    /// Only projects taking sign-ups (default true).
    pub recruiting: Option<bool>,
    pub sort: Option<SearchOrder>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn query_field(name: &str) -> String {
    format!("query/{name}")
}

/// The point a search is made from, if it gives one.
fn search_point(search: &ProjectSearch) -> Result<Option<Coordinates>, AppError> {
    let number = |value: &Option<String>, name: &str| -> Result<Option<f64>, AppError> {
        value
            .as_deref()
            .map(|text| {
                text.trim().parse::<f64>().map_err(|_| {
                    InvalidInput::new(query_field(name), Rule::CoordinatesNotNumbers).into()
                })
            })
            .transpose()
    };
    let longitude = number(&search.longitude, "longitude")?;
    let latitude = number(&search.latitude, "latitude")?;
    match (longitude, latitude) {
        (Some(longitude), Some(latitude)) => Ok(Some(Coordinates::parse(
            longitude,
            latitude,
            search.system.unwrap_or(CoordinateSystem::Wgs84),
            &query_field("longitude"),
        )?)),
        (None, None) => Ok(None),
        (Some(_), None) => {
            Err(InvalidInput::new(query_field("latitude"), Rule::PointIncomplete).into())
        }
        (None, Some(_)) => {
            Err(InvalidInput::new(query_field("longitude"), Rule::PointIncomplete).into())
        }
    }
}

/// Where the last page ended: the sort key of its last project and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Distance { millimetres: u64, id: Uuid },
    Start { at: Timestamp, id: Uuid },
}

impl Cursor {
    fn encode(self) -> String {
        let text = match self {
            Cursor::Distance { millimetres, id } => format!("d.{millimetres}.{id}"),
            Cursor::Start { at, id } => format!("s.{}.{id}", at.unix_millis()),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    fn decode(value: &str, order: SearchOrder) -> Result<Cursor, AppError> {
        let invalid = || {
            AppError::from(InvalidInput::new(
                query_field("cursor"),
                Rule::CursorInvalid,
            ))
        };
        let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.splitn(3, '.');
        let (kind, key, id) = (parts.next(), parts.next(), parts.next());
        let id = id
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(invalid)?;
        match (kind, order) {
            (Some("d"), SearchOrder::Distance) => Ok(Cursor::Distance {
                millimetres: key.and_then(|key| key.parse().ok()).ok_or_else(invalid)?,
                id,
            }),
            (Some("s"), SearchOrder::Start) => Ok(Cursor::Start {
                at: Timestamp::from_unix_millis(
                    key.and_then(|key| key.parse().ok()).ok_or_else(invalid)?,
                ),
                id,
            }),
            _ => Err(invalid()),
        }
    }
}

/// A search, parsed.
struct Search {
    point: Option<Coordinates>,
    radius_m: u32,
    system: CoordinateSystem,
    filter: ProjectFilter,
    skill: Option<String>,
    order: SearchOrder,
    limit: u32,
    cursor: Option<Cursor>,
}

async fn parse_search(
    app: &App,
    tenant: &TenantCode,
    search: ProjectSearch,
) -> Result<Search, AppError> {
    // A free-text parameter sent empty (`skill=`) is one not given, as forms send them; a
    // number or a code sent empty is refused like any that is not one.
    let given = |value: Option<String>| value.filter(|text| !text.trim().is_empty());
    let search = ProjectSearch {
        skill: given(search.skill),
        from: given(search.from),
        until: given(search.until),
        cursor: given(search.cursor),
        ..search
    };
    let point = search_point(&search)?;
    let radius_m = search.radius_m.unwrap_or(RADIUS_DEFAULT_M);
    if !(RADIUS_MIN_M..=RADIUS_MAX_M).contains(&radius_m) {
        return Err(InvalidInput::new(query_field("radius_m"), Rule::RadiusRange).into());
    }
    let limit = search.limit.unwrap_or(PAGE_DEFAULT);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(InvalidInput::new(query_field("limit"), Rule::PageSize).into());
    }
    let order = search.sort.unwrap_or(if point.is_some() {
        SearchOrder::Distance
    } else {
        SearchOrder::Start
    });
    if order == SearchOrder::Distance && point.is_none() {
        return Err(InvalidInput::new(query_field("sort"), Rule::SortNeedsPoint).into());
    }
    let regions = match &search.region {
        Some(code) => {
            let field = query_field("region");
            let region = RegionCode::parse(code).map_err(|rule| InvalidInput::new(&field, rule))?;
            let known = app.store.regions(tenant).await?;
            if !known.iter().any(|known| known.code == region) {
                return Err(InvalidInput::new(field, Rule::RegionUnknown).into());
            }
            let tree = RegionTree::new(&known);
            Some(
                known
                    .iter()
                    .filter(|candidate| {
                        candidate.code == region || tree.is_above(&region, &candidate.code)
                    })
                    .map(|candidate| candidate.code.clone())
                    .collect(),
            )
        }
        None => None,
    };
    let instant = |value: &Option<String>, name: &str| {
        value
            .as_deref()
            .map(|text| parse_instant(text, &query_field(name)))
            .transpose()
    };
    let skill = search
        .skill
        .map(|skill| skill.trim().to_owned())
        .filter(|skill| !skill.is_empty());
    let cursor = search
        .cursor
        .as_deref()
        .map(|cursor| Cursor::decode(cursor, order))
        .transpose()?;
    let now = app.clock.now();
    let filter = ProjectFilter {
        regions,
        category: search.category,
        from: instant(&search.from, "from")?,
        until: instant(&search.until, "until")?,
        open_at: search.recruiting.unwrap_or(true).then_some(now),
        statuses: vec![ProjectStatus::Published],
        ..ProjectFilter::default()
    };
    Ok(Search {
        point,
        radius_m,
        system: search.system.unwrap_or(CoordinateSystem::Wgs84),
        filter,
        skill,
        order,
        limit,
        cursor,
    })
}

/// The rectangle around a circle.
fn bounding_box(point: &Coordinates, radius_m: f64) -> GeoBox {
    let (longitude, latitude) = point.wgs84();
    let dlat = radius_m / METRES_PER_DEGREE;
    let widest = (latitude.abs() + dlat).min(89.0).to_radians().cos();
    let dlon = (dlat / widest).min(180.0);
    GeoBox {
        min_longitude: longitude - dlon,
        max_longitude: longitude + dlon,
        min_latitude: latitude - dlat,
        max_latitude: latitude + dlat,
    }
}

fn millimetres(point: &Coordinates, project: &ProjectRecord) -> u64 {
    (point.distance_m(&project.place) * 1000.0).round() as u64
}

fn has_skill(project: &ProjectRecord, skill: &Option<String>) -> bool {
    skill.as_ref().is_none_or(|skill| {
        project.skills.iter().any(|wanted| wanted == skill)
            || project
                .shifts
                .iter()
                .any(|shift| shift.skills.contains(skill))
    })
}

/// Searches projects: nearest first from a point (within its radius), or soonest first.
/// Pages follow a cursor, the sort key of the last project given, so a project published
/// between two pages appears in the later one if it sorts after the cursor and never shifts
/// what the pages hold.
pub async fn search(
    app: &App,
    tenant: &TenantCode,
    query: ProjectSearch,
) -> Result<ProjectPage, AppError> {
    let search = parse_search(app, tenant, query).await?;
    let now = app.clock.now();
    let (found, more) = match (search.order, search.point) {
        (SearchOrder::Distance, Some(point)) => nearest(app, tenant, &search, &point).await?,
        _ => soonest(app, tenant, &search).await?,
    };
    let next_cursor = more
        .then(|| found.last())
        .flatten()
        .map(|(project, distance)| match search.order {
            SearchOrder::Distance => Cursor::Distance {
                millimetres: distance.unwrap_or(0),
                id: project.id,
            },
            SearchOrder::Start => Cursor::Start {
                at: project.starts_at,
                id: project.id,
            },
        })
        .map(Cursor::encode);
    Ok(ProjectPage {
        items: found
            .into_iter()
            .map(|(project, distance)| summary(&project, distance, search.system, now))
            .collect(),
        next_cursor,
    })
}

/// The nearest projects after the cursor: circles of growing radius are read until one holds
/// more than a page (what lies beyond a circle is farther than all it holds) or the search's
/// radius is reached.
async fn nearest(
    app: &App,
    tenant: &TenantCode,
    search: &Search,
    point: &Coordinates,
) -> Result<(Vec<(ProjectRecord, Option<u64>)>, bool), AppError> {
    let radius = f64::from(search.radius_m);
    let mut reach = (radius / 8.0).max(500.0).min(radius);
    loop {
        let filter = ProjectFilter {
            within: Some(bounding_box(point, reach)),
            limit: u32::MAX >> 1,
            ..search.filter.clone()
        };
        let mut found: Vec<(ProjectRecord, Option<u64>)> = app
            .store
            .projects(tenant, &filter)
            .await?
            .into_iter()
            .map(|project| {
                let distance = millimetres(point, &project);
                (project, Some(distance))
            })
            .filter(|(_, distance)| distance.unwrap_or(0) as f64 <= reach * 1000.0)
            .filter(|(project, distance)| match search.cursor {
                Some(Cursor::Distance { millimetres, id }) => {
                    (distance.unwrap_or(0), project.id) > (millimetres, id)
                }
                _ => true,
            })
            .collect();
        if search.skill.is_some() {
            with_shifts(app, tenant, &mut found).await?;
            found.retain(|(project, _)| has_skill(project, &search.skill));
        }
        if found.len() > search.limit as usize || reach >= radius {
            found.sort_by_key(|(project, distance)| (distance.unwrap_or(0), project.id));
            let more = found.len() > search.limit as usize;
            found.truncate(search.limit as usize);
            return Ok((found, more));
        }
        reach = (reach * 2.0).min(radius);
    }
}

/// The soonest projects after the cursor, read in batches until a page is full.
async fn soonest(
    app: &App,
    tenant: &TenantCode,
    search: &Search,
) -> Result<(Vec<(ProjectRecord, Option<u64>)>, bool), AppError> {
    let mut after = match search.cursor {
        Some(Cursor::Start { at, id }) => Some((at, id)),
        _ => None,
    };
    let batch = (search.limit + 1).max(100);
    let mut found = Vec::new();
    loop {
        let filter = ProjectFilter {
            within: search
                .point
                .map(|point| bounding_box(&point, f64::from(search.radius_m))),
            after,
            limit: batch,
            ..search.filter.clone()
        };
        let mut read: Vec<(ProjectRecord, Option<u64>)> = app
            .store
            .projects(tenant, &filter)
            .await?
            .into_iter()
            .map(|project| {
                let distance = search.point.map(|point| millimetres(&point, &project));
                (project, distance)
            })
            .collect();
        let exhausted = read.len() < batch as usize;
        after = read
            .last()
            .map(|(project, _)| (project.starts_at, project.id));
        if search.skill.is_some() {
            with_shifts(app, tenant, &mut read).await?;
        }
        found.extend(read.into_iter().filter(|(project, distance)| {
            distance.is_none_or(|d| d as f64 <= f64::from(search.radius_m) * 1000.0)
                && has_skill(project, &search.skill)
        }));
        if found.len() > search.limit as usize || exhausted {
            let more = found.len() > search.limit as usize;
            found.truncate(search.limit as usize);
            return Ok((found, more));
        }
    }
}

async fn with_shifts(
    app: &App,
    tenant: &TenantCode,
    projects: &mut [(ProjectRecord, Option<u64>)],
) -> Result<(), AppError> {
    let ids: Vec<Uuid> = projects.iter().map(|(project, _)| project.id).collect();
    let shifts = app.store.shifts_of(tenant, &ids).await?;
    for (project, _) in projects.iter_mut() {
        project.shifts = shifts
            .iter()
            .filter(|shift| shift.project_id == project.id)
            .cloned()
            .collect();
    }
    Ok(())
}

pub(crate) fn place_view(place: &Coordinates, system: CoordinateSystem) -> PlaceView {
    let (longitude, latitude) = place.in_system(system);
    PlaceView {
        longitude,
        latitude,
        system,
    }
}

fn summary(
    project: &ProjectRecord,
    distance_mm: Option<u64>,
    system: CoordinateSystem,
    now: Timestamp,
) -> ProjectSummaryView {
    ProjectSummaryView {
        id: project.id,
        team_id: project.team_id,
        title: project.title.clone(),
        summary: project.summary.clone(),
        service_categories: project.service_categories.clone(),
        skills: project.skills.clone(),
        region: project.region.clone(),
        address: project.address.clone(),
        place: place_view(&project.place, system),
        starts_at: project.starts_at,
        ends_at: project.ends_at,
        state: project
            .status
            .state(project.starts_at, project.ends_at, now),
        distance_m: distance_mm.map(|mm| u32::try_from(mm / 1000).unwrap_or(u32::MAX)),
    }
}

fn shift_view(shift: &ShiftRecord, system: CoordinateSystem) -> ShiftView {
    let minutes = |m: u32| i64::from(m) * 60;
    ShiftView {
        id: shift.id,
        starts_at: shift.starts_at,
        ends_at: shift.ends_at,
        address: shift.address.clone(),
        place: shift.place.map(|place| place_view(&place, system)),
        capacity: shift.capacity,
        taken: shift.taken,
        open_places: shift.capacity.saturating_sub(shift.taken),
        waiting: shift.waiting,
        skills: shift.skills.clone(),
        check_in_opens_at: shift
            .starts_at
            .plus_seconds(-minutes(shift.check_in_before_minutes)),
        check_in_closes_at: shift
            .starts_at
            .plus_seconds(minutes(shift.check_in_after_minutes)),
    }
}

pub(crate) fn view(
    project: ProjectRecord,
    insider: bool,
    system: CoordinateSystem,
    now: Timestamp,
) -> ProjectView {
    ProjectView {
        id: project.id,
        team_id: project.team_id,
        need_id: project.need_id,
        state: project
            .status
            .state(project.starts_at, project.ends_at, now),
        shifts: project
            .shifts
            .iter()
            .map(|shift| shift_view(shift, system))
            .collect(),
        place: place_view(&project.place, system),
        title: project.title,
        summary: project.summary,
        description: project.description,
        service_categories: project.service_categories,
        skills: project.skills,
        region: project.region,
        address: project.address,
        starts_at: project.starts_at,
        ends_at: project.ends_at,
        contact_name: project.contact_name,
        contact_mobile: if insider {
            project.contact_mobile
        } else {
            mask(&project.contact_mobile, 3, 4)
        },
        minors: project.minors,
        acceptance: project.acceptance,
        withdrawal_cutoff_hours: project.withdrawal_cutoff_hours,
        decision_reason: project.decision_reason,
        created_at: project.created_at,
    }
}

fn is_team_admin(principal: &Principal, tenant: &TenantCode, team: Uuid) -> bool {
    principal.holds(GrantKind::TeamAdmin, Scope::Team(team), tenant)
}

/// Those who run a project: its team's admins and its lead.
pub(crate) fn runs(principal: &Principal, tenant: &TenantCode, project: &ProjectRecord) -> bool {
    is_team_admin(principal, tenant, project.team_id)
        || principal.holds(GrantKind::ProjectLead, Scope::Project(project.id), tenant)
}

/// Those who see a project before it is public, and its contact's number: those who run it,
/// the office and auditors.
fn is_insider(principal: Option<&Principal>, tenant: &TenantCode, project: &ProjectRecord) -> bool {
    principal.is_some_and(|principal| {
        runs(principal, tenant, project)
            || [
                GrantKind::OfficeAdmin,
                GrantKind::Auditor,
                GrantKind::Operator,
            ]
            .into_iter()
            .any(|kind| principal.holds_in(kind, Some(tenant)))
    })
}

fn is_public(project: &ProjectRecord) -> bool {
    matches!(
        project.status,
        ProjectStatus::Published | ProjectStatus::TakenDown
    )
}

/// Parses a draft against the tenant as it is now.
async fn check_draft(
    app: &App,
    tenant: &TenantCode,
    draft: ProjectDraft,
) -> Result<NewProject, AppError> {
    let regions = app.store.regions(tenant).await?;
    let settings = app.store.project_settings(tenant).await?;
    Ok(draft.parse(&ProjectContext {
        regions: &regions,
        categories: &settings.service_categories,
        now: app.clock.now(),
    })?)
}

/// The team must be approved to publish projects; its admins act for it.
async fn require_team(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team: Uuid,
) -> Result<(), AppError> {
    let team = app.store.team(tenant, team).await?;
    if !is_team_admin(principal, tenant, team.id) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    if team.status != TeamStatus::Approved {
        return Err(AppError::Refused(Rule::TeamNotApproved));
    }
    Ok(())
}

/// A team's admin writes a project as a draft, with its shifts.
pub async fn create(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team: Uuid,
    draft: ProjectDraft,
    system: CoordinateSystem,
) -> Result<ProjectView, AppError> {
    require_team(app, principal, tenant, team).await?;
    let project = check_draft(app, tenant, draft).await?;
    let now = app.clock.now();
    let created = app
        .store
        .create_project(tenant, team, &project, &principal.actor(), now)
        .await?;
    Ok(view(created, true, system, now))
}

/// Those who run a project rewrite it while it is a draft.
pub async fn update(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    draft: ProjectDraft,
    system: CoordinateSystem,
) -> Result<ProjectView, AppError> {
    let project = app.store.project(tenant, id).await?;
    if !runs(principal, tenant, &project) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    if project.status != ProjectStatus::Draft {
        return Err(AppError::WrongState(Rule::ProjectState));
    }
    let rewritten = check_draft(app, tenant, draft).await?;
    let now = app.clock.now();
    let updated = app
        .store
        .update_project(tenant, id, &rewritten, &principal.actor(), now)
        .await?;
    Ok(view(updated, true, system, now))
}

/// A team's admin publishes a draft: it recruits at once, or waits for the office's approval
/// where the tenant asks for it.
pub async fn publish(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    system: CoordinateSystem,
) -> Result<ProjectView, AppError> {
    let project = app.store.project(tenant, id).await?;
    require_team(app, principal, tenant, project.team_id).await?;
    let now = app.clock.now();
    if project.shifts.iter().all(|shift| shift.starts_at <= now) {
        return Err(InvalidInput::new("/shifts", Rule::ShiftInPast).into());
    }
    let approval = app.store.project_settings(tenant).await?.approval;
    let (to, action) = if approval {
        (ProjectStatus::Submitted, AuditAction::ProjectSubmit)
    } else {
        (ProjectStatus::Published, AuditAction::ProjectPublish)
    };
    let published = app
        .store
        .change_project_status(
            tenant,
            id,
            &[ProjectStatus::Draft],
            to,
            action,
            None,
            &principal.actor(),
            now,
        )
        .await?;
    Ok(view(published, true, system, now))
}

/// The office approves a submitted project, which then recruits, or sends it back to its
/// team as a draft with a reason.
pub async fn decide(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: DecisionRequest,
    system: CoordinateSystem,
) -> Result<ProjectView, AppError> {
    let reason = parse_reason(
        request.reason,
        request.decision == Decision::Reject,
        "/reason",
    )?;
    let (to, action) = match request.decision {
        Decision::Approve => (ProjectStatus::Published, AuditAction::ProjectApprove),
        Decision::Reject => (ProjectStatus::Draft, AuditAction::ProjectReject),
    };
    let now = app.clock.now();
    let decided = app
        .store
        .change_project_status(
            tenant,
            id,
            &[ProjectStatus::Submitted],
            to,
            action,
            reason,
            &principal.actor(),
            now,
        )
        .await?;
    Ok(view(decided, true, system, now))
}

/// The office takes a project down, with a reason: it no longer takes sign-ups, and shows why.
pub async fn take_down(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: TakeDownRequest,
    system: CoordinateSystem,
) -> Result<ProjectView, AppError> {
    let reason = parse_reason(Some(request.reason), true, "/reason")?;
    let now = app.clock.now();
    let taken_down = app
        .store
        .change_project_status(
            tenant,
            id,
            &[ProjectStatus::Submitted, ProjectStatus::Published],
            ProjectStatus::TakenDown,
            AuditAction::ProjectTakeDown,
            reason,
            &principal.actor(),
            now,
        )
        .await?;
    Ok(view(taken_down, true, system, now))
}

/// A project: public once published; before that, to those who run it and the office.
pub async fn read(
    app: &App,
    principal: Option<&Principal>,
    tenant: &TenantCode,
    id: Uuid,
    system: CoordinateSystem,
) -> Result<ProjectView, AppError> {
    let project = app.store.project(tenant, id).await?;
    let insider = is_insider(principal, tenant, &project);
    if !insider && !is_public(&project) {
        return Err(AppError::NotFound);
    }
    Ok(view(project, insider, system, app.clock.now()))
}

/// A team's projects, newest first: drafts too for those who run them.
pub async fn of_team(
    app: &App,
    principal: Option<&Principal>,
    tenant: &TenantCode,
    team: Uuid,
    system: CoordinateSystem,
) -> Result<Vec<ProjectSummaryView>, AppError> {
    let team = app.store.team(tenant, team).await?;
    let admin = principal.is_some_and(|principal| is_team_admin(principal, tenant, team.id));
    let office = principal.is_some_and(|principal| {
        [
            GrantKind::OfficeAdmin,
            GrantKind::Auditor,
            GrantKind::Operator,
        ]
        .into_iter()
        .any(|kind| principal.holds_in(kind, Some(tenant)))
    });
    let filter = ProjectFilter {
        team: Some(team.id),
        limit: 1000,
        ..ProjectFilter::default()
    };
    let now = app.clock.now();
    let mut projects: Vec<ProjectSummaryView> = app
        .store
        .projects(tenant, &filter)
        .await?
        .into_iter()
        .filter(|project| admin || office || is_public(project))
        .map(|project| summary(&project, None, system, now))
        .collect();
    projects.reverse();
    Ok(projects)
}

/// Projects suggested to the signed-in volunteer: those near the point given (or, without
/// one, of their region) that they can still join, ranked by the tenant's matching policy.
pub async fn suggest(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    mut query: ProjectSearch,
) -> Result<Vec<SuggestionView>, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    let limit = query
        .limit
        .take()
        .unwrap_or(PAGE_DEFAULT)
        .clamp(1, PAGE_MAX);
    let point_given = query.longitude.is_some() || query.latitude.is_some();
    if !point_given && query.region.is_none() {
        query.region = Some(volunteer.region.as_str().to_owned());
    }
    query.radius_m = query.radius_m.or(Some(20_000));
    query.recruiting = Some(true);
    query.limit = Some(PAGE_MAX);
    query.cursor = None;
    let page = search(app, tenant, query).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|project| project.id).collect();
    let shifts = app.store.shifts_of(tenant, &ids).await?;
    let held: Vec<(Timestamp, Timestamp)> = app
        .store
        .enrollments_of_volunteer(tenant, volunteer.id)
        .await?
        .into_iter()
        .filter(|enrollment| enrollment.status.is_live())
        .map(|enrollment| (enrollment.shift_starts_at, enrollment.shift_ends_at))
        .collect();
    let now = app.clock.now();
    let profile = MatchProfile {
        categories: volunteer
            .service_categories
            .iter()
            .map(|category| category_name(*category))
            .collect(),
        tags: volunteer.skills.clone(),
        region: volunteer.region.as_str().to_owned(),
        distance_m: None,
        open_shifts: None,
    };
    let candidates: Vec<(ProjectSummaryView, MatchProfile, u32)> = page
        .items
        .into_iter()
        .map(|project| {
            let open = shifts
                .iter()
                .filter(|shift| shift.project_id == project.id)
                .filter(|shift| shift.starts_at > now && shift.taken < shift.capacity)
                .filter(|shift| {
                    !held
                        .iter()
                        .any(|(start, end)| *start < shift.ends_at && *end > shift.starts_at)
                })
                .count() as u32;
            let profile = MatchProfile {
                categories: project
                    .service_categories
                    .iter()
                    .map(|category| category_name(*category))
                    .collect(),
                tags: project.skills.clone(),
                region: project.region.as_str().to_owned(),
                distance_m: project.distance_m,
                open_shifts: Some(open),
            };
            (project, profile, open)
        })
        .collect();
    let policy = app.policies.for_tenant(tenant);
    let scored = ask(policy, Hook::MatchScore, move |policy| {
        candidates
            .into_iter()
            .map(|(project, candidate, open)| {
                policy
                    .match_score(&profile, &candidate)
                    .map(|score| (project, score, open))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let mut suggestions: Vec<SuggestionView> = scored
        .into_iter()
        .filter(|(project, _, open)| *open > 0 && project.state != ProjectState::Finished)
        .map(|(project, score, open_shifts)| SuggestionView {
            project,
            score,
            open_shifts,
        })
        .collect();
    suggestions.sort_by_key(|suggestion| {
        (
            std::cmp::Reverse(suggestion.score),
            suggestion.project.distance_m,
            suggestion.project.starts_at,
        )
    });
    suggestions.truncate(limit as usize);
    Ok(suggestions)
}

/// A reason as given: trimmed, at most 500 characters, and required where `required`.
pub(crate) fn parse_reason(
    reason: Option<String>,
    required: bool,
    field: &str,
) -> Result<Option<String>, AppError> {
    let reason = reason
        .map(|reason| reason.trim().to_owned())
        .filter(|reason| !reason.is_empty());
    match &reason {
        Some(reason) => zhiyuan_domain::check_text(reason, 500, field)?,
        None if required => return Err(InvalidInput::new(field, Rule::ReasonRequired).into()),
        None => {}
    }
    Ok(reason)
}

fn category_name(category: ServiceCategory) -> String {
    serde_json::to_value(category)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A team's admin makes a member of the team the project's lead or one of its scanners, or
/// takes that grant away.
pub async fn change_grants(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: ProjectGrantRequest,
) -> Result<ProjectGrantsView, AppError> {
    let project = app.store.project(tenant, id).await?;
    if !is_team_admin(principal, tenant, project.team_id) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    if !matches!(request.kind, GrantKind::ProjectLead | GrantKind::Scanner) {
        return Err(InvalidInput::new("/kind", Rule::GrantScope).into());
    }
    let account =
        crate::teams::member_account(app, tenant, project.team_id, request.volunteer_id).await?;
    let grant = zhiyuan_domain::Grant {
        kind: request.kind,
        scope: Scope::Project(project.id),
    };
    let now = app.clock.now();
    if request.revoke {
        app.store
            .revoke_grant(tenant, account, grant, &principal.actor(), now)
            .await?;
    } else {
        app.store
            .add_grant(tenant, account, grant, &principal.actor(), now)
            .await?;
    }
    app.sessions.forget_account(account);
    grants_of(app, tenant, project.id).await
}

async fn grants_of(
    app: &App,
    tenant: &TenantCode,
    project: Uuid,
) -> Result<ProjectGrantsView, AppError> {
    Ok(ProjectGrantsView {
        project_leads: app
            .store
            .holders(tenant, GrantKind::ProjectLead, Scope::Project(project))
            .await?,
        scanners: app
            .store
            .holders(tenant, GrantKind::Scanner, Scope::Project(project))
            .await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_a_forged_one_is_refused() {
        let id = Uuid::now_v7();
        for cursor in [
            Cursor::Distance {
                millimetres: 1_234_567,
                id,
            },
            Cursor::Start {
                at: Timestamp::from_unix_millis(1_800_000_000_000),
                id,
            },
        ] {
            let order = match cursor {
                Cursor::Distance { .. } => SearchOrder::Distance,
                Cursor::Start { .. } => SearchOrder::Start,
            };
            assert_eq!(Cursor::decode(&cursor.encode(), order).unwrap(), cursor);
        }
        let distance = Cursor::Distance { millimetres: 1, id }.encode();
        for forged in ["", "!!", "ZC4xLm5vdA", distance.as_str()] {
            assert!(
                Cursor::decode(forged, SearchOrder::Start).is_err(),
                "{forged}"
            );
        }
    }

    #[test]
    fn the_box_around_a_circle_holds_it() {
        let point = Coordinates::parse(114.3, 30.6, CoordinateSystem::Wgs84, "").unwrap();
        let bounds = bounding_box(&point, 10_000.0);
        for (lon, lat) in [
            (bounds.min_longitude, 30.6),
            (bounds.max_longitude, 30.6),
            (114.3, bounds.min_latitude),
            (114.3, bounds.max_latitude),
        ] {
            let edge = Coordinates::parse(lon, lat, CoordinateSystem::Wgs84, "").unwrap();
            assert!(point.distance_m(&edge) >= 9_999.0, "{lon} {lat}");
        }
    }
}
