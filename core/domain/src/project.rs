//! Projects (R13) and their shifts, needs (R4, R14), and signing up for shifts (R15).
//!
//! A team publishes a project to recruit for it; a project has shifts, each a time slot with a
//! capacity. Residents, communities and units post needs, which the office or a reviewing body
//! curates and a team answers with a project. Documents arrive as `ProjectDraft` and `NeedPost`
//! and are parsed, against the tenant as it is, into `NewProject` and `NewNeed`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::stored::stored_names;
use crate::{
    CoordinateSystem, Coordinates, InvalidInput, MobileNumber, PersonName, Region, RegionCode,
    Rule, ServiceCategory, Timestamp, check_text, parse_tags,
};

/// A shift takes at most this many volunteers.
pub const SHIFT_CAPACITY_MAX: u32 = 10_000;
/// A project has at most this many shifts.
pub const SHIFTS_PER_PROJECT_MAX: usize = 200;
/// A project runs for at most a year.
const PROJECT_SPAN_MAX_MS: i64 = 366 * 24 * 3600 * 1000;
/// Withdrawal closes at most this long before a shift starts.
pub const WITHDRAWAL_CUTOFF_MAX_HOURS: u32 = 720;
/// Check-in opens at most this long before a shift starts and closes at most this long after.
pub const CHECK_IN_WINDOW_MAX_MINUTES: u32 = 720;

/// Where a place is, as a map picker gives it: WGS-84 unless it says GCJ-02.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceInput {
    pub longitude: f64,
    pub latitude: f64,
    #[serde(default = "wgs84")]
    pub system: CoordinateSystem,
}

fn wgs84() -> CoordinateSystem {
    CoordinateSystem::Wgs84
}

impl PlaceInput {
    pub fn parse(self, field: &str) -> Result<Coordinates, InvalidInput> {
        Coordinates::parse(self.longitude, self.latitude, self.system, field)
    }
}

/// Who may sign up besides verified adults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MinorsPolicy {
    /// Adults only.
    #[default]
    NotAllowed,
    /// Minors too, each with their guardian's consent recorded as they sign up.
    WithGuardianConsent,
}

stored_names!(MinorsPolicy {
    NotAllowed = "not_allowed",
    WithGuardianConsent = "with_guardian_consent",
});

/// Whether a sign-up holds its place at once or waits for the team's acceptance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Acceptance {
    #[default]
    Automatic,
    /// A team admin or the project lead accepts each sign-up; until then it holds its place.
    ByTeam,
}

stored_names!(Acceptance {
    Automatic = "automatic",
    ByTeam = "by_team",
});

/// Where a project stands as stored. What people see (`ProjectState`) follows from this and
/// the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Draft,
    /// Waiting for the office's approval, where the tenant asks for it.
    Submitted,
    Published,
    TakenDown,
}

stored_names!(ProjectStatus {
    Draft = "draft",
    Submitted = "submitted",
    Published = "published",
    TakenDown = "taken_down",
});

/// Where a project stands, as people see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectState {
    Draft,
    /// Published, waiting for the office's approval.
    Submitted,
    /// Published, not started yet.
    Recruiting,
    /// Started, not over: shifts still to come take sign-ups.
    Running,
    Finished,
    /// Taken down by the city office, with a reason.
    TakenDown,
}

impl ProjectStatus {
    pub fn state(self, starts_at: Timestamp, ends_at: Timestamp, now: Timestamp) -> ProjectState {
        match self {
            ProjectStatus::Draft => ProjectState::Draft,
            ProjectStatus::Submitted => ProjectState::Submitted,
            ProjectStatus::TakenDown => ProjectState::TakenDown,
            ProjectStatus::Published if now >= ends_at => ProjectState::Finished,
            ProjectStatus::Published if now >= starts_at => ProjectState::Running,
            ProjectStatus::Published => ProjectState::Recruiting,
        }
    }
}

