//! The volunteer registration form (志愿者注册登记表) as CSV and XLSX.

use rust_xlsxwriter::{Format, Workbook};

use crate::FormError;

/// One line of the registration form. Identity and mobile numbers are masked and the age is a
/// bracket: the form travels by e-mail and on paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRow {
    pub name: String,
    pub gender: String,
    pub age_group: String,
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
    "年龄段",
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

fn cells(index: usize, row: &FormRow) -> [String; 13] {
    [
        (index + 1).to_string(),
        row.name.clone(),
        row.gender.clone(),
        row.age_group.clone(),
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
