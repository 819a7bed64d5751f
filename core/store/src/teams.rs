use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, AuditAction, Grant, GrantKind, InvalidInput, LegalStatus, NewTeam, RegionCode, Rule,
    Scope, TeamStatus, TenantCode, Timestamp, UnitKind,
};

use crate::accounts::insert_grant;

use crate::audit::{AuditRecord, masked_contact, record};
use crate::rows::{
    enumerated, int, optional_text, optional_uuid, region_code, text, timestamp, uuid,
};
use crate::tenants::check_region_and_unit;
use crate::{Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct TeamRecord {
    pub id: Uuid,
    pub name: String,
    pub kind: UnitKind,
    /// A volunteer service association, which other teams may choose as liaison.
    pub association: bool,
    pub unit: Option<Uuid>,
    pub region: RegionCode,
    pub contact_name: String,
    pub contact_mobile: String,
    pub legal_status: LegalStatus,
    pub parent_team: Option<Uuid>,
    pub liaison_team: Option<Uuid>,
    pub registration_authority: Option<Uuid>,
    pub credit_code: Option<String>,
    pub org_code: Option<String>,
    /// For an association of the tenant's configuration: the reviewing body it acts as.
    pub reviewing_body: Option<Uuid>,
    /// The account that applied, who becomes the team's first admin.
    pub applicant: Option<Uuid>,
    pub status: TeamStatus,
    pub decision_reason: Option<String>,
    pub submitted_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub certificates: Vec<String>,
}

/// Where a membership stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    Applied,
    Member,
    Rejected,
    Removed,
    Left,
}

