//! Service time, the star levels it earns, and the volunteer card that records it: each a type
//! of its own, so that minutes are never taken for hours, a level is never six stars, and a
//! card's code is never confused with any other text.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Rule, TenantCode, VolunteerNumber};

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

/// The text of a volunteer card's QR code (志愿者证): `ZYC1:<tenant>:<volunteer number>:
/// <serial>:<code>`, where the serial rises when a card is reissued (voiding the one before)
/// and the code is a keyed hash the tenant's node checks. The card holds no personal data
/// beyond the public volunteer number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CardToken(String);

/// What a card token names, read from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFields {
    pub tenant: TenantCode,
    pub volunteer_number: VolunteerNumber,
    pub serial: u32,
    /// 20 lower-case hex digits.
    pub code: String,
}

const CARD_PREFIX: &str = "ZYC1";
const CODE_DIGITS: usize = 20;

impl CardToken {
    /// The token of a card; `mac_hex` is the keyed hash over `CardToken::signed_text`, of which
    /// the first 20 hex digits are kept.
    pub fn new(
        tenant: &TenantCode,
        number: &VolunteerNumber,
        serial: u32,
        mac_hex: &str,
    ) -> CardToken {
        let code = &mac_hex[..mac_hex.len().min(CODE_DIGITS)];
        CardToken(format!("{CARD_PREFIX}:{tenant}:{number}:{serial}:{code}"))
    }

    /// The text a card's keyed hash covers.
    pub fn signed_text(tenant: &TenantCode, number: &VolunteerNumber, serial: u32) -> String {
        format!("{tenant}:{number}:{serial}")
    }

    /// Reads a scanned code; the keyed hash is the node's to check.
    pub fn parse(text: &str) -> Result<CardFields, Rule> {
        let mut parts = text.trim().split(':');
        let (Some(CARD_PREFIX), Some(tenant), Some(number), Some(serial), Some(code), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(Rule::CardTokenFormat);
        };
        let tenant = TenantCode::parse(tenant).map_err(|_| Rule::CardTokenFormat)?;
        let volunteer_number = VolunteerNumber::parse(number).map_err(|_| Rule::CardTokenFormat)?;
        let serial = serial
            .parse::<u32>()
            .ok()
            .filter(|parsed| *parsed > 0 && !serial.starts_with('0'))
            .ok_or(Rule::CardTokenFormat)?;
        let hex = code.len() == CODE_DIGITS
            && code
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(Rule::CardTokenFormat);
        }
        Ok(CardFields {
            tenant,
            volunteer_number,
            serial,
            code: code.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for CardToken {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^ZYC1:[0-9]{6}:[0-9]{15}[0-9X]:[1-9][0-9]*:[0-9a-f]{20}$"))
            .description(Some(
                "The text of a volunteer card's QR code: ZYC1, the tenant, the volunteer number, the card's serial and a code the tenant's node checks.",
            ))
            .into()
    }
}
impl utoipa::ToSchema for CardToken {}

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
    fn a_card_token_reads_back_and_nothing_else_does() {
        let tenant = TenantCode::parse("421300").unwrap();
        let number = VolunteerNumber::new(&tenant, 123_456_789);
        let token = CardToken::new(&tenant, &number, 2, "0123456789abcdef0123456789");
        assert_eq!(
            token.as_str(),
            format!("ZYC1:421300:{number}:2:0123456789abcdef0123")
        );
        let fields = CardToken::parse(token.as_str()).unwrap();
        assert_eq!(
            (fields.tenant, fields.volunteer_number, fields.serial),
            (tenant, number.clone(), 2)
        );
        for bad in [
            "",
            "ZYC1",
            &format!("ZYC2:421300:{number}:2:0123456789abcdef0123"),
            &format!("ZYC1:421300:{number}:0:0123456789abcdef0123"),
            &format!("ZYC1:421300:{number}:2:0123456789ABCDEF0123"),
            &format!("ZYC1:421300:{number}:2:0123456789abcdef0123:x"),
            "ZYC1:421300:4213001234567890:2:0123456789abcdef0123",
        ] {
            assert_eq!(CardToken::parse(bad), Err(Rule::CardTokenFormat), "{bad}");
        }
    }
}
