use rust_xlsxwriter::{Format, Workbook};
use uuid::Uuid;
use zhiyuan_domain::{IdDocumentKind, TenantCode, VolunteerStatus};
use zhiyuan_store::{Store, VolunteerFilter};

use crate::FormError;
use crate::import::CATEGORY_LABELS;

/// One line of the registration form. Identity and mobile numbers are masked: the form travels
/// by e-mail and on paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRow {
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub id_kind: String,
    pub id_number: String,
    pub mobile: String,
    pub region: String,
    pub unit: String,
    pub volunteer_number: String,
    pub status: String,
    pub service_categories: String,
    pub applied_on: String,
}

const HEADERS: [&str; 13] = [
    "序号",
    "姓名",
    "性别",
    "出生年月",
    "证件类型",
    "证件号码",
    "手机号码",
    "所属区划",
    "所属单位",
    "志愿者编号",
    "状态",
    "服务类别",
    "注册日期",
];

/// The volunteers of a tenant, or of one unit, as the form lists them.
pub async fn registration_form(
    store: &Store,
    tenant: &TenantCode,
    unit: Option<Uuid>,
) -> Result<Vec<FormRow>, FormError> {
    let regions = store.regions(tenant).await?;
    let units = store.units(tenant).await?;
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let filter = VolunteerFilter {
            unit,
            limit: 10_000,
            offset,
            ..VolunteerFilter::default()
        };
        let page = store.volunteers(tenant, &filter).await?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as u32;
        for volunteer in page {
            rows.push(FormRow {
                gender: match volunteer.gender.map(|gender| gender.as_str()) {
                    Some("male") => "男".into(),
                    Some("female") => "女".into(),
                    _ => String::new(),
                },
                // Year and month: beside the masked identity number, a full date would rebuild it.
                birth_date: volunteer
                    .birth_date
                    .as_deref()
                    .map(zhiyuan_domain::birth_month)
                    .unwrap_or_default(),
                id_kind: kind_label(volunteer.id_kind).into(),
                id_number: volunteer.id_number_masked.clone(),
                mobile: zhiyuan_domain::mask(&volunteer.mobile, 3, 4),
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
                volunteer_number: volunteer.volunteer_number.clone().unwrap_or_default(),
                status: match volunteer.status {
                    VolunteerStatus::Pending => "待认证",
                    VolunteerStatus::Verified => "已认证",
                    VolunteerStatus::Rejected => "未通过",
                }
                .into(),
                service_categories: volunteer
                    .service_categories
                    .iter()
                    .filter_map(|category| {
                        CATEGORY_LABELS
                            .iter()
                            .find(|(c, _, _)| c == category)
                            .map(|(_, zh, _)| *zh)
                    })
                    .collect::<Vec<_>>()
                    .join("、"),
                applied_on: volunteer.applied_at.shanghai_date().to_string(),
                name: volunteer.name,
            });
        }
    }
    Ok(rows)
}

fn kind_label(kind: IdDocumentKind) -> &'static str {
    match kind {
        IdDocumentKind::ResidentIdCard => "居民身份证",
        IdDocumentKind::HongKongMacaoPermit => "港澳居民来往内地通行证",
        IdDocumentKind::TaiwanPermit => "台湾居民来往大陆通行证",
        IdDocumentKind::Passport => "护照",
        IdDocumentKind::ForeignPermanentResidentId => "外国人永久居留身份证",
    }
}

fn cells(index: usize, row: &FormRow) -> [String; 13] {
    [
        (index + 1).to_string(),
        row.name.clone(),
        row.gender.clone(),
        row.birth_date.clone(),
        row.id_kind.clone(),
        row.id_number.clone(),
        row.mobile.clone(),
        row.region.clone(),
        row.unit.clone(),
        row.volunteer_number.clone(),
        row.status.clone(),
        row.service_categories.clone(),
        row.applied_on.clone(),
    ]
}

/// CSV in UTF-8 with a byte-order mark, which spreadsheet programs need to read Chinese.
pub fn to_csv(rows: &[FormRow]) -> Result<Vec<u8>, FormError> {
    let mut writer = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    writer.write_record(HEADERS)?;
    for (index, row) in rows.iter().enumerate() {
        writer.write_record(cells(index, row))?;
    }
    writer
        .into_inner()
        .map_err(|error| FormError::Csv(error.into_error().into()))
}

/// The same form as an XLSX workbook, with a bold header and frozen header row.
pub fn to_xlsx(rows: &[FormRow], title: &str) -> Result<Vec<u8>, FormError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("志愿者注册登记表")?;
    let bold = Format::new().set_bold();
    sheet.merge_range(0, 0, 0, (HEADERS.len() - 1) as u16, title, &bold)?;
    for (column, header) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(1, column as u16, *header, &bold)?;
    }
    for (index, row) in rows.iter().enumerate() {
        for (column, value) in cells(index, row).iter().enumerate() {
            sheet.write_string((index + 2) as u32, column as u16, value)?;
        }
    }
    sheet.set_freeze_panes(2, 0)?;
    Ok(workbook.save_to_buffer()?)
}
