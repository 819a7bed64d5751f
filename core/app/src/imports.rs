//! The registration forms (R20): lists of volunteers and teams that units keep, imported with
//! every row checked by the same rules as an application over the API and reported by line and
//! column; and the volunteer registration form (志愿者注册登记表) exported.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path};

use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, AgeGroup, NewVolunteer, RegionCode, Rule, TeamApplication, TenantCode,
    VolunteerApplication, check_characters, mask,
};
use zhiyuan_forms::{
    FormRow, ListReader, RowError, TEAM_COLUMNS, VOLUNTEER_COLUMNS, age_group_label,
    category_label, gender_label, id_kind_label, parse_category, parse_id_kind, parse_legal_status,
    parse_unit_kind, split_list, status_label,
};
use zhiyuan_store::{ImportPreparer, PreparedVolunteer, VolunteerFilter};

use crate::teams::{FILE_LIMIT, check_application};
use crate::{App, AppError};

/// All rows or none (the default), or every valid row and a report of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    AllOrNothing,
    ValidRowsOnly,
}

/// What an import did: rows read, rows imported, and every row that was not.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub rows: u64,
    pub imported: u64,
    pub errors: Vec<RowError>,
}

/// Rows parsed between two writes: large enough for few round trips, small enough to keep
/// memory flat whatever the file's size.
const CHUNK: usize = 5_000;

