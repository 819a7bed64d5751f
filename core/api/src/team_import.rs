//! Bulk registration of teams (R20): the CSV a city office collects from units, each row
//! checked exactly as an application over the API is, by R11 and R12.

use std::collections::HashSet;
use std::path::Path;

use sha2::{Digest, Sha256};
use zhiyuan_domain::{Actor, LegalStatus, TenantCode, UnitKind};

use crate::teams::{TeamApplication, check_team_application};
use crate::{ApiError, AppState};

/// The columns of a team list: Chinese header, English header, required.
pub const TEAM_COLUMNS: [(&str, &str, bool); 12] = [
    ("队伍名称", "name", true),
    ("类别", "kind", true),
    ("所属单位", "unit", false),
    ("所属区划", "region", true),
    ("联系人", "contact_name", true),
    ("联系电话", "contact_mobile", true),
    ("登记状态", "legal_status", true),
    ("联络团体", "liaison_team", false),
    ("登记机关", "registration_authority", false),
    ("统一社会信用代码", "credit_code", false),
    ("组织机构代码", "org_code", false),
    ("证书文件", "certificates", false),
];

/// A row that was not imported: its line, the field at fault and the rule.
#[derive(Debug, Clone)]
pub struct TeamRowError {
    pub line: u64,
    pub field: String,
    pub code: String,
    pub message_zh: String,
}

impl std::fmt::Display for TeamRowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, {}: {} ({})",
            self.line, self.field, self.message_zh, self.code
        )
    }
}

#[derive(Debug, Default)]
pub struct TeamImportReport {
    pub rows: u64,
    pub imported: u64,
    pub errors: Vec<TeamRowError>,
}

