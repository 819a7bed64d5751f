//! The registration forms of Zhiyuan (R20): bulk import of the volunteer lists units keep, and
//! export of the volunteer registration form (志愿者注册登记表).
//!
//! Import reads CSV in UTF-8 (with or without a byte-order mark) or GB18030, the encoding
//! spreadsheets on Chinese Windows save by default; every row is parsed with the same domain
//! rules as an application over the API, and errors name their line and column.

mod export;
mod import;

pub use export::{FormRow, registration_form, to_csv, to_xlsx};
pub use import::{
    ImportMode, ImportOptions, ImportReport, RowError, VOLUNTEER_COLUMNS, decode, import_volunteers,
};

/// What can stop a whole import or export (a bad row is a `RowError`, not this).
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the file has no header row")]
    NoHeader,
    #[error("the header has no column {0} ({1})")]
    MissingColumn(&'static str, &'static str),
    #[error("the file is not CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Store(#[from] zhiyuan_store::StoreError),
    #[error("the row parser stopped: {0}")]
    Parser(String),
    #[error("writing XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}
