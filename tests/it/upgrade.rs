//! Upgrading a node: a database that nodes before migration 0006 (`accounts_and_grants`) filled
//! is migrated when the new node starts on it. Every old user becomes an account with the grant
//! its role stood for, signs in with its old password, keeps its volunteer record and its
//! team; identity numbers are masked to their last two characters, birth dates leave every
//! column and audit event, old audit actions take their new names, and the audit trail that the
//! node chains at start holds from its first event.
//!
//! The old data is written with SQL in the shapes the code before 0006 wrote them (commit
//! 508f44f: `core/store/src/{accounts,volunteers,teams,tenants,audit}.rs`), on a database
//! migrated to 0005 and no further.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;
use sqlx::migrate::{Migration, Migrator};
use sqlx::{AnyPool, Row};
use uuid::Uuid;
use zhiyuan::Node;
use zhiyuan_domain::{FixedClock, Password, TenantCode, Timestamp, VolunteerNumber};
use zhiyuan_keys::{DataKeys, Secret};

use crate::support::{Backend, Database, TEST_EPOCH_MILLIS, resident_id};

const TENANT: &str = "421300";

/// The tenant's data key, given to the node in its configuration as an operator would.
fn data_key() -> Secret {
    Secret::from_bytes([9; 32])
}

/// The old data was written a month before the test's "now", a minute between changes.
fn minute(n: i64) -> i64 {
    TEST_EPOCH_MILLIS - 30 * 86_400_000 + n * 60_000
}

fn at(millis: i64) -> Value {
    json!(Timestamp::from_unix_millis(millis))
}

/// What the fixture wrote, for the checks after the upgrade.
struct OldData {
    operator: Uuid,
    office: Uuid,
    auditor: Uuid,
    reviewer: Uuid,
    association_reviewer: Uuid,
    volunteer_account: Uuid,
    volunteer: Uuid,
    volunteer_number: String,
    id_number: String,
    listed_volunteer: Uuid,
    civilisation_office: Uuid,
    association: Uuid,
    team: Uuid,
    /// A live session of the office admin, signed in before the upgrade.
    office_token: String,
    /// A session of the volunteer that had expired before the upgrade.
    expired_token: String,
}

/// Applies migrations 0001 to 0005 as the node before 0006 did: the same files, so the same
/// checksums, and the descriptions the node's embedded list gives them (`verified_tallies`,
/// where sqlx reading a folder would record `verified tallies`), so that `_sqlx_migrations`
/// holds exactly the rows an old node left.
async fn migrate_to_0005(pool: &AnyPool, backend: Backend) {
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let path = format!(
        "{}/../../core/store/migrations/{folder}",
        env!("CARGO_MANIFEST_DIR")
    );
    let all = Migrator::new(Path::new(&path))
        .await
        .expect("the migrations folder");
    let mut old: Vec<Migration> = all
        .migrations
        .iter()
        .filter(|migration| migration.version <= 5)
        .map(|migration| {
            Migration::new(
                migration.version,
                Cow::Owned(migration.description.replace(' ', "_")),
                migration.migration_type,
                migration.sql.clone(),
                migration.no_tx,
            )
        })
        .collect();
    old.sort_by_key(|migration| migration.version);
    assert_eq!(
        old.iter()
            .map(|migration| migration.version)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    Migrator {
        migrations: Cow::Owned(old),
        ..Migrator::DEFAULT
    }
    .run(pool)
    .await
    .expect("migrations 0001 to 0005 apply");
}

/// Writes one old row; the fixture stops at the first the old schema refuses.
async fn run<'q>(
    pool: &AnyPool,
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) {
    query.execute(pool).await.expect("old row written");
}

