//! Bulk registration from units' CSV lists, and the registration form (R20).

use zhiyuan_app::imports::{ImportMode, ImportReport, import_volunteers, registration_form};
use zhiyuan_domain::{Actor, GrantKind};

use crate::support::{TestNode, on_both_databases, resident_id};

const HEADER: &str = "姓名,证件类型,证件号码,手机号码,所属区划,所属单位,技能,服务类别,可服务时间";

fn row(name: &str, id_number: &str, region: &str, unit: &str) -> String {
    format!(
        "{name},居民身份证,{id_number},13800001234,{region},{unit},急救、手语,社区服务;助老助残,周末"
    )
}

async fn import(node: &TestNode, text: &str, mode: ImportMode) -> ImportReport {
    let actor = Actor::system("test import");
    import_volunteers(
        node.app(),
        &suizhou(),
        text.to_owned(),
        mode,
        &actor,
        "list.csv",
        &mut |_, _| {},
    )
    .await
    .expect("the import runs")
}

fn suizhou() -> zhiyuan_domain::TenantCode {
    zhiyuan_domain::TenantCode::parse("421300").unwrap()
}

fn volunteers(snapshot: &[(&str, i64)]) -> i64 {
    snapshot
        .iter()
        .find(|(table, _)| *table == "volunteers")
        .unwrap()
        .1
}

on_both_databases! {
    async fn a_units_list_is_imported_all_or_nothing_or_valid_rows_only(node: &TestNode) {
        let wrong_check = {
            let mut number = resident_id("42130319900101044");
            let last = number.pop().unwrap();
            number.push(if last == '1' { '2' } else { '1' });
            number
        };
        let lines = [
            HEADER.to_owned(),
            row("张一", &resident_id("42130319900101011"), "421303", "随州市公安局"),
            row("张二", &resident_id("42130319900101038"), "曾都区", ""),
            row("张三", &wrong_check, "421303", ""),
            row("张四", &resident_id("42130319900101054"), "421321", "随州市公安局"),
            row("张五", &resident_id("42130319900101070"), "429999", ""),
            row("张六", &resident_id("42130319900101011"), "421303", ""),
            row("张七", &resident_id("42130319900101097"), "421303", "没有这个单位"),
        ];
        let text = lines.join("\n");
        let before = node.snapshot().await;

        let refused = import(node, &text, ImportMode::AllOrNothing).await;
        assert_eq!(refused.rows, 7);
        assert_eq!(refused.imported, 0);
        let found: Vec<_> = refused.errors.iter().map(|e| (e.line, e.column.as_str(), e.code.as_str())).collect();
        assert_eq!(
            found,
            [
                (4, "证件号码", "resident_id_check"),
                (6, "所属区划", "region_unknown"),
                (7, "证件号码", "id_number_registered"),
                (8, "所属单位", "unit_unknown"),
            ]
        );
        assert_eq!(node.snapshot().await, before, "all or nothing: nothing");

        let partial = import(node, &text, ImportMode::ValidRowsOnly).await;
        assert_eq!((partial.rows, partial.imported, partial.errors.len()), (7, 3, 4));
        assert_eq!(volunteers(&node.snapshot().await), volunteers(&before) + 3);

        // The same list again: every row is registered already.
        let again = import(node, &text, ImportMode::ValidRowsOnly).await;
        assert_eq!(again.imported, 0);
        assert_eq!(again.errors.iter().filter(|e| e.code == "id_number_registered").count(), 4);

        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let listed = node.get("/api/v1/tenants/421300/volunteers", &office).await;
        let first = &listed.assert_ok()["items"][0];
        assert_eq!(first["name"], "张一");
        assert_eq!(first["status"], "pending");
        assert_eq!(first["skills"], serde_json::json!(["急救", "手语"]));
        assert_eq!(first["service_categories"], serde_json::json!(["community", "elderly_and_disabled"]));
        assert!(!first["unit"].is_null());
        let events = node.get("/api/v1/tenants/421300/audit-events", &office).await;
        let imports: Vec<_> = events.assert_ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["action"] == "volunteer.import")
            .cloned()
            .collect();
        // Newest first: the repeated list imported nothing, the first partial import three.
        let counts: Vec<_> = imports.iter().map(|event| event["after"]["imported"].as_i64().unwrap()).collect();
        assert_eq!(counts, [0, 3], "the refused all-or-nothing import left no event");
        assert_eq!(imports[1]["actor_name"], "system:test import");
        assert!(node.scan_database_for(&resident_id("42130319900101011")).await.is_empty());
    }

    async fn an_english_header_and_other_documents_import_too(node: &TestNode) {
        let text = "name,id_kind,id_number,mobile,region\nJohn Smith,passport,E12345678,+85291234567,421300\n李雷,港澳居民来往内地通行证,H12345678,13900001111,随县\n";
        let report = import(node, text, ImportMode::AllOrNothing).await;
        assert_eq!((report.imported, report.errors.len()), (2, 0), "{:?}", report.errors);
        let missing = import_volunteers(
            node.app(),
            &suizhou(),
            "name,id_number\nA,B\n".to_owned(),
            ImportMode::AllOrNothing,
            &Actor::system("t"),
            "x",
            &mut |_, _| {},
        )
        .await
        .unwrap_err();
        assert!(missing.to_string().contains("手机号码"), "{missing}");
    }

    async fn the_registration_form_lists_a_units_volunteers_masked(node: &TestNode) {
        let lines = [
            HEADER.to_owned(),
            row("王一", &resident_id("42130319900101011"), "421303", "随州市公安局"),
            row("王二", &resident_id("42130319900101038"), "421303", "随州市教育局"),
        ];
        import(node, &lines.join("\n"), ImportMode::AllOrNothing).await;
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let units = node.get("/api/v1/tenants/421300/units", &office).await;
        let police = units.body["items"].as_array().unwrap().iter().find(|u| u["name"]["zh"] == "随州市公安局").unwrap()["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let rows = registration_form(node.app(), &suizhou(), Some(police)).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "王一");
        assert_eq!(rows[0].gender, "男");
        assert_eq!(rows[0].age_group, "36至59岁", "an age bracket beside the masked number");
        assert_eq!(rows[0].region, "曾都区");
        assert_eq!(rows[0].mobile, "138****1234");
        assert_eq!(rows[0].id_number, format!("{}{}", "*".repeat(16), &resident_id("42130319900101011")[16..]));
        assert_eq!(rows[0].service_categories, "社区服务、助老助残");
        let csv = String::from_utf8(zhiyuan_forms::to_csv(&rows).unwrap()).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("序号,姓名,性别,年龄段"));
        assert!(!csv.contains(&resident_id("42130319900101011")));
        let xlsx = zhiyuan_forms::to_xlsx(&rows, "随州市志愿者注册登记表").unwrap();
        assert!(xlsx.starts_with(b"PK"), "an XLSX is a zip file");
    }
}

