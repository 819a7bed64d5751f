//! Service time, the star levels it earns, the volunteer card that records it, the service
//! records and certificates: each a type of its own, so that minutes are never taken for hours,
//! a level is never six stars, and a card's code is read only once its signature is checked.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::stored::stored_names;
use crate::{Rule, TenantCode, Timestamp, VolunteerNumber};

/// Service time in whole minutes: what records, summaries and plugins count in. Hours are
/// derived (`whole_hours`), never stored.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Minutes(u64);

impl Minutes {
    pub const ZERO: Minutes = Minutes(0);
    /// The most service a day can hold.
    pub const DAY: Minutes = Minutes(24 * 60);

    pub const fn new(minutes: u64) -> Minutes {
        Minutes(minutes)
    }

    pub const fn from_hours(hours: u64) -> Minutes {
        Minutes(hours * 60)
    }

    /// The whole minutes between two instants in Unix milliseconds; none if the end is not
    /// after the start.
    pub fn between(started_at: i64, ended_at: i64) -> Option<Minutes> {
        (ended_at > started_at).then(|| Minutes(((ended_at - started_at) / 60_000) as u64))
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// Completed hours: what star levels are set in.
    pub const fn whole_hours(self) -> u64 {
        self.0 / 60
    }

    pub fn saturating_add(self, other: Minutes) -> Minutes {
        Minutes(self.0.saturating_add(other.0))
    }
}

impl utoipa::PartialSchema for Minutes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(0))
            .description(Some("Service time in whole minutes."))
            .into()
    }
}
impl utoipa::ToSchema for Minutes {}

/// A star level (星级志愿者): none, or one to five stars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct StarLevel(u8);

impl StarLevel {
    pub const NONE: StarLevel = StarLevel(0);
    pub const MAX: StarLevel = StarLevel(5);

    /// A level of `stars`; `None` above five.
    pub const fn new(stars: u8) -> Option<StarLevel> {
        if stars <= 5 {
            Some(StarLevel(stars))
        } else {
            None
        }
    }

    pub const fn stars(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for StarLevel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stars = u8::deserialize(deserializer)?;
        StarLevel::new(stars).ok_or_else(|| serde::de::Error::custom("a star level is 0 to 5"))
    }
}

impl utoipa::PartialSchema for StarLevel {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(0))
            .maximum(Some(5))
            .description(Some("Stars of a star-level volunteer: 0 for none, 1 to 5."))
            .into()
    }
}
impl utoipa::ToSchema for StarLevel {}

/// How long the code a volunteer's phone shows stands: a new one every minute, so that a photo
/// of the screen is of no use for long.
pub const CARD_CODE_SECONDS: i64 = 60;
/// How far a scanner's clock and the card's may disagree.
pub const CARD_CLOCK_SKEW_SECONDS: i64 = 120;

/// What a volunteer card's code says, once its signature has been checked: the tenant that
/// signed it, whose volunteer it names, and which kind of card it is. The card holds no personal
/// data beyond the public volunteer number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardToken {
    pub tenant: TenantCode,
    pub volunteer_number: VolunteerNumber,
    pub issued_at: Timestamp,
    pub kind: CardKind,
}

/// The two kinds of card a volunteer carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardKind {
    /// The code the volunteer's app shows, new every minute; each one scans once.
    App {
        /// 16 lower-case hex digits, drawn at random.
        token_id: String,
        expires_at: Timestamp,
    },
    /// A printed card for volunteers without phones: long-lived, revoked by its serial when
    /// the card is lost.
    Printed { serial: u64 },
}