/// Where a sign-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentStatus {
    /// Holds a place, waiting for the team's acceptance.
    Applied,
    /// Holds a place.
    Accepted,
    /// On the shift's waiting list: moves up, oldest first, when a place frees.
    Waitlisted,
    Rejected,
    Withdrawn,
    /// Removed by the team, with a reason.
    Removed,
}

stored_names!(EnrollmentStatus {
    Applied = "applied",
    Accepted = "accepted",
    Waitlisted = "waitlisted",
    Rejected = "rejected",
    Withdrawn = "withdrawn",
    Removed = "removed",
});

impl EnrollmentStatus {
    /// Holds one of the shift's places.
    pub fn holds_place(self) -> bool {
        matches!(self, EnrollmentStatus::Applied | EnrollmentStatus::Accepted)
    }

    /// Counts against the volunteer's time: no other shift at the same time.
    pub fn is_live(self) -> bool {
        self.holds_place() || self == EnrollmentStatus::Waitlisted
    }
}

/// Who posted a need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NeedPoster {
    Resident,
    /// 社区
    Community,
    Unit,
}

stored_names!(NeedPoster {
    Resident = "resident",
    Community = "community",
    Unit = "unit",
});

/// Where a need stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NeedStatus {
    /// Posted, waiting for curation; only its poster and curators see it.
    Submitted,
    /// Curated and public: teams may answer it.
    Open,
    /// Set aside by a curator, with a reason.
    Rejected,
    Met,
    Unmet,
}

stored_names!(NeedStatus {
    Submitted = "submitted",
    Open = "open",
    Rejected = "rejected",
    Met = "met",
    Unmet = "unmet",
});

impl NeedStatus {
    /// Shown to anyone, signed in or not.
    pub fn is_public(self) -> bool {
        matches!(self, NeedStatus::Open | NeedStatus::Met | NeedStatus::Unmet)
    }
}

/// A project as a team writes it, before parsing.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectDraft {
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub description: String,
    pub service_categories: Vec<ServiceCategory>,
    #[serde(default)]
    pub skills: Vec<String>,
    pub region: String,
    pub address: String,
    pub place: PlaceInput,
    /// RFC 3339 with an offset, e.g. `2026-12-05T09:00:00+08:00`.
    pub starts_at: String,
    pub ends_at: String,
    pub contact_name: String,
    pub contact_mobile: String,
    #[serde(default)]
    pub minors: MinorsPolicy,
    #[serde(default)]
    pub acceptance: Acceptance,
    /// A volunteer holding a place may withdraw until this many hours before the shift.
    #[serde(default = "default_cutoff")]
    pub withdrawal_cutoff_hours: u32,
    /// The need the project answers.
    pub need_id: Option<Uuid>,
    pub shifts: Vec<ShiftDraft>,
}

fn default_cutoff() -> u32 {
    2
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftDraft {
    pub starts_at: String,
    pub ends_at: String,
    /// Where the shift is, when not at the project's address.
    pub address: Option<String>,
    pub place: Option<PlaceInput>,
    pub capacity: u32,
    #[serde(default)]
    pub skills: Vec<String>,
    /// Check-in opens this many minutes before the shift starts…
    #[serde(default = "default_check_in")]
    pub check_in_before_minutes: u32,
    /// …and closes this many minutes after it starts.
    #[serde(default = "default_check_in")]
    pub check_in_after_minutes: u32,
}

fn default_check_in() -> u32 {
    30
}

/// What a draft is checked against: the tenant as it is, and the time.
#[derive(Debug, Clone, Copy)]
pub struct ProjectContext<'a> {
    pub regions: &'a [Region],
    /// The service categories the tenant uses.
    pub categories: &'a [ServiceCategory],
    pub now: Timestamp,
}

