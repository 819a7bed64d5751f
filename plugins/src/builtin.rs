//! The default every tenant falls back to: the rules of the Suizhou notice (随文明办〔2018〕9号),
//! and plain rules for the hooks the notice says nothing of.

use zhiyuan_domain::ports::{
    Hook, MatchProfile, Policy, PolicyError, PolicyFailure, RegionFacts, ServiceRecordFacts,
    ServiceSummary, TargetRatio, UnitFacts, Violation,
};
use zhiyuan_domain::{CivilisationLevel, Minutes, StarLevel, UnitKind};

/// The suffix R12 prescribes for teams named after their unit.
pub const TEAM_SUFFIX: &str = "志愿服务队";

/// How reports name the built-in rules.
pub const BUILTIN_NAME: &str = "built-in (随文明办〔2018〕9号)";

/// Hours of service for one to five stars.
const STAR_HOURS: [u64; 5] = [100, 300, 600, 1000, 1500];

/// The rules of the Suizhou notice.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinPolicy;

impl Policy for BuiltinPolicy {
    fn source(&self, _hook: Hook) -> String {
        BUILTIN_NAME.to_owned()
    }

    /// R12: teams of party and government organs, people's organisations, enterprises and public
    /// institutions are named "<unit name>志愿服务队".
    fn check_team_name(
        &self,
        kind: UnitKind,
        team_name: &str,
        unit_name: Option<&str>,
    ) -> Result<(), PolicyError> {
        let named_after_unit = matches!(
            kind,
            UnitKind::Organ
                | UnitKind::PeoplesOrganisation
                | UnitKind::Enterprise
                | UnitKind::PublicInstitution
        );
        if !named_after_unit {
            return Ok(());
        }
        let Some(unit_name) = unit_name else {
            return Err(PolicyError::Violation(Violation {
                code: "team_needs_unit".into(),
                field: Some("/unit_id".into()),
                message_zh: "机关、人民团体、企事业单位的志愿服务队须指明所属单位".into(),
                message_en: "a team of an organ, people's organisation, enterprise or public \
                             institution must name its unit"
                    .into(),
            }));
        };
        let expected = format!("{unit_name}{TEAM_SUFFIX}");
        if team_name == expected {
            Ok(())
        } else {
            Err(PolicyError::Violation(Violation {
                code: "team_name_rule".into(),
                field: Some("/name".into()),
                message_zh: format!("队伍名称应为“单位名称+志愿服务队”,即“{expected}”"),
                message_en: format!(
                    "the team must be named after its unit plus {TEAM_SUFFIX}: \"{expected}\""
                ),
            }))
        }
    }

    /// R16: 13% of the resident population.
    fn region_targets(
        &self,
        regions: &[RegionFacts],
    ) -> Result<Vec<Option<TargetRatio>>, PolicyFailure> {
        Ok(vec![Some(TargetRatio(1300)); regions.len()])
    }

    /// R17: 95% of staff in national civilised units, 90% provincial, 85% municipal, 80% others.
    fn unit_targets(&self, units: &[UnitFacts]) -> Result<Vec<Option<TargetRatio>>, PolicyFailure> {
        Ok(units
            .iter()
            .map(|unit| {
                Some(TargetRatio(match unit.civilisation_level {
                    CivilisationLevel::National => 9500,
                    CivilisationLevel::Provincial => 9000,
                    CivilisationLevel::Municipal => 8500,
                    CivilisationLevel::Other => 8000,
                }))
            })
            .collect())
    }

    /// One to five stars at 100, 300, 600, 1,000 and 1,500 hours, with no tenure condition.
    fn star_level(&self, service: &ServiceSummary) -> Result<StarLevel, PolicyFailure> {
        let hours = service.service_minutes.whole_hours();
        let stars = STAR_HOURS
            .iter()
            .take_while(|&&threshold| hours >= threshold)
            .count();
        Ok(StarLevel::new(stars as u8).unwrap_or(StarLevel::MAX))
    }

