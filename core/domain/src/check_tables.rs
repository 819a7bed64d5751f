//! Table tests of the check characters: each valid number is accepted, and every single
//! character substitution and every adjacent transposition of it is refused, unless the changed
//! value happens to be valid too, which an independent oracle (the standards' formulas written
//! out another way) decides.

use time::{Date, Month};

use crate::{CreditCode, IdDocumentKind, IdNumber, OrgCode, area_codes};

fn today() -> Date {
    Date::from_calendar_date(2026, Month::November, 29).unwrap()
}

/// Every single-character substitution over `alphabet`, and every adjacent transposition.
fn neighbours(value: &str, alphabet: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut out = Vec::new();
    for position in 0..chars.len() {
        for replacement in alphabet.chars().filter(|c| *c != chars[position]) {
            let mut changed = chars.clone();
            changed[position] = replacement;
            out.push(changed.into_iter().collect());
        }
    }
    for position in 0..chars.len() - 1 {
        if chars[position] != chars[position + 1] {
            let mut changed = chars.clone();
            changed.swap(position, position + 1);
            out.push(changed.into_iter().collect());
        }
    }
    out
}

/// ISO 7064 MOD 11-2 as GB 11643 defines it: weight 2^(18-i) mod 11 at position i.
fn resident_id_oracle(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = (0..17)
        .map(|i| u32::from(bytes[i] - b'0') * (2u32.pow(17 - i as u32) % 11))
        .sum();
    let check = (12 - sum % 11) % 11;
    let expected = if check == 10 {
        b'X'
    } else {
        b'0' + check as u8
    };
    let date_ok = (|| {
        let year: i32 = value[6..10].parse().ok()?;
        let month = Month::try_from(value[10..12].parse::<u8>().ok()?).ok()?;
        let date = Date::from_calendar_date(year, month, value[12..14].parse().ok()?).ok()?;
        Some(year >= 1900 && date <= today())
    })()
    .unwrap_or(false);
    bytes[17] == expected && area_codes::is_known(&value[..6]) && date_ok
}

const CREDIT_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100: weight 3^(i-1) mod 31 at position i, check = (31 - sum mod 31) mod 31.
fn credit_oracle(value: &str) -> bool {
    let values: Option<Vec<u32>> = value
        .chars()
        .map(|c| CREDIT_ALPHABET.find(c).map(|v| v as u32))
        .collect();
    let Some(values) = values.filter(|v| v.len() == 18) else {
        return false;
    };
    let sum: u32 = (0..17).map(|i| values[i] * (3u32.pow(i as u32) % 31)).sum();
    (31 - sum % 31) % 31 == values[17]
}

/// GB 11714: weights 3 7 9 10 5 8 4 2; C9 = 11 - (sum mod 11), X for 10, 0 for 11.
fn org_oracle(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() != 9
        || !bytes[..8]
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return false;
    }
    let weights = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = (0..8)
        .map(|i| (bytes[i] as char).to_digit(36).unwrap() * weights[i])
        .sum();
    let check = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).unwrap(),
    };
    bytes[8] as char == check
}

/// Completes a prefix with the one last character the oracle accepts.
fn complete(prefix: &str, alphabet: &str, oracle: fn(&str) -> bool) -> String {
    alphabet
        .chars()
        .map(|c| format!("{prefix}{c}"))
        .find(|candidate| oracle(candidate))
        .unwrap_or_else(|| panic!("no check character completes {prefix}"))
}

#[test]
fn resident_id_numbers() {
    let alphabet = "0123456789X";
    let mut valid = vec!["11010519491231002X".to_owned()]; // the example of GB 11643 itself
    for prefix in [
        "42130319900307123",
        "42132119781111002",
        "42070219631208551",
        "11010319650412002",
        "81000019800101001",
    ] {
        valid.push(complete(prefix, alphabet, resident_id_oracle));
    }
    let mut refused = 0;
    for number in &valid {
        assert!(resident_id_oracle(number), "{number}");
        assert!(
            IdNumber::parse(IdDocumentKind::ResidentIdCard, number, today(), "/n").is_ok(),
            "{number}"
        );
        for changed in neighbours(number, alphabet) {
            let accepted =
                IdNumber::parse(IdDocumentKind::ResidentIdCard, &changed, today(), "/n").is_ok();
            assert_eq!(
                accepted,
                resident_id_oracle(&changed),
                "{number} -> {changed}"
            );
            refused += usize::from(!accepted);
        }
    }
    assert!(refused > 1000, "{refused}");
}

#[test]
fn unified_social_credit_codes() {
    let valid: Vec<String> = [
        "51421300MJH123456",
        "91421300MA4F0AB1X",
        "12421300D2143569X",
        "52420700MJA00012K",
        "Y1420700000000001",
    ]
    .into_iter()
    .map(|prefix| complete(prefix, CREDIT_ALPHABET, credit_oracle))
    .collect();
    let mut refused = 0;
    for code in &valid {
        assert!(CreditCode::parse(code).is_ok(), "{code}");
        let alphabet = format!("{CREDIT_ALPHABET}IOSVZ");
        for changed in neighbours(code, &alphabet) {
            let accepted = CreditCode::parse(&changed).is_ok();
            assert_eq!(accepted, credit_oracle(&changed), "{code} -> {changed}");
            refused += usize::from(!accepted);
        }
    }
    assert!(refused > 3000, "{refused}");
}

#[test]
fn organisation_codes() {
    let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut valid = vec!["D2143569X".to_owned()]; // the example of GB 11714 itself
    for prefix in ["MA4F0AB1", "00000001", "12345678", "X7Y8Z9W0"] {
        valid.push(complete(prefix, alphabet, org_oracle));
    }
    for code in &valid {
        assert!(OrgCode::parse(code).is_ok(), "{code}");
        for changed in neighbours(code, alphabet) {
            assert_eq!(
                OrgCode::parse(&changed).is_ok(),
                org_oracle(&changed),
                "{code} -> {changed}"
            );
        }
    }
}