/// Imports a team list. Certificate files are paths relative to `base` (the list's folder),
/// separated by `;`. Every row is checked before any is written; with `valid_only` false, one
/// bad row stops them all. The applicant (`admin`) becomes each new team's first admin.
pub async fn import_teams(
    state: &AppState,
    tenant: &TenantCode,
    text: &str,
    base: &Path,
    admin: uuid::Uuid,
    actor: &Actor,
    valid_only: bool,
) -> Result<TeamImportReport, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let bad_file = |detail: String| ApiError::BadFile { detail };
    let headers = reader
        .headers()
        .map_err(|e| bad_file(e.to_string()))?
        .clone();
    let mut positions = [None; TEAM_COLUMNS.len()];
    for (index, (zh, en, required)) in TEAM_COLUMNS.iter().enumerate() {
        positions[index] = headers
            .iter()
            .position(|h| h == *zh || h.eq_ignore_ascii_case(en));
        if *required && positions[index].is_none() {
            return Err(bad_file(format!("the header has no column {zh} ({en})")));
        }
    }
    let teams = state.store.teams(tenant).await?;
    let bodies = state.store.reviewing_bodies(tenant).await?;
    let units = state.store.units(tenant).await?;

    let mut report = TeamImportReport::default();
    let mut checked = Vec::new();
    let mut names = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad_file(e.to_string()))?;
        report.rows += 1;
        let line = record
            .position()
            .map(|p| p.line())
            .unwrap_or(report.rows + 1);
        let field = |index: usize| {
            positions[index]
                .and_then(|p| record.get(p))
                .unwrap_or("")
                .to_owned()
        };
        let error = |column: usize, code: &str, message: &str| TeamRowError {
            line,
            field: TEAM_COLUMNS[column].0.to_owned(),
            code: code.to_owned(),
            message_zh: message.to_owned(),
        };
        let row = (|| -> Result<(TeamApplication, Vec<Vec<u8>>), TeamRowError> {
            let kind = parse_kind(&field(1)).ok_or_else(|| error(1, "team_kind", "类别无效"))?;
            let unit_id = match field(2).as_str() {
                "" => None,
                name => Some(
                    units
                        .iter()
                        .find(|unit| unit.name.zh == name)
                        .ok_or_else(|| error(2, "unit_unknown", "单位不属于本租户"))?
                        .id,
                ),
            };
            let legal_status = match field(6).as_str() {
                "未登记" | "unregistered" | "未登记的社会组织或其他组织" => {
                    LegalStatus::Unregistered
                }
                "已登记" | "registered" | "已登记的社会组织" => LegalStatus::Registered,
                _ => return Err(error(6, "legal_status", "登记状态应为“已登记”或“未登记”")),
            };
            let liaison_team_id = match field(7).as_str() {
                "" => None,
                name => Some(
                    teams
                        .iter()
                        .find(|team| team.name == name)
                        .ok_or_else(|| error(7, "liaison_unknown", "联络团体不属于本租户"))?
                        .id,
                ),
            };
            let registration_authority_id = match field(8).as_str() {
                "" => None,
                name => Some(
                    bodies
                        .iter()
                        .find(|body| body.name.zh == name)
                        .ok_or_else(|| error(8, "reviewing_body_unknown", "审核机构不属于本租户"))?
                        .id,
                ),
            };
            let mut files = Vec::new();
            for path in field(11)
                .split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let bytes = std::fs::read(base.join(path))
                    .map_err(|_| error(11, "certificate_unreadable", "证书文件无法读取"))?;
                files.push(bytes);
            }
            let optional = |index: usize| Some(field(index)).filter(|value| !value.is_empty());
            let application = TeamApplication {
                name: field(0),
                kind,
                federation: false,
                unit_id,
                region: field(3),
                contact_name: field(4),
                contact_mobile: field(5),
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
        let (application, files) = match row {
            Ok(row) => row,
            Err(error) => {
                report.errors.push(error);
                continue;
            }
        };
        let name = application.name.trim().to_owned();
        if teams.iter().any(|team| team.name == name) {
            report
                .errors
                .push(error(0, "team_name_taken", "本租户已有同名团队"));
            continue;
        }
        if !names.insert(name) {
            report
                .errors
                .push(error(0, "name_duplicate", "名称在本文件中重复"));
            continue;
        }
        let recognised = files.iter().all(|bytes| {
            matches!(
                infer::get(bytes).map(|kind| kind.mime_type()),
                Some("image/png" | "image/jpeg" | "application/pdf")
            )
        });
        if !recognised {
            report
                .errors
                .push(error(11, "file_type", "只接受PNG、JPEG或PDF文件"));
            continue;
        }
        // The same checks as an application over the API. They take certificates by hash;
        // the files are stored only when the row is written, just before its team.
        let team = match check_team_application(state, tenant, application, None).await {
            Ok(team) => team,
            Err(problem) => {
                let problem = problem.problem();
                let column = problem.field.as_deref().map(column_of).unwrap_or(0);
                report.errors.push(TeamRowError {
                    line,
                    field: TEAM_COLUMNS[column].0.to_owned(),
                    code: problem.rule.unwrap_or_else(|| problem.code.to_owned()),
                    message_zh: problem.message.zh_cn,
                });
                continue;
            }
        };
        checked.push((team, files));
    }
    if !valid_only && !report.errors.is_empty() {
        return Ok(report);
    }
    let at = state.clock.now();
    for (team, files) in checked {
        for bytes in &files {
            let media_type = infer::get(bytes)
                .map(|kind| kind.mime_type())
                .unwrap_or("application/octet-stream");
            state
                .store
                .store_file(tenant, &sha256_hex(bytes), media_type, bytes, actor, at)
                .await?;
        }
        state
            .store
            .create_team(tenant, &team, admin, actor, at)
            .await?;
        report.imported += 1;
    }
    Ok(report)
}

/// The column of a field of the application, as problem+json names it.
fn column_of(field: &str) -> usize {
    const FIELDS: [&str; TEAM_COLUMNS.len()] = [
        "/name",
        "/kind",
        "/unit_id",
        "/region",
        "/contact_name",
        "/contact_mobile",
        "/legal_status",
        "/liaison_team_id",
        "/registration_authority_id",
        "/credit_code",
        "/org_code",
        "/certificates",
    ];
    FIELDS
        .iter()
        .position(|candidate| field.starts_with(candidate))
        .unwrap_or(0)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn parse_kind(text: &str) -> Option<UnitKind> {
    Some(match text {
        "党政机关" | "机关" | "organ" => UnitKind::Organ,
        "人民团体" | "peoples_organisation" => UnitKind::PeoplesOrganisation,
        "企业" | "enterprise" => UnitKind::Enterprise,
        "事业单位" | "public_institution" => UnitKind::PublicInstitution,
        "社会组织" | "social_organisation" => UnitKind::SocialOrganisation,
        "社区" | "community" => UnitKind::Community,
        "学校" | "school" => UnitKind::School,
        "其他" | "other" => UnitKind::Other,
        _ => return None,
    })
}
