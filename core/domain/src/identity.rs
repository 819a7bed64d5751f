//! Identity documents of volunteers (证件): the kinds a person may register with, and their
//! numbers, parsed by the rules of each kind.

use crate::stored::stored_names;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::area_codes;
use crate::{InvalidInput, Rule};

/// The kinds of identity document a volunteer may register with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdDocumentKind {
    /// 居民身份证: the 18-character resident ID of GB 11643.
    ResidentIdCard,
    /// 港澳居民来往内地通行证.
    HongKongMacaoPermit,
    /// 台湾居民来往大陆通行证.
    TaiwanPermit,
    /// 护照.
    Passport,
    /// 外国人永久居留身份证.
    ForeignPermanentResidentId,
}

stored_names!(IdDocumentKind {
    ResidentIdCard = "resident_id_card",
    HongKongMacaoPermit = "hong_kong_macao_permit",
    TaiwanPermit = "taiwan_permit",
    Passport = "passport",
    ForeignPermanentResidentId = "foreign_permanent_resident_id",
});

impl IdDocumentKind {
    /// The shape of a number of this kind as JSON Schema patterns (all must match), spaces
    /// and hyphens allowed anywhere and letters of either case, as `IdNumber::parse` reads
    /// them; what a pattern cannot say (a resident ID's area, birth date and check character,
    /// the newer foreign permanent resident ID's check character) the parser checks besides.
    pub fn number_patterns(self) -> &'static [&'static str] {
        match self {
            IdDocumentKind::ResidentIdCard => &[r"^[\s-]*([0-9][\s-]*){17}[0-9Xx][\s-]*$"],
            IdDocumentKind::HongKongMacaoPermit => {
                &[r"^[\s-]*[HhMm][\s-]*([0-9][\s-]*){8}(([0-9][\s-]*){2})?$"]
            }
            IdDocumentKind::TaiwanPermit => &[r"^[\s-]*([0-9][\s-]*){8}(([0-9][\s-]*){2})?$"],
            IdDocumentKind::Passport => &[r"^[\s-]*([A-Za-z0-9][\s-]*){5,17}$", "[0-9]"],
            IdDocumentKind::ForeignPermanentResidentId => &[
                r"^[\s-]*(([A-Za-z][\s-]*){3}([0-9][\s-]*){12}|9[\s-]*([0-9][\s-]*){16}[0-9Xx][\s-]*)$",
            ],
        }
    }

    /// The rule a number of this kind breaks when it has the wrong shape.
    pub fn format_rule(self) -> Rule {
        match self {
            IdDocumentKind::ResidentIdCard => Rule::ResidentIdFormat,
            IdDocumentKind::HongKongMacaoPermit => Rule::HongKongMacaoPermitFormat,
            IdDocumentKind::TaiwanPermit => Rule::TaiwanPermitFormat,
            IdDocumentKind::Passport => Rule::PassportFormat,
            IdDocumentKind::ForeignPermanentResidentId => Rule::ForeignPermanentResidentIdFormat,
        }
    }
}

/// Gender as a resident ID number records it (the parity of its 17th digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

stored_names!(Gender {
    Male = "male",
    Female = "female",
});

/// A document number that passed the rules of its kind, in canonical form (upper case, no
/// spaces or hyphens). Personal information of the sensitive kind: its Debug form is masked,
/// it has no Display, and it leaves this type only through `expose` (to encrypt or index it)
/// and `masked`.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber {
    kind: IdDocumentKind,
    number: String,
}

/// What a resident ID number says about its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResidentIdFacts {
    pub birth_date: Date,
    pub gender: Gender,
}

/// GB 11643 (ISO 7064 MOD 11-2) weights of the first 17 characters.
const RESIDENT_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_CHECK: &[u8; 11] = b"10X98765432";

