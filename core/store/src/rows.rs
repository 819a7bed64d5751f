//! Decoding of the columns every table shares the shape of.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{LocalizedName, RegionCode, Timestamp};

use crate::StoreError;

pub(crate) fn text(row: &AnyRow, column: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(column)?)
}

pub(crate) fn optional_text(row: &AnyRow, column: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

pub(crate) fn int(row: &AnyRow, column: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(column)?)
}

pub(crate) fn timestamp(row: &AnyRow, column: &str) -> Result<Timestamp, StoreError> {
    Ok(Timestamp::from_unix_millis(int(row, column)?))
}

pub(crate) fn uuid(row: &AnyRow, column: &str) -> Result<Uuid, StoreError> {
    parse_uuid(&text(row, column)?)
}

pub(crate) fn optional_uuid(row: &AnyRow, column: &str) -> Result<Option<Uuid>, StoreError> {
    optional_text(row, column)?
        .as_deref()
        .map(parse_uuid)
        .transpose()
}

fn parse_uuid(value: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(value).map_err(|_| StoreError::Corrupt(format!("id {value:?}")))
}

pub(crate) fn name(row: &AnyRow) -> Result<LocalizedName, StoreError> {
    Ok(LocalizedName {
        zh: text(row, "name_zh")?,
        en: optional_text(row, "name_en")?,
    })
}

pub(crate) fn region_code(row: &AnyRow, column: &str) -> Result<RegionCode, StoreError> {
    let value = text(row, column)?;
    RegionCode::parse(&value).map_err(|_| StoreError::Corrupt(format!("region code {value:?}")))
}

/// Reads an enum stored by its `as_str` name.
pub(crate) fn enumerated<T>(
    row: &AnyRow,
    column: &str,
    from_db: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let value = text(row, column)?;
    from_db(&value).ok_or_else(|| StoreError::Corrupt(format!("{column} {value:?}")))
}
