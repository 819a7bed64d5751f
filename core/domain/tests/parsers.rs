//! Property tests of every parser of untrusted text in the domain: none panics on any input,
//! whatever one accepts re-parses to itself and keeps its type's invariants, check characters
//! catch every single-character change and every swap of adjacent characters, and every error
//! names a field under the prefix it was given.
//!
//! The case count is 256 unless `PROPTEST_CASES` says otherwise (CI runs more, under a time
//! limit); failures are never written into the source tree.

use std::collections::HashSet;
use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config as ProptestConfig, contextualize_config};
use serde_json::{Value, json};
use time::{Date, Month};
use uuid::Uuid;
use zhiyuan_domain::tenant::{RegionConfig, TenantConfig, TenantSpec};
use zhiyuan_domain::{
    CoordinateSystem, Coordinates, CreditCode, Gender, IdDocumentKind, IdNumber, KnownTeam,
    LegalStatus, LocalizedName, MobileNumber, OrgCode, Password, PersonName, Region, RegionCode,
    RegionLevel, ReviewingBody, ReviewingBodyKind, Rule, Scope, ServiceCategory, TeamApplication,
    TeamApplicationContext, TeamStatus, TenantCode, UnitKind, Username, VolunteerApplication,
    VolunteerNumber, check_text, is_forbidden_character, parse_tags, parse_team_name,
    resident_birth_date,
};

const DEFAULT_CASES: u32 = 256;

/// 256 cases, no failure files, shrinking bounded to a minute; then proptest's own reading of
/// `PROPTEST_CASES` (and the other `PROPTEST_*` variables) overrides these.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(DEFAULT_CASES);
    config.failure_persistence = None;
    config.max_shrink_time = 60_000;
    contextualize_config(config)
}

fn today() -> Date {
    Date::from_calendar_date(2026, Month::November, 29).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Characters that matter to one parser or another, beside any character at all.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        2 => select(vec![
            '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X', 'x', 'H', 'M', 'a', 'Z', '-',
            ' ', '\t', '\n', '\r', '\u{0}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{a0}',
            '\u{3000}', '\u{feff}', '+', '·', '•', '・', '‧', '∙', '⋅', '.', '\'', ':', '_', '/',
            '张', '三', '𠮷', '艾', 'é', 'ë', 'Ж', '١', '４', 'Ｘ', 'ß', 'İ', '\u{301}',
        ]),
        1 => any::<char>(),
    ]
}

/// Any text: arbitrary characters (control characters included), text of the characters
/// parsers care about, and very long text.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter),
        4 => proptest::collection::vec(interesting_char(), 0..40).prop_map(String::from_iter),
        1 => proptest::collection::vec(interesting_char(), 0..600).prop_map(String::from_iter),
        1 => long_text(),
    ]
}

/// Very long text, cheap to make: a few characters repeated up to 20,000 times.
fn long_text() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(interesting_char(), 1..4),
        0..20_000usize,
    )
        .prop_map(|(unit, times)| String::from_iter(unit).repeat(times))
}

/// Short text of any characters, for lists of many entries.
fn short_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter),
        proptest::collection::vec(interesting_char(), 0..40).prop_map(String::from_iter),
    ]
}

/// An edit of a text: at a position, delete, insert or replace a character.
#[derive(Debug, Clone)]
enum Edit {
    Delete(Index),
    Insert(Index, char),
    Replace(Index, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), interesting_char()).prop_map(|(at, c)| Edit::Insert(at, c)),
        (any::<Index>(), interesting_char()).prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        match edit {
            Edit::Insert(at, c) => chars.insert(at.index(chars.len() + 1), *c),
            Edit::Delete(at) if !chars.is_empty() => {
                chars.remove(at.index(chars.len()));
            }
            Edit::Replace(at, c) if !chars.is_empty() => {
                let at = at.index(chars.len());
                chars[at] = *c;
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Valid text and text a few edits away from it, beside any text at all.
fn near(valid: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        2 => valid.clone(),
        3 => (valid, proptest::collection::vec(edit(), 1..4))
            .prop_map(|(text, edits)| apply(&text, &edits)),
        2 => any_text(),
    ]
}

/// Valid text most of the time, so that whole applications parse often enough.
fn mostly(valid: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    prop_oneof![5 => valid.clone(), 1 => near(valid)]
}

/// The prefix of an error's field, as a caller gives it.
fn field_prefix() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "(/[a-z_]{1,12}){1,3}",
        "/rows/[0-9]{1,4}/[a-z_]{1,12}",
    ]
}

/// Any date the `time` crate can hold: `today` as a caller might (wrongly) give it.
fn any_date() -> impl Strategy<Value = Date> {
    (Date::MIN.to_julian_day()..=Date::MAX.to_julian_day())
        .prop_map(|day| Date::from_julian_day(day).unwrap())
}

fn id_kind() -> impl Strategy<Value = IdDocumentKind> {
    select(IdDocumentKind::ALL)
}

/// The GB/T 2260 codes, current and retired, from the same table the parser reads.
static AREA_CODES: LazyLock<Vec<String>> = LazyLock::new(|| {
    include_str!("../data/gb2260.tsv")
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next())
        .filter(|code| code.len() == 6)
        .map(str::to_owned)
        .collect()
});

fn area_code() -> impl Strategy<Value = String> {
    any::<Index>().prop_map(|index| AREA_CODES[index.index(AREA_CODES.len())].clone())
}

/// GB 11643 (ISO 7064 MOD 11-2), written here from the standard rather than taken from the
/// parser: weights 2^(17-i) mod 11, check character "10X98765432"[sum mod 11].
fn resident_check(first17: &str) -> char {
    let sum: u32 = first17
        .bytes()
        .enumerate()
        .map(|(i, digit)| u32::from(digit - b'0') * (1u32 << (17 - i)) % 11)
        .sum();
    char::from(b"10X98765432"[(sum % 11) as usize])
}

/// A resident ID of a known area code, born between 1900 and `today`, with its check character,
/// and the birth date and gender it carries.
fn resident_id() -> impl Strategy<Value = (String, Date, Gender)> {
    let earliest = Date::from_calendar_date(1900, Month::January, 1)
        .unwrap()
        .to_julian_day();
    (area_code(), earliest..=today().to_julian_day(), 0u32..1000).prop_map(
        |(area, day, sequence)| {
            let birth = Date::from_julian_day(day).unwrap();
            let first17 = format!(
                "{area}{:04}{:02}{:02}{sequence:03}",
                birth.year(),
                birth.month() as u8,
                birth.day()
            );
            let gender = if sequence % 10 % 2 == 1 {
                Gender::Male
            } else {
                Gender::Female
            };
            (
                format!("{first17}{}", resident_check(&first17)),
                birth,
                gender,
            )
        },
    )
}

/// A 2023 foreign permanent resident ID: 9, 16 digits and the GB 11643 check character.
fn foreign_resident_id() -> impl Strategy<Value = String> {
    "9[0-9]{16}".prop_map(|first17| format!("{first17}{}", resident_check(&first17)))
}

/// A number of the given kind that its rules accept, as a person might type it.
fn valid_number(kind: IdDocumentKind) -> BoxedStrategy<String> {
    match kind {
        IdDocumentKind::ResidentIdCard => resident_id().prop_map(|(id, _, _)| id).boxed(),
        IdDocumentKind::HongKongMacaoPermit => "[HMhm]([0-9]{8}|[0-9]{10})".boxed(),
        IdDocumentKind::TaiwanPermit => "[0-9]{8}|[0-9]{10}".boxed(),
        IdDocumentKind::Passport => "[A-Za-z0-9]{0,8}[0-9][A-Za-z0-9]{0,8}"
            .prop_filter("5 to 17 characters", |n| (5..=17).contains(&n.len()))
            .boxed(),
        IdDocumentKind::ForeignPermanentResidentId => {
            prop_oneof!["[A-Z]{3}[0-9]{12}", foreign_resident_id()].boxed()
        }
    }
}