impl CardToken {
    /// Whether the code stands at `at`, with `CARD_CLOCK_SKEW_SECONDS` either way: a code of
    /// the app from its issue to its expiry; a printed card from its issue on.
    pub fn check_time(&self, at: Timestamp) -> Result<(), Rule> {
        let skew = CARD_CLOCK_SKEW_SECONDS * 1000;
        if at.unix_millis() < self.issued_at.unix_millis() - skew {
            return Err(Rule::CardCodeNotYetValid);
        }
        match &self.kind {
            CardKind::App { expires_at, .. }
                if at.unix_millis() > expires_at.unix_millis() + skew =>
            {
                Err(Rule::CardCodeExpired)
            }
            _ => Ok(()),
        }
    }

    /// The kind of card, as service records name it.
    pub fn card_use(&self) -> CardUse {
        match self.kind {
            CardKind::App { .. } => CardUse::App,
            CardKind::Printed { .. } => CardUse::Printed,
        }
    }
}

/// Which card a scan read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardUse {
    App,
    Printed,
}

stored_names!(CardUse {
    App = "app",
    Printed = "printed",
});

/// Which way a scan goes. A scanner may say; otherwise the first scan of a shift checks in and
/// the second checks out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanDirection {
    In,
    Out,
}

stored_names!(ScanDirection {
    In = "in",
    Out = "out",
});

/// How a service record came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceRecordKind {
    /// Check-in and check-out by scanning the volunteer's card.
    Scan,
    /// Check-in without a check-out, credited as the tenant's service-record rule says.
    MissingCheckOut,
    /// Entered by a team admin, with a reason.
    Manual,
    /// Replaces the entry it points at, with a reason.
    Correction,
    /// The office's settlement of a dispute, replacing the disputed entry.
    Settlement,
}

stored_names!(ServiceRecordKind {
    Scan = "scan",
    MissingCheckOut = "missing_check_out",
    Manual = "manual",
    Correction = "correction",
    Settlement = "settlement",
});

/// Where a volunteer's dispute of a service record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    /// The volunteer disputes the entry; the team has not answered.
    Open,
    /// The team answered; the office settles.
    Answered,
    /// The office found for the volunteer: a settlement replaced the entry.
    Upheld,
    /// The office let the entry stand.
    Dismissed,
}

stored_names!(DisputeStatus {
    Open = "open",
    Answered = "answered",
    Upheld = "upheld",
    Dismissed = "dismissed",
});

impl DisputeStatus {
    /// An open or answered dispute: the entry's hours are not confirmed until it is settled.
    pub fn unsettled(self) -> bool {
        matches!(self, DisputeStatus::Open | DisputeStatus::Answered)
    }
}

/// A scope the totals are kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TotalsScope {
    Volunteer,
    Team,
    Project,
    Region,
}

impl TotalsScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TotalsScope::Volunteer => "volunteer",
            TotalsScope::Team => "team",
            TotalsScope::Project => "project",
            TotalsScope::Region => "region",
        }
    }
}

/// Where a certificate (志愿服务记录证明) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// Asked for by the volunteer; the issuer has not issued it.
    Requested,
    Issued,
    /// Issued, then revoked with a reason: it no longer stands.
    Revoked,
}

stored_names!(CertificateStatus {
    Requested = "requested",
    Issued = "issued",
    Revoked = "revoked",
});

/// One project's lines on a certificate.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CertificateLine {
    pub content: String,
    pub first_day: String,
    pub last_day: String,
    pub minutes: Minutes,
    pub entries: u64,
}

/// What an issued certificate states, fixed when it was issued: every field the Ministry of
/// Civil Affairs' measures require, the identity number masked.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CertificateFacts {
    pub volunteer_name: String,
    pub id_kind: crate::IdDocumentKind,
    pub id_number_masked: String,
    pub volunteer_number: String,
    pub issuer: String,
    pub person_in_charge: String,
    pub handler: String,
    pub contact: String,
    pub period_from: String,
    pub period_to: String,
    pub lines: Vec<CertificateLine>,
    pub total_minutes: Minutes,
    pub issued_on: String,
    pub tenant_name: String,
}

/// The number of an issued certificate: the tenant, the year of issue and its place in that
/// year's register, as in `421300-2026-000017`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CertificateNumber(String);