/// A project, parsed: every field valid, every shift within it.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub service_categories: Vec<ServiceCategory>,
    pub skills: Vec<String>,
    pub region: RegionCode,
    pub address: String,
    pub place: Coordinates,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub contact_name: PersonName,
    pub contact_mobile: MobileNumber,
    pub minors: MinorsPolicy,
    pub acceptance: Acceptance,
    pub withdrawal_cutoff_hours: u32,
    pub need: Option<Uuid>,
    pub shifts: Vec<NewShift>,
}

#[derive(Debug, Clone)]
pub struct NewShift {
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub address: Option<String>,
    pub place: Option<Coordinates>,
    pub capacity: u32,
    pub skills: Vec<String>,
    pub check_in_before_minutes: u32,
    pub check_in_after_minutes: u32,
}

fn invalid(field: impl Into<String>, rule: Rule) -> InvalidInput {
    InvalidInput::new(field, rule)
}

/// A text that must say something, of at most `max` characters.
fn required_text(value: &str, max: usize, field: &str) -> Result<String, InvalidInput> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, Rule::NameEmpty));
    }
    check_text(value, max, field)?;
    Ok(value.to_owned())
}

/// An instant written in RFC 3339 with its offset.
pub fn parse_instant(value: &str, field: &str) -> Result<Timestamp, InvalidInput> {
    Timestamp::parse_rfc3339(value).ok_or_else(|| invalid(field, Rule::TimeFormat))
}

/// A time span: its end after its start.
fn parse_span(
    starts_at: &str,
    ends_at: &str,
    field: &str,
) -> Result<(Timestamp, Timestamp), InvalidInput> {
    let start = parse_instant(starts_at, &format!("{field}/starts_at"))?;
    let end = parse_instant(ends_at, &format!("{field}/ends_at"))?;
    if end <= start {
        return Err(invalid(format!("{field}/ends_at"), Rule::EndsBeforeStart));
    }
    Ok((start, end))
}

/// Categories of the tenant's list, each once; at least one.
fn parse_categories(
    given: &[ServiceCategory],
    offered: &[ServiceCategory],
    field: &str,
) -> Result<Vec<ServiceCategory>, InvalidInput> {
    if given.is_empty() {
        return Err(invalid(field, Rule::CategoryRequired));
    }
    let mut categories = Vec::with_capacity(given.len());
    for (index, category) in given.iter().enumerate() {
        if !offered.contains(category) {
            return Err(invalid(
                format!("{field}/{index}"),
                Rule::CategoryNotOffered,
            ));
        }
        if !categories.contains(category) {
            categories.push(*category);
        }
    }
    Ok(categories)
}

fn parse_region(value: &str, regions: &[Region], field: &str) -> Result<RegionCode, InvalidInput> {
    let region = RegionCode::parse(value).map_err(|rule| invalid(field, rule))?;
    if !regions.iter().any(|known| known.code == region) {
        return Err(invalid(field, Rule::RegionUnknown));
    }
    Ok(region)
}

