/// What can go wrong in storage. Constraint violations that user input can cause are mapped to
/// `Unique` in one place (`StoreError::from`); everything else is the database's own failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database URL must start with sqlite: or postgres:")]
    UnsupportedUrl,
    #[error("not found")]
    NotFound,
    /// A reference in the input does not resolve within the tenant.
    #[error("{0}")]
    Invalid(zhiyuan_domain::InvalidInput),
    #[error("already exists: {0:?}")]
    Unique(UniqueField),
    /// A rule of who may act refused the change (a sign-up the team closed, overlapping
    /// shifts), checked within the transaction that would have made it.
    #[error("refused: {}", .0.code())]
    Refused(zhiyuan_domain::Rule),
    #[error("a stored value is not one this version understands: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("data key: {0}")]
    DataKey(#[from] zhiyuan_keys::KeyError),
    #[error("the data key of tenant {0} is not the one its records were sealed with")]
    WrongDataKey(String),
    #[error(
        "tenant {tenant} has no data key, and its records were sealed with the key whose check \
         value is {check}: restore that key (its file in the key folder, or its entry in \
         data_keys) from a backup"
    )]
    MissingDataKey { tenant: String, check: String },
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The uniqueness rules that input can break, by the constraint that enforces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    TenantCode,
    UnitName,
    ReviewingBodyName,
    Username,
    /// One verified registration per identity document per tenant.
    IdNumber,
    /// One volunteer record per account.
    VolunteerAccount,
    /// Public volunteer numbers are unique in a tenant.
    VolunteerNumber,
    /// Team names are unique in a tenant.
    TeamName,
    /// A volunteer has one membership of a team, whatever its state.
    Membership,
    /// Two changes of a tenant's policy took the same revision number.
    PolicyRevision,
    /// A scan's id, given by its device, names one scan.
    ScanId,
    /// A code of the app scans once.
    CardToken,
    /// One attendance of a shift per volunteer.
    Attendance,
    /// An entry is replaced at most once.
    Correction,
    /// One unsettled dispute an entry.
    UnsettledDispute,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        let unique = error
            .as_database_error()
            .filter(|db| db.is_unique_violation())
            .and_then(|db| constraint_name(db.constraint(), db.message()))
            .and_then(|name| unique_field(&name));
        match unique {
            Some(field) => StoreError::Unique(field),
            None => StoreError::Database(error),
        }
    }
}

/// PostgreSQL names the violated constraint; SQLite names its columns instead ("UNIQUE
/// constraint failed: units.tenant_code, units.name_zh"). Both become PostgreSQL's default
/// name, `units_tenant_code_name_zh_key`, which the migrations use for explicit indexes too.
fn constraint_name(constraint: Option<&str>, message: &str) -> Option<String> {
    if let Some(name) = constraint {
        return Some(name.to_owned());
    }
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
    let mut table = None;
    let mut name = String::new();
    for qualified in columns.split(", ") {
        let (t, column) = qualified.split_once('.')?;
        if table.replace(t).is_none() {
            name.push_str(t);
        }
        name.push('_');
        name.push_str(column);
    }
    name.push_str("_key");
    Some(name)
}

fn unique_field(constraint: &str) -> Option<UniqueField> {
    match constraint {
        "tenants_pkey" | "tenants_code_key" => Some(UniqueField::TenantCode),
        "units_tenant_code_name_zh_key" => Some(UniqueField::UnitName),
        "reviewing_bodies_tenant_code_name_zh_key" => Some(UniqueField::ReviewingBodyName),
        "accounts_tenant_code_username_key" => Some(UniqueField::Username),
        // PostgreSQL names the partial index; SQLite names its columns.
        "volunteers_one_registration" | "volunteers_tenant_code_id_number_index_key" => {
            Some(UniqueField::IdNumber)
        }
        "volunteers_tenant_code_account_id_key" => Some(UniqueField::VolunteerAccount),
        "volunteers_tenant_code_volunteer_number_key" => Some(UniqueField::VolunteerNumber),
        "teams_tenant_code_name_key" => Some(UniqueField::TeamName),
        "team_members_pkey" | "team_members_tenant_code_team_id_volunteer_id_key" => {
            Some(UniqueField::Membership)
        }
        "policy_revisions_pkey" | "policy_revisions_tenant_code_revision_key" => {
            Some(UniqueField::PolicyRevision)
        }
        "scans_pkey" | "scans_tenant_code_id_key" => Some(UniqueField::ScanId),
        "scans_token_once" | "scans_tenant_code_volunteer_id_token_id_key" => {
            Some(UniqueField::CardToken)
        }
        "attendances_tenant_code_shift_id_volunteer_id_key" => Some(UniqueField::Attendance),
        "service_records_tenant_code_corrects_key" => Some(UniqueField::Correction),
        "disputes_one_unsettled" | "disputes_tenant_code_record_id_key" => {
            Some(UniqueField::UnsettledDispute)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_constraints_as_postgres_does() {
        assert_eq!(
            constraint_name(
                None,
                "UNIQUE constraint failed: units.tenant_code, units.name_zh"
            ),
            Some("units_tenant_code_name_zh_key".to_owned())
        );
        assert_eq!(
            constraint_name(None, "UNIQUE constraint failed: tenants.code"),
            Some("tenants_code_key".to_owned())
        );
        assert_eq!(
            constraint_name(Some("volunteers_one_registration"), "duplicate key value"),
            Some("volunteers_one_registration".to_owned())
        );
    }
}