impl CertificateNumber {
    pub fn new(tenant: &TenantCode, year: i32, place: u64) -> CertificateNumber {
        CertificateNumber(format!("{tenant}-{year:04}-{place:06}"))
    }

    pub fn parse(text: &str) -> Result<CertificateNumber, Rule> {
        let bytes = text.as_bytes();
        let shape = bytes.len() == 18
            && bytes[6] == b'-'
            && bytes[11] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(at, b)| at == 6 || at == 11 || b.is_ascii_digit());
        if !shape {
            return Err(Rule::CertificateNumberFormat);
        }
        TenantCode::parse(&text[..6]).map_err(|_| Rule::CertificateNumberFormat)?;
        Ok(CertificateNumber(text.to_owned()))
    }

    pub fn tenant(&self) -> TenantCode {
        TenantCode::parse(&self.0[..6]).expect("checked when made")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CertificateNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for CertificateNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(crate::schema::CERTIFICATE_NUMBER))
            .description(Some(
                "A certificate's number: the tenant, the year of issue and its place in that year's register.",
            ))
            .into()
    }
}
impl utoipa::ToSchema for CertificateNumber {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_count_whole_hours_and_spans() {
        assert_eq!(Minutes::new(119).whole_hours(), 1);
        assert_eq!(Minutes::from_hours(3).get(), 180);
        assert_eq!(Minutes::between(0, 90 * 60_000), Some(Minutes::new(90)));
        assert_eq!(Minutes::between(5, 5), None);
        assert_eq!(Minutes::DAY, Minutes::from_hours(24));
    }

    #[test]
    fn star_levels_stop_at_five() {
        assert_eq!(StarLevel::new(5), Some(StarLevel::MAX));
        assert_eq!(StarLevel::new(6), None);
        assert!(serde_json::from_str::<StarLevel>("6").is_err());
        assert_eq!(serde_json::from_str::<StarLevel>("3").unwrap().stars(), 3);
    }

    #[test]
    fn an_app_code_stands_for_its_minute_and_the_skew() {
        let tenant = TenantCode::parse("421300").unwrap();
        let claims = CardToken {
            volunteer_number: VolunteerNumber::new(&tenant, 123_456_789),
            tenant,
            issued_at: Timestamp::from_unix_millis(1_000_000),
            kind: CardKind::App {
                token_id: "00112233aabbccdd".into(),
                expires_at: Timestamp::from_unix_millis(1_060_000),
            },
        };
        let at = |millis| claims.check_time(Timestamp::from_unix_millis(millis));
        assert_eq!(at(1_000_000 - 120_000), Ok(()));
        assert_eq!(at(1_000_000 - 120_001), Err(Rule::CardCodeNotYetValid));
        assert_eq!(at(1_060_000 + 120_000), Ok(()));
        assert_eq!(at(1_060_000 + 120_001), Err(Rule::CardCodeExpired));
        let printed = CardToken {
            kind: CardKind::Printed { serial: 3 },
            ..claims.clone()
        };
        assert_eq!(
            printed.check_time(Timestamp::from_unix_millis(i64::MAX / 2)),
            Ok(())
        );
    }

    #[test]
    fn certificate_numbers_read_back_and_nothing_else_does() {
        let tenant = TenantCode::parse("421300").unwrap();
        let number = CertificateNumber::new(&tenant, 2026, 17);
        assert_eq!(number.as_str(), "421300-2026-000017");
        assert_eq!(
            CertificateNumber::parse("421300-2026-000017"),
            Ok(number.clone())
        );
        assert_eq!(number.tenant(), tenant);
        for bad in [
            "",
            "421300-2026-00017",
            "421300_2026-000017",
            "42130A-2026-000017",
            "421300-2026-0000170",
        ] {
            assert_eq!(
                CertificateNumber::parse(bad),
                Err(Rule::CertificateNumberFormat),
                "{bad}"
            );
        }
    }
}