/// Whitespace and hyphens, which number parsers drop, put between characters; and lower case.
fn spaced(text: &str, gaps: &[(Index, &'static str)], lower: bool) -> String {
    let mut chars: Vec<String> = text.chars().map(String::from).collect();
    for (at, gap) in gaps {
        chars.insert(at.index(chars.len() + 1), (*gap).to_owned());
    }
    let joined = chars.concat();
    if lower {
        joined.to_ascii_lowercase()
    } else {
        joined
    }
}

fn gaps() -> impl Strategy<Value = Vec<(Index, &'static str)>> {
    proptest::collection::vec(
        (
            any::<Index>(),
            select(vec![" ", "-", "\t", "\u{3000}", " - "]),
        ),
        0..4,
    )
}

const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100: weights 3^i mod 31, check value (31 - sum mod 31) mod 31.
fn credit_check(first17: &[u8]) -> u8 {
    let value = |c: &u8| CREDIT_CHARSET.iter().position(|k| k == c).unwrap() as u32;
    let mut weight = 1;
    let mut sum = 0;
    for c in first17 {
        sum += value(c) * weight;
        weight = weight * 3 % 31;
    }
    CREDIT_CHARSET[((31 - sum % 31) % 31) as usize]
}

fn credit_code() -> impl Strategy<Value = String> {
    proptest::collection::vec(select(CREDIT_CHARSET.to_vec()), 17).prop_map(|mut code| {
        code.push(credit_check(&code));
        String::from_utf8(code).unwrap()
    })
}

/// The value of an organisation-code character (GB 11714): digits themselves, A..Z 10..35.
fn org_value(c: u8) -> u32 {
    if c.is_ascii_digit() {
        u32::from(c - b'0')
    } else {
        u32::from(c - b'A') + 10
    }
}

fn org_check(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip([3, 7, 9, 10, 5, 8, 4, 2])
        .map(|(c, w)| org_value(*c) * w)
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        digit => b'0' + digit as u8,
    }
}

fn org_code() -> impl Strategy<Value = String> {
    "[0-9A-Z]{8}".prop_map(|body| format!("{body}{}", char::from(org_check(body.as_bytes()))))
}

fn han_name() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            proptest::char::range('\u{4e00}', '\u{9fff}'),
            proptest::char::range('\u{3400}', '\u{4dbf}'),
            proptest::char::range('\u{20000}', '\u{2a6df}'),
        ],
        1..6,
    )
    .prop_map(String::from_iter)
}

fn person_name() -> impl Strategy<Value = String> {
    prop_oneof![
        han_name(),
        (han_name(), select(vec!['·', '•', '・', '.']), han_name())
            .prop_map(|(a, dot, b)| format!("{a}{dot}{b}")),
        "[A-Z][a-z]{1,10}( [A-Z][a-z]{1,10}){0,2}",
        "[A-Z]\\. [A-Z][a-z]{1,10}",
        "[A-Z][a-z]{1,8}'[A-Z][a-z]{1,8}-[A-Z][a-z]{1,8}",
    ]
}

fn mobile() -> impl Strategy<Value = String> {
    prop_oneof![
        "1[3-9][0-9]{9}",
        "\\+861[3-9][0-9]{9}",
        "\\+86 1[3-9][0-9] [0-9]{4}-[0-9]{4}",
        "\\+[0-9]{8,15}",
    ]
}

fn region_code_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec![
            "421300", "421303", "421321", "421381", "421371", "420000", "110101", "000000",
            "001234", "42130x", "", "４２１３００", "4213000", "42130", " 421300",
        ])
        .prop_map(str::to_owned),
        2 => "[0-9]{6}",
        1 => any_text(),
    ]
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

const CATEGORIES: [ServiceCategory; 14] = [
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

fn tags() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        3 => proptest::collection::vec("[ \t]?[a-z张三]{1,30}[ \u{3000}]?", 0..20),
        2 => proptest::collection::vec(short_text(), 0..25),
        1 => proptest::collection::vec(any_text(), 0..3),
    ]
}