/// The command line reads GB18030, reports rows with their lines, exits non-zero when it
/// imports nothing, and writes the form.
#[test]
fn the_command_line_imports_gb18030_and_exports_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_zhiyuan"))
            .args(args)
            .current_dir(dir.path())
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let good = [
        HEADER.to_owned(),
        row("欧阳娜娜", &resident_id("42130319900101011"), "421303", ""),
        row(
            "阿卜杜勒·艾尼",
            &resident_id("42130319900101038"),
            "随县",
            "",
        ),
    ]
    .join("\r\n");
    let (encoded, _, _) = encoding_rs::GB18030.encode(&good);
    std::fs::write(dir.path().join("gbk.csv"), &encoded).unwrap();
    let bad = format!("{good}\r\n{}", row("坏行", "123", "421303", ""));
    std::fs::write(dir.path().join("bad.csv"), bad).unwrap();

    let (ok, out, err) = run(&["import", "volunteers", "bad.csv", "--tenant", "421300"]);
    assert!(!ok, "{out}");
    assert!(err.contains("line 4, 证件号码"), "{err}");
    assert!(out.contains("3 rows read, 0 imported, 1 refused"), "{out}");

    let (ok, out, err) = run(&["import", "volunteers", "gbk.csv", "--tenant", "421300"]);
    assert!(ok, "{err}");
    assert!(out.contains("2 rows read, 2 imported, 0 refused"), "{out}");

    let (ok, out, err) = run(&[
        "export",
        "registration-form",
        "--tenant",
        "421300",
        "--format",
        "csv",
        "--output",
        "form.csv",
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("2 volunteers written"), "{out}");
    let form = std::fs::read_to_string(dir.path().join("form.csv")).unwrap();
    assert!(
        form.contains("欧阳娜娜") && form.contains("阿卜杜勒·艾尼") && form.contains("随县"),
        "{form}"
    );
    let (ok, _, err) = run(&[
        "export",
        "registration-form",
        "--tenant",
        "421300",
        "--unit",
        "随州市公安局",
        "--output",
        "form.xlsx",
    ]);
    assert!(ok, "{err}");
    assert!(
        std::fs::read(dir.path().join("form.xlsx"))
            .unwrap()
            .starts_with(b"PK")
    );
    let (ok, _, err) = run(&[
        "export",
        "registration-form",
        "--tenant",
        "421300",
        "--unit",
        "无此单位",
        "--output",
        "x.csv",
    ]);
    assert!(!ok && err.contains("no unit named 无此单位"), "{err}");
}