impl IdNumber {
    /// Parses a number of the given kind; `today` bounds birth dates.
    pub fn parse(
        kind: IdDocumentKind,
        value: &str,
        today: Date,
        field: &str,
    ) -> Result<IdNumber, InvalidInput> {
        let number: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let invalid = |rule| InvalidInput::new(field, rule);
        if !number.is_ascii() {
            return Err(invalid(kind.format_rule()));
        }
        match kind {
            IdDocumentKind::ResidentIdCard => {
                resident_id_facts(&number, today).map_err(invalid)?;
            }
            IdDocumentKind::HongKongMacaoPermit => {
                // H or M, then 8 digits (cards since 2013) or 10 (older booklets).
                let (head, digits) = number.split_at(number.len().min(1));
                let ok = matches!(head, "H" | "M")
                    && matches!(digits.len(), 8 | 10)
                    && digits.bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    return Err(invalid(Rule::HongKongMacaoPermitFormat));
                }
            }
            IdDocumentKind::TaiwanPermit => {
                // 8 digits (cards since 2015), or 10 digits on older ones.
                let ok =
                    matches!(number.len(), 8 | 10) && number.bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    return Err(invalid(Rule::TaiwanPermitFormat));
                }
            }
            IdDocumentKind::Passport => {
                // ICAO 9303 document numbers: up to 9 characters in the machine-readable zone,
                // longer in some national formats; letters and digits only.
                let ok = (5..=17).contains(&number.len())
                    && number
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    && number.bytes().any(|b| b.is_ascii_digit());
                if !ok {
                    return Err(invalid(Rule::PassportFormat));
                }
            }
            IdDocumentKind::ForeignPermanentResidentId => {
                // 2004 cards: ISO 3166 alpha-3 nationality and 12 digits; 2023 cards: 18
                // characters beginning with 9, checked like a resident ID.
                let old = number.len() == 15
                    && number[..3].bytes().all(|b| b.is_ascii_uppercase())
                    && number[3..].bytes().all(|b| b.is_ascii_digit());
                let new = number.len() == 18
                    && number.starts_with('9')
                    && number[..17].bytes().all(|b| b.is_ascii_digit())
                    && matches!(number.as_bytes()[17], b'0'..=b'9' | b'X');
                if !(old || new) {
                    return Err(invalid(Rule::ForeignPermanentResidentIdFormat));
                }
                if new && mod_11_2_check(&number[..17]) != number.as_bytes()[17] {
                    return Err(invalid(Rule::ForeignPermanentResidentIdCheck));
                }
            }
        }
        Ok(IdNumber { kind, number })
    }

    pub fn kind(&self) -> IdDocumentKind {
        self.kind
    }

    /// The number itself, for encryption and keyed hashing only.
    pub fn expose(&self) -> &str {
        &self.number
    }

    /// Birth date and gender, for a resident ID number.
    pub fn resident_facts(&self) -> Option<ResidentIdFacts> {
        (self.kind == IdDocumentKind::ResidentIdCard)
            .then(|| resident_id_facts_unchecked(&self.number))
            .flatten()
    }

    /// The number as people may see it, and as it is stored in the clear. A resident ID keeps
    /// its last two characters only (****************3X): its first six are the holder's
    /// region, which is known anyway, the next eight a birth date, and the check character ties
    /// the rest together, so each character shown removes far more candidates than it seems to.
    /// With the last two shown, the region known and the age group known (the most that is ever
    /// shown beside it), at least some fifty thousand numbers remain. Other documents keep
    /// their last two as well (*******78): the shortest, a passport of five letters and digits,
    /// then leaves some forty thousand.
    pub fn masked(&self) -> String {
        mask(&self.number, 0, 2)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({:?}, {})", self.kind, self.masked())
    }
}

/// Keeps `head` and `tail` characters and stars the rest; short values are starred whole but
/// for their last character, so that nothing short is shown in full.
pub fn mask(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        let shown = chars.len().saturating_sub(1).min(1);
        let hidden = chars.len() - shown;
        return "*".repeat(hidden) + &chars[hidden..].iter().collect::<String>();
    }
    let mut masked: String = chars[..head].iter().collect();
    masked.push_str(&"*".repeat(chars.len() - head - tail));
    masked.extend(&chars[chars.len() - tail..]);
    masked
}