/// A row of `users` and its `user.create` event, as `insert_user` wrote them.
#[allow(clippy::too_many_arguments)]
async fn old_user(
    pool: &AnyPool,
    tenant: Option<&str>,
    username: &str,
    display_name: &str,
    role: &str,
    reviewing_body: Option<Uuid>,
    created_at: i64,
    actor: (Option<Uuid>, &str),
) -> Uuid {
    let id = Uuid::now_v7();
    // Every old password is `<username>-password`, hashed with Argon2id and the parameters the
    // old node used too (m=19456, t=2, p=1).
    let password = format!("{username}-password");
    let password_hash = zhiyuan_app::Passwords::new(1, 1)
        .hash(&Password::parse(&password, "/password").unwrap())
        .await
        .expect("hash");
    run(
        pool,
        sqlx::query(
            "INSERT INTO users (id, tenant_code, username, display_name, role, \
             reviewing_body_id, password_hash, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(tenant.map(str::to_owned))
        .bind(username.to_owned())
        .bind(display_name.to_owned())
        .bind(role.to_owned())
        .bind(reviewing_body.map(|body| body.to_string()))
        .bind(password_hash)
        .bind(created_at)
        .bind(actor.1.to_owned()),
    )
    .await;
    let stored_user = json!({
        "id": id, "tenant": tenant, "username": username, "display_name": display_name,
        "role": role, "reviewing_body": reviewing_body, "created_at": at(created_at),
    });
    old_event(
        pool,
        tenant,
        actor,
        "user.create",
        "user",
        &id.to_string(),
        None,
        Some(stored_user),
        created_at,
    )
    .await;
    id
}

/// A row of `audit_events` as `audit::record` wrote it: no number, no hash, the tenant NULL
/// for node-wide events.
#[allow(clippy::too_many_arguments)]
async fn old_event(
    pool: &AnyPool,
    tenant: Option<&str>,
    actor: (Option<Uuid>, &str),
    action: &str,
    entity_kind: &str,
    entity_id: &str,
    before: Option<Value>,
    after: Option<Value>,
    at: i64,
) {
    run(
        pool,
        sqlx::query(
            "INSERT INTO audit_events (id, tenant_code, actor_id, actor_name, action, entity_kind, \
             entity_id, before_json, after_json, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(tenant.map(str::to_owned))
        .bind(actor.0.map(|id| id.to_string()))
        .bind(actor.1.to_owned())
        .bind(action.to_owned())
        .bind(entity_kind.to_owned())
        .bind(entity_id.to_owned())
        .bind(before.map(|value| value.to_string()))
        .bind(after.map(|value| value.to_string()))
        .bind(None::<String>)
        .bind(at),
    )
    .await;
}

/// Suizhou with two regions, its 曾都区 civilisation office and its volunteer service
/// federation (a reviewing body and, under the same id, a team), as `create_tenant` wrote a
/// tenant; the data key's check value beside it.
async fn old_tenant(pool: &AnyPool, keys: &DataKeys) -> (Uuid, Uuid) {
    let created = minute(0);
    run(
        pool,
        sqlx::query(
            "INSERT INTO tenants (code, name_zh, name_en, created_at, created_by) \
             VALUES ($1, '随州市', 'Suizhou', $2, 'system:startup')",
        )
        .bind(TENANT)
        .bind(created),
    )
    .await;
    run(
        pool,
        sqlx::query("INSERT INTO tenant_data_keys (tenant_code, key_check) VALUES ($1, $2)")
            .bind(TENANT)
            .bind(keys.check_value().to_owned()),
    )
    .await;
    for (position, (code, parent, name_zh, name_en, level, population)) in [
        (
            "421300",
            None,
            "随州市",
            "Suizhou City",
            "city",
            2_047_923_i64,
        ),
        (
            "421303",
            Some("421300"),
            "曾都区",
            "Zengdu District",
            "county",
            612_618,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        run(
            pool,
            sqlx::query(
                "INSERT INTO regions (tenant_code, code, parent_code, name_zh, name_en, level, \
                 local, resident_population, position) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
            )
            .bind(TENANT)
            .bind(code)
            .bind(parent.map(str::to_owned))
            .bind(name_zh)
            .bind(name_en)
            .bind(level)
            .bind(population)
            .bind(position as i64),
        )
        .await;
    }
    let civilisation_office = Uuid::now_v7();
    let association = Uuid::now_v7();
    for (id, kind, name_zh, region) in [
        (
            civilisation_office,
            "civilisation_office",
            "曾都区文明办",
            "421303",
        ),
        (association, "federation", "随州市志愿服务联合会", "421300"),
    ] {
        run(
            pool,
            sqlx::query(
                "INSERT INTO reviewing_bodies (tenant_code, id, kind, name_zh, name_en, \
                 region_code) VALUES ($1, $2, $3, $4, NULL, $5)",
            )
            .bind(TENANT)
            .bind(id.to_string())
            .bind(kind)
            .bind(name_zh)
            .bind(region),
        )
        .await;
    }
    run(
        pool,
        sqlx::query(
            "INSERT INTO teams (tenant_code, id, name, kind, federation, region_code, \
             contact_name, contact_mobile, legal_status, reviewing_body_id, status, \
             submitted_at, decided_at, decided_by) \
             VALUES ($1, $2, '随州市志愿服务联合会', 'social_organisation', 1, '421300', \
             '随州市志愿服务联合会', '', 'registered', $2, 'approved', $3, $3, 'system:startup')",
        )
        .bind(TENANT)
        .bind(association.to_string())
        .bind(created),
    )
    .await;
    old_event(
        pool,
        Some(TENANT),
        (None, "system:startup"),
        "tenant.create",
        "tenant",
        TENANT,
        None,
        Some(json!({
            "name": { "zh": "随州市", "en": "Suizhou" },
            "regions": 2, "units": 0, "reviewing_bodies": 2,
        })),
        created,
    )
    .await;
    (civilisation_office, association)
}

/// A volunteer as `record_change` put it in the audit trail: mobile masked, birth date cut to
/// the month, the identity number masked the old way.
#[allow(clippy::too_many_arguments)]
fn old_volunteer_json(
    id: Uuid,
    account: Option<Uuid>,
    name: &str,
    id_kind: &str,
    masked: &str,
    birth_month: Option<&str>,
    gender: Option<&str>,
    applied_at: i64,
    verified: Option<(&str, i64)>,
) -> Value {
    json!({
        "id": id, "user_id": account,
        "volunteer_number": verified.map(|(number, _)| number),
        "card_serial": i64::from(verified.is_some()),
        "name": name, "id_kind": id_kind, "id_number_masked": masked,
        "birth_date": birth_month, "gender": gender, "mobile": "138****1234",
        "region": "421303", "unit": null, "skills": ["急救"],
        "service_categories": ["community"], "availability": "周末",
        "status": if verified.is_some() { "verified" } else { "pending" },
        "decision_reason": null, "applied_at": at(applied_at),
        "decided_at": verified.map(|(_, decided)| at(decided)),
    })
}

/// Writes what a node before 0006 would hold after a few weeks of use.
async fn write_old_data(pool: &AnyPool) -> OldData {
    let keys = DataKeys::derive(&data_key());
    let (civilisation_office, association) = old_tenant(pool, &keys).await;

    // Accounts of each role: the operator (node-wide, tenant NULL), the city office, an
    // auditor, a reviewer for each reviewing body.
    let operator = old_user(
        pool,
        None,
        "root",
        "省平台运维",
        "operator",
        None,
        minute(1),
        (None, "system:admin create-user"),
    )
    .await;
    let office = old_user(
        pool,
        Some(TENANT),
        "office",
        "随州市文明办",
        "office_admin",
        None,
        minute(2),
        (Some(operator), "root"),
    )
    .await;
    let auditor = old_user(
        pool,
        Some(TENANT),
        "auditor",
        "审计",
        "auditor",
        None,
        minute(3),
        (Some(office), "office"),
    )
    .await;
    let reviewer = old_user(
        pool,
        Some(TENANT),
        "zengdu-reviewer",
        "曾都区文明办审核员",
        "reviewer",
        Some(civilisation_office),
        minute(4),
        (Some(office), "office"),
    )
    .await;
    let association_reviewer = old_user(
        pool,
        Some(TENANT),
        "association-reviewer",
        "联合会审核员",
        "reviewer",
        Some(association),
        minute(5),
        (Some(office), "office"),
    )
    .await;
    // The demo reset the auditor's password once.
    old_event(
        pool,
        Some(TENANT),
        (None, "system:demo"),
        "user.set_password",
        "user",
        &auditor.to_string(),
        None,
        None,
        minute(6),
    )
    .await;

    // A volunteer applied with an account, as `register_volunteer` wrote it: the birth date in
    // its own column and the identity number masked to its first four and last four.
    let registered = minute(10);
    let volunteer_account = old_user(
        pool,
        Some(TENANT),
        "zhangsan",
        "张三",
        "volunteer",
        None,
        registered,
        (None, "applicant:zhangsan"),
    )
    .await;
    let id_number = resident_id("42130319900517123");
    let old_masked = format!("4213**********{}", &id_number[14..]);
    let volunteer = Uuid::now_v7();
    let verified = minute(20);
    let volunteer_number = VolunteerNumber::new(&TenantCode::parse(TENANT).unwrap(), 123_456_789)
        .as_str()
        .to_owned();
    run(
        pool,
        sqlx::query(
            "INSERT INTO volunteers (tenant_code, id, user_id, volunteer_number, card_serial, name, \
             id_kind, id_number_sealed, id_number_index, id_number_masked, birth_date, gender, \
             mobile, region_code, unit_id, skills, service_categories, availability, status, \
             applied_at, decided_at, decided_by) \
             VALUES ($1, $2, $3, $4, 1, '张三', 'resident_id_card', $5, $6, $7, '1990-05-17', \
             'male', '13800001234', '421303', NULL, '[\"急救\"]', '[\"community\"]', '周末', \
             'verified', $8, $9, 'zengdu-reviewer')",
        )
        .bind(TENANT)
        .bind(volunteer.to_string())
        .bind(volunteer_account.to_string())
        .bind(volunteer_number.clone())
        .bind(keys.seal(TENANT, "id_number", &id_number))
        .bind(hex::encode(keys.index_bytes(
            "id_number",
            &format!("resident_id_card:{id_number}"),
        )))
        .bind(old_masked.clone())
        .bind(registered)
        .bind(verified),
    )
    .await;
    let pending = old_volunteer_json(
        volunteer,
        Some(volunteer_account),
        "张三",
        "resident_id_card",
        &old_masked,
        Some("1990-05"),
        Some("male"),
        registered,
        None,
    );
    let verified_json = old_volunteer_json(
        volunteer,
        Some(volunteer_account),
        "张三",
        "resident_id_card",
        &old_masked,
        Some("1990-05"),
        Some("male"),
        registered,
        Some((&volunteer_number, verified)),
    );
    old_event(
        pool,
        Some(TENANT),
        (None, "applicant:zhangsan"),
        "volunteer.register",
        "volunteer",
        &volunteer.to_string(),
        None,
        Some(pending.clone()),
        registered,
    )
    .await;
    old_event(
        pool,
        Some(TENANT),
        (Some(reviewer), "zengdu-reviewer"),
        "volunteer.reveal_id_number",
        "volunteer",
        &volunteer.to_string(),
        None,
        None,
        verified - 60_000,
    )
    .await;
    old_event(
        pool,
        Some(TENANT),
        (Some(reviewer), "zengdu-reviewer"),
        "volunteer.verify",
        "volunteer",
        &volunteer.to_string(),
        Some(pending),
        Some(verified_json),
        verified,
    )
    .await;

    // A unit's list brought a passport holder without an account; the old mask kept its first
    // character and last three.
    let listed_volunteer = Uuid::now_v7();
    let listed = minute(25);
    run(
        pool,
        sqlx::query(
            "INSERT INTO volunteers (tenant_code, id, user_id, name, id_kind, id_number_sealed, \
             id_number_index, id_number_masked, birth_date, gender, mobile, region_code, \
             skills, service_categories, availability, status, applied_at) \
             VALUES ($1, $2, NULL, 'John Smith', 'passport', $3, $4, 'E*****678', NULL, NULL, \
             '13800001234', '421303', '[\"急救\"]', '[\"community\"]', '周末', 'pending', $5)",
        )
        .bind(TENANT)
        .bind(listed_volunteer.to_string())
        .bind(keys.seal(TENANT, "id_number", "E12345678"))
        .bind(hex::encode(
            keys.index_bytes("id_number", "passport:E12345678"),
        ))
        .bind(listed),
    )
    .await;
    old_event(
        pool,
        Some(TENANT),
        (Some(office), "office"),
        "volunteer.register",
        "volunteer",
        &listed_volunteer.to_string(),
        None,
        Some(old_volunteer_json(
            listed_volunteer,
            None,
            "John Smith",
            "passport",
            "E*****678",
            None,
            None,
            listed,
            None,
        )),
        listed,
    )
    .await;

    // The volunteer applied for an unregistered team, with the federation as its liaison
    // team: `create_team` made them its first admin (a row of team_admins). The federation's
    // reviewer approved it, and the volunteer joined it.
    let team = Uuid::now_v7();
    let applied = minute(30);
    let approved = minute(40);
    run(
        pool,
        sqlx::query(
            "INSERT INTO teams (tenant_code, id, name, kind, federation, region_code, \
             contact_name, contact_mobile, legal_status, liaison_team_id, status, \
             submitted_at, decided_at, decided_by) \
             VALUES ($1, $2, '曾都区爱心车队', 'social_organisation', 0, '421303', '张三', \
             '13800001234', 'unregistered', $3, 'approved', $4, $5, 'association-reviewer')",
        )
        .bind(TENANT)
        .bind(team.to_string())
        .bind(association.to_string())
        .bind(applied)
        .bind(approved),
    )
    .await;
    run(
        pool,
        sqlx::query(
            "INSERT INTO team_admins (tenant_code, team_id, user_id, appointed_at, appointed_by) \
             VALUES ($1, $2, $3, $4, 'zhangsan')",
        )
        .bind(TENANT)
        .bind(team.to_string())
        .bind(volunteer_account.to_string())
        .bind(applied),
    )
    .await;
    run(
        pool,
        sqlx::query(
            "INSERT INTO team_members (tenant_code, team_id, volunteer_id, status, applied_at, \
             decided_at, decided_by) VALUES ($1, $2, $3, 'member', $4, $5, 'zhangsan')",
        )
        .bind(TENANT)
        .bind(team.to_string())
        .bind(volunteer.to_string())
        .bind(minute(41))
        .bind(minute(42)),
    )
    .await;
    let team_json = |status: &str, decided: Option<i64>| {
        json!({
            "id": team, "name": "曾都区爱心车队", "kind": "social_organisation",
            "federation": false, "unit": null, "region": "421303", "contact_name": "张三",
            "contact_mobile": "138****1234", "legal_status": "unregistered",
            "parent_team": null, "liaison_team": association, "registration_authority": null,
            "credit_code": null, "org_code": null, "reviewing_body": null, "status": status,
            "decision_reason": null, "submitted_at": at(applied),
            "decided_at": decided.map(at), "certificates": [],
        })
    };
    old_event(
        pool,
        Some(TENANT),
        (Some(volunteer_account), "zhangsan"),
        "team.apply",
        "team",
        &team.to_string(),
        None,
        Some(team_json("pending", None)),
        applied,
    )
    .await;
    old_event(
        pool,
        Some(TENANT),
        (Some(association_reviewer), "association-reviewer"),
        "team.approve",
        "team",
        &team.to_string(),
        Some(team_json("pending", None)),
        Some(team_json("approved", Some(approved))),
        approved,
    )
    .await;
    let membership = |status: &str, decided: Option<i64>| {
        json!({
            "team_id": team, "volunteer_id": volunteer, "status": status,
            "applied_at": at(minute(41)), "decided_at": decided.map(at),
        })
    };
    old_event(
        pool,
        Some(TENANT),
        (Some(volunteer_account), "zhangsan"),
        "membership.apply",
        "membership",
        &format!("{team}/{volunteer}"),
        None,
        Some(membership("applied", None)),
        minute(41),
    )
    .await;
    old_event(
        pool,
        Some(TENANT),
        (Some(volunteer_account), "zhangsan"),
        "membership.accept",
        "membership",
        &format!("{team}/{volunteer}"),
        Some(membership("applied", None)),
        Some(membership("member", Some(minute(42)))),
        minute(42),
    )
    .await;

    // Sessions are stored by the SHA-256 of their token: the office's still live at the
    // upgrade, the volunteer's long expired. Failed sign-ins were counted by account key.
    let office_token = "old-office-session-token".to_owned();
    let expired_token = "old-expired-volunteer-token".to_owned();
    for (token, user, created) in [
        (&office_token, office, TEST_EPOCH_MILLIS - 3_600_000),
        (&expired_token, volunteer_account, minute(43)),
    ] {
        run(
            pool,
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(hex::encode(sha2::Sha256::digest(token.as_bytes())))
            .bind(user.to_string())
            .bind(created)
            .bind(created + 12 * 3_600_000),
        )
        .await;
    }
    for (account_key, minutes_ago) in [("421300/office", 5), ("421300/office", 4), ("*/root", 3)] {
        run(
            pool,
            sqlx::query(
                "INSERT INTO login_failures (id, account_key, address, at) \
                 VALUES ($1, $2, '127.0.0.1', $3)",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(account_key)
            .bind(TEST_EPOCH_MILLIS - minutes_ago * 60_000),
        )
        .await;
    }

    OldData {
        operator,
        office,
        auditor,
        reviewer,
        association_reviewer,
        volunteer_account,
        volunteer,
        volunteer_number,
        id_number,
        listed_volunteer,
        civilisation_office,
        association,
        team,
        office_token,
        expired_token,
    }
}

/// Requests to the upgraded node, each answer checked against the OpenAPI document.
struct Client {
    base_url: String,
    http: reqwest::Client,
}

impl Client {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON")
        };
        crate::described::check_answer(&method, path, status.as_u16(), &content_type, &body);
        (status, body)
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, Some(token), None).await;
        assert_eq!(status, 200, "GET {path}: {body:#}");
        body
    }

    /// Signs in with an old password; answers the sign-in (token and account).
    async fn sign_in(&self, tenant: Option<&str>, username: &str) -> Value {
        let mut credentials =
            json!({ "username": username, "password": format!("{username}-password") });
        if let Some(tenant) = tenant {
            credentials["tenant"] = json!(tenant);
        }
        let (status, body) = self
            .call(Method::POST, "/api/v1/session", None, Some(credentials))
            .await;
        assert_eq!(status, 200, "{username} signs in: {body:#}");
        body
    }
}

async fn strings(pool: &AnyPool, sql: &str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect()
}

/// The file of each table that held birth dates or old masks, on PostgreSQL (none on SQLite).
async fn table_files(pool: &AnyPool, backend: Backend) -> Vec<(String, String)> {
    if backend == Backend::Sqlite {
        return Vec::new();
    }
    strings(
        pool,
        "SELECT relname::text || ':' || relfilenode::text FROM pg_class \
         WHERE relname IN ('volunteers', 'audit_events') ORDER BY relname",
    )
    .await
    .into_iter()
    .map(|pair| {
        let (table, file) = pair.split_once(':').unwrap();
        (table.to_owned(), file.to_owned())
    })
    .collect()
}

async fn old_database_is_upgraded(backend: Backend) {
    // A node before 0006 made this database and used it for a while.
    let (database, mut config) = Database::create(backend).await;
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(&config.database_url())
        .await
        .expect("the new database");
    migrate_to_0005(&pool, backend).await;
    let old = write_old_data(&pool).await;
    // Where PostgreSQL keeps each table's rows: a table written anew gets a new file.
    let files_before = table_files(&pool, backend).await;
    pool.close().await;

    // The new node starts on it: it migrates to 0006 and chains the audit trail. The tenant
    // is there already, made by the old node; its data key comes from the configuration.
    config.load_bundled_tenants = false;
    config
        .data_keys
        .insert(TENANT.into(), data_key().to_base64());
    let clock = Arc::new(FixedClock::new(Timestamp::from_unix_millis(
        TEST_EPOCH_MILLIS,
    )));
    let node = Node::start(&config, clock)
        .await
        .expect("the node upgrades the old database and starts");
    let client = Client {
        base_url: format!("http://{}", node.local_addr),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    };
    let pool = AnyPool::connect(&config.database_url())
        .await
        .expect("the upgraded database");

    // The node recorded 0006 (and, on PostgreSQL, 0007) beside the five an old node had, as its
    // own migrator names them.
    let migrations = sqlx::query(
        "SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get::<i64, _>(0), row.get::<String, _>(1)))
    .collect::<Vec<_>>();
    let mut expected = vec![
        (1, "foundation"),
        (2, "volunteers"),
        (3, "teams"),
        (4, "plugins"),
        (5, "verified_tallies"),
        (6, "accounts_and_grants"),
    ];
    if backend == Backend::Postgres {
        expected.push((7, "bulk_import"));
    }
    expected.push((8, "projects"));
    expected.push((9, "service"));
    expected.push((10, "transparency_log"));
    expected.push((11, "credentials"));
    expected.push((12, "request_nonces"));
    expected.push((13, "messages"));
    expected.push((14, "transfers"));
    assert_eq!(
        migrations,
        expected
            .into_iter()
            .map(|(version, name)| (version, name.to_owned()))
            .collect::<Vec<_>>()
    );

    // Every old user is an account, the operator's of the node, with the grant its role
    // stood for; the volunteer's team_admins row became a grant over its team.
    let mut accounts = strings(
        &pool,
        "SELECT tenant_code || '/' || username || '/' || id FROM accounts",
    )
    .await;
    accounts.sort();
    let mut expected = vec![
        format!("node/root/{}", old.operator),
        format!("421300/office/{}", old.office),
        format!("421300/auditor/{}", old.auditor),
        format!("421300/zengdu-reviewer/{}", old.reviewer),
        format!("421300/association-reviewer/{}", old.association_reviewer),
        format!("421300/zhangsan/{}", old.volunteer_account),
    ];
    expected.sort();
    assert_eq!(accounts, expected);
    let mut grants = strings(
        &pool,
        "SELECT grants.tenant_code || '/' || accounts.username || ': ' || grants.kind || ' ' || \
         grants.scope FROM grants JOIN accounts ON accounts.tenant_code = grants.tenant_code \
         AND accounts.id = grants.account_id",
    )
    .await;
    grants.sort();
    let mut expected = vec![
        "node/root: operator node".to_owned(),
        "421300/office: office_admin tenant".to_owned(),
        "421300/auditor: auditor tenant".to_owned(),
        format!(
            "421300/zengdu-reviewer: reviewer reviewing_body:{}",
            old.civilisation_office
        ),
        format!(
            "421300/association-reviewer: reviewer reviewing_body:{}",
            old.association
        ),
        format!("421300/zhangsan: team_admin team:{}", old.team),
    ];
    expected.sort();
    assert_eq!(grants, expected, "a volunteer is no grant");

    // Everyone signs in with their old password and is answered the migrated grants; the
    // operator, of the node, without a tenant.
    let root = client.sign_in(None, "root").await;
    assert!(root["account"]["tenant"].is_null(), "{root:#}");
    assert_eq!(
        root["account"]["grants"],
        json!([{ "kind": "operator", "scope": "node" }])
    );
    let office = client.sign_in(Some(TENANT), "office").await;
    assert_eq!(office["account"]["id"], json!(old.office));
    assert_eq!(
        office["account"]["grants"],
        json!([{ "kind": "office_admin", "scope": "tenant" }]),
        "the office's old failed sign-ins are gone with login_failures"
    );
    let auditor = client.sign_in(Some(TENANT), "auditor").await;
    assert_eq!(
        auditor["account"]["grants"],
        json!([{ "kind": "auditor", "scope": "tenant" }])
    );
    let reviewer = client.sign_in(Some(TENANT), "zengdu-reviewer").await;
    assert_eq!(
        reviewer["account"]["grants"],
        json!([{ "kind": "reviewer", "scope": format!("reviewing_body:{}", old.civilisation_office) }])
    );
    let association_reviewer = client.sign_in(Some(TENANT), "association-reviewer").await;
    assert_eq!(
        association_reviewer["account"]["grants"],
        json!([{ "kind": "reviewer", "scope": format!("reviewing_body:{}", old.association) }])
    );
    let zhangsan = client.sign_in(Some(TENANT), "zhangsan").await;
    assert_eq!(
        zhangsan["account"]["grants"],
        json!([{ "kind": "team_admin", "scope": format!("team:{}", old.team) }])
    );
    assert_eq!(zhangsan["account"]["volunteer_id"], json!(old.volunteer));
    let token = |signed_in: &Value| signed_in["token"].as_str().unwrap().to_owned();

    // The volunteer's record belongs to its account: the identity number shows its last two
    // characters only, and the birth date, no longer stored in the clear, is read from the
    // sealed number the old node wrote.
    let me = client
        .get(
            &format!("/api/v1/tenants/{TENANT}/volunteers/me"),
            &token(&zhangsan),
        )
        .await;
    assert_eq!(me["id"], json!(old.volunteer));
    assert_eq!(me["account_id"], json!(old.volunteer_account));
    assert_eq!(me["volunteer_number"], json!(old.volunteer_number));
    assert_eq!(me["status"], "verified");
    assert_eq!(
        me["id_number_masked"],
        json!(format!("****************{}", &old.id_number[16..]))
    );
    assert_eq!(me["birth_date"], "1990-05-17");
    // Each grant acts: the reviewer reads the volunteer of its region, the team admin its
    // team's members with their mobile in full.
    let seen = client
        .get(
            &format!("/api/v1/tenants/{TENANT}/volunteers/{}", old.volunteer),
            &token(&reviewer),
        )
        .await;
    assert_eq!(seen["id_number_masked"], me["id_number_masked"]);
    assert!(seen.get("birth_date").is_none(), "{seen:#}");
    let members = client
        .get(
            &format!("/api/v1/tenants/{TENANT}/teams/{}/members", old.team),
            &token(&zhangsan),
        )
        .await;
    assert_eq!(
        members["items"][0]["membership"]["volunteer_id"],
        json!(old.volunteer)
    );
    assert_eq!(members["items"][0]["mobile"], "13800001234");
    // The passport holder's number was masked the old way too; it keeps its last two.
    let listed = client
        .get(
            &format!(
                "/api/v1/tenants/{TENANT}/volunteers/{}",
                old.listed_volunteer
            ),
            &token(&office),
        )
        .await;
    assert_eq!(listed["id_number_masked"], "*******78");
    // The federation is an association now, and the node's own realm is no tenant.
    let bodies = client
        .get(
            &format!("/api/v1/tenants/{TENANT}/reviewing-bodies"),
            &token(&office),
        )
        .await;
    let association = bodies["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|body| body["id"] == json!(old.association))
        .expect("the federation");
    assert_eq!(association["kind"], "association");
    let (_, tenants) = client
        .call(Method::GET, "/api/v1/tenants", None, None)
        .await;
    let codes: Vec<&Value> = tenants["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tenant| &tenant["code"])
        .collect();
    assert_eq!(codes, [TENANT], "{tenants:#}");

    // A session signed in before the upgrade still works and answers the account's grants;
    // an expired one stays expired.
    let session = client.get("/api/v1/session", &old.office_token).await;
    assert_eq!(session["account"]["username"], "office");
    assert_eq!(
        session["account"]["grants"],
        json!([{ "kind": "office_admin", "scope": "tenant" }])
    );
    let (status, _) = client
        .call(
            Method::GET,
            "/api/v1/session",
            Some(&old.expired_token),
            None,
        )
        .await;
    assert_eq!(status, 401);

    // No birth date is stored in the clear any more: not as a column, not in any audit event.
    assert!(
        sqlx::query("SELECT birth_date FROM volunteers")
            .fetch_all(&pool)
            .await
            .is_err(),
        "volunteers.birth_date is dropped"
    );
    for (id, before, after) in sqlx::query("SELECT id, before_json, after_json FROM audit_events")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.get::<String, _>(0),
                row.get::<Option<String>, _>(1),
                row.get::<Option<String>, _>(2),
            )
        })
    {
        for json in [before, after].into_iter().flatten() {
            assert!(!json.contains("birth_date"), "event {id}: {json}");
            assert!(!json.contains("1990-05"), "event {id}: {json}");
            assert!(
                !json.contains("4213*"),
                "event {id} keeps an old mask: {json}"
            );
            assert!(
                !json.contains("E*****"),
                "event {id} keeps an old mask: {json}"
            );
        }
    }

    // Nor is what 0006 removed left where it was: freed pages of the SQLite files (and its
    // WAL) hold no old birth date or mask, PostgreSQL's tables were written anew without the
    // dead row versions that kept them.
    match backend {
        Backend::Sqlite => {
            let old_mask = format!("4213**********{}", &old.id_number[14..]);
            for entry in std::fs::read_dir(&config.data_dir).unwrap() {
                let path = entry.unwrap().path();
                if !path.is_file() {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                for residue in ["1990-05-17", old_mask.as_str(), "E*****678"] {
                    assert!(
                        !bytes
                            .windows(residue.len())
                            .any(|w| w == residue.as_bytes()),
                        "{residue} left in {}",
                        path.display()
                    );
                }
            }
        }
        Backend::Postgres => {
            let files_after = table_files(&pool, backend).await;
            for (table, before) in &files_before {
                let after = &files_after.iter().find(|(t, _)| t == table).unwrap().1;
                assert_ne!(before, after, "{table} was not written anew");
            }
        }
    }

    // Old actions have their new names, in the trail as the office reads it.
    let trail = client
        .get(
            &format!("/api/v1/tenants/{TENANT}/audit-events?limit=1000"),
            &token(&office),
        )
        .await;
    let events = trail["items"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|action| **action == "account.create")
            .count(),
        5,
        "{actions:?}"
    );
    assert!(actions.contains(&"account.set_password"), "{actions:?}");
    assert!(
        !actions.iter().any(|action| action.starts_with("user.")),
        "{actions:?}"
    );
    let verify = events
        .iter()
        .find(|event| event["action"] == "volunteer.verify")
        .expect("the verification");
    for record in [&verify["before"], &verify["after"]] {
        assert_eq!(record["id_number_masked"], me["id_number_masked"]);
    }
    let created = events
        .iter()
        .find(|event| event["entity_id"] == json!(old.office))
        .expect("the office's creation");
    assert_eq!(created["entity_kind"], "account");
    let renamed_everywhere = strings(
        &pool,
        "SELECT tenant_code || ' ' || action FROM audit_events \
         WHERE action LIKE 'user.%' OR entity_kind = 'user'",
    )
    .await;
    assert!(renamed_everywhere.is_empty(), "{renamed_everywhere:?}");
    let node_trail = strings(
        &pool,
        "SELECT action FROM audit_events WHERE tenant_code = 'node' ORDER BY seq",
    )
    .await;
    assert_eq!(
        node_trail[0], "account.create",
        "the operator's creation, in the node's trail"
    );

    // The trails the node chained at start, old events first and sign-ins after, hold from
    // their first event (`zhiyuan audit check`).
    let reports = node.app.store.check_audit_trails(None).await.unwrap();
    let mut trails: Vec<&str> = reports.iter().map(|report| report.trail.as_str()).collect();
    trails.sort();
    assert_eq!(trails, ["421300", "node"]);
    for report in &reports {
        assert!(
            report.first_break.is_none(),
            "trail {} broken at {:?}",
            report.trail,
            report.first_break
        );
    }

    pool.close().await;
    node.shutdown(Duration::from_secs(5))
        .await
        .expect("clean shutdown");
    drop(database);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    old_database_is_upgraded(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    old_database_is_upgraded(Backend::Postgres).await;
}