impl ProjectDraft {
    /// Parses every field, naming the first one at fault.
    pub fn parse(self, context: &ProjectContext<'_>) -> Result<NewProject, InvalidInput> {
        let title = required_text(&self.title, 60, "/title")?;
        let summary = required_text(&self.summary, 200, "/summary")?;
        check_text(&self.description, 5000, "/description")?;
        let service_categories = parse_categories(
            &self.service_categories,
            context.categories,
            "/service_categories",
        )?;
        let skills = parse_tags(&self.skills, "/skills")?;
        let region = parse_region(&self.region, context.regions, "/region")?;
        let address = required_text(&self.address, 200, "/address")?;
        let place = self.place.parse("/place")?;
        let (starts_at, ends_at) = parse_span(&self.starts_at, &self.ends_at, "")?;
        if ends_at.unix_millis() - starts_at.unix_millis() > PROJECT_SPAN_MAX_MS {
            return Err(invalid("/ends_at", Rule::ProjectTooLong));
        }
        let contact_name = PersonName::parse(&self.contact_name, "/contact_name")?;
        let contact_mobile = MobileNumber::parse(&self.contact_mobile, "/contact_mobile")?;
        if self.withdrawal_cutoff_hours > WITHDRAWAL_CUTOFF_MAX_HOURS {
            return Err(invalid("/withdrawal_cutoff_hours", Rule::WithdrawalCutoff));
        }
        if self.shifts.is_empty() || self.shifts.len() > SHIFTS_PER_PROJECT_MAX {
            return Err(invalid("/shifts", Rule::ShiftCount));
        }
        let shifts = self
            .shifts
            .into_iter()
            .enumerate()
            .map(|(index, shift)| {
                shift.parse(
                    (starts_at, ends_at),
                    context.now,
                    &format!("/shifts/{index}"),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewProject {
            title,
            summary,
            description: self.description.trim().to_owned(),
            service_categories,
            skills,
            region,
            address,
            place,
            starts_at,
            ends_at,
            contact_name,
            contact_mobile,
            minors: self.minors,
            acceptance: self.acceptance,
            withdrawal_cutoff_hours: self.withdrawal_cutoff_hours,
            need: self.need_id,
            shifts,
        })
    }
}

impl ShiftDraft {
    fn parse(
        self,
        (project_start, project_end): (Timestamp, Timestamp),
        now: Timestamp,
        field: &str,
    ) -> Result<NewShift, InvalidInput> {
        let (starts_at, ends_at) = parse_span(&self.starts_at, &self.ends_at, field)?;
        if starts_at < project_start || ends_at > project_end {
            return Err(invalid(
                format!("{field}/starts_at"),
                Rule::ShiftOutsideProject,
            ));
        }
        if starts_at <= now {
            return Err(invalid(format!("{field}/starts_at"), Rule::ShiftInPast));
        }
        if self.capacity == 0 || self.capacity > SHIFT_CAPACITY_MAX {
            return Err(invalid(format!("{field}/capacity"), Rule::ShiftCapacity));
        }
        let address = match self.address.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(address) => Some(required_text(address, 200, &format!("{field}/address"))?),
        };
        let place = self
            .place
            .map(|place| place.parse(&format!("{field}/place")))
            .transpose()?;
        for (minutes, name) in [
            (self.check_in_before_minutes, "check_in_before_minutes"),
            (self.check_in_after_minutes, "check_in_after_minutes"),
        ] {
            if minutes > CHECK_IN_WINDOW_MAX_MINUTES {
                return Err(invalid(format!("{field}/{name}"), Rule::CheckInWindow));
            }
        }
        Ok(NewShift {
            starts_at,
            ends_at,
            address,
            place,
            capacity: self.capacity,
            skills: parse_tags(&self.skills, &format!("{field}/skills"))?,
            check_in_before_minutes: self.check_in_before_minutes,
            check_in_after_minutes: self.check_in_after_minutes,
        })
    }
}

/// A need as posted, before parsing.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedPost {
    pub title: String,
    pub description: String,
    pub service_categories: Vec<ServiceCategory>,
    pub region: String,
    pub address: String,
    pub place: Option<PlaceInput>,
    pub starts_at: String,
    pub ends_at: String,
    pub people_needed: u32,
    pub contact_name: String,
    pub contact_mobile: String,
    pub poster: NeedPoster,
    /// The unit posting it, for a need posted by a unit.
    pub unit_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct NewNeed {
    pub title: String,
    pub description: String,
    pub service_categories: Vec<ServiceCategory>,
    pub region: RegionCode,
    pub address: String,
    pub place: Option<Coordinates>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub people_needed: u32,
    pub contact_name: PersonName,
    pub contact_mobile: MobileNumber,
    pub poster: NeedPoster,
    pub unit: Option<Uuid>,
}

impl NeedPost {
    pub fn parse(self, context: &ProjectContext<'_>) -> Result<NewNeed, InvalidInput> {
        let title = required_text(&self.title, 60, "/title")?;
        let description = required_text(&self.description, 2000, "/description")?;
        let service_categories = parse_categories(
            &self.service_categories,
            context.categories,
            "/service_categories",
        )?;
        let region = parse_region(&self.region, context.regions, "/region")?;
        let address = required_text(&self.address, 200, "/address")?;
        let place = self.place.map(|place| place.parse("/place")).transpose()?;
        let (starts_at, ends_at) = parse_span(&self.starts_at, &self.ends_at, "")?;
        if ends_at <= context.now {
            return Err(invalid("/ends_at", Rule::ShiftInPast));
        }
        if self.people_needed == 0 || self.people_needed > SHIFT_CAPACITY_MAX {
            return Err(invalid("/people_needed", Rule::ShiftCapacity));
        }
        if (self.poster == NeedPoster::Unit) != self.unit_id.is_some() {
            return Err(invalid("/unit_id", Rule::NeedUnit));
        }
        Ok(NewNeed {
            title,
            description,
            service_categories,
            region,
            address,
            place,
            starts_at,
            ends_at,
            people_needed: self.people_needed,
            contact_name: PersonName::parse(&self.contact_name, "/contact_name")?,
            contact_mobile: MobileNumber::parse(&self.contact_mobile, "/contact_mobile")?,
            poster: self.poster,
            unit: self.unit_id,
        })
    }
}

/// A guardian's consent to a minor's sign-up, as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardianConsentInput {
    pub guardian_name: String,
    pub guardian_mobile: String,
    /// 父母, 祖父母, 其他监护人…
    pub relationship: String,
}

