//! Volunteers: who they are (real name, identity document, mobile), where they belong (region,
//! unit), what they offer, and where their registration stands.

use crate::stored::stored_names;
use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{IdDocumentKind, IdNumber, InvalidInput, RegionCode, Rule};

/// A real-name application as a person (or a unit's list) gives it, before parsing: the one
/// way an application over the API and a row of an imported list become a `NewVolunteer`.
#[derive(Debug, Clone)]
pub struct VolunteerApplication {
    pub name: String,
    pub id_kind: IdDocumentKind,
    pub id_number: String,
    pub mobile: String,
    pub region: String,
    pub unit: Option<Uuid>,
    pub skills: Vec<String>,
    pub service_categories: Vec<ServiceCategory>,
    pub availability: Option<String>,
}

/// A real-name application, parsed.
#[derive(Debug, Clone)]
pub struct NewVolunteer {
    pub name: PersonName,
    pub id_number: IdNumber,
    pub mobile: MobileNumber,
    pub region: RegionCode,
    pub unit: Option<Uuid>,
    pub skills: Vec<String>,
    pub service_categories: Vec<ServiceCategory>,
    pub availability: Option<String>,
}

impl VolunteerApplication {
    /// Parses every field, naming the first one at fault.
    pub fn parse(self, today: time::Date) -> Result<NewVolunteer, InvalidInput> {
        let availability = self
            .availability
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty());
        if let Some(text) = &availability {
            crate::check_text(text, 200, "/availability")?;
        }
        let mut service_categories = Vec::with_capacity(self.service_categories.len());
        for category in self.service_categories {
            if !service_categories.contains(&category) {
                service_categories.push(category);
            }
        }
        Ok(NewVolunteer {
            name: PersonName::parse(&self.name, "/name")?,
            id_number: IdNumber::parse(self.id_kind, &self.id_number, today, "/id_number")?,
            mobile: MobileNumber::parse(&self.mobile, "/mobile")?,
            region: RegionCode::parse(&self.region)
                .map_err(|rule| InvalidInput::new("/region", rule))?,
            unit: self.unit,
            skills: parse_tags(&self.skills, "/skills")?,
            service_categories,
            availability,
        })
    }
}

/// A real name as on an identity document: Chinese names, with the middle dot of names of
/// ethnic minorities and foreigners (阿卜杜勒·艾尼), and names in Latin letters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(value: &str, field: &str) -> Result<PersonName, InvalidInput> {
        // The middle dot is typed many ways; one is kept. In a name written in Han characters a
        // full stop is such a dot too (阿卜杜勒.艾尼); in a Latin name it is an initial's.
        let trimmed = value.trim();
        let han = trimmed.chars().any(is_han);
        let name: String = trimmed
            .chars()
            .map(|c| match c {
                '•' | '・' | '‧' | '∙' | '⋅' => '·',
                '.' if han => '·',
                c => c,
            })
            .collect();
        let invalid = || InvalidInput::new(field, Rule::PersonName);
        let allowed = |c: char| is_han(c) || c.is_alphabetic() || " ·-'.".contains(c);
        if name.is_empty() || name.chars().count() > 50 || !name.chars().all(allowed) {
            return Err(invalid());
        }
        let separators = |c: char| " ·-'.".contains(c);
        let first = name.chars().next().unwrap_or(' ');
        let last = name.chars().last().unwrap_or(' ');
        let doubled = name
            .chars()
            .zip(name.chars().skip(1))
            .any(|(a, b)| separators(a) && separators(b) && !(a == '.' && b == ' '));
        if separators(first) || (separators(last) && last != '.') || doubled {
            return Err(invalid());
        }
        if name.chars().any(is_han) && name.chars().any(|c| c.is_ascii_alphabetic()) {
            return Err(invalid());
        }
        Ok(PersonName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{3134f}')
}

/// A mobile number: a mainland number of 11 digits (1[3-9]...), or an international one in
/// E.164 form (+ and 8 to 15 digits). Its Debug form is masked.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MobileNumber(String);

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobileNumber({})", self.masked())
    }
}

/// The rule of `MobileNumber::parse` as a JSON Schema pattern: a mainland number (+86 allowed)
/// or + and 8 to 15 digits, spaces and hyphens anywhere.
pub const MOBILE_PATTERN: &str =
    r"^[ -]*((\+[ -]*8[ -]*6[ -]*)?1[ -]*[3-9]([ -]*[0-9]){9}|\+([ -]*[0-9]){8,15})[ -]*$";