    /// A record ends after it starts, and a day holds at most 24 hours of service; time at a
    /// shift counts only with a check-out and when it covers at least half of the shift.
    fn check_service_record(&self, record: &ServiceRecordFacts) -> Result<(), PolicyError> {
        if !record.checked_out {
            return Err(PolicyError::Violation(Violation {
                code: "service_without_check_out".into(),
                field: Some("/ended_at".into()),
                message_zh: "未签退,本次服务不计时长".into(),
                message_en: "no check-out: the service does not count".into(),
            }));
        }
        if let Some((shift_start, shift_end)) = record.shift {
            let attended = record.ended_at.min(shift_end) - record.started_at.max(shift_start);
            if attended * 2 < shift_end - shift_start {
                return Err(PolicyError::Violation(Violation {
                    code: "service_share_too_small".into(),
                    field: Some("/ended_at".into()),
                    message_zh: "在岗时间不足班次的一半,不计时长".into(),
                    message_en:
                        "present for less than half of the shift: the service does not count".into(),
                }));
            }
        }
        if record.ended_at <= record.started_at {
            return Err(PolicyError::Violation(Violation {
                code: "service_ends_before_start".into(),
                field: Some("/ended_at".into()),
                message_zh: "服务结束时间须晚于开始时间".into(),
                message_en: "the service must end after it starts".into(),
            }));
        }
        let minutes = Minutes::between(record.started_at, record.ended_at).unwrap_or_default();
        if record.same_day_minutes.saturating_add(minutes) > Minutes::DAY {
            return Err(PolicyError::Violation(Violation {
                code: "service_day_over_24h".into(),
                field: Some("/ended_at".into()),
                message_zh: "同一天的服务时长不能超过24小时".into(),
                message_en: "a day holds at most 24 hours of service".into(),
            }));
        }
        Ok(())
    }

