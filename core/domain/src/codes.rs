//! Codes that identify organisations: the unified social credit code (统一社会信用代码,
//! GB 32100-2015) and the older organisation code (组织机构代码, GB 11714).

use std::fmt;

use serde::Serialize;

use crate::Rule;

/// GB 32100 characters: digits and upper-case letters without I, O, S, V and Z.
const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// An 18-character unified social credit code whose check character holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(value: &str) -> Result<CreditCode, Rule> {
        let code = value.trim().to_ascii_uppercase();
        let values: Option<Vec<u32>> = code.bytes().map(credit_value).collect();
        let Some(values) = values.filter(|values| values.len() == 18) else {
            return Err(Rule::CreditCodeFormat);
        };
        if credit_check(&values[..17]) != values[17] {
            return Err(Rule::CreditCodeCheck);
        }
        Ok(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Social organisations registered with civil affairs (民政) have codes beginning with 5.
    pub fn is_civil_affairs_registered(&self) -> bool {
        self.0.starts_with('5')
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn credit_value(byte: u8) -> Option<u32> {
    CREDIT_CHARSET
        .iter()
        .position(|c| *c == byte)
        .map(|position| position as u32)
}

fn credit_check(values: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A nine-character organisation code whose check character holds; written with or without
/// the hyphen before the check character (12345678-9), kept without.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(value: &str) -> Result<OrgCode, Rule> {
        let code: String = value
            .trim()
            .chars()
            .filter(|c| *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = code.as_bytes();
        let body_ok = bytes.len() == 9
            && bytes[..8]
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if !body_ok {
            return Err(Rule::OrgCodeFormat);
        }
        if org_check(&bytes[..8]) != bytes[8] {
            return Err(Rule::OrgCodeCheck);
        }
        Ok(OrgCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// GB 11714: digits count as themselves, letters A..Z as 10..35; C9 = 11 - (sum mod 11),
/// written X for 10 and 0 for 11.
fn org_check(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(ORG_WEIGHTS)
        .map(|(b, w)| {
            let value = if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                u32::from(b - b'A') + 10
            };
            value * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        digit => b'0' + digit as u8,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Completes 17 credit-code characters with their check character.
    pub(crate) fn credit_with_check(first17: &str) -> String {
        let values: Vec<u32> = first17.bytes().map(|b| credit_value(b).unwrap()).collect();
        format!(
            "{first17}{}",
            CREDIT_CHARSET[credit_check(&values) as usize] as char
        )
    }

    /// Completes 8 organisation-code characters with their check character.
    pub(crate) fn org_with_check(body: &str) -> String {
        format!("{body}{}", org_check(body.as_bytes()) as char)
    }

    #[test]
    fn published_codes_are_accepted() {
        // The worked example of GB 11714 (D2143569-X) and a credit code built on it.
        assert_eq!(OrgCode::parse("D2143569-X").unwrap().as_str(), "D2143569X");
        assert_eq!(org_with_check("D2143569"), "D2143569X");
        let credit = credit_with_check("51421300D2143569X");
        let parsed = CreditCode::parse(&credit.to_lowercase()).unwrap();
        assert!(parsed.is_civil_affairs_registered());
        assert_eq!(parsed.as_str(), credit);
    }

    #[test]
    fn broken_codes_name_their_rule() {
        assert_eq!(CreditCode::parse("5142130"), Err(Rule::CreditCodeFormat));
        assert_eq!(
            CreditCode::parse("51421300D2143569XI"),
            Err(Rule::CreditCodeFormat)
        );
        assert_eq!(OrgCode::parse("D2143569"), Err(Rule::OrgCodeFormat));
        assert_eq!(OrgCode::parse("D2143569-1"), Err(Rule::OrgCodeCheck));
    }
}
