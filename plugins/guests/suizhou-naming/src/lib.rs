//! R12 of the Suizhou notice (随文明办〔2018〕9号): teams of party and government organs,
//! people's organisations, enterprises and public institutions are named "<unit name>志愿服务队".
//!
//! Settings: `suffix` (default 志愿服务队) and `kinds`, the unit kinds the rule covers as a
//! comma-separated list of WIT names (default `organ,peoples-organisation,enterprise,
//! public-institution`).

wit_bindgen::generate!({ path: "../../wit/0.1.0", world: "naming" });

use exports::zhiyuan::policy::team_naming::{Guest, TeamName};
use zhiyuan::policy::types::{Setting, UnitKind, Violation};

const DEFAULT_SUFFIX: &str = "志愿服务队";
const DEFAULT_KINDS: &str = "organ,peoples-organisation,enterprise,public-institution";

struct SuizhouNaming;

impl Guest for SuizhouNaming {
    fn check_team_name(settings: Vec<Setting>, team: TeamName) -> Result<(), Violation> {
        let suffix = setting(&settings, "suffix").unwrap_or(DEFAULT_SUFFIX);
        let kinds = setting(&settings, "kinds").unwrap_or(DEFAULT_KINDS);
        if !kinds.split(',').any(|k| k.trim() == kind_name(team.kind)) {
            return Ok(());
        }
        let Some(unit_name) = team.unit_name else {
            return Err(Violation {
                code: "team_needs_unit".into(),
                field: Some("/unit_id".into()),
                message_zh: "机关、人民团体、企事业单位的志愿服务队须指明所属单位".into(),
                message_en: "a team of an organ, people's organisation, enterprise or public \
                             institution must name its unit"
                    .into(),
            });
        };
        let expected = format!("{unit_name}{suffix}");
        if team.name == expected {
            Ok(())
        } else {
            Err(Violation {
                code: "team_name_rule".into(),
                field: Some("/name".into()),
                message_zh: format!("队伍名称应为“单位名称+{suffix}”,即“{expected}”"),
                message_en: format!(
                    "the team must be named after its unit plus {suffix}: \"{expected}\""
                ),
            })
        }
    }
}

fn setting<'a>(settings: &'a [Setting], key: &str) -> Option<&'a str> {
    settings.iter().find(|s| s.key == key).map(|s| s.value.as_str())
}

fn kind_name(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Organ => "organ",
        UnitKind::PeoplesOrganisation => "peoples-organisation",
        UnitKind::Enterprise => "enterprise",
        UnitKind::PublicInstitution => "public-institution",
        UnitKind::SocialOrganisation => "social-organisation",
        UnitKind::Community => "community",
        UnitKind::School => "school",
        UnitKind::Other => "other",
    }
}

#[global_allocator]
static ALLOCATOR: zhiyuan_plugin_arena::Arena = zhiyuan_plugin_arena::Arena::new();

export!(SuizhouNaming);