/// Teams from a city office's list: each row passes the rules of an application, certificates
/// travel as files beside the list, and a bad row stops them all unless --valid-only.
#[test]
fn the_command_line_imports_team_registrations() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zhiyuan"))
            .args(args)
            .current_dir(dir.path())
            .env("RUST_LOG", "error")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(
        &[
            "admin",
            "create-account",
            "--tenant",
            "421300",
            "--username",
            "office",
            "--grant",
            "office_admin",
        ],
        "office-password-1\n",
    );
    assert!(ok, "{err}");
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
    std::fs::write(dir.path().join("证书.png"), png).unwrap();
    std::fs::write(dir.path().join("fake.png"), b"not an image").unwrap();
    let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    let weights = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let prefix = "51421303MJH12345X";
    let sum: usize = prefix
        .chars()
        .zip(weights)
        .map(|(c, w)| alphabet.find(c).unwrap() * w)
        .sum();
    let credit = format!(
        "{prefix}{}",
        alphabet.chars().nth((31 - sum % 31) % 31).unwrap()
    );
    let header = "队伍名称,类别,所属单位,所属区划,联系人,联系电话,登记状态,联络团体,登记机关,统一社会信用代码,组织机构代码,证书文件";
    let good = [
        header.to_owned(),
        "东关社区志愿服务队,社区,,421303,张三,13900001111,未登记,曾都区志愿服务联合会,,,,".to_owned(),
        format!("曾都区义工协会,社会组织,,421303,李四,13900002222,已登记,,随州市曾都区民政局,{credit},,证书.png"),
        "随州市公安局志愿服务队,党政机关,随州市公安局,421300,王五,13900003333,未登记,随州市志愿服务联合会,,,,".to_owned(),
    ];
    let bad = [
        good[1]
            .replace("东关社区", "西关社区")
            .replace("曾都区志愿服务联合会", "随州市志愿服务联合会"),
        good[2]
            .replace("曾都区义工协会", "随县义工协会")
            .replace("证书.png", "fake.png"),
        "平安志愿队,党政机关,随州市公安局,421300,王五,13900003333,未登记,随州市志愿服务联合会,,,,"
            .to_owned(),
    ];
    std::fs::write(dir.path().join("teams.csv"), good.join("\n")).unwrap();
    // Certificate paths that would read beyond the list's folder, or without end: an absolute
    // device, a parent folder, a link out of the folder, and a file over the size limit.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.png"), png).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        outside.path().join("secret.png"),
        dir.path().join("link.png"),
    )
    .unwrap();
    std::fs::File::create(dir.path().join("huge.png"))
        .unwrap()
        .set_len(5 * 1024 * 1024 + 1)
        .unwrap();
    // Both folders are temporary folders side by side, so this names a file that exists.
    assert_eq!(outside.path().parent(), dir.path().parent());
    let parent_path = format!(
        "../{}/secret.png",
        outside.path().file_name().unwrap().to_str().unwrap()
    );
    assert!(dir.path().join(&parent_path).is_file());
    let escapes = [
        ("甲", "/dev/zero"),
        ("乙", parent_path.as_str()),
        ("丙", "link.png"),
        ("丁", "huge.png"),
    ]
    .map(|(name, path)| {
        good[2]
            .replace("曾都区义工协会", &format!("曾都区{name}义工协会"))
            .replace("证书.png", path)
    });
    let mut mixed = good.to_vec();
    mixed.extend(bad.iter().cloned());
    mixed.extend(escapes.iter().cloned());
    std::fs::write(dir.path().join("mixed.csv"), mixed.join("\n")).unwrap();

    let (ok, out, err) = run(
        &[
            "import",
            "teams",
            "mixed.csv",
            "--tenant",
            "421300",
            "--admin",
            "office",
        ],
        "",
    );
    assert!(!ok);
    assert!(out.contains("10 rows read, 0 imported, 7 refused"), "{out}");
    for line in 8..=11 {
        assert!(
            err.contains(&format!("line {line}, 证书文件"))
                && err.matches("certificate_path").count() == 4,
            "line {line}: {err}"
        );
    }
    assert!(
        err.contains("line 5, 联络团体") && err.contains("liaison_skips_level"),
        "{err}"
    );
    assert!(
        err.contains("line 6, 证书文件") && err.contains("file_type"),
        "{err}"
    );
    assert!(
        err.contains("line 7, 队伍名称") && err.contains("team_name_rule"),
        "{err}"
    );

    let (ok, out, err) = run(
        &[
            "import",
            "teams",
            "teams.csv",
            "--tenant",
            "421300",
            "--admin",
            "office",
        ],
        "",
    );
    assert!(ok, "{err}");
    assert!(out.contains("3 rows read, 3 imported, 0 refused"), "{out}");
    let (ok, _, err) = run(
        &[
            "import",
            "teams",
            "teams.csv",
            "--tenant",
            "421300",
            "--admin",
            "office",
        ],
        "",
    );
    assert!(!ok);
    assert!(
        err.contains("line 2, 队伍名称") && err.contains("name_duplicate"),
        "a second import finds the names taken: {err}"
    );
}
