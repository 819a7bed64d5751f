/// The names under which an enum is stored and exchanged. One list per enum gives its `ALL`,
/// `as_str` and `from_db`, so that the three cannot disagree (they must match the enum's
/// serde names, which the tests of each enum check).
macro_rules! stored_names {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn from_db(value: &str) -> Option<Self> {
                match value {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use stored_names;

#[cfg(test)]
mod tests {
    use crate::*;

    /// The stored name of every variant is its serde name, and reads back as itself.
    fn agree<T: serde::Serialize + Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        as_str: fn(T) -> &'static str,
        from_db: fn(&str) -> Option<T>,
    ) {
        for value in all {
            let serde_name = serde_json::to_value(value).unwrap();
            assert_eq!(serde_name, as_str(*value), "{value:?}");
            assert_eq!(from_db(as_str(*value)), Some(*value));
        }
        assert_eq!(from_db("no such name"), None);
    }

    #[test]
    fn stored_names_are_the_serde_names() {
        agree(GrantKind::ALL, GrantKind::as_str, GrantKind::from_db);
        agree(Action::ALL, Action::as_str, Action::from_db);
        agree(AuditAction::ALL, AuditAction::as_str, AuditAction::from_db);
        agree(UnitKind::ALL, UnitKind::as_str, UnitKind::from_db);
        agree(
            CivilisationLevel::ALL,
            CivilisationLevel::as_str,
            CivilisationLevel::from_db,
        );
        agree(
            ReviewingBodyKind::ALL,
            ReviewingBodyKind::as_str,
            ReviewingBodyKind::from_db,
        );
        agree(
            IdDocumentKind::ALL,
            IdDocumentKind::as_str,
            IdDocumentKind::from_db,
        );
        agree(Gender::ALL, Gender::as_str, Gender::from_db);
        agree(RegionLevel::ALL, RegionLevel::as_str, RegionLevel::from_db);
        agree(LegalStatus::ALL, LegalStatus::as_str, LegalStatus::from_db);
        agree(TeamStatus::ALL, TeamStatus::as_str, TeamStatus::from_db);
        agree(
            VolunteerStatus::ALL,
            VolunteerStatus::as_str,
            VolunteerStatus::from_db,
        );
    }
}
