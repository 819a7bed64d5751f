//! Teams (志愿团体, 志愿服务队) and the rules of R11 for who reviews their registration: an
//! unregistered team goes to the nearest liaison team, a registered one to the registration
//! authority of its own region, and nobody skips a level.

use crate::stored::stored_names;
use serde::{Deserialize, Serialize};

use crate::{InvalidInput, Region, RegionCode, Rule};

/// 登记状态: whether the team is registered with civil affairs as a legal person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalStatus {
    /// 已登记的社会组织: reviewed by the registration authority (民政局) of its region.
    Registered,
    /// 未登记的社会组织或其他组织: reviewed by its liaison team.
    Unregistered,
}

stored_names!(LegalStatus {
    Registered = "registered",
    Unregistered = "unregistered",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamStatus {
    Pending,
    Approved,
    Rejected,
}

stored_names!(TeamStatus {
    Pending = "pending",
    Approved = "approved",
    Rejected = "rejected",
});

/// A team's name: 2 to 100 characters, trimmed.
pub fn parse_team_name(value: &str, field: &str) -> Result<String, InvalidInput> {
    let name = value.trim();
    let length = name.chars().count();
    if length < 2 {
        return Err(InvalidInput::new(field, Rule::NameEmpty));
    }
    if length > 100 {
        return Err(InvalidInput::new(field, Rule::NameTooLong));
    }
    Ok(name.to_owned())
}

/// The regions of a tenant as a tree, for questions of level.
pub struct RegionTree<'a> {
    regions: &'a [Region],
}

impl<'a> RegionTree<'a> {
    pub fn new(regions: &'a [Region]) -> Self {
        RegionTree { regions }
    }

    pub fn parent(&self, code: &RegionCode) -> Option<&'a RegionCode> {
        self.regions
            .iter()
            .find(|region| &region.code == code)
            .and_then(|region| region.parent.as_ref())
    }

    /// True when `ancestor` is above `code`, at any distance.
    pub fn is_above(&self, ancestor: &RegionCode, code: &RegionCode) -> bool {
        let mut current = self.parent(code);
        while let Some(region) = current {
            if region == ancestor {
                return true;
            }
            current = self.parent(region);
        }
        false
    }

    /// The region a team of `region` turns to for a kind of body: its own when it has one,
    /// otherwise the one directly above.
    pub fn nearest_with(
        &self,
        region: &RegionCode,
        has_body: impl Fn(&RegionCode) -> bool,
    ) -> Option<&'a RegionCode> {
        let own = self
            .regions
            .iter()
            .find(|candidate| &candidate.code == region)?;
        if has_body(&own.code) {
            return Some(&own.code);
        }
        self.parent(region)
    }
}

/// What R11 needs to know of the team chosen as liaison.
#[derive(Debug, Clone)]
pub struct LiaisonCandidate {
    pub status: TeamStatus,
    /// A volunteer federation or an (industry) association.
    pub federation: bool,
    pub region: RegionCode,
    /// The applicant names this team as its parent team.
    pub declared_parent: bool,
}

/// R11, unregistered teams: the liaison is the team's approved parent (in its own region or the
/// one directly above), or the federation of its own region, or, only where its region has no
/// federation, the federation of the region directly above.
pub fn check_liaison(
    tree: &RegionTree<'_>,
    team_region: &RegionCode,
    liaison: &LiaisonCandidate,
    has_federation: impl Fn(&RegionCode) -> bool,
) -> Result<(), Rule> {
    if liaison.status != TeamStatus::Approved {
        return Err(Rule::LiaisonNotApproved);
    }
    let allowed = if liaison.federation {
        tree.nearest_with(team_region, has_federation)
    } else if liaison.declared_parent {
        if &liaison.region == team_region {
            Some(team_region)
        } else {
            tree.parent(team_region)
        }
    } else {
        return Err(Rule::LiaisonNotFederationOrParent);
    };
    match allowed {
        Some(allowed) if allowed == &liaison.region => Ok(()),
        _ if tree.is_above(&liaison.region, team_region) || &liaison.region == team_region => {
            Err(Rule::LiaisonSkipsLevel)
        }
        _ => Err(Rule::LiaisonUnrelatedRegion),
    }
}