impl MembershipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Applied => "applied",
            MembershipStatus::Member => "member",
            MembershipStatus::Rejected => "rejected",
            MembershipStatus::Removed => "removed",
            MembershipStatus::Left => "left",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        [
            MembershipStatus::Applied,
            MembershipStatus::Member,
            MembershipStatus::Rejected,
            MembershipStatus::Removed,
            MembershipStatus::Left,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub team_id: Uuid,
    pub volunteer_id: Uuid,
    pub status: MembershipStatus,
    pub applied_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

const TEAM_COLUMNS: &str = "id, name, kind, association, unit_id, region_code, contact_name, \
    contact_mobile, legal_status, parent_team_id, liaison_team_id, registration_authority_id, \
    credit_code, org_code, reviewing_body_id, applicant_id, status, decision_reason, submitted_at, \
    decided_at";

impl Store {
    /// Stores an uploaded file under its hash, with the audit event of who uploaded it; storing
    /// the same bytes again changes nothing.
    pub async fn store_file(
        &self,
        tenant: &TenantCode,
        sha256: &str,
        media_type: &str,
        content: &[u8],
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let stored = sqlx::query(
            "INSERT INTO files (tenant_code, sha256, media_type, size, content, uploaded_at, uploaded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_code, sha256) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(sha256)
        .bind(media_type)
        .bind(content.len() as i64)
        .bind(content.to_vec())
        .bind(at.unix_millis())
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        if stored.rows_affected() == 1 {
            record(
                &mut tx,
                AuditRecord {
                    tenant: Some(tenant),
                    actor,
                    action: AuditAction::FileUpload,
                    entity_id: sha256.to_owned(),
                    before: None,
                    after: Some(json!({ "media_type": media_type, "size": content.len() })),
                    reason: None,
                    at,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A stored file's media type and bytes.
    pub async fn file(
        &self,
        tenant: &TenantCode,
        sha256: &str,
    ) -> Result<(String, Vec<u8>), StoreError> {
        let row = sqlx::query(
            "SELECT media_type, content FROM files WHERE tenant_code = $1 AND sha256 = $2",
        )
        .bind(tenant.as_str())
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((
            text(&row, "media_type")?,
            sqlx::Row::try_get(&row, "content")?,
        ))
    }

    /// Bytes of the files a tenant holds.
    pub async fn file_bytes(&self, tenant: &TenantCode) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS n FROM files WHERE tenant_code = $1",
        )
        .bind(tenant.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(int(&row, "n")?).unwrap_or(0))
    }

    /// Registers a team's application (pending); the applicant becomes its first admin.
    pub async fn create_team(
        &self,
        tenant: &TenantCode,
        team: &NewTeam,
        applicant: Uuid,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<TeamRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        check_region_and_unit(&mut tx, tenant, &team.region, team.unit).await?;
        let id = Uuid::now_v7();
        write_team(&mut tx, tenant, id, team, at, false).await?;
        sqlx::query("UPDATE teams SET applicant_id = $1 WHERE tenant_code = $2 AND id = $3")
            .bind(applicant.to_string())
            .bind(tenant.as_str())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let admin = Grant {
            kind: GrantKind::TeamAdmin,
            scope: Scope::Team(id),
        };
        insert_grant(&mut tx, tenant.as_str(), applicant, admin, actor, at).await?;
        let created = read_team(&mut tx, tenant, id).await?;
        audit_team(
            &mut tx,
            tenant,
            actor,
            AuditAction::TeamApply,
            None,
            &created,
            None,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// A rejected team corrects its application and submits it again; the earlier one stays in
    /// the audit trail.
    pub async fn resubmit_team(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        team: &NewTeam,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<TeamRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = read_team(&mut tx, tenant, id).await?;
        if before.status != TeamStatus::Rejected {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/",
                Rule::AlreadyDecided,
            )));
        }
        check_region_and_unit(&mut tx, tenant, &team.region, team.unit).await?;
        write_team(&mut tx, tenant, id, team, at, true).await?;
        let after = read_team(&mut tx, tenant, id).await?;
        audit_team(
            &mut tx,
            tenant,
            actor,
            AuditAction::TeamResubmit,
            Some(&before),
            &after,
            None,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn team(&self, tenant: &TenantCode, id: Uuid) -> Result<TeamRecord, StoreError> {
        // Read only: the team and its certificates as of one moment.
        let mut tx = self.pool.begin().await?;
        let team = read_team(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(team)
    }

    /// Every team of the tenant, associations included, without certificates.
    pub async fn teams(&self, tenant: &TenantCode) -> Result<Vec<TeamRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TEAM_COLUMNS} FROM teams WHERE tenant_code = $1 ORDER BY name"
        ))
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| team_record(row, Vec::new()))
            .collect()
    }

    /// The pending applications an account decides: registered teams that chose a reviewing
    /// body it reviews for as their registration authority, unregistered teams whose liaison is
    /// the association such a body is, and teams whose liaison is a team the account
    /// administers. Its own applications are not among them.
    pub async fn team_review_queue(
        &self,
        tenant: &TenantCode,
        account: Uuid,
    ) -> Result<Vec<TeamRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TEAM_COLUMNS} FROM teams WHERE tenant_code = $1 AND status = 'pending' \
             AND (applicant_id IS NULL OR applicant_id <> $2) AND ( \
               'reviewing_body:' || registration_authority_id IN ( \
                 SELECT scope FROM grants WHERE tenant_code = $1 AND account_id = $2 \
                 AND kind = 'reviewer') \
               OR liaison_team_id IN ( \
                 SELECT id FROM teams WHERE tenant_code = $1 AND 'reviewing_body:' || reviewing_body_id IN ( \
                   SELECT scope FROM grants WHERE tenant_code = $1 AND account_id = $2 \
                   AND kind = 'reviewer')) \
               OR 'team:' || liaison_team_id IN ( \
                 SELECT scope FROM grants WHERE tenant_code = $1 AND account_id = $2 \
                 AND kind = 'team_admin')) \
             ORDER BY submitted_at, id"
        ))
        .bind(tenant.as_str())
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| team_record(row, Vec::new()))
            .collect()
    }

    pub async fn decide_team(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        status: TeamStatus,
        reason: Option<String>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<TeamRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = read_team(&mut tx, tenant, id).await?;
        if before.status != TeamStatus::Pending {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/decision",
                Rule::AlreadyDecided,
            )));
        }
        let decided = sqlx::query(
            "UPDATE teams SET status = $1, decision_reason = $2, decided_at = $3, decided_by = $4 \
             WHERE tenant_code = $5 AND id = $6 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(reason.clone())
        .bind(at.unix_millis())
        .bind(&actor.name)
        .bind(tenant.as_str())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        // Checked again in the update: of two reviewers deciding at once, one wins.
        if decided.rows_affected() != 1 {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/decision",
                Rule::AlreadyDecided,
            )));
        }
        let after = read_team(&mut tx, tenant, id).await?;
        let action = if status == TeamStatus::Approved {
            AuditAction::TeamApprove
        } else {
            AuditAction::TeamReject
        };
        audit_team(
            &mut tx,
            tenant,
            actor,
            action,
            Some(&before),
            &after,
            reason,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Makes an account an admin of the team: a grant over the team.
    pub async fn appoint_team_admin(
        &self,
        tenant: &TenantCode,
        team: Uuid,
        account: Uuid,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let admin = Grant {
            kind: GrantKind::TeamAdmin,
            scope: Scope::Team(team),
        };
        if !insert_grant(&mut tx, tenant.as_str(), account, admin, actor, at).await? {
            // An admin already: nothing changes, nothing to record.
            return Ok(());
        }
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::TeamAppointAdmin,
                entity_id: team.to_string(),
                before: None,
                after: Some(json!({ "admin": account })),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A verified volunteer applies to join an approved team, or applies again after leaving,
    /// being rejected or being removed.
    pub async fn apply_membership(
        &self,
        tenant: &TenantCode,
        team: Uuid,
        volunteer: Uuid,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Membership, StoreError> {
        let mut tx = self.begin_write().await?;
        let existing = read_membership(&mut tx, tenant, team, volunteer).await?;
        match existing.as_ref().map(|membership| membership.status) {
            Some(MembershipStatus::Applied | MembershipStatus::Member) => {
                return Err(StoreError::Invalid(InvalidInput::new(
                    "/",
                    Rule::MembershipExists,
                )));
            }
            Some(_) => {
                sqlx::query(
                    "UPDATE team_members SET status = 'applied', applied_at = $1, decided_at = NULL, \
                     decided_by = NULL WHERE tenant_code = $2 AND team_id = $3 AND volunteer_id = $4",
                )
                .bind(at.unix_millis())
                .bind(tenant.as_str())
                .bind(team.to_string())
                .bind(volunteer.to_string())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO team_members (tenant_code, team_id, volunteer_id, status, applied_at) \
                     VALUES ($1, $2, $3, 'applied', $4)",
                )
                .bind(tenant.as_str())
                .bind(team.to_string())
                .bind(volunteer.to_string())
                .bind(at.unix_millis())
                .execute(&mut *tx)
                .await?;
            }
        }
        let after = read_membership(&mut tx, tenant, team, volunteer)
            .await?
            .ok_or(StoreError::NotFound)?;
        audit_membership(
            &mut tx,
            tenant,
            actor,
            AuditAction::MembershipApply,
            existing.as_ref(),
            &after,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Moves a membership from one of `from` to `to` (accept, reject, remove, leave).
    #[allow(clippy::too_many_arguments)]
    pub async fn change_membership(
        &self,
        tenant: &TenantCode,
        team: Uuid,
        volunteer: Uuid,
        from: &[MembershipStatus],
        to: MembershipStatus,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Membership, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = read_membership(&mut tx, tenant, team, volunteer)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !from.contains(&before.status) {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/",
                Rule::AlreadyDecided,
            )));
        }
        let changed = sqlx::query(
            "UPDATE team_members SET status = $1, decided_at = $2, decided_by = $3 \
             WHERE tenant_code = $4 AND team_id = $5 AND volunteer_id = $6 AND status = $7",
        )
        .bind(to.as_str())
        .bind(at.unix_millis())
        .bind(&actor.name)
        .bind(tenant.as_str())
        .bind(team.to_string())
        .bind(volunteer.to_string())
        .bind(before.status.as_str())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/",
                Rule::AlreadyDecided,
            )));
        }
        let after = read_membership(&mut tx, tenant, team, volunteer)
            .await?
            .ok_or(StoreError::NotFound)?;
        let action = match to {
            MembershipStatus::Member => AuditAction::MembershipAccept,
            MembershipStatus::Rejected => AuditAction::MembershipReject,
            MembershipStatus::Removed => AuditAction::MembershipRemove,
            MembershipStatus::Left => AuditAction::MembershipLeave,
            MembershipStatus::Applied => AuditAction::MembershipApply,
        };
        audit_membership(&mut tx, tenant, actor, action, Some(&before), &after, at).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn team_memberships(
        &self,
        tenant: &TenantCode,
        team: Uuid,
    ) -> Result<Vec<Membership>, StoreError> {
        let rows = sqlx::query(
            "SELECT team_id, volunteer_id, status, applied_at, decided_at FROM team_members \
             WHERE tenant_code = $1 AND team_id = $2 ORDER BY applied_at, volunteer_id",
        )
        .bind(tenant.as_str())
        .bind(team.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(membership).collect()
    }

    pub async fn volunteer_memberships(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
    ) -> Result<Vec<Membership>, StoreError> {
        let rows = sqlx::query(
            "SELECT team_id, volunteer_id, status, applied_at, decided_at FROM team_members \
             WHERE tenant_code = $1 AND volunteer_id = $2 ORDER BY applied_at, team_id",
        )
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(membership).collect()
    }
}

