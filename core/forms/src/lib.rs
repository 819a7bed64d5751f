//! The file formats of Zhiyuan: the CSV lists units keep (R20), read in UTF-8 or GB18030 with
//! their columns found by header; the volunteer registration form (志愿者注册登记表) written as
//! CSV and XLSX; QR codes as SVG and PNG (`qr`); and the certificate of service
//! (志愿服务记录证明) as a printable HTML page and a PDF (`certificate`).
//!
//! This crate reads and writes files; what an imported row means and who may import it is the
//! application layer's (`zhiyuan-app`).

pub mod certificate;
mod export;
mod labels;
mod list;
pub mod qr;

pub use export::{FormRow, to_csv, to_xlsx};
pub use labels::{
    CATEGORY_LABELS, age_group_label, category_label, gender_label, id_kind_label, parse_category,
    parse_id_kind, parse_legal_status, parse_unit_kind, split_list, status_label,
};
pub use list::{Column, ListReader, ListRow, RowError, TEAM_COLUMNS, VOLUNTEER_COLUMNS, decode};

/// What stops a whole file from being read or written (a bad row is a `RowError`, not this).
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the file has no header row")]
    NoHeader,
    #[error("the header has no column {0} ({1})")]
    MissingColumn(&'static str, &'static str),
    #[error("the file is not CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}