/// R11, registered teams: the registration authority of the team's own region (or, for a
/// region that has none, such as a functional zone, the one directly above), no other.
pub fn check_authority(
    tree: &RegionTree<'_>,
    team_region: &RegionCode,
    authority_region: &RegionCode,
    has_authority: impl Fn(&RegionCode) -> bool,
) -> Result<(), Rule> {
    match tree.nearest_with(team_region, has_authority) {
        Some(allowed) if allowed == authority_region => Ok(()),
        _ => Err(Rule::AuthorityNotOwnRegion),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LocalizedName, RegionLevel};

    fn region(code: &str, parent: Option<&str>) -> Region {
        Region {
            code: RegionCode::parse(code).unwrap(),
            parent: parent.map(|p| RegionCode::parse(p).unwrap()),
            name: LocalizedName {
                zh: code.into(),
                en: None,
            },
            level: RegionLevel::County,
            local: false,
            resident_population: 1,
        }
    }

    fn code(value: &str) -> RegionCode {
        RegionCode::parse(value).unwrap()
    }

    fn federation(at: &str) -> LiaisonCandidate {
        LiaisonCandidate {
            status: TeamStatus::Approved,
            federation: true,
            region: code(at),
            declared_parent: false,
        }
    }

    #[test]
    fn the_nearest_federation_and_no_other() {
        // Suizhou (421300) over Zengdu (421303) and the high-tech zone (421371); the zone has no
        // federation of its own.
        let regions = [
            region("421300", None),
            region("421303", Some("421300")),
            region("421371", Some("421300")),
        ];
        let tree = RegionTree::new(&regions);
        let has = |r: &RegionCode| r.as_str() == "421300" || r.as_str() == "421303";
        assert_eq!(
            check_liaison(&tree, &code("421303"), &federation("421303"), has),
            Ok(())
        );
        assert_eq!(
            check_liaison(&tree, &code("421303"), &federation("421300"), has),
            Err(Rule::LiaisonSkipsLevel)
        );
        assert_eq!(
            check_liaison(&tree, &code("421371"), &federation("421300"), has),
            Ok(())
        );
        assert_eq!(
            check_liaison(&tree, &code("421371"), &federation("421303"), has),
            Err(Rule::LiaisonUnrelatedRegion)
        );
        let pending = LiaisonCandidate {
            status: TeamStatus::Pending,
            ..federation("421303")
        };
        assert_eq!(
            check_liaison(&tree, &code("421303"), &pending, has),
            Err(Rule::LiaisonNotApproved)
        );
        let peer = LiaisonCandidate {
            federation: false,
            ..federation("421303")
        };
        assert_eq!(
            check_liaison(&tree, &code("421303"), &peer, has),
            Err(Rule::LiaisonNotFederationOrParent)
        );
        let parent = LiaisonCandidate {
            declared_parent: true,
            ..peer
        };
        assert_eq!(check_liaison(&tree, &code("421303"), &parent, has), Ok(()));
    }

    #[test]
    fn two_levels_up_is_skipping() {
        let regions = [
            region("421300", None),
            region("421303", Some("421300")),
            region("421399", Some("421303")),
        ];
        let tree = RegionTree::new(&regions);
        let none = |_: &RegionCode| false;
        let city_parent = LiaisonCandidate {
            status: TeamStatus::Approved,
            federation: false,
            region: code("421300"),
            declared_parent: true,
        };
        assert_eq!(
            check_liaison(&tree, &code("421399"), &city_parent, none),
            Err(Rule::LiaisonSkipsLevel)
        );
        assert_eq!(
            check_liaison(&tree, &code("421399"), &federation("421300"), none),
            Err(Rule::LiaisonSkipsLevel)
        );
        assert_eq!(
            check_liaison(&tree, &code("421399"), &federation("421303"), none),
            Ok(())
        );
    }

    #[test]
    fn the_authority_of_the_own_region() {
        let regions = [
            region("421300", None),
            region("421303", Some("421300")),
            region("421371", Some("421300")),
        ];
        let tree = RegionTree::new(&regions);
        let has = |r: &RegionCode| r.as_str() != "421371";
        assert_eq!(
            check_authority(&tree, &code("421303"), &code("421303"), has),
            Ok(())
        );
        assert_eq!(
            check_authority(&tree, &code("421303"), &code("421300"), has),
            Err(Rule::AuthorityNotOwnRegion)
        );
        assert_eq!(
            check_authority(&tree, &code("421371"), &code("421300"), has),
            Ok(())
        );
    }
}