async fn write_team(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    id: Uuid,
    team: &NewTeam,
    at: Timestamp,
    replace: bool,
) -> Result<(), StoreError> {
    for (index, sha256) in team.certificates.iter().enumerate() {
        let known = sqlx::query("SELECT 1 FROM files WHERE tenant_code = $1 AND sha256 = $2")
            .bind(tenant.as_str())
            .bind(sha256)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !known {
            return Err(StoreError::Invalid(InvalidInput::new(
                format!("/certificates/{index}"),
                Rule::CertificateUnknown,
            )));
        }
    }
    let statement = if replace {
        "UPDATE teams SET name = $3, kind = $4, association = $5, unit_id = $6, region_code = $7, \
         contact_name = $8, contact_mobile = $9, legal_status = $10, parent_team_id = $11, \
         liaison_team_id = $12, registration_authority_id = $13, credit_code = $14, org_code = $15, \
         status = 'pending', decision_reason = NULL, submitted_at = $16, decided_at = NULL, \
         decided_by = NULL WHERE tenant_code = $1 AND id = $2 AND status = 'rejected'"
    } else {
        "INSERT INTO teams (tenant_code, id, name, kind, association, unit_id, region_code, \
         contact_name, contact_mobile, legal_status, parent_team_id, liaison_team_id, \
         registration_authority_id, credit_code, org_code, status, submitted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'pending', $16)"
    };
    let written = sqlx::query(statement)
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(&team.name)
        .bind(team.kind.as_str())
        .bind(i64::from(team.association))
        .bind(team.unit.map(|unit| unit.to_string()))
        .bind(team.region.as_str())
        .bind(&team.contact_name)
        .bind(&team.contact_mobile)
        .bind(team.legal_status.as_str())
        .bind(team.parent_team.map(|team| team.to_string()))
        .bind(team.liaison_team.map(|team| team.to_string()))
        .bind(team.registration_authority.map(|body| body.to_string()))
        .bind(
            team.credit_code
                .as_ref()
                .map(|code| code.as_str().to_owned()),
        )
        .bind(team.org_code.as_ref().map(|code| code.as_str().to_owned()))
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await?;
    if replace && written.rows_affected() != 1 {
        // Another resubmission got there first.
        return Err(StoreError::Invalid(InvalidInput::new(
            "/",
            Rule::AlreadyDecided,
        )));
    }
    sqlx::query("DELETE FROM team_certificates WHERE tenant_code = $1 AND team_id = $2")
        .bind(tenant.as_str())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let mut certificates = team.certificates.clone();
    certificates.sort();
    certificates.dedup();
    for sha256 in certificates {
        sqlx::query(
            "INSERT INTO team_certificates (tenant_code, team_id, sha256) VALUES ($1, $2, $3)",
        )
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(sha256)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

async fn read_team(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<TeamRecord, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {TEAM_COLUMNS} FROM teams WHERE tenant_code = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let certificates = sqlx::query("SELECT sha256 FROM team_certificates WHERE tenant_code = $1 AND team_id = $2 ORDER BY sha256")
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| text(row, "sha256"))
        .collect::<Result<_, _>>()?;
    team_record(&row, certificates)
}

async fn read_membership(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    team: Uuid,
    volunteer: Uuid,
) -> Result<Option<Membership>, StoreError> {
    let row = sqlx::query(
        "SELECT team_id, volunteer_id, status, applied_at, decided_at FROM team_members \
         WHERE tenant_code = $1 AND team_id = $2 AND volunteer_id = $3",
    )
    .bind(tenant.as_str())
    .bind(team.to_string())
    .bind(volunteer.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    row.as_ref().map(membership).transpose()
}

#[allow(clippy::too_many_arguments)]
async fn audit_team(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    actor: &Actor,
    action: AuditAction,
    before: Option<&TeamRecord>,
    after: &TeamRecord,
    reason: Option<String>,
    at: Timestamp,
) -> Result<(), StoreError> {
    record(
        tx,
        AuditRecord {
            tenant: Some(tenant),
            actor,
            action,
            entity_id: after.id.to_string(),
            before: before.map(masked_contact),
            after: Some(masked_contact(after)),
            reason,
            at,
        },
    )
    .await
}

async fn audit_membership(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    actor: &Actor,
    action: AuditAction,
    before: Option<&Membership>,
    after: &Membership,
    at: Timestamp,
) -> Result<(), StoreError> {
    record(
        tx,
        AuditRecord {
            tenant: Some(tenant),
            actor,
            action,
            entity_id: format!("{}/{}", after.team_id, after.volunteer_id),
            before: before.map(|membership| json!(membership)),
            after: Some(json!(after)),
            reason: None,
            at,
        },
    )
    .await
}

fn team_record(row: &AnyRow, certificates: Vec<String>) -> Result<TeamRecord, StoreError> {
    let decided_at =
        sqlx::Row::try_get::<Option<i64>, _>(row, "decided_at")?.map(Timestamp::from_unix_millis);
    Ok(TeamRecord {
        id: uuid(row, "id")?,
        name: text(row, "name")?,
        kind: enumerated(row, "kind", UnitKind::from_db)?,
        association: int(row, "association")? == 1,
        unit: optional_uuid(row, "unit_id")?,
        region: region_code(row, "region_code")?,
        contact_name: text(row, "contact_name")?,
        contact_mobile: text(row, "contact_mobile")?,
        legal_status: enumerated(row, "legal_status", LegalStatus::from_db)?,
        parent_team: optional_uuid(row, "parent_team_id")?,
        liaison_team: optional_uuid(row, "liaison_team_id")?,
        registration_authority: optional_uuid(row, "registration_authority_id")?,
        credit_code: optional_text(row, "credit_code")?,
        org_code: optional_text(row, "org_code")?,
        reviewing_body: optional_uuid(row, "reviewing_body_id")?,
        applicant: optional_uuid(row, "applicant_id")?,
        status: enumerated(row, "status", TeamStatus::from_db)?,
        decision_reason: optional_text(row, "decision_reason")?,
        submitted_at: timestamp(row, "submitted_at")?,
        decided_at,
        certificates,
    })
}

fn membership(row: &AnyRow) -> Result<Membership, StoreError> {
    let decided_at =
        sqlx::Row::try_get::<Option<i64>, _>(row, "decided_at")?.map(Timestamp::from_unix_millis);
    Ok(Membership {
        team_id: uuid(row, "team_id")?,
        volunteer_id: uuid(row, "volunteer_id")?,
        status: enumerated(row, "status", MembershipStatus::from_db)?,
        applied_at: timestamp(row, "applied_at")?,
        decided_at,
    })
}
