//! Teams (志愿团体, 志愿服务队) and the rules of R11 for who reviews their registration: an
//! unregistered team goes to the nearest liaison team, a registered one to the registration
//! authority of its own region, and nobody skips a level.

use crate::stored::stored_names;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    CreditCode, InvalidInput, MobileNumber, OrgCode, PersonName, Region, RegionCode, ReviewingBody,
    ReviewingBodyKind, Rule, UnitKind,
};

/// A team's application as given, over the API or as a row of a unit's list, before parsing.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TeamApplication {
    pub name: String,
    pub kind: UnitKind,
    /// A volunteer service association, which other teams may choose as liaison.
    #[serde(default)]
    pub association: bool,
    pub unit_id: Option<Uuid>,
    pub region: String,
    pub contact_name: String,
    pub contact_mobile: String,
    pub legal_status: LegalStatus,
    pub parent_team_id: Option<Uuid>,
    pub liaison_team_id: Option<Uuid>,
    pub registration_authority_id: Option<Uuid>,
    pub credit_code: Option<String>,
    pub org_code: Option<String>,
    /// SHA-256 of certificate images uploaded before.
    #[serde(default)]
    pub certificates: Vec<String>,
}

/// A team's application, parsed and checked against R11.
#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: String,
    pub kind: UnitKind,
    pub association: bool,
    pub unit: Option<Uuid>,
    pub region: RegionCode,
    pub contact_name: String,
    pub contact_mobile: String,
    pub legal_status: LegalStatus,
    pub parent_team: Option<Uuid>,
    pub liaison_team: Option<Uuid>,
    pub registration_authority: Option<Uuid>,
    pub credit_code: Option<CreditCode>,
    pub org_code: Option<OrgCode>,
    pub certificates: Vec<String>,
}

/// A team of the tenant as an application that names it sees it.
#[derive(Debug, Clone)]
pub struct KnownTeam {
    pub id: Uuid,
    pub status: TeamStatus,
    pub association: bool,
    pub region: RegionCode,
}

/// The tenant an application is checked against.
#[derive(Debug, Clone, Copy)]
pub struct TeamApplicationContext<'a> {
    pub regions: &'a [Region],
    pub bodies: &'a [ReviewingBody],
    pub teams: &'a [KnownTeam],
    /// The team whose application is being corrected: it cannot name itself.
    pub resubmitting: Option<Uuid>,
}

fn invalid(field: &str, rule: Rule) -> InvalidInput {
    InvalidInput::new(field, rule)
}

impl TeamApplication {
    /// Parses the application and checks who may review it (R11), naming the field at fault.
    /// What it may be called (R12) is the tenant's policy, asked by the caller.
    pub fn parse(self, context: &TeamApplicationContext<'_>) -> Result<NewTeam, InvalidInput> {
        let name = parse_team_name(&self.name, "/name")?;
        let region = RegionCode::parse(&self.region).map_err(|rule| invalid("/region", rule))?;
        let contact_name = PersonName::parse(&self.contact_name, "/contact_name")?;
        let contact_mobile = MobileNumber::parse(&self.contact_mobile, "/contact_mobile")?;
        if !context.regions.iter().any(|known| known.code == region) {
            return Err(invalid("/region", Rule::RegionUnknown));
        }
        let tree = RegionTree::new(context.regions);
        let named = |id: Uuid| {
            context
                .teams
                .iter()
                .find(|team| team.id == id && Some(team.id) != context.resubmitting)
        };
        let mut new = NewTeam {
            name,
            kind: self.kind,
            association: self.association,
            unit: self.unit_id,
            region: region.clone(),
            contact_name: contact_name.as_str().to_owned(),
            contact_mobile: contact_mobile.as_str().to_owned(),
            legal_status: self.legal_status,
            parent_team: None,
            liaison_team: None,
            registration_authority: None,
            credit_code: None,
            org_code: None,
            certificates: Vec::new(),
        };
        if let Some(parent) = self.parent_team_id {
            named(parent).ok_or_else(|| invalid("/parent_team_id", Rule::ParentUnknown))?;
            new.parent_team = Some(parent);
        }
        match self.legal_status {
            LegalStatus::Unregistered => {
                if self.registration_authority_id.is_some() {
                    return Err(invalid(
                        "/registration_authority_id",
                        Rule::UnregisteredTeamTakesLiaison,
                    ));
                }
                let liaison_id = self.liaison_team_id.ok_or_else(|| {
                    invalid("/liaison_team_id", Rule::UnregisteredTeamTakesLiaison)
                })?;
                let liaison = named(liaison_id)
                    .ok_or_else(|| invalid("/liaison_team_id", Rule::LiaisonUnknown))?;
                let candidate = LiaisonCandidate {
                    status: liaison.status,
                    association: liaison.association,
                    region: liaison.region.clone(),
                    declared_parent: new.parent_team == Some(liaison.id),
                };
                let has_association = |code: &RegionCode| {
                    context.teams.iter().any(|team| {
                        team.association
                            && team.status == TeamStatus::Approved
                            && &team.region == code
                    })
                };
                check_liaison(&tree, &region, &candidate, has_association)
                    .map_err(|rule| invalid("/liaison_team_id", rule))?;
                new.liaison_team = Some(liaison_id);
            }
            LegalStatus::Registered => {
                if self.liaison_team_id.is_some() {
                    return Err(invalid(
                        "/liaison_team_id",
                        Rule::RegisteredTeamTakesAuthority,
                    ));
                }
                let authority_id = self.registration_authority_id.ok_or_else(|| {
                    invalid(
                        "/registration_authority_id",
                        Rule::RegisteredTeamTakesAuthority,
                    )
                })?;
                let authority = context
                    .bodies
                    .iter()
                    .find(|body| body.id == authority_id)
                    .ok_or_else(|| {
                        invalid("/registration_authority_id", Rule::ReviewingBodyUnknown)
                    })?;
                if authority.kind != ReviewingBodyKind::RegistrationAuthority {
                    return Err(invalid(
                        "/registration_authority_id",
                        Rule::AuthorityWrongKind,
                    ));
                }
                let has_authority = |code: &RegionCode| {
                    context.bodies.iter().any(|body| {
                        body.kind == ReviewingBodyKind::RegistrationAuthority
                            && &body.region == code
                    })
                };
                check_authority(&tree, &region, &authority.region, has_authority)
                    .map_err(|rule| invalid("/registration_authority_id", rule))?;
                new.registration_authority = Some(authority_id);
                if self.credit_code.is_none() && self.org_code.is_none() {
                    return Err(invalid("/credit_code", Rule::RegisteredTeamNeedsCode));
                }
                if let Some(credit) = &self.credit_code {
                    let code =
                        CreditCode::parse(credit).map_err(|rule| invalid("/credit_code", rule))?;
                    if !code.is_civil_affairs_registered() {
                        return Err(invalid("/credit_code", Rule::CreditCodeNotCivilAffairs));
                    }
                    new.credit_code = Some(code);
                }
                if let Some(org) = &self.org_code {
                    new.org_code =
                        Some(OrgCode::parse(org).map_err(|rule| invalid("/org_code", rule))?);
                }
                if self.certificates.is_empty() {
                    return Err(invalid("/certificates", Rule::CertificatesRequired));
                }
                new.certificates = self.certificates;
            }
        }
        Ok(new)
    }
}

