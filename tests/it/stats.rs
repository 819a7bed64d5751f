//! Registration ratios against the targets of R16 (13% of residents) and R17 (95/90/85/80% of
//! a unit's staff by its civilised-unit level), furthest behind first.

use reqwest::Method;
use serde_json::{Value, json};
use zhiyuan_domain::GrantKind;

use crate::support::{application, on_both_databases, resident_id};

fn line<'a>(lines: &'a Value, key: &str, value: &str) -> &'a Value {
    lines
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line[key] == value)
        .unwrap_or_else(|| panic!("no line {key}={value}"))
}

on_both_databases! {
    async fn the_report_counts_verified_volunteers_against_targets(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let units = node.get("/api/v1/tenants/421300/units", &office).await;
        let police = units.assert_ok()["items"].as_array().unwrap().iter().find(|u| u["name"]["zh"] == "随州市公安局").unwrap().clone();
        let people = [
            ("42130319900101011", "421303", true, true),
            ("42130319900101038", "421303", true, false),
            ("42132119900101054", "421321", true, true),
            ("42130019900101070", "421371", true, false),
            ("42130319900101097", "421303", false, true),
        ];
        for (index, (first17, region, verify, in_police)) in people.into_iter().enumerate() {
            let mut body = application("统计", &resident_id(first17), &format!("person{index}"));
            body["region"] = json!(region);
            if in_police {
                body["unit_id"] = police["id"].clone();
            }
            let (id, _) = node.apply_as_volunteer("421300", body).await;
            if verify {
                node.call(
                    Method::POST,
                    &format!("/api/v1/tenants/421300/volunteers/{id}/decision"),
                    Some(&office),
                    Some(json!({ "decision": "approve" })),
                )
                .await
                .assert_ok();
            }
        }

        let report = node.get("/api/v1/tenants/421300/stats/registration", &office).await;
        let report = report.assert_ok().clone();
        // Suizhou binds the bundled suizhou-targets plugin; it sets the notice's targets.
        for hook in ["region_target", "unit_target"] {
            let source = report["policy"][hook].as_str().unwrap();
            assert!(source.starts_with("suizhou-targets 0.1.0"), "{source}");
        }
        let regions = &report["regions"];
        let city = line(regions, "code", "421300");
        assert_eq!(city["verified"], 4, "the city counts its districts' and zones' volunteers");
        let population = city["denominator"].as_u64().unwrap();
        assert_eq!(city["target"], 0.13);
        assert_eq!(city["shortfall"].as_u64().unwrap(), (population * 13).div_ceil(100) - 4);
        assert_eq!(line(regions, "code", "421303")["verified"], 2, "the pending one does not count");
        assert_eq!(line(regions, "code", "421321")["verified"], 1);
        assert_eq!(line(regions, "code", "421371")["verified"], 1);
        assert_eq!(line(regions, "code", "421381")["verified"], 0);

        let units = &report["units"];
        let police_line = line(units, "name", "随州市公安局");
        assert_eq!(police_line["verified"], 2);
        let staff = police["staff"].as_u64().unwrap();
        let target = match police["civilisation_level"].as_str().unwrap() {
            "national" => 95,
            "provincial" => 90,
            "municipal" => 85,
            _ => 80,
        };
        assert_eq!(police_line["target"], target as f64 / 100.0);
        assert_eq!(police_line["shortfall"].as_u64().unwrap(), (staff * target).div_ceil(100) - 2);

        // Furthest behind first: progress toward the target never decreases down the list.
        for lines in [regions, units] {
            let progress: Vec<f64> = lines
                .as_array()
                .unwrap()
                .iter()
                .map(|line| line["ratio"].as_f64().unwrap() / line["target"].as_f64().unwrap())
                .collect();
            assert!(progress.windows(2).all(|pair| pair[0] <= pair[1]), "{progress:?}");
        }
        assert_eq!(units.as_array().unwrap().last().unwrap()["name"], "随州市公安局", "the only unit with volunteers is the furthest ahead");

        let volunteer = node.account(Some("421300"), "someone", &[]).await;
        node.get("/api/v1/tenants/421300/stats/registration", &volunteer).await.assert_problem(403, "forbidden");
    }
}