#[derive(Debug, Clone)]
pub struct GuardianConsent {
    pub guardian_name: PersonName,
    pub guardian_mobile: MobileNumber,
    pub relationship: String,
}

impl GuardianConsentInput {
    pub fn parse(self, field: &str) -> Result<GuardianConsent, InvalidInput> {
        Ok(GuardianConsent {
            guardian_name: PersonName::parse(
                &self.guardian_name,
                &format!("{field}/guardian_name"),
            )?,
            guardian_mobile: MobileNumber::parse(
                &self.guardian_mobile,
                &format!("{field}/guardian_mobile"),
            )?,
            relationship: required_text(&self.relationship, 20, &format!("{field}/relationship"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RegionLevel;

    fn regions() -> Vec<Region> {
        vec![Region {
            code: RegionCode::parse("421300").unwrap(),
            parent: None,
            name: crate::LocalizedName {
                zh: "随州市".into(),
                en: None,
            },
            level: RegionLevel::City,
            local: false,
            resident_population: 1,
        }]
    }

    fn draft() -> ProjectDraft {
        serde_json::from_value(serde_json::json!({
            "title": "敬老院陪伴", "summary": "周末陪伴老人", "service_categories": ["elderly_and_disabled"],
            "region": "421300", "address": "曾都区某路1号",
            "place": { "longitude": 113.38, "latitude": 31.69, "system": "gcj02" },
            "starts_at": "2026-12-05T08:00:00+08:00", "ends_at": "2026-12-06T18:00:00+08:00",
            "contact_name": "张三", "contact_mobile": "13900001111",
            "shifts": [{ "starts_at": "2026-12-05T09:00:00+08:00", "ends_at": "2026-12-05T12:00:00+08:00", "capacity": 20 }]
        }))
        .unwrap()
    }

    fn parse(draft: ProjectDraft) -> Result<NewProject, InvalidInput> {
        let regions = regions();
        draft.parse(&ProjectContext {
            regions: &regions,
            categories: &[
                ServiceCategory::ElderlyAndDisabled,
                ServiceCategory::Community,
            ],
            now: Timestamp::parse_rfc3339("2026-11-30T00:00:00+08:00").unwrap(),
        })
    }

    #[test]
    fn a_draft_parses_with_its_place_in_wgs84() {
        let project = parse(draft()).unwrap();
        let (lon, lat) = project.place.wgs84();
        assert!((lon - 113.38).abs() > 1e-4 && (lat - 31.69).abs() > 1e-4);
        assert_eq!(project.shifts[0].capacity, 20);
        assert_eq!(project.withdrawal_cutoff_hours, 2);
    }

    #[test]
    fn each_broken_field_is_named_with_its_rule() {
        type Breaks = fn(&mut ProjectDraft);
        let cases: Vec<(Breaks, &str, Rule)> = vec![
            (|d| d.title = " ".into(), "/title", Rule::NameEmpty),
            (
                |d| d.ends_at = "2026-12-04T08:00:00+08:00".into(),
                "/ends_at",
                Rule::EndsBeforeStart,
            ),
            (
                |d| d.starts_at = "2026-12-05 08:00".into(),
                "/starts_at",
                Rule::TimeFormat,
            ),
            (
                |d| d.region = "420700".into(),
                "/region",
                Rule::RegionUnknown,
            ),
            (
                |d| d.service_categories = vec![ServiceCategory::Health],
                "/service_categories/0",
                Rule::CategoryNotOffered,
            ),
            (
                |d| d.service_categories.clear(),
                "/service_categories",
                Rule::CategoryRequired,
            ),
            (
                |d| d.place.longitude = 2.35,
                "/place",
                Rule::CoordinatesOutsideChina,
            ),
            (|d| d.shifts.clear(), "/shifts", Rule::ShiftCount),
            (
                |d| d.shifts[0].capacity = 0,
                "/shifts/0/capacity",
                Rule::ShiftCapacity,
            ),
            (
                |d| d.shifts[0].capacity = 10_001,
                "/shifts/0/capacity",
                Rule::ShiftCapacity,
            ),
            (
                |d| d.shifts[0].ends_at = "2026-12-05T08:30:00+08:00".into(),
                "/shifts/0/ends_at",
                Rule::EndsBeforeStart,
            ),
            (
                |d| d.shifts[0].starts_at = "2026-12-04T09:00:00+08:00".into(),
                "/shifts/0/starts_at",
                Rule::ShiftOutsideProject,
            ),
            (
                |d| d.shifts[0].ends_at = "2026-12-07T09:00:00+08:00".into(),
                "/shifts/0/starts_at",
                Rule::ShiftOutsideProject,
            ),
            (
                |d| d.withdrawal_cutoff_hours = 721,
                "/withdrawal_cutoff_hours",
                Rule::WithdrawalCutoff,
            ),
            (
                |d| d.contact_mobile = "12345".into(),
                "/contact_mobile",
                Rule::MobileFormat,
            ),
        ];
        for (break_it, field, rule) in cases {
            let mut broken = draft();
            break_it(&mut broken);
            assert_eq!(
                parse(broken).unwrap_err(),
                InvalidInput::new(field, rule),
                "{field}"
            );
        }
    }

    #[test]
    fn a_shift_in_the_past_is_refused() {
        let mut past = draft();
        past.starts_at = "2026-11-01T08:00:00+08:00".into();
        past.shifts[0].starts_at = "2026-11-02T09:00:00+08:00".into();
        past.shifts[0].ends_at = "2026-11-02T10:00:00+08:00".into();
        assert_eq!(
            parse(past).unwrap_err(),
            InvalidInput::new("/shifts/0/starts_at", Rule::ShiftInPast)
        );
    }

    #[test]
    fn a_project_is_recruiting_then_running_then_finished() {
        let at = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
        let (start, end) = (
            at("2026-12-05T08:00:00+08:00"),
            at("2026-12-06T08:00:00+08:00"),
        );
        let published = ProjectStatus::Published;
        assert_eq!(
            published.state(start, end, at("2026-12-01T00:00:00Z")),
            ProjectState::Recruiting
        );
        assert_eq!(published.state(start, end, start), ProjectState::Running);
        assert_eq!(published.state(start, end, end), ProjectState::Finished);
        assert_eq!(
            ProjectStatus::TakenDown.state(start, end, start),
            ProjectState::TakenDown
        );
    }
}