impl MobileNumber {
    pub fn parse(value: &str, field: &str) -> Result<MobileNumber, InvalidInput> {
        let compact: String = value.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let mainland = compact.strip_prefix("+86").unwrap_or(&compact);
        let is_mainland = mainland.len() == 11
            && mainland.starts_with('1')
            && matches!(mainland.as_bytes()[1], b'3'..=b'9')
            && mainland.bytes().all(|b| b.is_ascii_digit());
        if is_mainland {
            return Ok(MobileNumber(mainland.to_owned()));
        }
        let international = compact.strip_prefix('+').is_some_and(|digits| {
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
        if international {
            return Ok(MobileNumber(compact));
        }
        Err(InvalidInput::new(field, Rule::MobileFormat))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 138****1234.
    pub fn masked(&self) -> String {
        crate::mask(&self.0, 3, 4)
    }
}

/// The service categories of the national volunteer system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceCategory {
    /// 社区服务
    Community,
    /// 扶贫减贫
    PovertyAlleviation,
    /// 助老助残
    ElderlyAndDisabled,
    /// 关爱儿童
    Children,
    /// 卫生健康
    Health,
    /// 生态环保
    Environment,
    /// 文化艺术
    Culture,
    /// 科技科普
    Science,
    /// 应急救援
    Emergency,
    /// 平安综治
    PublicSafety,
    /// 法律服务
    LegalAid,
    /// 文明风尚
    Civility,
    /// 大型活动
    MajorEvents,
    Other,
}

impl ServiceCategory {
    pub const ALL: [ServiceCategory; 14] = [
        ServiceCategory::Community,
        ServiceCategory::PovertyAlleviation,
        ServiceCategory::ElderlyAndDisabled,
        ServiceCategory::Children,
        ServiceCategory::Health,
        ServiceCategory::Environment,
        ServiceCategory::Culture,
        ServiceCategory::Science,
        ServiceCategory::Emergency,
        ServiceCategory::PublicSafety,
        ServiceCategory::LegalAid,
        ServiceCategory::Civility,
        ServiceCategory::MajorEvents,
        ServiceCategory::Other,
    ];

    /// The category's bit in a stored set of categories, so that a search filters by category
    /// with one AND on an integer column. Stored: a category keeps its bit forever.
    pub fn bit(self) -> i64 {
        let index = match self {
            ServiceCategory::Community => 0,
            ServiceCategory::PovertyAlleviation => 1,
            ServiceCategory::ElderlyAndDisabled => 2,
            ServiceCategory::Children => 3,
            ServiceCategory::Health => 4,
            ServiceCategory::Environment => 5,
            ServiceCategory::Culture => 6,
            ServiceCategory::Science => 7,
            ServiceCategory::Emergency => 8,
            ServiceCategory::PublicSafety => 9,
            ServiceCategory::LegalAid => 10,
            ServiceCategory::Civility => 11,
            ServiceCategory::MajorEvents => 12,
            ServiceCategory::Other => 13,
        };
        1 << index
    }

    /// The set of categories as stored bits.
    pub fn bits(categories: &[ServiceCategory]) -> i64 {
        categories
            .iter()
            .fold(0, |bits, category| bits | category.bit())
    }
}

/// Where a volunteer's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolunteerStatus {
    Pending,
    Verified,
    Rejected,
    /// Set aside by the city office: a registration made with someone else's document, or one
    /// the person challenged at the office with their document in hand.
    Voided,
    /// Asked to move to another tenant: read-only and no longer counted here while the
    /// transfer is under way; verified again if the destination refuses it.
    Transferring,
    /// Moved to another tenant, which holds the registration and hours from then on.
    Transferred,
}

stored_names!(VolunteerStatus {
    Pending = "pending",
    Verified = "verified",
    Rejected = "rejected",
    Voided = "voided",
    Transferring = "transferring",
    Transferred = "transferred",
});

/// Where a transfer to another tenant stands, as its source keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// Asked for, and on its way to the destination.
    Sending,
    /// The destination registered the volunteer and answered with its receipt.
    Completed,
    /// The destination refused it; the volunteer is verified here again.
    Refused,
}

stored_names!(TransferStatus {
    Sending = "sending",
    Completed = "completed",
    Refused = "refused",
});

/// How old a volunteer is, in the brackets that staff see instead of a birth date: narrow
/// enough for the rules that depend on age (minors need a guardian's consent), wide enough
/// that beside a masked number and a region it leaves the number unguessable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgeGroup {
    /// Under 18.
    Minor,
    /// 18 to 35.
    Youth,
    /// 36 to 59.
    MiddleAged,
    /// 60 and over.
    Senior,
}

impl AgeGroup {
    pub fn of(birth_date: time::Date, today: time::Date) -> AgeGroup {
        let mut age = today.year() - birth_date.year();
        if (today.month() as u8, today.day()) < (birth_date.month() as u8, birth_date.day()) {
            age -= 1;
        }
        match age {
            ..18 => AgeGroup::Minor,
            18..=35 => AgeGroup::Youth,
            36..=59 => AgeGroup::MiddleAged,
            _ => AgeGroup::Senior,
        }
    }
}

