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

/// A login name: 3 to 64 of `a-z 0-9 . _ -`, so that it reads the same in every log and shell.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

/// The rule of `Username::parse` as a JSON Schema pattern.
pub const USERNAME_PATTERN: &str = "^[a-z0-9._-]{3,64}$";

impl Username {
    pub fn parse(value: &str, field: &str) -> Result<Self, InvalidInput> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if !(3..=64).contains(&value.len()) || !value.chars().all(allowed) {
            return Err(InvalidInput::new(field, Rule::UsernameFormat));
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
    }

    #[test]
    fn passwords_count_characters_and_hide_themselves() {
        assert!(Password::parse("志愿服务精神奉献友爱", "/password").is_ok());
        assert!(Password::parse("short", "/password").is_err());
        let password = Password::parse("correct horse battery", "/password").unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
    }
}
