//! Local policy of Zhiyuan tenants. `BuiltinPolicy` is the default every tenant falls back to:
//! the rules of the Suizhou notice (随文明办〔2018〕9号). Tenants replace any of its rules with
//! their own WebAssembly plugins behind the same `Policy` port.

use zhiyuan_domain::ports::{Policy, TargetRatio, Violation};
use zhiyuan_domain::{CivilisationLevel, UnitKind};

/// The suffix R12 prescribes for teams named after their unit.
pub const TEAM_SUFFIX: &str = "志愿服务队";

/// The rules of the Suizhou notice.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinPolicy;

impl Policy for BuiltinPolicy {
    fn name(&self) -> String {
        "built-in (随文明办〔2018〕9号)".to_owned()
    }

    /// R12: teams of party and government organs, people's organisations, enterprises and public
    /// institutions are named "<unit name>志愿服务队".
    fn check_team_name(
        &self,
        kind: UnitKind,
        team_name: &str,
        unit_name: Option<&str>,
    ) -> Result<(), Violation> {
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
            return Err(Violation {
                code: "team_needs_unit".into(),
                field: Some("/unit_id".into()),
                message_zh: "机关、人民团体、企事业单位的志愿服务队须指明所属单位".into(),
                message_en: "a team of an organ, people's organisation, enterprise or public \
                             institution must name its unit"
                    .into(),
            });
        };
        let expected = format!("{unit_name}{TEAM_SUFFIX}");
        if team_name == expected {
            Ok(())
        } else {
            Err(Violation {
                code: "team_name_rule".into(),
                field: Some("/name".into()),
                message_zh: format!("队伍名称应为“单位名称+志愿服务队”,即“{expected}”"),
                message_en: format!(
                    "the team must be named after its unit plus {TEAM_SUFFIX}: \"{expected}\""
                ),
            })
        }
    }

    /// R16: 13% of the resident population.
    fn region_target(&self) -> Option<TargetRatio> {
        Some(TargetRatio(1300))
    }

    /// R17: 95% of staff in national civilised units, 90% provincial, 85% municipal, 80% others.
    fn unit_target(&self, _kind: UnitKind, level: CivilisationLevel) -> Option<TargetRatio> {
        Some(TargetRatio(match level {
            CivilisationLevel::National => 9500,
            CivilisationLevel::Provincial => 9000,
            CivilisationLevel::Municipal => 8500,
            CivilisationLevel::Other => 8000,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let violation = policy
                .check_team_name(kind, "平安随州志愿队", Some("随州市公安局"))
                .unwrap_err();
            assert_eq!(violation.code, "team_name_rule");
            assert!(violation.message_zh.contains("随州市公安局志愿服务队"));
            assert_eq!(
                policy
                    .check_team_name(kind, "志愿服务队", None)
                    .unwrap_err()
                    .code,
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
        assert_eq!(BuiltinPolicy.region_target(), Some(TargetRatio(1300)));
        let expected = [
            (CivilisationLevel::National, 9500),
            (CivilisationLevel::Provincial, 9000),
            (CivilisationLevel::Municipal, 8500),
            (CivilisationLevel::Other, 8000),
        ];
        for (level, basis_points) in expected {
            assert_eq!(
                BuiltinPolicy.unit_target(UnitKind::Organ, level),
                Some(TargetRatio(basis_points))
            );
        }
    }
}