/// A volunteer's public number: stable for life, never derived from the identity number, and
/// carried by transferred records so the same person is recognised in every region. Sixteen
/// characters: the issuing tenant's code, nine random digits, and an ISO 7064 MOD 11-2 check
/// character, so a mistyped number is caught.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct VolunteerNumber(String);

impl VolunteerNumber {
    /// Makes a number from the tenant code and nine random digits.
    pub fn new(tenant: &crate::TenantCode, random: u32) -> VolunteerNumber {
        let body = format!("{}{:09}", tenant.as_str(), random % 1_000_000_000);
        let check = mod_11_2(&body);
        VolunteerNumber(format!("{body}{check}"))
    }

    pub fn parse(value: &str) -> Result<VolunteerNumber, Rule> {
        let value = value.trim().to_ascii_uppercase();
        let shaped = value.len() == 16 && value.as_bytes()[..15].iter().all(u8::is_ascii_digit);
        if !shaped || mod_11_2(&value[..15]) != value.chars().last().unwrap_or(' ') {
            return Err(Rule::VolunteerNumberFormat);
        }
        Ok(VolunteerNumber(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VolunteerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO 7064 MOD 11-2 over decimal digits.
fn mod_11_2(digits: &str) -> char {
    let sum = digits
        .bytes()
        .fold(0u32, |sum, digit| (sum + u32::from(digit - b'0')) * 2 % 11);
    match (12 - sum % 11) % 11 {
        10 => 'X',
        check => char::from_digit(check, 10).unwrap_or('0'),
    }
}

/// A short list of free-text tags (skills): each 1 to 30 characters, at most 20 of them.
pub fn parse_tags(values: &[String], field: &str) -> Result<Vec<String>, InvalidInput> {
    if values.len() > 20 {
        return Err(InvalidInput::new(field, Rule::TagsTooMany));
    }
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let value = value.trim();
            if value.is_empty() || value.chars().count() > 30 {
                Err(InvalidInput::new(
                    format!("{field}/{index}"),
                    Rule::TagLength,
                ))
            } else if let Err(invalid) = crate::check_characters(value, &format!("{field}/{index}"))
            {
                Err(invalid)
            } else {
                Ok(value.to_owned())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_chinese_minority_and_foreign() {
        for good in [
            "张三",
            "欧阳娜娜",
            "阿卜杜勒·艾尼",
            "迪丽热巴•迪力木拉提",
            "John Smith",
            "Zoë O'Neil-Brown",
            "J. R. Tolkien",
            "𠮷田",
        ] {
            assert!(PersonName::parse(good, "/name").is_ok(), "{good}");
        }
        assert_eq!(
            PersonName::parse("迪丽热巴•迪力木拉提", "/name")
                .unwrap()
                .as_str(),
            "迪丽热巴·迪力木拉提"
        );
        for bad in [
            "",
            " ",
            "张3",
            "·张三",
            "张三·",
            "张··三",
            "张三John",
            "Robert'); DROP TABLE",
            "a".repeat(51).as_str(),
        ] {
            assert_eq!(
                PersonName::parse(bad, "/name").unwrap_err().rule,
                Rule::PersonName,
                "{bad}"
            );
        }
    }

    #[test]
    fn mobiles_mainland_and_international() {
        assert_eq!(
            MobileNumber::parse("+86 138-0000-1234", "/m")
                .unwrap()
                .as_str(),
            "13800001234"
        );
        assert_eq!(
            MobileNumber::parse("13800001234", "/m").unwrap().masked(),
            "138****1234"
        );
        assert!(MobileNumber::parse("+85291234567", "/m").is_ok());
        for bad in [
            "12800001234",
            "1380000123",
            "138000012345",
            "phone",
            "+1234",
        ] {
            assert!(MobileNumber::parse(bad, "/m").is_err(), "{bad}");
        }
    }

    #[test]
    fn volunteer_numbers_carry_a_check_character() {
        let tenant = crate::TenantCode::parse("421300").unwrap();
        let number = VolunteerNumber::new(&tenant, 123_456_789);
        assert!(number.as_str().starts_with("421300123456789"));
        assert_eq!(VolunteerNumber::parse(number.as_str()), Ok(number.clone()));
        let mut typo = number.as_str().to_owned().into_bytes();
        typo.swap(7, 8);
        assert_eq!(
            VolunteerNumber::parse(std::str::from_utf8(&typo).unwrap()),
            Err(Rule::VolunteerNumberFormat)
        );
    }
}