/// Imports a volunteer list into `tenant`; `progress` hears (rows read, rows imported).
///
/// Rows are parsed, sealed and indexed on a blocking thread while the database writes the
/// chunks prepared before, so an import uses both the CPU and the database at once.
pub async fn import_volunteers(
    app: &App,
    tenant: &TenantCode,
    text: String,
    mode: ImportMode,
    actor: &Actor,
    source: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, AppError> {
    let at = app.clock.now();
    // The header is checked before anything is written.
    ListReader::new(&text, &VOLUNTEER_COLUMNS)?;
    let mut import = app.store.begin_volunteer_import(tenant, at).await?;
    let (regions, unit_ids) = import.known_regions_and_units().await?;
    let units: HashMap<String, Uuid> = app
        .store
        .units(tenant)
        .await?
        .into_iter()
        .filter(|unit| unit_ids.contains(&unit.id))
        .map(|unit| (unit.name.zh, unit.id))
        .collect();
    let region_names: HashMap<String, String> = app
        .store
        .regions(tenant)
        .await?
        .into_iter()
        .map(|region| (region.name.zh, region.code.as_str().to_owned()))
        .collect();
    let context = RowContext {
        regions,
        region_names,
        units,
        today: at.shanghai_date(),
    };
    let preparer = import.preparer();

    let (chunks, mut received) = tokio::sync::mpsc::channel::<(Vec<PreparedVolunteer>, u64)>(2);
    let parser =
        tokio::task::spawn_blocking(move || parse_all(&text, &context, preparer, mode, &chunks));
    while let Some((chunk, rows_read)) = received.recv().await {
        import.insert(&chunk).await?;
        progress(rows_read, import.imported());
    }
    let mut report = parser
        .await
        .map_err(|error| AppError::Internal(format!("the row parser stopped: {error}")))??;
    if mode == ImportMode::AllOrNothing && !report.errors.is_empty() {
        // Dropping the import rolls it back.
        progress(report.rows, 0);
        return Ok(report);
    }
    let imported = import
        .finish(actor, json!({ "file": source, "rows": report.rows }))
        .await?;
    report.imported = imported;
    progress(report.rows, imported);
    Ok(report)
}

/// Reads every row, sending prepared chunks; answers the rows read and the errors found.
fn parse_all(
    text: &str,
    context: &RowContext,
    mut preparer: ImportPreparer,
    mode: ImportMode,
    chunks: &tokio::sync::mpsc::Sender<(Vec<PreparedVolunteer>, u64)>,
) -> Result<ImportReport, AppError> {
    let mut reader = ListReader::new(text, &VOLUNTEER_COLUMNS)?;
    let mut report = ImportReport::default();
    let mut pending = Vec::with_capacity(CHUNK);
    loop {
        let (line, prepared) = {
            let Some(row) = reader.next_row()? else {
                break;
            };
            let prepared = parse_volunteer_row(context, &row.fields).and_then(|volunteer| {
                preparer
                    .prepare(volunteer)
                    .ok_or((2, Rule::IdNumberRegistered))
            });
            (row.line, prepared)
        };
        report.rows = reader.rows();
        match prepared {
            // Once a row has failed, an all-or-nothing import only checks the rest.
            Ok(row) if mode == ImportMode::ValidRowsOnly || report.errors.is_empty() => {
                pending.push(row)
            }
            Ok(_) => {}
            Err((column, rule)) => {
                report.errors.push(reader.error(line, column, rule));
                if mode == ImportMode::AllOrNothing {
                    pending.clear();
                }
            }
        }
        if pending.len() >= CHUNK {
            let chunk = std::mem::replace(&mut pending, Vec::with_capacity(CHUNK));
            if chunks.blocking_send((chunk, report.rows)).is_err() {
                // The writer stopped on an error of its own, which it reports.
                return Ok(report);
            }
        }
    }
    if !pending.is_empty() {
        let _ = chunks.blocking_send((pending, report.rows));
    }
    Ok(report)
}

struct RowContext {
    regions: HashSet<String>,
    region_names: HashMap<String, String>,
    units: HashMap<String, Uuid>,
    today: time::Date,
}

/// Where the fields of an application stand in a volunteer list.
const APPLICATION_FIELDS: [(&str, usize); 7] = [
    ("/name", 0),
    ("/id_number", 2),
    ("/mobile", 3),
    ("/region", 4),
    ("/unit_id", 5),
    ("/skills", 6),
    ("/availability", 8),
];

/// Parses one row through the same `VolunteerApplication::parse` as an application over the
/// API; an error names the column (by its index in `VOLUNTEER_COLUMNS`).
fn parse_volunteer_row(
    context: &RowContext,
    fields: &[&str; VOLUNTEER_COLUMNS.len()],
) -> Result<NewVolunteer, (usize, Rule)> {
    for (column, field) in fields.iter().enumerate() {
        check_characters(field, "").map_err(|error| (column, error.rule))?;
    }
    let field = |index: usize| fields[index];
    let id_kind = parse_id_kind(field(1)).ok_or((1, Rule::IdDocumentKind))?;
    // Regions by code or by name; units by name.
    let region_text = field(4);
    let region = context
        .region_names
        .get(region_text)
        .map(String::as_str)
        .unwrap_or(region_text);
    if RegionCode::parse(region).is_ok() && !context.regions.contains(region) {
        return Err((4, Rule::RegionUnknown));
    }
    let unit = match field(5) {
        "" => None,
        name => Some(*context.units.get(name).ok_or((5, Rule::UnitUnknown))?),
    };
    let service_categories = split_list(field(7))
        .iter()
        .map(|item| parse_category(item).ok_or((7, Rule::ServiceCategory)))
        .collect::<Result<Vec<_>, _>>()?;
    let application = VolunteerApplication {
        name: field(0).to_owned(),
        id_kind,
        id_number: field(2).to_owned(),
        mobile: field(3).to_owned(),
        region: region.to_owned(),
        unit,
        skills: split_list(field(6)),
        service_categories,
        availability: Some(field(8).to_owned()),
    };
    application.parse(context.today).map_err(|error| {
        let column = APPLICATION_FIELDS
            .iter()
            .find(|(field, _)| error.field.starts_with(field))
            .map(|(_, column)| *column)
            .unwrap_or(0);
        (column, error.rule)
    })
}

/// Where the fields of a team application stand in a team list.
const TEAM_FIELDS: [(&str, usize); 12] = [
    ("/name", 0),
    ("/kind", 1),
    ("/unit_id", 2),
    ("/region", 3),
    ("/contact_name", 4),
    ("/contact_mobile", 5),
    ("/legal_status", 6),
    ("/liaison_team_id", 7),
    ("/registration_authority_id", 8),
    ("/credit_code", 9),
    ("/org_code", 10),
    ("/certificates", 11),
];

/// A row of a team list: the application it makes and the certificate files it names.
type ListedTeam = (TeamApplication, Vec<Vec<u8>>);

/// Imports a team list. Certificate files are paths relative to `folder` (the list's own
/// folder), separated by `;`: only files within it, each at most 5 MiB. Every row is checked
/// before any is written, by the same rules as an application over the API; in
/// `AllOrNothing` mode one bad row stops them all. `admin` becomes each new team's first admin.
pub async fn import_teams(
    app: &App,
    tenant: &TenantCode,
    text: &str,
    folder: &Path,
    admin: Uuid,
    actor: &Actor,
    mode: ImportMode,
) -> Result<ImportReport, AppError> {
    let mut reader = ListReader::new(text, &TEAM_COLUMNS)?;
    let teams = app.store.teams(tenant).await?;
    let bodies = app.store.reviewing_bodies(tenant).await?;
    let units = app.store.units(tenant).await?;

    let mut report = ImportReport::default();
    let mut checked = Vec::new();
    let mut names = HashSet::new();
    loop {
        let (line, parsed) = {
            let Some(row) = reader.next_row()? else {
                break;
            };
            let fields = row.fields;
            let parsed = (|| -> Result<ListedTeam, (usize, Rule)> {
                for (column, field) in fields.iter().enumerate() {
                    check_characters(field, "").map_err(|error| (column, error.rule))?;
                }
                let kind = parse_unit_kind(fields[1]).ok_or((1, Rule::UnitKind))?;
                let unit_id = match fields[2] {
                    "" => None,
                    name => Some(
                        units
                            .iter()
                            .find(|unit| unit.name.zh == name)
                            .ok_or((2, Rule::UnitUnknown))?
                            .id,
                    ),
                };
                let legal_status = parse_legal_status(fields[6]).ok_or((6, Rule::LegalStatus))?;
                let liaison_team_id = match fields[7] {
                    "" => None,
                    name => Some(
                        teams
                            .iter()
                            .find(|team| team.name == name)
                            .ok_or((7, Rule::LiaisonUnknown))?
                            .id,
                    ),
                };
                let registration_authority_id = match fields[8] {
                    "" => None,
                    name => Some(
                        bodies
                            .iter()
                            .find(|body| body.name.zh == name)
                            .ok_or((8, Rule::ReviewingBodyUnknown))?
                            .id,
                    ),
                };
                let files = split_list(fields[11])
                    .iter()
                    .map(|path| read_certificate(folder, path).ok_or((11, Rule::CertificatePath)))
                    .collect::<Result<Vec<_>, _>>()?;
                let optional =
                    |index: usize| Some(fields[index].to_owned()).filter(|v| !v.is_empty());
                let application = TeamApplication {
                    name: fields[0].to_owned(),
                    kind,
                    association: false,
                    unit_id,
                    region: fields[3].to_owned(),
                    contact_name: fields[4].to_owned(),
                    contact_mobile: fields[5].to_owned(),
                    legal_status,
                    parent_team_id: None,
                    liaison_team_id,
                    registration_authority_id,
                    credit_code: optional(9),
                    org_code: optional(10),
                    certificates: files.iter().map(|bytes| sha256_hex(bytes)).collect(),
                };
                Ok((application, files))
            })();
            (row.line, parsed)
        };
        report.rows = reader.rows();
        let (application, files) = match parsed {
            Ok(parsed) => parsed,
            Err((column, rule)) => {
                report.errors.push(reader.error(line, column, rule));
                continue;
            }
        };
        let name = application.name.trim().to_owned();
        if teams.iter().any(|team| team.name == name) || !names.insert(name) {
            report
                .errors
                .push(reader.error(line, 0, Rule::NameDuplicate));
            continue;
        }
        let recognised = files.iter().all(|bytes| {
            matches!(
                infer::get(bytes).map(|kind| kind.mime_type()),
                Some("image/png" | "image/jpeg" | "application/pdf")
            )
        });
        if !recognised {
            report.errors.push(reader.error(line, 11, Rule::FileType));
            continue;
        }
        // The same checks as an application over the API. They take certificates by hash;
        // the files are stored only when the row is written, just before its team.
        match check_application(app, tenant, application, None).await {
            Ok(team) => checked.push((team, files)),
            Err(AppError::Invalid(invalid)) => {
                let column = TEAM_FIELDS
                    .iter()
                    .find(|(field, _)| invalid.field.starts_with(field))
                    .map(|(_, column)| *column)
                    .unwrap_or(0);
                report.errors.push(reader.error(line, column, invalid.rule));
            }
            Err(AppError::Policy(violation)) => {
                let column = TEAM_FIELDS
                    .iter()
                    .find(|(field, _)| violation.field.as_deref() == Some(field))
                    .map(|(_, column)| *column)
                    .unwrap_or(0);
                report.errors.push(reader.refusal(
                    line,
                    column,
                    &violation.code,
                    &violation.message_zh,
                    &violation.message_en,
                ));
            }
            Err(other) => return Err(other),
        }
    }
    if mode == ImportMode::AllOrNothing && !report.errors.is_empty() {
        return Ok(report);
    }
    let at = app.clock.now();
    for (team, files) in checked {
        for bytes in &files {
            let media_type = infer::get(bytes)
                .map(|kind| kind.mime_type())
                .unwrap_or("application/octet-stream");
            app.store
                .store_file(tenant, &sha256_hex(bytes), media_type, bytes, actor, at)
                .await?;
        }
        app.store
            .create_team(tenant, &team, admin, actor, at)
            .await?;
        report.imported += 1;
    }
    Ok(report)
}

/// A certificate named by a list: a file within the list's folder (no absolute path, no `..`,
/// no device), at most `FILE_LIMIT` bytes, read no further than that.
fn read_certificate(folder: &Path, path: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let relative = Path::new(path);
    if !relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        return None;
    }
    let folder = folder.canonicalize().ok()?;
    let full = folder.join(relative).canonicalize().ok()?;
    if !full.starts_with(&folder) || !full.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&full)
        .ok()?
        .take(FILE_LIMIT as u64 + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() <= FILE_LIMIT).then_some(bytes)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The volunteers of a tenant, or of one unit, as the registration form lists them: numbers
