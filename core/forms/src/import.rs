use std::collections::{HashMap, HashSet};

use serde_json::json;
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, IdDocumentKind, RegionCode, Rule, ServiceCategory, TenantCode, Timestamp,
};
use zhiyuan_store::{ImportPreparer, NewVolunteer, PreparedVolunteer, Store, VolunteerApplication};

use crate::FormError;

/// The columns of a volunteer list: Chinese header, English header, required.
pub const VOLUNTEER_COLUMNS: [(&str, &str, bool); 9] = [
    ("姓名", "name", true),
    ("证件类型", "id_kind", false),
    ("证件号码", "id_number", true),
    ("手机号码", "mobile", true),
    ("所属区划", "region", true),
    ("所属单位", "unit", false),
    ("技能", "skills", false),
    ("服务类别", "service_categories", false),
    ("可服务时间", "availability", false),
];

/// All rows or none (the default), or every valid row and a report of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    AllOrNothing,
    ValidRowsOnly,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line in the file, counting the header as line 1.
    pub line: u64,
    /// The column's header as the file has it.
    pub column: String,
    pub code: &'static str,
    pub message_zh: &'static str,
    pub message_en: &'static str,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, {}: {} ({})",
            self.line, self.column, self.message_zh, self.code
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub rows: u64,
    pub imported: u64,
    pub errors: Vec<RowError>,
}

/// Decodes a file as UTF-8 (dropping a byte-order mark) when it is valid UTF-8, and as
/// GB18030 otherwise. Line ends become LF: the CSV reader counts lines by LF alone, and row
/// errors must name the line a person sees in their spreadsheet. Takes the bytes, so that a
/// large list is not held twice.
pub fn decode(mut bytes: Vec<u8>) -> String {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => encoding_rs::GB18030
            .decode_without_bom_handling(error.as_bytes())
            .0
            .into_owned(),
    };
    if text.contains('\r') {
        text.replace("\r\n", "\n")
    } else {
        text
    }
}

/// Rows parsed between two writes: large enough for few round trips, small enough to keep
/// memory flat whatever the file's size.
const CHUNK: usize = 5_000;

/// Who imports what, how.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    pub mode: ImportMode,
    pub actor: &'a Actor,
    pub at: Timestamp,
    /// The file's name, for the audit trail.
    pub source: &'a str,
}