/// 登记状态: whether the team is registered with civil affairs as a legal person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    crate::check_characters(name, field)?;
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
    /// A volunteer service association (志愿服务联合会/协会), regional or of an industry.
    pub association: bool,
    pub region: RegionCode,
    /// The applicant names this team as its parent team.
    pub declared_parent: bool,
}

/// R11, unregistered teams: the liaison is the team's approved parent (in its own region or the
/// one directly above), or the association of its own region, or, only where its region has no
/// association, the association of the region directly above.
pub fn check_liaison(
    tree: &RegionTree<'_>,
    team_region: &RegionCode,
    liaison: &LiaisonCandidate,
    has_association: impl Fn(&RegionCode) -> bool,
) -> Result<(), Rule> {
    if liaison.status != TeamStatus::Approved {
        return Err(Rule::LiaisonNotApproved);
    }
    let allowed = if liaison.association {
        tree.nearest_with(team_region, has_association)
    } else if liaison.declared_parent {
        if &liaison.region == team_region {
            Some(team_region)
        } else {
            tree.parent(team_region)
        }
    } else {
        return Err(Rule::LiaisonNotAssociationOrParent);
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

    fn association(at: &str) -> LiaisonCandidate {
        LiaisonCandidate {
            status: TeamStatus::Approved,
            association: true,
            region: code(at),
            declared_parent: false,
        }
    }

    #[test]
    fn the_nearest_association_and_no_other() {
        // Suizhou (421300) over Zengdu (421303) and the high-tech zone (421371); the zone has no
        // association of its own.
        let regions = [
            region("421300", None),
            region("421303", Some("421300")),
            region("421371", Some("421300")),
        ];
        let tree = RegionTree::new(&regions);
        let has = |r: &RegionCode| r.as_str() == "421300" || r.as_str() == "421303";
        assert_eq!(
            check_liaison(&tree, &code("421303"), &association("421303"), has),
            Ok(())
        );
        assert_eq!(
            check_liaison(&tree, &code("421303"), &association("421300"), has),
            Err(Rule::LiaisonSkipsLevel)
        );
        assert_eq!(
            check_liaison(&tree, &code("421371"), &association("421300"), has),
            Ok(())
        );
        assert_eq!(
            check_liaison(&tree, &code("421371"), &association("421303"), has),
            Err(Rule::LiaisonUnrelatedRegion)
        );
        let pending = LiaisonCandidate {
            status: TeamStatus::Pending,
            ..association("421303")
        };
        assert_eq!(
            check_liaison(&tree, &code("421303"), &pending, has),
            Err(Rule::LiaisonNotApproved)
        );
        let peer = LiaisonCandidate {
            association: false,
            ..association("421303")
        };
        assert_eq!(
            check_liaison(&tree, &code("421303"), &peer, has),
            Err(Rule::LiaisonNotAssociationOrParent)
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
            association: false,
            region: code("421300"),
            declared_parent: true,
        };
        assert_eq!(
            check_liaison(&tree, &code("421399"), &city_parent, none),
            Err(Rule::LiaisonSkipsLevel)
        );
        assert_eq!(
            check_liaison(&tree, &code("421399"), &association("421300"), none),
            Err(Rule::LiaisonSkipsLevel)
        );
        assert_eq!(
            check_liaison(&tree, &code("421399"), &association("421303"), none),
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