/// masked, ages as brackets, since the form travels by e-mail and on paper.
pub async fn registration_form(
    app: &App,
    tenant: &TenantCode,
    unit: Option<Uuid>,
) -> Result<Vec<FormRow>, AppError> {
    let regions = app.store.regions(tenant).await?;
    let units = app.store.units(tenant).await?;
    let today = app.clock.now().shanghai_date();
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let filter = VolunteerFilter {
            unit,
            limit: 10_000,
            offset,
            ..VolunteerFilter::default()
        };
        let page = app.store.volunteers(tenant, &filter).await?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as u32;
        for volunteer in page {
            rows.push(FormRow {
                gender: gender_label(volunteer.gender).into(),
                age_group: age_group_label(
                    volunteer
                        .birth_date
                        .map(|birth_date| AgeGroup::of(birth_date, today)),
                )
                .into(),
                id_kind: id_kind_label(volunteer.id_kind).into(),
                id_number: volunteer.id_number_masked.clone(),
                mobile: mask(&volunteer.mobile, 3, 4),
                region: regions
                    .iter()
                    .find(|region| region.code == volunteer.region)
                    .map(|region| region.name.zh.clone())
                    .unwrap_or_else(|| volunteer.region.to_string()),
                unit: volunteer
                    .unit
                    .and_then(|id| units.iter().find(|unit| unit.id == id))
                    .map(|unit| unit.name.zh.clone())
                    .unwrap_or_default(),
                volunteer_number: volunteer
                    .volunteer_number
                    .as_ref()
                    .map(|number| number.to_string())
                    .unwrap_or_default(),
                status: status_label(volunteer.status).into(),
                service_categories: volunteer
                    .service_categories
                    .iter()
                    .map(|category| category_label(*category))
                    .collect::<Vec<_>>()
                    .join("、"),
                applied_on: volunteer.applied_at.shanghai_date().to_string(),
                name: volunteer.name,
            });
        }
    }
    Ok(rows)
}