fn mod_11_2_check(first17: &str) -> u8 {
    let sum: u32 = first17
        .bytes()
        .zip(RESIDENT_WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    RESIDENT_CHECK[(sum % 11) as usize]
}

fn resident_id_facts(number: &str, today: Date) -> Result<ResidentIdFacts, Rule> {
    let bytes = number.as_bytes();
    let shaped = bytes.len() == 18
        && bytes[..17].iter().all(u8::is_ascii_digit)
        && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
    if !shaped {
        return Err(Rule::ResidentIdFormat);
    }
    if mod_11_2_check(&number[..17]) != bytes[17] {
        return Err(Rule::ResidentIdCheck);
    }
    if !area_codes::is_known(&number[..6]) {
        return Err(Rule::ResidentIdArea);
    }
    let facts = resident_id_facts_unchecked(number).ok_or(Rule::ResidentIdBirthDate)?;
    let earliest =
        Date::from_calendar_date(1900, Month::January, 1).map_err(|_| Rule::ResidentIdBirthDate)?;
    if facts.birth_date > today || facts.birth_date < earliest {
        return Err(Rule::ResidentIdBirthDate);
    }
    Ok(facts)
}

/// The birth date a resident ID number carries, read from a number checked before (one opened
/// from storage, say).
pub fn resident_birth_date(number: &str) -> Option<Date> {
    resident_id_facts_unchecked(number).map(|facts| facts.birth_date)
}

fn resident_id_facts_unchecked(number: &str) -> Option<ResidentIdFacts> {
    let year: i32 = number.get(6..10)?.parse().ok()?;
    let month: u8 = number.get(10..12)?.parse().ok()?;
    let day: u8 = number.get(12..14)?.parse().ok()?;
    let birth_date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let sequence = number.as_bytes().get(16)?.checked_sub(b'0')?;
    let gender = if sequence % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };
    Some(ResidentIdFacts { birth_date, gender })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_calendar_date(2026, Month::November, 29).unwrap()
    }

    /// Completes 17 digits with their GB 11643 check character.
    pub(crate) fn with_check(first17: &str) -> String {
        format!("{first17}{}", mod_11_2_check(first17) as char)
    }

    /// 17 digits with a check character that is not theirs.
    fn wrong_check(first17: &str) -> String {
        let right = mod_11_2_check(first17);
        let wrong = RESIDENT_CHECK.iter().find(|c| **c != right).unwrap();
        format!("{first17}{}", *wrong as char)
    }

    #[test]
    fn short_documents_hide_most_of_their_number() {
        let passport =
            IdNumber::parse(IdDocumentKind::Passport, "E12345678", today(), "/n").unwrap();
        assert_eq!(passport.masked(), "*******78");
        let number = with_check("42130319900307123");
        let resident =
            IdNumber::parse(IdDocumentKind::ResidentIdCard, &number, today(), "/n").unwrap();
        assert_eq!(
            resident.masked(),
            format!("{}{}", "*".repeat(16), &number[16..])
        );
    }

    #[test]
    fn masks_keep_four_and_four() {
        assert_eq!(mask("421302199001011234", 4, 4), "4213**********1234");
        assert_eq!(mask("H12345678", 4, 4), "H123*5678");
        assert_eq!(mask("12345", 4, 4), "****5");
    }

    #[test]
    fn a_resident_id_gives_birth_date_and_gender() {
        let number = with_check("42130319900307123");
        let id = IdNumber::parse(
            IdDocumentKind::ResidentIdCard,
            &number,
            today(),
            "/id_number",
        )
        .unwrap();
        let facts = id.resident_facts().unwrap();
        assert_eq!(
            facts.birth_date,
            Date::from_calendar_date(1990, Month::March, 7).unwrap()
        );
        assert_eq!(facts.gender, Gender::Male);
        assert_eq!(
            format!("{id:?}"),
            format!("IdNumber(ResidentIdCard, {})", id.masked())
        );
        assert!(!format!("{id:?}").contains(&number));
    }

    #[test]
    fn resident_ids_break_each_rule_by_name() {
        let cases = [
            ("42130319900307123", Rule::ResidentIdFormat),
            (
                &*format!("{}Y", "42130319900307123"),
                Rule::ResidentIdFormat,
            ),
            (&*wrong_check("42130319900307123"), Rule::ResidentIdCheck),
            (
                "４２１３０３１９９００３０７１２３Ｘ",
                Rule::ResidentIdFormat,
            ),
            (&*with_check("42130319900230123"), Rule::ResidentIdBirthDate),
            (&*with_check("42130320300101123"), Rule::ResidentIdBirthDate),
            (&*with_check("42130318800101123"), Rule::ResidentIdBirthDate),
            (&*with_check("99999919900101123"), Rule::ResidentIdArea),
        ];
        for (number, rule) in cases {
            let error = IdNumber::parse(
                IdDocumentKind::ResidentIdCard,
                number,
                today(),
                "/id_number",
            )
            .unwrap_err();
            assert_eq!(error.rule, rule, "{number}");
        }
    }

    #[test]
    fn retired_area_codes_still_identify_people() {
        // 崇文区 of Beijing (110103), merged in 2010; 京山县 (420821), a city since 2018.
        for first17 in ["11010319650412002", "42082119780101001"] {
            let number = with_check(first17);
            assert!(
                IdNumber::parse(
                    IdDocumentKind::ResidentIdCard,
                    &number,
                    today(),
                    "/id_number"
                )
                .is_ok(),
                "{number}"
            );
        }
    }

    #[test]
    fn other_documents_by_their_formats() {
        let good = [
            (IdDocumentKind::HongKongMacaoPermit, "H12345678"),
            (IdDocumentKind::HongKongMacaoPermit, "m1234567890"),
            (IdDocumentKind::TaiwanPermit, "12345678"),
            (IdDocumentKind::Passport, "E12345678"),
            (IdDocumentKind::Passport, "ea1234567"),
            (
                IdDocumentKind::ForeignPermanentResidentId,
                "USA123456789012",
            ),
            (
                IdDocumentKind::ForeignPermanentResidentId,
                &with_check("93384019900101123"),
            ),
        ];
        for (kind, number) in good {
            assert!(
                IdNumber::parse(kind, number, today(), "/id_number").is_ok(),
                "{kind:?} {number}"
            );
        }
        let bad = [
            (
                IdDocumentKind::HongKongMacaoPermit,
                "X12345678",
                Rule::HongKongMacaoPermitFormat,
            ),
            (
                IdDocumentKind::HongKongMacaoPermit,
                "H1234567",
                Rule::HongKongMacaoPermitFormat,
            ),
            (
                IdDocumentKind::TaiwanPermit,
                "1234567A",
                Rule::TaiwanPermitFormat,
            ),
            (IdDocumentKind::Passport, "ABCDEFGH", Rule::PassportFormat),
            (IdDocumentKind::Passport, "E123", Rule::PassportFormat),
            (IdDocumentKind::Passport, "E1234567%", Rule::PassportFormat),
            (
                IdDocumentKind::ForeignPermanentResidentId,
                "US1234567890123",
                Rule::ForeignPermanentResidentIdFormat,
            ),
            (
                IdDocumentKind::ForeignPermanentResidentId,
                &*wrong_check("93384019900101123"),
                Rule::ForeignPermanentResidentIdCheck,
            ),
            (IdDocumentKind::Passport, "护照12345", Rule::PassportFormat),
            (
                IdDocumentKind::HongKongMacaoPermit,
                "港12345678",
                Rule::HongKongMacaoPermitFormat,
            ),
        ];
        for (kind, number, rule) in bad {
            let error = IdNumber::parse(kind, number, today(), "/id_number").unwrap_err();
            assert_eq!(error.rule, rule, "{kind:?} {number}");
        }
    }
}
