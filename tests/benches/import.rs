//! Bulk registration at the scale of a city: 300,000 volunteers (13% of Suizhou's resident
//! population) imported from CSV by the real `zhiyuan import` command, on SQLite and on
//! PostgreSQL, against a bare batched insert of the same rows into the same table measured in
//! the same run. Reports rows/s, the import's peak memory (the child process's maximum resident
//! set), and the ratio to the bare insert.
//!
//! `cargo bench -p zhiyuan --bench import` (ZHIYUAN_BENCH_ROWS changes the 300,000).

#[path = "../it/described.rs"]
#[allow(dead_code)]
mod described;
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../it/support.rs"]
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor};
use support::{Backend, Database, resident_id};

const BINARY: &str = env!("CARGO_BIN_EXE_zhiyuan");
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈";
const GIVEN: &str =
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌玉兰春梅海波宇浩然欣怡子轩梓涵";
const REGIONS: [&str; 4] = ["421303", "421321", "421381", "421300"];
const UNITS: [&str; 4] = ["随州市公安局", "随州市教育局", "随州市中心医院", ""];

/// A deterministic list of `rows` distinct, valid volunteers.
fn volunteer_list(rows: usize) -> String {
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let mut text = String::with_capacity(rows * 110);
    text.push_str("姓名,证件类型,证件号码,手机号码,所属区划,所属单位,技能,服务类别,可服务时间\n");
    let base = time::Date::from_calendar_date(1950, time::Month::January, 1).unwrap();
    for i in 0..rows {
        let region = REGIONS[i % REGIONS.len()];
        let birth = base + time::Duration::days(((i / REGIONS.len()) % 20_000) as i64);
        let sequence = (i / (REGIONS.len() * 20_000)) % 1000;
        let first17 = format!(
            "{region}{:04}{:02}{:02}{sequence:03}",
            birth.year(),
            u8::from(birth.month()),
            birth.day()
        );
        let name: String = [
            surnames[i % surnames.len()],
            given[(i / 7) % given.len()],
            given[(i / 13) % given.len()],
        ]
        .iter()
        .collect();
        let _ = writeln!(
            text,
            "{name},居民身份证,{},1{}{:09},{region},{},急救;手语,社区服务;助老助残,周末",
            resident_id(&first17),
            3 + i % 7,
            i,
            UNITS[i % UNITS.len()],
        );
    }
    text
}

struct Run {
    seconds: f64,
    peak_mib: f64,
    imported: u64,
}

/// Runs the command, sampling its peak memory (VmHWM, the high-water mark of its resident set)
/// from /proc until it exits. The peak of the process as exec'd, not of the fork it began as,
/// which getrusage would count.
fn measure(dir: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start zhiyuan");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut printed = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut printed).unwrap();
        printed
    });
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            let high_water = text
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok());
            peak_kib = peak_kib.max(high_water.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let seconds = started.elapsed().as_secs_f64();
    let printed = reader.join().unwrap();
    assert!(status.success(), "{printed}");
    let imported = printed
        .split(", ")
        .find_map(|part| part.strip_suffix(" imported"))
        .and_then(|count| count.parse().ok())
        .unwrap_or(0);
    Run {
        seconds,
        peak_mib: peak_kib as f64 / 1024.0,
        imported,
    }
}

fn database_args(backend: Backend, config: &zhiyuan::NodeConfig, data_dir: &Path) -> Vec<String> {
    let mut args = vec!["--data-dir".to_owned(), data_dir.display().to_string()];
    if backend == Backend::Postgres {
        args.extend(["--database-url".to_owned(), config.database_url()]);
    }
    args
}