/// Imports a volunteer list into `tenant`; `progress` hears (rows read, rows imported).
///
/// Rows are parsed, sealed and indexed on a blocking thread while the database writes the
/// chunks prepared before, so an import uses both the CPU and the database at once.
pub async fn import_volunteers(
    store: &Store,
    tenant: &TenantCode,
    text: String,
    options: ImportOptions<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, FormError> {
    let ImportOptions {
        mode,
        actor,
        at,
        source,
    } = options;
    let mut import = store.begin_volunteer_import(tenant, at).await?;
    let (regions, unit_ids) = import.known_regions_and_units().await?;
    let units: HashMap<String, Uuid> = store
        .units(tenant)
        .await?
        .into_iter()
        .filter(|unit| unit_ids.contains(&unit.id))
        .map(|unit| (unit.name.zh, unit.id))
        .collect();
    let region_names: HashMap<String, String> = store
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
        .map_err(|error| FormError::Parser(error.to_string()))??;
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
) -> Result<ImportReport, FormError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    if headers.is_empty() {
        return Err(FormError::NoHeader);
    }
    let mut positions = [None; VOLUNTEER_COLUMNS.len()];
    for (index, (zh, en, required)) in VOLUNTEER_COLUMNS.iter().enumerate() {
        positions[index] = headers
            .iter()
            .position(|header| header == *zh || header.eq_ignore_ascii_case(en));
        if *required && positions[index].is_none() {
            return Err(FormError::MissingColumn(zh, en));
        }
    }
    let mut report = ImportReport::default();
    let mut pending = Vec::with_capacity(CHUNK);
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record)? {
        report.rows += 1;
        let line = record
            .position()
            .map(|position| position.line())
            .unwrap_or(report.rows + 1);
        let fields: [&str; VOLUNTEER_COLUMNS.len()] = std::array::from_fn(|index| {
            positions[index]
                .and_then(|position| record.get(position))
                .unwrap_or("")
        });
        let prepared = parse_row(context, &fields).and_then(|volunteer| {
            preparer
                .prepare(volunteer)
                .ok_or((2, Rule::IdNumberRegistered))
        });
        match prepared {
            // Once a row has failed, an all-or-nothing import only checks the rest.
            Ok(row) if mode == ImportMode::ValidRowsOnly || report.errors.is_empty() => {
                pending.push(row)
            }
            Ok(_) => {}
            Err((index, rule)) => {
                report.errors.push(RowError {
                    line,
                    column: positions[index]
                        .and_then(|position| headers.get(position))
                        .unwrap_or(VOLUNTEER_COLUMNS[index].0)
                        .to_owned(),
                    code: rule.code(),
                    message_zh: rule.message_zh(),
                    message_en: rule.message_en(),
                });
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

/// Parses one row through the same `VolunteerApplication::parse` as an application over the
/// API; an error names the column (by its index in `VOLUNTEER_COLUMNS`).
fn parse_row(
    context: &RowContext,
    fields: &[&str; VOLUNTEER_COLUMNS.len()],
) -> Result<NewVolunteer, (usize, Rule)> {
    let field = |index: usize| fields[index];
    let id_kind = parse_kind(field(1)).ok_or((1, Rule::IdDocumentKind))?;
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
    let list = |text: &str| -> Vec<String> {
        text.split([';', '；', '、', ',', '，', '|'])
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let service_categories = list(field(7))
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
        skills: list(field(6)),
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

fn parse_kind(text: &str) -> Option<IdDocumentKind> {
    Some(match text {
        "" | "居民身份证" | "身份证" | "resident_id_card" => IdDocumentKind::ResidentIdCard,
        "港澳居民来往内地通行证" | "hong_kong_macao_permit" => {
            IdDocumentKind::HongKongMacaoPermit
        }
        "台湾居民来往大陆通行证" | "taiwan_permit" => IdDocumentKind::TaiwanPermit,
        "护照" | "passport" => IdDocumentKind::Passport,
        "外国人永久居留身份证" | "foreign_permanent_resident_id" => {
            IdDocumentKind::ForeignPermanentResidentId
        }
        _ => return None,
    })
}

/// Service categories by their Chinese label or their code.
pub(crate) const CATEGORY_LABELS: [(ServiceCategory, &str, &str); 14] = [
    (ServiceCategory::Community, "社区服务", "community"),
    (
        ServiceCategory::PovertyAlleviation,
        "扶贫减贫",
        "poverty_alleviation",
    ),
    (
        ServiceCategory::ElderlyAndDisabled,
        "助老助残",
        "elderly_and_disabled",
    ),
    (ServiceCategory::Children, "关爱儿童", "children"),
    (ServiceCategory::Health, "卫生健康", "health"),
    (ServiceCategory::Environment, "生态环保", "environment"),
    (ServiceCategory::Culture, "文化艺术", "culture"),
    (ServiceCategory::Science, "科技科普", "science"),
    (ServiceCategory::Emergency, "应急救援", "emergency"),
    (ServiceCategory::PublicSafety, "平安综治", "public_safety"),
    (ServiceCategory::LegalAid, "法律服务", "legal_aid"),
    (ServiceCategory::Civility, "文明风尚", "civility"),
    (ServiceCategory::MajorEvents, "大型活动", "major_events"),
    (ServiceCategory::Other, "其他", "other"),
];

fn parse_category(text: &str) -> Option<ServiceCategory> {
    CATEGORY_LABELS
        .iter()
        .find(|(_, zh, code)| *zh == text || *code == text)
        .map(|(category, _, _)| *category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_and_utf8_with_a_bom_read_alike() {
        let text = "姓名,证件号码\n张三,11010519491231002X\n";
        assert_eq!(decode(b"a\r\nb\r\n".to_vec()), "a\nb\n");
        let (gb18030, _, _) = encoding_rs::GB18030.encode(text);
        assert_eq!(decode(gb18030.into_owned()), text);
        let mut with_bom = b"\xef\xbb\xbf".to_vec();
        with_bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(with_bom), text);
    }
}