/// Asserts the field of an error lies under the prefix the caller gave.
fn assert_field_under(field: &str, prefix: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        field.starts_with(prefix),
        "error field {field:?} is not under {prefix:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Identity documents
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Any text of any kind, any `today`: no panic; a refusal names the field given; what is
    /// accepted is canonical (upper-case ASCII letters and digits), re-parses to itself, and is
    /// masked to stars but for its edges.
    #[test]
    fn id_numbers_never_panic_and_reparse(
        kind in id_kind(),
        text in id_kind().prop_flat_map(|kind| near(valid_number(kind))),
        day in prop_oneof![Just(today()), any_date()],
        field in field_prefix(),
    ) {
        match IdNumber::parse(kind, &text, day, &field) {
            Err(error) => {
                prop_assert_eq!(&error.field, &field);
                prop_assert!(
                    matches!(
                        error.rule,
                        Rule::ResidentIdFormat
                            | Rule::ResidentIdCheck
                            | Rule::ResidentIdArea
                            | Rule::ResidentIdBirthDate
                    ) == (kind == IdDocumentKind::ResidentIdCard),
                    "{kind:?} refused by {:?}", error.rule
                );
            }
            Ok(id) => {
                let number = id.expose();
                prop_assert_eq!(id.kind(), kind);
                prop_assert!(number
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
                prop_assert_eq!(IdNumber::parse(kind, number, day, &field), Ok(id.clone()));
                let masked = id.masked();
                prop_assert_eq!(masked.len(), number.len());
                let shown = masked.bytes().filter(|b| *b != b'*').count();
                prop_assert!(shown <= 4, "{masked} shows too much");
                prop_assert!(!format!("{id:?}").contains(number), "Debug shows the number");
            }
        }
    }

    /// `resident_birth_date` reads numbers opened from storage; it must not panic on any text,
    /// such as one whose bytes 6..14 are a date and whose byte 16 is below '0'
    /// ("00000020000101  /").
    #[test]
    fn resident_birth_date_never_panics(
        text in prop_oneof![
            near(resident_id().prop_map(|(id, _, _)| id).boxed()),
            ("[0-9]{6}20000101[0-9]{0,2}", interesting_char(), any_text())
                .prop_map(|(head, c, tail)| format!("{head}{c}{tail}")),
        ],
    ) {
        let _ = resident_birth_date(&text);
    }

    /// Every resident ID built to GB 11643 from a known area code and a past birth date parses,
    /// in upper or lower case, with spaces and hyphens anywhere; it gives back its birth date
    /// and gender; its masked form shows the last two characters only.
    #[test]
    fn valid_resident_ids_parse(
        (number, birth, gender) in resident_id(),
        gaps in gaps(),
        lower in any::<bool>(),
    ) {
        let typed = spaced(&number, &gaps, lower);
        let id = IdNumber::parse(IdDocumentKind::ResidentIdCard, &typed, today(), "/id")
            .map_err(|e| TestCaseError::fail(format!("{typed:?}: {e:?}")))?;
        prop_assert_eq!(id.expose(), number.as_str());
        let facts = id.resident_facts().unwrap();
        prop_assert_eq!(facts.birth_date, birth);
        prop_assert_eq!(facts.gender, gender);
        prop_assert_eq!(resident_birth_date(&number), Some(birth));
        let masked = id.masked();
        prop_assert_eq!(&masked[..16], "*".repeat(16));
        prop_assert_eq!(&masked[16..], &number[16..]);
    }

    /// GB 11643's check character catches every change of one character and every swap of two
    /// adjacent different characters; nothing else is checked first, so the rule says so.
    #[test]
    fn resident_ids_refuse_one_changed_or_swapped_character(
        (number, _, _) in resident_id(),
        at in 0usize..18,
        replacement in select(b"0123456789X".to_vec()),
        swap_at in 0usize..17,
    ) {
        let mut changed = number.clone().into_bytes();
        if changed[at] != replacement && (at == 17 || replacement != b'X') {
            changed[at] = replacement;
            let changed = String::from_utf8(changed).unwrap();
            let error = IdNumber::parse(IdDocumentKind::ResidentIdCard, &changed, today(), "/id")
                .unwrap_err();
            prop_assert_eq!(error.rule, Rule::ResidentIdCheck, "{}", changed);
        }
        let mut swapped = number.clone().into_bytes();
        if swapped[swap_at] != swapped[swap_at + 1] {
            swapped.swap(swap_at, swap_at + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            let error = IdNumber::parse(IdDocumentKind::ResidentIdCard, &swapped, today(), "/id")
                .unwrap_err();
            prop_assert!(
                matches!(error.rule, Rule::ResidentIdCheck | Rule::ResidentIdFormat),
                "{swapped}: {:?}", error.rule
            );
        }
    }

    /// The 2023 foreign permanent resident ID shares GB 11643's check character.
    #[test]
    fn foreign_resident_ids_check_their_last_character(
        number in foreign_resident_id(),
        at in 1usize..18,
        replacement in select(b"0123456789X".to_vec()),
        swap_at in 1usize..17,
    ) {
        let kind = IdDocumentKind::ForeignPermanentResidentId;
        prop_assert!(IdNumber::parse(kind, &number, today(), "/id").is_ok(), "{}", number);
        let mut changed = number.clone().into_bytes();
        if changed[at] != replacement && (at == 17 || replacement != b'X') {
            changed[at] = replacement;
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(IdNumber::parse(kind, &changed, today(), "/id").is_err(), "{}", changed);
        }
        let mut swapped = number.clone().into_bytes();
        if swapped[swap_at] != swapped[swap_at + 1] {
            swapped.swap(swap_at, swap_at + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            prop_assert!(IdNumber::parse(kind, &swapped, today(), "/id").is_err(), "{}", swapped);
        }
    }

    /// Every document number of the right shape parses, typed in any case with spaces and
    /// hyphens, to the same canonical number; short documents keep at most their first and
    /// last three characters in the clear.
    #[test]
    fn valid_numbers_of_every_kind_parse_however_typed(
        (kind, number) in id_kind().prop_flat_map(|kind| (Just(kind), valid_number(kind))),
        gaps in gaps(),
        lower in any::<bool>(),
    ) {
        let canonical = IdNumber::parse(kind, &number, today(), "/id")
            .map_err(|e| TestCaseError::fail(format!("{kind:?} {number:?}: {e:?}")))?;
        prop_assert_eq!(canonical.expose(), number.to_ascii_uppercase());
        let typed = spaced(&number, &gaps, lower);
        prop_assert_eq!(IdNumber::parse(kind, &typed, today(), "/id"), Ok(canonical.clone()));
        if kind != IdDocumentKind::ResidentIdCard {
            let masked = canonical.masked();
            let middle = &masked[1.min(masked.len())..masked.len().saturating_sub(3)];
            prop_assert!(middle.bytes().all(|b| b == b'*'), "{masked}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Organisation codes
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn credit_codes_never_panic_and_reparse(text in near(credit_code().boxed())) {
        if let Ok(code) = CreditCode::parse(&text) {
            prop_assert_eq!(code.as_str().len(), 18);
            prop_assert!(code.as_str().bytes().all(|b| CREDIT_CHARSET.contains(&b)));
            prop_assert_eq!(CreditCode::parse(code.as_str()), Ok(code.clone()));
            prop_assert_eq!(code.to_string(), code.as_str());
        }
    }

    /// A GB 32100 code parses however cased and padded; changing one character to another of
    /// the code's alphabet, or swapping two adjacent different characters, is always refused
    /// (31 is prime and no weight is 0 mod 31, nor the difference of adjacent weights).
    #[test]
    fn credit_codes_catch_one_changed_or_swapped_character(
        code in credit_code(),
        pad in select(vec!["", " ", "\t", "\u{3000}", "\n"]),
        at in 0usize..18,
        replacement in select(CREDIT_CHARSET.to_vec()),
        swap_at in 0usize..17,
    ) {
        let parsed = CreditCode::parse(&format!("{pad}{}{pad}", code.to_lowercase()));
        prop_assert_eq!(parsed.map(|c| c.as_str().to_owned()), Ok(code.clone()));
        let mut changed = code.clone().into_bytes();
        if changed[at] != replacement {
            changed[at] = replacement;
            let changed = String::from_utf8(changed).unwrap();
            prop_assert_eq!(CreditCode::parse(&changed), Err(Rule::CreditCodeCheck), "{}", changed);
        }
        let mut swapped = code.clone().into_bytes();
        if swapped[swap_at] != swapped[swap_at + 1] {
            swapped.swap(swap_at, swap_at + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            prop_assert_eq!(CreditCode::parse(&swapped), Err(Rule::CreditCodeCheck), "{}", swapped);
        }
    }

    #[test]
    fn org_codes_never_panic_and_reparse(text in near(org_code().boxed())) {
        if let Ok(code) = OrgCode::parse(&text) {
            prop_assert_eq!(code.as_str().len(), 9);
            prop_assert!(!code.as_str().contains('-'));
            prop_assert_eq!(OrgCode::parse(code.as_str()), Ok(code.clone()));
        }
    }

    /// A GB 11714 code parses with or without its hyphen, in any case. Its check works mod 11:
    /// a change of one character is caught whenever the two values differ mod 11 (always among
    /// digits; 0 and B, 11 apart, the standard itself cannot tell), and so is a swap of two
    /// adjacent characters whose values differ mod 11 (for the check character, two digits).
    #[test]
    fn org_codes_catch_changes_the_standard_can_see(
        code in org_code(),
        lower in any::<bool>(),
        at in 0usize..9,
        replacement in select(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".to_vec()),
        swap_at in 0usize..8,
    ) {
        let hyphenated = format!("{}-{}", &code[..8], &code[8..]);
        let typed = if lower { hyphenated.to_lowercase() } else { hyphenated };
        prop_assert_eq!(OrgCode::parse(&typed).map(|c| c.as_str().to_owned()), Ok(code.clone()));
        let bytes = code.as_bytes();
        let caught = if at == 8 {
            replacement != bytes[8]
        } else {
            org_value(bytes[at]) % 11 != org_value(replacement) % 11
        };
        if caught {
            let mut changed = bytes.to_vec();
            changed[at] = replacement;
            let changed = String::from_utf8(changed).unwrap();
            prop_assert_eq!(OrgCode::parse(&changed), Err(Rule::OrgCodeCheck), "{}", changed);
        }
        let (a, b) = (bytes[swap_at], bytes[swap_at + 1]);
        let caught = if swap_at < 7 {
            org_value(a) % 11 != org_value(b) % 11
        } else {
            a.is_ascii_digit() && b.is_ascii_digit() && a != b
        };
        if caught {
            let mut swapped = bytes.to_vec();
            swapped.swap(swap_at, swap_at + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            prop_assert_eq!(OrgCode::parse(&swapped), Err(Rule::OrgCodeCheck), "{}", swapped);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regions, tenants, accounts, names, numbers
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// A region code is six ASCII digits not beginning 00, and re-parses from `as_str`; a
    /// tenant code is one that is not a province's.
    #[test]
    fn region_and_tenant_codes(text in prop_oneof![region_code_text(), near("[0-9]{6}".boxed())]) {
        let region = RegionCode::parse(&text);
        let shaped = text.len() == 6
            && text.bytes().all(|b| b.is_ascii_digit())
            && !text.starts_with("00");
        prop_assert_eq!(region.is_ok(), shaped, "{:?}", text);
        if let Ok(region) = &region {
            prop_assert_eq!(RegionCode::parse(region.as_str()), Ok(region.clone()));
            prop_assert_eq!(region.is_province(), text.ends_with("0000"));
        }
        match TenantCode::parse(&text) {
            Ok(tenant) => {
                prop_assert_eq!(tenant.region(), region.as_ref().unwrap());
                prop_assert!(!tenant.region().is_province());
                prop_assert_eq!(TenantCode::parse(tenant.as_str()), Ok(tenant.clone()));
            }
            Err(rule) => {
                prop_assert_eq!(rule, Rule::TenantCodeFormat);
                prop_assert!(!region.is_ok_and(|r| !r.is_province()));
            }
        }
    }

    #[test]
    fn usernames_reparse_and_keep_their_alphabet(
        text in prop_oneof![near("[a-z0-9._-]{3,64}".boxed()), "[a-z.]{0,5}[0-9]{6,12}[a-z]{0,5}"],
        field in field_prefix(),
    ) {
        match Username::parse(&text, &field) {
            Ok(name) => {
                prop_assert_eq!(name.as_str(), text.as_str());
                prop_assert!((3..=64).contains(&name.as_str().len()));
                prop_assert!(name
                    .as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
                prop_assert_eq!(Username::parse(name.as_str(), &field), Ok(name.clone()));
                prop_assert!(!name.as_str().as_bytes().windows(8).any(|w| w.iter().all(u8::is_ascii_digit)));
            }
            Err(error) => {
                prop_assert_eq!(error.field, field);
                let holds_number = text.as_bytes().windows(8).any(|w| w.iter().all(u8::is_ascii_digit));
                prop_assert!(
                    error.rule == Rule::UsernameFormat
                        || (error.rule == Rule::UsernameHoldsNumber && holds_number)
                );
            }
        }
    }

    #[test]
    fn passwords_count_characters_and_never_show(
        text in prop_oneof![any_text(), "\\PC{8,12}", "\\PC{126,130}"],
        field in field_prefix(),
    ) {
        let length = text.chars().count();
        match Password::parse(&text, &field) {
            Ok(password) => {
                prop_assert!((10..=128).contains(&length));
                prop_assert_eq!(password.expose(), text.as_str());
                prop_assert_eq!(format!("{password:?}"), "Password(***)");
            }
            Err(error) => {
                prop_assert!(!(10..=128).contains(&length));
                prop_assert_eq!(error.field, field);
            }
        }
    }

    /// A name that parses holds no control character, is trimmed, at most 50 characters, and
    /// re-parses to itself.
    #[test]
    fn person_names_reparse_to_themselves(
        text in near(person_name().boxed()),
        field in field_prefix(),
    ) {
        match PersonName::parse(&text, &field) {
            Ok(name) => {
                let name = name.as_str();
                prop_assert!(!name.is_empty() && name.chars().count() <= 50);
                prop_assert_eq!(name, name.trim());
                prop_assert!(!name.chars().any(is_forbidden_character));
                prop_assert_eq!(
                    PersonName::parse(name, &field).map(|n| n.as_str().to_owned()),
                    Ok(name.to_owned())
                );
            }
            Err(error) => {
                prop_assert_eq!(error.field, field);
                prop_assert_eq!(error.rule, Rule::PersonName);
            }
        }
    }

    /// Names built as people have them are accepted.
    #[test]
    fn real_names_are_accepted(name in person_name()) {
        prop_assert!(PersonName::parse(&name, "/name").is_ok(), "{:?}", name);
    }

    /// The parser trims, so whitespace around a name changes nothing: a full-width space
    /// (U+3000, common in Chinese spreadsheets) around "A. Aa" leaves its initial's dot alone.
    #[test]
    fn person_names_ignore_surrounding_whitespace(
        name in near(person_name().boxed()),
        before in select(vec!["", " ", "\t", "\u{3000}", "\n"]),
        after in select(vec!["", " ", "\t", "\u{3000}", "\n"]),
    ) {
        let padded = format!("{before}{name}{after}");
        prop_assert_eq!(
            PersonName::parse(&padded, "/name").map(|n| n.as_str().to_owned()),
            PersonName::parse(&name, "/name").map(|n| n.as_str().to_owned()),
            "{:?}", padded
        );
    }

    /// A mobile number that parses is 11 mainland digits or + and 8 to 15 digits, re-parses to
    /// itself, and its masked and Debug forms never show the middle digits.
    #[test]
    fn mobiles_reparse_and_mask(text in near(mobile().boxed()), field in field_prefix()) {
        match MobileNumber::parse(&text, &field) {
            Ok(mobile) => {
                let number = mobile.as_str();
                let mainland = number.len() == 11
                    && number.starts_with('1')
                    && number.bytes().all(|b| b.is_ascii_digit());
                let international = number.strip_prefix('+').is_some_and(|digits| {
                    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
                });
                prop_assert!(mainland || international, "{number}");
                prop_assert_eq!(MobileNumber::parse(number, &field), Ok(mobile.clone()));
                let masked = mobile.masked();
                prop_assert_eq!(masked.len(), number.len());
                prop_assert_eq!(&masked[..3], &number[..3]);
                prop_assert_eq!(&masked[number.len() - 4..], &number[number.len() - 4..]);
                prop_assert!(masked[3..number.len() - 4].bytes().all(|b| b == b'*'));
                prop_assert!(!format!("{mobile:?}").contains(number), "Debug shows the number");
            }
            Err(error) => {
                prop_assert_eq!(error.field, field);
                prop_assert_eq!(error.rule, Rule::MobileFormat);
            }
        }
    }

    /// Mainland numbers parse to their 11 digits however written.
    #[test]
    fn mainland_mobiles_however_written(digits in "1[3-9][0-9]{9}", gaps in gaps(), plus86 in any::<bool>()) {
        let gaps: Vec<_> = gaps.into_iter().filter(|(_, gap)| !gap.contains(['\t', '\u{3000}'])).collect();
        let typed = spaced(&format!("{}{digits}", if plus86 { "+86" } else { "" }), &gaps, false);
        prop_assert_eq!(
            MobileNumber::parse(&typed, "/m").map(|m| m.as_str().to_owned()),
            Ok(digits.clone()),
            "{:?}", typed
        );
    }

    /// Tags are trimmed, 1 to 30 characters, at most 20, free of control characters, and parse
    /// to themselves again; a refusal names the list or one of its entries.
    #[test]
    fn tags_are_idempotent(values in tags(), field in field_prefix()) {
        match parse_tags(&values, &field) {
            Ok(tags) => {
                prop_assert!(values.len() <= 20);
                prop_assert_eq!(tags.len(), values.len());
                for (tag, value) in tags.iter().zip(&values) {
                    prop_assert_eq!(tag.as_str(), value.trim());
                    prop_assert!((1..=30).contains(&tag.chars().count()));
                    prop_assert!(!tag.chars().any(is_forbidden_character));
                }
                prop_assert_eq!(parse_tags(&tags, &field), Ok(tags.clone()));
            }
            Err(error) => {
                assert_field_under(&error.field, &field)?;
                match error.rule {
                    Rule::TagsTooMany => prop_assert_eq!(&error.field, &field),
                    Rule::TagLength => {
                        let index: usize = error.field[field.len()..]
                            .strip_prefix('/')
                            .and_then(|i| i.parse().ok())
                            .unwrap();
                        let bad = values[index].trim();
                        prop_assert!(bad.is_empty() || bad.chars().count() > 30);
                    }
                    Rule::ControlCharacter => {
                        let index: usize = error.field[field.len()..]
                            .strip_prefix('/')
                            .and_then(|i| i.parse().ok())
                            .unwrap();
                        prop_assert!(values[index].chars().any(is_forbidden_character));
                    }
                    rule => prop_assert!(false, "unexpected rule {rule:?}"),
                }
            }
        }
    }

    #[test]
    fn team_names_are_idempotent(text in any_text(), field in field_prefix()) {
        match parse_team_name(&text, &field) {
            Ok(name) => {
                prop_assert_eq!(name.as_str(), text.trim());
                prop_assert!((2..=100).contains(&name.chars().count()));
                prop_assert!(!name.chars().any(is_forbidden_character));
                prop_assert_eq!(parse_team_name(&name, &field), Ok(name.clone()));
            }
            Err(error) => {
                prop_assert_eq!(error.field, field);
                prop_assert!(matches!(error.rule, Rule::NameEmpty | Rule::NameTooLong | Rule::ControlCharacter));
            }
        }
    }

    #[test]
    fn text_checks_agree_with_the_character_rule(
        text in any_text(),
        max in prop_oneof![0usize..50, Just(usize::MAX)],
        field in field_prefix(),
    ) {
        let forbidden = text.chars().any(is_forbidden_character);
        match check_text(&text, max, &field) {
            Ok(()) => prop_assert!(!forbidden && text.chars().count() <= max),
            Err(error) => {
                prop_assert_eq!(&error.field, &field);
                let expected = if forbidden { Rule::ControlCharacter } else { Rule::TextTooLong };
                prop_assert_eq!(error.rule, expected);
            }
        }
    }

    #[test]
    fn forbidden_characters_are_the_controls_but_tab_and_line_ends(c in any::<char>()) {
        prop_assert_eq!(
            is_forbidden_character(c),
            c.is_control() && !matches!(c, '\t' | '\n' | '\r')
        );
    }

    /// A volunteer number made by the node parses, however cased and padded; a changed or
    /// swapped character is refused (ISO 7064 MOD 11-2, as for resident IDs); anything that
    /// parses re-parses to itself.
    #[test]
    fn volunteer_numbers_check_their_last_character(
        tenant in "[1-9][0-9]{3}[0-9][1-9]",
        random in any::<u32>(),
        at in 0usize..16,
        replacement in select(b"0123456789X".to_vec()),
        swap_at in 0usize..15,
        pad in select(vec!["", " ", "\u{3000}"]),
        text in any_text(),
    ) {
        let tenant = TenantCode::parse(&tenant).unwrap();
        let number = VolunteerNumber::new(&tenant, random);
        let typed = format!("{pad}{}{pad}", number.as_str().to_lowercase());
        prop_assert_eq!(VolunteerNumber::parse(&typed), Ok(number.clone()));
        let bytes = number.as_str().as_bytes();
        if bytes[at] != replacement && (at == 15 || replacement != b'X') {
            let mut changed = bytes.to_vec();
            changed[at] = replacement;
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(VolunteerNumber::parse(&changed).is_err(), "{}", changed);
        }
        if bytes[swap_at] != bytes[swap_at + 1] {
            let mut swapped = bytes.to_vec();
            swapped.swap(swap_at, swap_at + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            prop_assert!(VolunteerNumber::parse(&swapped).is_err(), "{}", swapped);
        }
        if let Ok(parsed) = VolunteerNumber::parse(&text) {
            prop_assert_eq!(parsed.as_str().len(), 16);
            prop_assert_eq!(VolunteerNumber::parse(parsed.as_str()), Ok(parsed.clone()));
        }
    }

    #[test]
    fn volunteer_numbers_never_panic(text in near("[0-9]{15}[0-9Xx]".boxed())) {
        if let Ok(number) = VolunteerNumber::parse(&text) {
            prop_assert_eq!(VolunteerNumber::parse(number.as_str()), Ok(number.clone()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scopes of grants
// ---------------------------------------------------------------------------------------------

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Node),
        Just(Scope::Tenant),
        uuid().prop_map(Scope::ReviewingBody),
        uuid().prop_map(Scope::Team),
        uuid().prop_map(Scope::Project),
    ]
}

/// Scopes as text: their own form, with the id in other forms uuid reads, and edits of these.
fn scope_text() -> impl Strategy<Value = String> {
    let written = (scope(), 0..5u8).prop_map(|(scope, form)| {
        let text = scope.to_text();
        let Some((kind, id)) = text.split_once(':') else {
            return text;
        };
        let id = Uuid::parse_str(id).unwrap();
        match form {
            0 => text,
            1 => format!("{kind}:{}", id.simple()),
            2 => format!("{kind}:{}", id.braced()),
            3 => format!("{kind}:{}", id.urn()),
            _ => format!("{kind}:{}", id.hyphenated().to_string().to_uppercase()),
        }
    });
    near(written.boxed())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scopes_round_trip(scope in scope()) {
        prop_assert_eq!(Scope::parse(&scope.to_text()), Some(scope));
        let json = serde_json::to_value(scope).unwrap();
        prop_assert_eq!(serde_json::from_value::<Scope>(json).unwrap(), scope);
    }

    /// Any text: no panic; a scope read from it writes itself in canonical form, which reads
    /// back as the same scope.
    #[test]
    fn scopes_parse_to_canonical_text(text in scope_text()) {
        if let Some(scope) = Scope::parse(&text) {
            let canonical = scope.to_text();
            prop_assert_eq!(Scope::parse(&canonical), Some(scope));
            if matches!(scope, Scope::Node | Scope::Tenant) {
                prop_assert_eq!(canonical, text);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tenant configurations
// ---------------------------------------------------------------------------------------------

fn name_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ ]?[\u{4e00}-\u{4e20}a-z]{1,8}[ \u{3000}]?",
        1 => Just(String::new()),
        1 => Just(" \t ".to_owned()),
        1 => "[a]{99,102}",
        2 => any_text(),
    ]
}

fn localized_json() -> BoxedStrategy<Value> {
    (name_text(), proptest::option::of(name_text()))
        .prop_map(|(zh, en)| match en {
            Some(en) => json!({ "zh": zh, "en": en }),
            None => json!({ "zh": zh }),
        })
        .boxed()
}

fn serde_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

fn enum_name(names: Vec<String>) -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => select(names).prop_map(Value::String),
        1 => any_text().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
    ]
}

/// A small integer most of the time, any at all now and then.
fn count() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 1i64..100_000, 1 => any::<i64>(), 1 => -2i64..2]
}

/// A tenant's code and regions drawn from a small pool, so that parents often resolve.
fn tenant_codes() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(vec!["421300", "421303", "421321", "421381", "421371", "420000"])
            .prop_map(str::to_owned),
        1 => region_code_text(),
    ]
}

fn region_json() -> BoxedStrategy<Value> {
    (
        tenant_codes(),
        proptest::option::of(tenant_codes()),
        localized_json(),
        enum_name(RegionLevel::ALL.iter().map(serde_name).collect()),
        any::<bool>(),
        count(),
    )
        .prop_map(|(code, parent, name, level, local, population)| {
            let mut region = json!({
                "code": code, "name": name, "level": level, "local": local,
                "resident_population": population,
            });
            if let Some(parent) = parent {
                region["parent"] = Value::String(parent);
            }
            region
        })
        .boxed()
}

fn unit_json() -> BoxedStrategy<Value> {
    (
        localized_json(),
        tenant_codes(),
        enum_name(UnitKind::ALL.iter().map(serde_name).collect()),
        enum_name(vec![
            "national".into(),
            "provincial".into(),
            "municipal".into(),
            "other".into(),
        ]),
        count(),
    )
        .prop_map(|(name, region, kind, level, staff)| {
            json!({
                "name": name, "region": region, "kind": kind,
                "civilisation_level": level, "staff": staff,
            })
        })
        .boxed()
}

fn body_json() -> BoxedStrategy<Value> {
    (
        enum_name(ReviewingBodyKind::ALL.iter().map(serde_name).collect()),
        localized_json(),
        tenant_codes(),
    )
        .prop_map(|(kind, name, region)| json!({ "kind": kind, "name": name, "region": region }))
        .boxed()
}

fn plugin_json() -> BoxedStrategy<Value> {
    (
        enum_name(
            zhiyuan_domain::ports::Hook::ALL
                .iter()
                .map(serde_name)
                .collect(),
        ),
        any_text(),
        enum_name(vec!["fail-closed".into(), "fall-back".into()]),
    )
        .prop_map(|(hook, plugin, on_failure)| {
            json!({ "hook": hook, "plugin": plugin, "on_failure": on_failure })
        })
    .boxed()
}

/// Any JSON at all, a few levels deep.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    select(vec![
                        "code", "name", "regions", "zh", "en", "parent", "units"
                    ])
                    .prop_map(str::to_owned),
                    any_text()
                ],
                inner,
                0..4
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A well-formed tenant: its own region first, then regions of distinct codes each under one
/// before it, and units and reviewing bodies of distinct names in those regions.
fn valid_tenant_json() -> BoxedStrategy<Value> {
    let code = select(vec!["421300", "421381"]);
    let children = proptest::sample::subsequence(
        vec!["421302", "421303", "421321", "421371", "421399", "429001"],
        0..=6,
    )
    .prop_shuffle();
    (code, children)
        .prop_flat_map(|(code, children)| {
            let regions = children.len() + 1;
            (
                Just(code),
                Just(children),
                proptest::collection::vec((any::<Index>(), 1i64..10_000_000), regions),
                proptest::collection::vec(
                    (any::<Index>(), select(UnitKind::ALL), 1i64..5000),
                    0..4,
                ),
                proptest::collection::vec((any::<Index>(), select(ReviewingBodyKind::ALL)), 0..4),
                proptest::collection::vec(plugin_json(), 0..2),
            )
        })
        .prop_map(|(code, children, regions, units, bodies, plugins)| {
            let mut codes = vec![code];
            codes.extend(children);
            let name = |prefix: &str, n: usize| json!({ "zh": format!("{prefix}{n}") });
            let regions: Vec<Value> = codes
                .iter()
                .zip(&regions)
                .enumerate()
                .map(|(n, (code, (parent, population)))| {
                    let mut region = json!({
                        "code": code, "name": name("区划", n), "level": "county",
                        "resident_population": population,
                    });
                    if n > 0 {
                        region["parent"] = json!(codes[parent.index(n)]);
                    }
                    region
                })
                .collect();
            let units: Vec<Value> = units
                .iter()
                .enumerate()
                .map(|(n, (region, kind, staff))| {
                    json!({
                        "name": name("单位", n), "region": codes[region.index(codes.len())],
                        "kind": kind, "civilisation_level": "municipal", "staff": staff,
                    })
                })
                .collect();
            let bodies: Vec<Value> = bodies
                .iter()
                .enumerate()
                .map(|(n, (region, kind))| {
                    json!({
                        "kind": kind, "name": name("机构", n),
                        "region": codes[region.index(codes.len())],
                    })
                })
                .collect();
            json!({
                "code": code, "name": { "zh": "随州市", "en": "Suizhou" }, "regions": regions,
                "units": units, "reviewing_bodies": bodies, "plugins": plugins,
            })
        })
        .boxed()
}

/// Every place in a JSON document, as a JSON Pointer.
fn pointers(value: &Value, at: String, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                pointers(inner, format!("{at}/{key}"), into);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                pointers(inner, format!("{at}/{index}"), into);
            }
        }
        _ => {}
    }
    into.push(at);
}

/// A value to put somewhere it may not belong.
fn replacement() -> BoxedStrategy<Value> {
    prop_oneof![
        region_code_text().prop_map(Value::String),
        name_text().prop_map(Value::String),
        count().prop_map(Value::from),
        localized_json(),
        region_json(),
        unit_json(),
        body_json(),
        any_json(),
    ]
    .boxed()
}

/// Tenant configurations: well-formed ones, the same broken in one or two places (a value
/// replaced, a key no schema knows added), and ones drawn from loose parts.
fn tenant_json() -> BoxedStrategy<Value> {
    let loose = (
        tenant_codes(),
        localized_json(),
        proptest::collection::vec(region_json(), 0..6),
        proptest::collection::vec(unit_json(), 0..4),
        proptest::collection::vec(body_json(), 0..4),
    )
        .prop_map(|(code, name, mut regions, units, bodies)| {
            let root = json!({
                "code": code, "name": {"zh": "根"}, "level": "city", "resident_population": 1,
            });
            regions.insert(0, root);
            json!({
                "code": code, "name": name, "regions": regions, "units": units,
                "reviewing_bodies": bodies,
            })
        });
    // An edit puts a value of the same JSON type most of the time, so that the document still
    // deserializes and the parser, not serde, meets it.
    let edits = proptest::collection::vec(
        (
            any::<Index>(),
            prop_oneof![region_code_text(), name_text()],
            count(),
            replacement(),
            0u8..8,
        ),
        0..3,
    );
    (
        prop_oneof![3 => valid_tenant_json(), 1 => loose],
        prop_oneof![1 => Just(Vec::new()), 2 => edits],
    )
        .prop_map(|(mut document, edits)| {
            for (at, text, number, value, how) in edits {
                let mut places = Vec::new();
                pointers(&document, String::new(), &mut places);
                let place = &places[at.index(places.len())];
                let Some(slot) = document.pointer_mut(place) else {
                    continue;
                };
                match (how, &mut *slot) {
                    (0, Value::Object(map)) => {
                        map.insert("unknown".to_owned(), value);
                    }
                    (1..6, Value::String(_)) => *slot = Value::String(text),
                    (1..6, Value::Number(_)) => *slot = Value::from(number),
                    _ => *slot = value,
                }
            }
            document
        })
        .boxed()
}

/// The configuration a parsed tenant is written back as.
fn config_of(spec: &TenantSpec) -> TenantConfig {
    let name = |name: &LocalizedName| json!(name);
    serde_json::from_value(json!({
        "code": spec.code.as_str(),
        "name": name(&spec.name),
        "regions": spec.regions.iter().map(|region| {
            let config = RegionConfig {
                code: region.code.as_str().to_owned(),
                parent: region.parent.as_ref().map(|p| p.as_str().to_owned()),
                name: region.name.clone(),
                level: region.level,
                local: region.local,
                resident_population: i64::try_from(region.resident_population).unwrap(),
            };
            serde_json::to_value(config).unwrap()
        }).collect::<Vec<_>>(),
        "units": spec.units.iter().map(|unit| json!({
            "name": name(&unit.name), "region": unit.region.as_str(), "kind": unit.kind,
            "civilisation_level": unit.civilisation_level, "staff": unit.staff.get(),
        })).collect::<Vec<_>>(),
        "reviewing_bodies": spec.reviewing_bodies.iter().map(|body| json!({
            "kind": body.kind, "name": name(&body.name), "region": body.region.as_str(),
        })).collect::<Vec<_>>(),
        "plugins": spec.plugins,
        "projects": spec.projects,
    }))
    .unwrap()
}

fn assert_name_parsed(name: &LocalizedName) -> Result<(), TestCaseError> {
    prop_assert!(!name.zh.is_empty() && name.zh.chars().count() <= 100);
    prop_assert_eq!(name.zh.as_str(), name.zh.trim());
    prop_assert!(!name.zh.chars().any(is_forbidden_character));
    if let Some(en) = &name.en {
        prop_assert!(!en.is_empty() && en.chars().count() <= 100);
        prop_assert_eq!(en.as_str(), en.trim());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any JSON, or any text, read as a tenant configuration: an error, never a panic.
    #[test]
    fn tenant_configs_from_any_json(value in any_json(), text in any_text()) {
        if let Ok(config) = serde_json::from_value::<TenantConfig>(value) {
            let _ = config.parse();
        }
        if let Ok(config) = serde_json::from_str::<TenantConfig>(&text) {
            let _ = config.parse();
        }
    }

    /// A configuration that deserializes either parses into a tenant whose references hold,
    /// and which written back parses to itself, or is refused at a field of the document.
    #[test]
    fn tenant_configs_parse_to_consistent_tenants(document in tenant_json()) {
        let Ok(config) = serde_json::from_value::<TenantConfig>(document.clone()) else {
            return Ok(());
        };
        match config.parse() {
            Ok(spec) => {
                prop_assert_eq!(spec.code.as_str(), config.code.as_str());
                assert_name_parsed(&spec.name)?;
                prop_assert_eq!(spec.regions.len(), config.regions.len());
                prop_assert_eq!(&spec.regions[0].code, spec.code.region());
                prop_assert_eq!(&spec.regions[0].parent, &None);
                let mut seen = HashSet::new();
                for region in &spec.regions {
                    if let Some(parent) = &region.parent {
                        prop_assert!(seen.contains(parent), "parent after child");
                    }
                    prop_assert!(seen.insert(region.code.clone()), "duplicate region");
                    prop_assert!(region.resident_population > 0);
                    assert_name_parsed(&region.name)?;
                }
                let mut unit_names = HashSet::new();
                for unit in &spec.units {
                    prop_assert!(seen.contains(&unit.region));
                    prop_assert!(unit.staff.get() > 0);
                    prop_assert!(unit_names.insert(unit.name.zh.clone()));
                    assert_name_parsed(&unit.name)?;
                }
                let mut body_names = HashSet::new();
                for body in &spec.reviewing_bodies {
                    prop_assert!(seen.contains(&body.region));
                    prop_assert!(body_names.insert(body.name.zh.clone()));
                    assert_name_parsed(&body.name)?;
                }
                prop_assert_eq!(config_of(&spec).parse(), Ok(spec.clone()));
            }
            Err(error) => {
                let mut segments = error.field.split('/');
                prop_assert_eq!(segments.next(), Some(""), "{}", error.field);
                let top = segments.next().unwrap_or_default();
                prop_assert!(
                    ["code", "name", "regions", "units", "reviewing_bodies"].contains(&top),
                    "{}", error.field
                );
                prop_assert!(document.get(top).is_some(), "{}", error.field);
                if let Some(index) = segments.next().and_then(|i| i.parse::<usize>().ok()) {
                    let length = document[top].as_array().map_or(0, Vec::len);
                    prop_assert!(
                        index < length || error.rule == Rule::TenantRegionMissing,
                        "{} of {}", error.field, length
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Volunteer and team applications
// ---------------------------------------------------------------------------------------------

fn volunteer_application() -> impl Strategy<Value = VolunteerApplication> {
    (
        mostly(person_name().boxed()),
        id_kind().prop_flat_map(|kind| (Just(kind), mostly(valid_number(kind)))),
        mostly(mobile().boxed()),
        mostly(
            select(vec!["421300", "421303", "110101"])
                .prop_map(str::to_owned)
                .boxed(),
        ),
        proptest::option::of(uuid()),
        tags(),
        proptest::collection::vec(select(CATEGORIES.to_vec()), 0..6),
        proptest::option::of(prop_oneof![
            any_text(),
            "[ ]?[a-z]{1,200}[ ]?",
            "\\PC{199,202}"
        ]),
    )
        .prop_map(
            |(
                name,
                (id_kind, id_number),
                mobile,
                region,
                unit,
                skills,
                categories,
                availability,
            )| {
                VolunteerApplication {
                    name,
                    id_kind,
                    id_number,
                    mobile,
                    region,
                    unit,
                    skills,
                    service_categories: categories,
                    availability,
                }
            },
        )
}

const VOLUNTEER_FIELDS: [&str; 6] = [
    "/availability",
    "/name",
    "/id_number",
    "/mobile",
    "/region",
    "/skills",
];

proptest! {
    #![proptest_config(config())]

    /// An application either names the field at fault, or parses into a volunteer whose every
    /// part re-parses to itself, and which, given again, parses alike.
    #[test]
    fn volunteer_applications(application in volunteer_application()) {
        let given = application.clone();
        match application.parse(today()) {
            Err(error) => {
                prop_assert!(
                    VOLUNTEER_FIELDS.iter().any(|field| error.field == *field)
                        || error.field.starts_with("/skills/"),
                    "{}", error.field
                );
            }
            Ok(volunteer) => {
                prop_assert_eq!(
                    PersonName::parse(volunteer.name.as_str(), "/name"),
                    Ok(volunteer.name.clone())
                );
                let kind = volunteer.id_number.kind();
                prop_assert_eq!(kind, given.id_kind);
                prop_assert_eq!(
                    IdNumber::parse(kind, volunteer.id_number.expose(), today(), "/id_number"),
                    Ok(volunteer.id_number.clone())
                );
                prop_assert_eq!(
                    MobileNumber::parse(volunteer.mobile.as_str(), "/mobile"),
                    Ok(volunteer.mobile.clone())
                );
                prop_assert_eq!(volunteer.region.as_str(), given.region.as_str());
                prop_assert_eq!(volunteer.unit, given.unit);
                prop_assert_eq!(parse_tags(&volunteer.skills, "/skills"), Ok(volunteer.skills.clone()));
                let distinct: HashSet<_> = volunteer.service_categories.iter().collect();
                prop_assert_eq!(distinct.len(), volunteer.service_categories.len());
                prop_assert_eq!(distinct, given.service_categories.iter().collect::<HashSet<_>>());
                if let Some(text) = &volunteer.availability {
                    prop_assert!(!text.is_empty() && text.as_str() == text.trim());
                    prop_assert!(check_text(text, 200, "/availability").is_ok());
                }
                let again = VolunteerApplication {
                    name: volunteer.name.as_str().to_owned(),
                    id_kind: kind,
                    id_number: volunteer.id_number.expose().to_owned(),
                    mobile: volunteer.mobile.as_str().to_owned(),
                    region: volunteer.region.as_str().to_owned(),
                    unit: volunteer.unit,
                    skills: volunteer.skills.clone(),
                    service_categories: volunteer.service_categories.clone(),
                    availability: volunteer.availability.clone(),
                }
                .parse(today())
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(format!("{again:?}"), format!("{volunteer:?}"));
            }
        }
    }
}

/// A small tenant to check team applications against: the city, a district and a zone; the
/// registration authorities of the city and the district; approved associations in both, a
/// pending team and an approved ordinary team.
struct Tenant {
    regions: Vec<Region>,
    bodies: Vec<ReviewingBody>,
    teams: Vec<KnownTeam>,
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

static TENANT: LazyLock<Tenant> = LazyLock::new(|| {
    let code = |c: &str| RegionCode::parse(c).unwrap();
    let region = |c: &str, parent: Option<&str>, level| Region {
        code: code(c),
        parent: parent.map(code),
        name: LocalizedName {
            zh: c.to_owned(),
            en: None,
        },
        level,
        local: false,
        resident_population: 1000,
    };
    let body = |n, kind, c: &str| ReviewingBody {
        id: id(n),
        kind,
        name: LocalizedName {
            zh: format!("body {n}"),
            en: None,
        },
        region: code(c),
    };
    let team = |n, status, association, c: &str| KnownTeam {
        id: id(n),
        status,
        association,
        region: code(c),
    };
    Tenant {
        regions: vec![
            region("421300", None, RegionLevel::City),
            region("421303", Some("421300"), RegionLevel::County),
            region("421371", Some("421300"), RegionLevel::Zone),
        ],
        bodies: vec![
            body(1, ReviewingBodyKind::RegistrationAuthority, "421300"),
            body(2, ReviewingBodyKind::RegistrationAuthority, "421303"),
            body(3, ReviewingBodyKind::CivilisationOffice, "421300"),
        ],
        teams: vec![
            team(11, TeamStatus::Approved, true, "421300"),
            team(12, TeamStatus::Approved, true, "421303"),
            team(13, TeamStatus::Pending, true, "421303"),
            team(14, TeamStatus::Approved, false, "421303"),
            team(15, TeamStatus::Approved, false, "421371"),
        ],
    }
});

/// An id an application may name: one of `likely` most of the time, else none, a body's, a
/// team's, or one unknown to the tenant.
fn named_id(likely: Vec<Option<u128>>) -> impl Strategy<Value = Option<Uuid>> {
    prop_oneof![
        12 => select(likely).prop_map(|n| n.map(id)),
        1 => Just(None),
        1 => select(vec![1u128, 2, 3, 11, 12, 13, 14, 15]).prop_map(|n| Some(id(n))),
        1 => uuid().prop_map(Some),
    ]
}

/// What an application names, shaped by its legal status most of the time: a liaison team for
/// an unregistered team, an authority, codes and certificates for a registered one.
#[allow(clippy::type_complexity)]
fn team_links(
    status: LegalStatus,
) -> impl Strategy<
    Value = (
        Option<Uuid>,
        Option<Uuid>,
        Option<Uuid>,
        Option<String>,
        Option<String>,
        Vec<String>,
    ),
> {
    let registered = status == LegalStatus::Registered;
    let parent = named_id(vec![None, None, Some(11), Some(14), Some(15)]);
    let liaison = if registered {
        named_id(vec![None])
    } else {
        named_id(vec![Some(11), Some(12), Some(14), Some(15)])
    };
    let authority = if registered {
        named_id(vec![Some(1), Some(2)])
    } else {
        named_id(vec![None])
    };
    let credit = prop_oneof![
        (if registered { 3 } else { 1 }) => credit_code()
            .prop_map(|c| Some(format!("5{}", &c[1..]))),
        2 => Just(None),
        1 => near(credit_code().boxed()).prop_map(Some),
    ];
    let org = prop_oneof![
        2 => Just(None),
        1 => org_code().prop_map(Some),
        1 => near(org_code().boxed()).prop_map(Some),
    ];
    let certificates = prop_oneof![
        (if registered { 4 } else { 1 }) => proptest::collection::vec("[0-9a-f]{64}", 1..3),
        1 => proptest::collection::vec(any_text(), 0..2),
    ];
    (parent, liaison, authority, credit, org, certificates)
}

fn team_application() -> impl Strategy<Value = TeamApplication> {
    (
        (
            prop_oneof![1 => any_text(), 6 => "[ ]?[\u{4e00}-\u{4e20}]{2,8}[ ]?"],
            select(UnitKind::ALL),
            any::<bool>(),
            proptest::option::of(uuid()),
            prop_oneof![
                6 => select(vec!["421300", "421303", "421371"]).prop_map(str::to_owned),
                1 => region_code_text(),
            ],
            mostly(person_name().boxed()),
            mostly(mobile().boxed()),
        ),
        select(LegalStatus::ALL).prop_flat_map(|status| (Just(status), team_links(status))),
    )
        .prop_map(
            |(
                (name, kind, association, unit_id, region, contact_name, contact_mobile),
                (legal_status, (parent, liaison, authority, credit, org, certificates)),
            )| {
                TeamApplication {
                    name,
                    kind,
                    association,
                    unit_id,
                    region,
                    contact_name,
                    contact_mobile,
                    legal_status,
                    parent_team_id: parent,
                    liaison_team_id: liaison,
                    registration_authority_id: authority,
                    credit_code: credit,
                    org_code: org,
                    certificates,
                }
            },
        )
}

const TEAM_FIELDS: [&str; 10] = [
    "/name",
    "/region",
    "/contact_name",
    "/contact_mobile",
    "/parent_team_id",
    "/liaison_team_id",
    "/registration_authority_id",
    "/credit_code",
    "/org_code",
    "/certificates",
];

proptest! {
    #![proptest_config(config())]

    /// A team application either names one of its fields, or parses into a team that keeps
    /// R11's invariants, whose parts re-parse to themselves, and which, given again, parses
    /// alike.
    #[test]
    fn team_applications(
        application in team_application(),
        resubmitting in proptest::option::of(select(vec![11u128, 12, 14, 99])),
    ) {
        let tenant = &*TENANT;
        let context = TeamApplicationContext {
            regions: &tenant.regions,
            bodies: &tenant.bodies,
            teams: &tenant.teams,
            resubmitting: resubmitting.map(id),
        };
        match application.clone().parse(&context) {
            Err(error) => {
                prop_assert!(TEAM_FIELDS.contains(&error.field.as_str()), "{}", error.field);
            }
            Ok(team) => {
                prop_assert_eq!(parse_team_name(&team.name, "/name"), Ok(team.name.clone()));
                prop_assert!(tenant.regions.iter().any(|r| r.code == team.region));
                prop_assert_eq!(
                    PersonName::parse(&team.contact_name, "/n").map(|n| n.as_str().to_owned()),
                    Ok(team.contact_name.clone())
                );
                prop_assert_eq!(
                    MobileNumber::parse(&team.contact_mobile, "/m").map(|m| m.as_str().to_owned()),
                    Ok(team.contact_mobile.clone())
                );
                let named = |id: Option<Uuid>| {
                    id.is_none_or(|id| {
                        Some(id) != context.resubmitting && tenant.teams.iter().any(|t| t.id == id)
                    })
                };
                prop_assert!(named(team.parent_team));
                match team.legal_status {
                    LegalStatus::Unregistered => {
                        prop_assert!(team.registration_authority.is_none());
                        prop_assert!(named(team.liaison_team) && team.liaison_team.is_some());
                        prop_assert!(team.credit_code.is_none() && team.org_code.is_none());
                        prop_assert!(team.certificates.is_empty());
                    }
                    LegalStatus::Registered => {
                        prop_assert!(team.liaison_team.is_none());
                        let authority = team.registration_authority.unwrap();
                        let is_authority = tenant.bodies.iter().any(|b| {
                            b.id == authority && b.kind == ReviewingBodyKind::RegistrationAuthority
                        });
                        prop_assert!(is_authority, "not an authority: {authority}");
                        prop_assert!(team.credit_code.is_some() || team.org_code.is_some());
                        if let Some(code) = &team.credit_code {
                            prop_assert!(code.is_civil_affairs_registered());
                        }
                        prop_assert!(!team.certificates.is_empty());
                    }
                }
                let again = TeamApplication {
                    name: team.name.clone(),
                    kind: team.kind,
                    association: team.association,
                    unit_id: team.unit,
                    region: team.region.as_str().to_owned(),
                    contact_name: team.contact_name.clone(),
                    contact_mobile: team.contact_mobile.clone(),
                    legal_status: team.legal_status,
                    parent_team_id: team.parent_team,
                    liaison_team_id: team.liaison_team,
                    registration_authority_id: team.registration_authority,
                    credit_code: team.credit_code.as_ref().map(|c| c.as_str().to_owned()),
                    org_code: team.org_code.as_ref().map(|c| c.as_str().to_owned()),
                    certificates: team.certificates.clone(),
                }
                .parse(&context)
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(format!("{again:?}"), format!("{team:?}"));
            }
        }
    }
}

/// The small tenant above admits applications of both kinds, so that the property above
/// reaches its accepting branch.
#[test]
fn the_small_tenant_admits_teams() {
    let tenant = &*TENANT;
    let context = TeamApplicationContext {
        regions: &tenant.regions,
        bodies: &tenant.bodies,
        teams: &tenant.teams,
        resubmitting: None,
    };
    let unregistered = TeamApplication {
        name: "曾都区志愿服务队".into(),
        kind: UnitKind::Community,
        association: false,
        unit_id: None,
        region: "421303".into(),
        contact_name: "张三".into(),
        contact_mobile: "13800001234".into(),
        legal_status: LegalStatus::Unregistered,
        parent_team_id: None,
        liaison_team_id: Some(id(12)),
        registration_authority_id: None,
        credit_code: None,
        org_code: None,
        certificates: Vec::new(),
    };
    assert!(unregistered.clone().parse(&context).is_ok());
    let registered = TeamApplication {
        legal_status: LegalStatus::Registered,
        liaison_team_id: None,
        registration_authority_id: Some(id(2)),
        org_code: Some("D2143569-X".into()),
        certificates: vec!["0".repeat(64)],
        ..unregistered
    };
    assert!(registered.parse(&context).is_ok());
}

/// Any number, with the bounds and their neighbours often.
fn coordinate() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        -200.0..200.0f64,
        prop::sample::select(vec![
            0.8293,
            55.8271,
            72.004,
            137.8347,
            0.8292,
            137.8348,
            -0.0,
            f64::NAN
        ]),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn coordinates_parse_within_china_and_read_back(
        longitude in coordinate(),
        latitude in coordinate(),
        gcj in any::<bool>(),
    ) {
        let system = if gcj { CoordinateSystem::Gcj02 } else { CoordinateSystem::Wgs84 };
        match Coordinates::parse(longitude, latitude, system, "/location") {
            Ok(point) => {
                prop_assert!((72.004..=137.8347).contains(&longitude));
                prop_assert!((0.8293..=55.8271).contains(&latitude));
                let (lon, lat) = point.in_system(system);
                prop_assert!((lon - longitude).abs() < 1e-9 && (lat - latitude).abs() < 1e-9);
                prop_assert!(point.distance_m(&point) == 0.0);
            }
            Err(error) => {
                prop_assert_eq!(error.rule, Rule::CoordinatesOutsideChina);
                prop_assert_eq!(error.field, "/location");
            }
        }
    }
}
