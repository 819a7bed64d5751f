use std::fmt;

use serde::Serialize;
use uuid::Uuid;

use crate::{InvalidInput, Rule};

/// Who did something, as the audit trail records it: an account, or the node itself acting on
/// an operator's command line (then `account_id` is empty and `name` says which command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub account_id: Option<Uuid>,
    pub name: String,
}

impl Actor {
    pub fn system(command: &str) -> Self {
        Actor {
            account_id: None,
            name: format!("system:{command}"),
        }
    }
}

/// A login name: 3 to 64 of `a-z 0-9 . _ -`, so that it reads the same in every log and shell,
/// and without a run of eight or more digits, so that no identity document or mobile number
/// becomes a name that is stored, logged and shown in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

/// The alphabet and length of `Username::parse` as a JSON Schema pattern.
pub const USERNAME_PATTERN: &str = "^[a-z0-9._-]{3,64}$";

/// What a username must not hold, as a JSON Schema pattern (under `not`): a run of digits long
/// enough to be an identity document or mobile number.
pub const NUMBER_RUN_PATTERN: &str = "[0-9]{8}";

/// The shortest run of digits that `Username::parse` refuses and `redact_numbers` hides.
const NUMBER_RUN: usize = 8;

/// `text` with every run of eight or more digits replaced by `#`: what may be kept of a name
/// someone typed (a refused sign-in's username in a log, the audit trail or a throttle key)
/// when it may be an identity document or mobile number.
pub fn redact_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= NUMBER_RUN {
            out.push('#');
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

impl Username {
    pub fn parse(value: &str, field: &str) -> Result<Self, InvalidInput> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if !(3..=64).contains(&value.len()) || !value.chars().all(allowed) {
            return Err(InvalidInput::new(field, Rule::UsernameFormat));
        }
        if redact_numbers(value) != value {
            return Err(InvalidInput::new(field, Rule::UsernameHoldsNumber));
        }
        Ok(Username(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed, before hashing. Never printed: its Debug form is redacted.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Length in characters, as NIST SP 800-63B counts; no composition rules.
    pub fn parse(value: &str, field: &str) -> Result<Self, InvalidInput> {
        if !(10..=128).contains(&value.chars().count()) {
            return Err(InvalidInput::new(field, Rule::PasswordLength));
        }
        Ok(Password(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for good in ["admin", "zhang.san", "office-421300", "a_b"] {
            assert!(Username::parse(good, "/username").is_ok(), "{good}");
        }
        for bad in ["ab", "Admin", "张三", "a b", "x".repeat(65).as_str(), "a/b"] {
            assert_eq!(
                Username::parse(bad, "/username").unwrap_err().rule,
                Rule::UsernameFormat,
                "{bad}"
            );
        }
        for number in ["42130319900101011x", "zhang13912345678", "12345678"] {
            assert_eq!(
                Username::parse(number, "/username").unwrap_err().rule,
                Rule::UsernameHoldsNumber,
                "{number}"
            );
        }
        assert!(Username::parse("team1234567", "/username").is_ok());
    }

    #[test]
    fn numbers_are_redacted_wherever_they_sit() {
        assert_eq!(redact_numbers("421303199001010118"), "#");
        assert_eq!(redact_numbers("a12345678b1234567c"), "a#b1234567c");
        assert_eq!(redact_numbers("张三13912345678"), "张三#");
        assert_eq!(redact_numbers("admin"), "admin");
    }

    #[test]
    fn passwords_count_characters_and_hide_themselves() {
        assert!(Password::parse("志愿服务精神奉献友爱", "/password").is_ok());
        assert!(Password::parse("short", "/password").is_err());
        let password = Password::parse("correct horse battery", "/password").unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
    }
}