    /// Shared categories count most, then shared tags, then the same area.
    fn match_score(
        &self,
        volunteer: &MatchProfile,
        project: &MatchProfile,
    ) -> Result<u8, PolicyFailure> {
        let share = |mine: &[String], theirs: &[String]| {
            if theirs.is_empty() {
                return 1.0;
            }
            theirs.iter().filter(|item| mine.contains(item)).count() as f64 / theirs.len() as f64
        };
        let categories = share(&volunteer.categories, &project.categories);
        let skills = share(&volunteer.tags, &project.tags);
        // Availability: a project with no shift the volunteer can still take fits no one.
        let available = match project.open_shifts {
            Some(0) => 0.0,
            _ => 1.0,
        };
        // Distance: full marks on the doorstep, none from 20 km; in the same area without a
        // known distance.
        let nearby = match project.distance_m {
            Some(metres) => (1.0 - f64::from(metres) / 20_000.0).max(0.0),
            None if volunteer.region == project.region => 1.0,
            None => 0.0,
        };
        Ok((40.0 * categories + 25.0 * skills + 15.0 * available + 20.0 * nearby).round() as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhiyuan_domain::RegionCode;

    fn violation(result: Result<(), PolicyError>) -> Violation {
        match result {
            Err(PolicyError::Violation(violation)) => violation,
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn units_of_the_four_kinds_name_their_teams_after_themselves() {
        let policy = BuiltinPolicy;
        for kind in [
            UnitKind::Organ,
            UnitKind::PeoplesOrganisation,
            UnitKind::Enterprise,
            UnitKind::PublicInstitution,
        ] {
            assert!(
                policy
                    .check_team_name(kind, "随州市公安局志愿服务队", Some("随州市公安局"))
                    .is_ok()
            );
            let refused =
                violation(policy.check_team_name(kind, "平安随州志愿队", Some("随州市公安局")));
            assert_eq!(refused.code, "team_name_rule");
            assert!(refused.message_zh.contains("随州市公安局志愿服务队"));
            assert_eq!(
                violation(policy.check_team_name(kind, "志愿服务队", None)).code,
                "team_needs_unit"
            );
        }
    }

    #[test]
    fn other_teams_name_themselves() {
        for kind in [
            UnitKind::SocialOrganisation,
            UnitKind::Community,
            UnitKind::School,
            UnitKind::Other,
        ] {
            assert!(
                BuiltinPolicy
                    .check_team_name(kind, "爱心驿站", None)
                    .is_ok()
            );
        }
    }

    #[test]
    fn targets_follow_the_notice() {
        let city = RegionCode::parse("421300").unwrap();
        assert_eq!(
            BuiltinPolicy.region_target(&city, 2_000_000),
            Ok(Some(TargetRatio(1300)))
        );
        let expected = [
            (CivilisationLevel::National, 9500),
            (CivilisationLevel::Provincial, 9000),
            (CivilisationLevel::Municipal, 8500),
            (CivilisationLevel::Other, 8000),
        ];
        for (level, basis_points) in expected {
            assert_eq!(
                BuiltinPolicy.unit_target(UnitKind::Organ, level, 100),
                Ok(Some(TargetRatio(basis_points)))
            );
        }
    }

    #[test]
    fn stars_come_at_100_300_600_1000_and_1500_hours() {
        let date = time::Date::from_calendar_date(2026, time::Month::January, 1).unwrap();
        let stars = |hours: u64| {
            BuiltinPolicy
                .star_level(&ServiceSummary {
                    service_minutes: Minutes::from_hours(hours),
                    registered_on: date,
                    as_of: date,
                })
                .unwrap()
        };
        let levels: Vec<u8> = [0, 99, 100, 299, 300, 600, 999, 1000, 1499, 1500, 9000]
            .into_iter()
            .map(|hours| stars(hours).stars())
            .collect();
        assert_eq!(levels, [0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5]);
    }

    #[test]
    fn a_day_holds_at_most_24_hours_of_service() {
        let hour: i64 = 3_600_000;
        let record = |same_day_minutes, hours| ServiceRecordFacts {
            started_at: 0,
            ended_at: hours * hour,
            shift: None,
            same_day_minutes: Minutes::new(same_day_minutes),
            checked_out: true,
        };
        assert!(BuiltinPolicy.check_service_record(&record(0, 8)).is_ok());
        assert!(
            BuiltinPolicy
                .check_service_record(&record(16 * 60, 8))
                .is_ok()
        );
        assert_eq!(
            violation(BuiltinPolicy.check_service_record(&record(16 * 60 + 1, 8))).code,
            "service_day_over_24h"
        );
        assert_eq!(
            violation(BuiltinPolicy.check_service_record(&record(0, 0))).code,
            "service_ends_before_start"
        );
    }

    #[test]
    fn time_at_a_shift_counts_with_a_check_out_and_half_of_the_shift() {
        let hour: i64 = 3_600_000;
        let at_shift = |from: i64, to: i64, checked_out| ServiceRecordFacts {
            started_at: from * hour / 2,
            ended_at: to * hour / 2,
            shift: Some((0, 4 * hour)),
            same_day_minutes: Minutes::ZERO,
            checked_out,
        };
        assert!(
            BuiltinPolicy
                .check_service_record(&at_shift(0, 4, true))
                .is_ok()
        );
        assert!(
            BuiltinPolicy
                .check_service_record(&at_shift(2, 6, true))
                .is_ok()
        );
        assert_eq!(
            violation(BuiltinPolicy.check_service_record(&at_shift(0, 3, true))).code,
            "service_share_too_small"
        );
        assert_eq!(
            violation(BuiltinPolicy.check_service_record(&at_shift(0, 8, false))).code,
            "service_without_check_out"
        );
    }

    #[test]
    fn the_default_match_weighs_categories_skills_availability_and_distance() {
        let profile = |categories: &[&str], tags: &[&str], distance_m, open_shifts| MatchProfile {
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            region: "421303".into(),
            distance_m,
            open_shifts,
        };
        let volunteer = profile(&["elderly_and_disabled"], &["急救"], None, None);
        let score =
            |project: &MatchProfile| BuiltinPolicy.match_score(&volunteer, project).unwrap();
        let best = profile(&["elderly_and_disabled"], &["急救"], Some(0), Some(3));
        assert_eq!(score(&best), 100);
        assert_eq!(
            score(&profile(&["children"], &["急救"], Some(0), Some(3))),
            60
        );
        assert_eq!(
            score(&profile(
                &["elderly_and_disabled"],
                &["驾驶"],
                Some(0),
                Some(3)
            )),
            75
        );
        assert_eq!(
            score(&profile(
                &["elderly_and_disabled"],
                &["急救"],
                Some(0),
                Some(0)
            )),
            85
        );
        assert_eq!(
            score(&profile(
                &["elderly_and_disabled"],
                &["急救"],
                Some(10_000),
                Some(3)
            )),
            90
        );
        assert_eq!(
            score(&profile(
                &["elderly_and_disabled"],
                &["急救"],
                Some(30_000),
                Some(3)
            )),
            80
        );
    }
}