/// The same rows, already parsed and sealed stand-ins, written in 500-row statements in one
/// transaction on a connection set up as the node sets up its own: the floor that the import
/// is measured against.
async fn bare_insert(backend: Backend, url: &str, text: &str) -> Duration {
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect();
    // The stand-ins of what the import computes: keyed indexes spread over the index as the
    // import's are, and sealed values as long.
    let keys = zhiyuan_keys::DataKeys::derive(&zhiyuan_keys::Secret::from_bytes([7; 32]));
    let indexes: Vec<String> = rows
        .iter()
        .map(|row| keys.index("id_number", &row[2]))
        .collect();
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(url).await.unwrap();
    if backend == Backend::Sqlite {
        connection
            .execute("PRAGMA journal_mode = WAL;")
            .await
            .unwrap();
        connection
            .execute(zhiyuan_store::SQLITE_CONNECTION_PRAGMAS)
            .await
            .unwrap();
    }
    let started = Instant::now();
    let mut tx = connection.begin().await.unwrap();
    for (number, batch) in rows.chunks(500).enumerate() {
        let done = number * 500;
        let mut sql = String::from(
            "INSERT INTO volunteers (tenant_code, id, name, id_kind, id_number_sealed, id_number_index, \
             id_number_masked, gender, mobile, region_code, unit_id, skills, service_categories, \
             availability, status, applied_at) VALUES ",
        );
        for row in 0..batch.len() {
            if row > 0 {
                sql.push_str(", ");
            }
            let placeholders: Vec<String> = (1..=16)
                .map(|column| match backend {
                    // Positional on SQLite, as the import writes it (numbered parameters are
                    // looked up by a linear scan there).
                    Backend::Sqlite => "?".to_owned(),
                    Backend::Postgres => format!("${}", row * 16 + column),
                })
                .collect();
            let _ = write!(sql, "({})", placeholders.join(", "));
        }
        let mut query = sqlx::query(&sql);
        for (offset, row) in batch.iter().enumerate() {
            let sealed: Vec<u8> = row[2].bytes().chain(std::iter::repeat_n(0u8, 41)).collect();
            query = query
                .bind("421300")
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(row[0].clone())
                .bind("resident_id_card")
                .bind(sealed)
                .bind(indexes[done + offset].clone())
                .bind(format!("****************{}", &row[2][16..]))
                .bind("male")
                .bind(row[3].clone())
                .bind(row[4].clone())
                .bind(None::<String>)
                .bind("[\"急救\",\"手语\"]")
                .bind("[\"community\"]")
                .bind(row[8].clone())
                .bind("pending")
                .bind(0i64);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    started.elapsed()
}

#[allow(clippy::disallowed_methods)] // the benchmark's own setting, not the node's
fn main() {
    let rows: usize = std::env::var("ZHIYUAN_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let text = volunteer_list(rows);
    let list = work.path().join("volunteers.csv");
    std::fs::write(&list, &text).unwrap();

    println!(
        "| backend | rows | import | rows/s | peak memory | bare batched insert | import / bare |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        // One database for the import, one for the bare insert, both migrated with the
        // bundled tenants before the clock starts.
        let mut figures = Vec::new();
        for purpose in ["import", "bare"] {
            let (database, config) = runtime.block_on(Database::create(backend));
            let data_dir = work.path().join(format!(
                "{}-{purpose}",
                if backend == Backend::Sqlite {
                    "sqlite"
                } else {
                    "postgres"
                }
            ));
            let args = database_args(backend, &config, &data_dir);
            let mut migrate: Vec<&str> = args.iter().map(String::as_str).collect();
            migrate.extend(["tenant", "load", "../../tenants/suizhou/tenant.toml"]);
            let setup = Command::new(BINARY)
                .args(&migrate)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(setup.success());
            if purpose == "import" {
                let mut import: Vec<&str> = args.iter().map(String::as_str).collect();
                let list = list.display().to_string();
                import.extend(["import", "volunteers", &list, "--tenant", "421300"]);
                let run = measure(work.path(), &import);
                assert_eq!(run.imported, rows as u64);
                figures.push((run.seconds, run.peak_mib));
            } else {
                let url = if backend == Backend::Sqlite {
                    format!("sqlite://{}", data_dir.join("zhiyuan.sqlite3").display())
                } else {
                    config.database_url()
                };
                let elapsed = runtime.block_on(bare_insert(backend, &url, &text));
                figures.push((elapsed.as_secs_f64(), 0.0));
            }
            drop(database);
        }
        let (import_seconds, peak) = figures[0];
        let bare_seconds = figures[1].0;
        println!(
            "| {} | {rows} | {import_seconds:.2} s | {:.0} | {peak:.0} MiB | {bare_seconds:.2} s | {:.1}x |",
            if backend == Backend::Sqlite {
                "SQLite"
            } else {
                "PostgreSQL"
            },
            rows as f64 / import_seconds,
            import_seconds / bare_seconds
        );
    }
}
