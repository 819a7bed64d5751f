//! Free text as people type it: one rule for what any text the node accepts may hold.

use crate::{InvalidInput, Rule};

/// The rule of `is_forbidden_character` as a JSON Schema pattern for a whole text: no control
/// character (Unicode's Cc) but tab, line feed and carriage return.
pub const NO_CONTROL_CHARACTERS: &str =
    "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// True for characters no text of the node may hold: the control characters of Unicode (NUL,
/// escape, the C1 block, ...), which no form needs and which break logs, terminals and
/// PostgreSQL's text type, except tab and line ends, which multi-line text keeps.
pub fn is_forbidden_character(c: char) -> bool {
    // NO_CONTROL_CHARACTERS says the same to clients.
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Checks a text for forbidden characters and its length in characters.
pub fn check_text(value: &str, max_chars: usize, field: &str) -> Result<(), InvalidInput> {
    if value.chars().any(is_forbidden_character) {
        return Err(InvalidInput::new(field, Rule::ControlCharacter));
    }
    if value.chars().count() > max_chars {
        return Err(InvalidInput::new(field, Rule::TextTooLong));
    }
    Ok(())
}

/// The first forbidden character of a text, as the rule that refuses it.
pub fn check_characters(value: &str, field: &str) -> Result<(), InvalidInput> {
    check_text(value, usize::MAX, field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_line_ends_kept() {
        for bad in ["a\u{0}b", "\u{1b}[31m", "x\u{7f}", "\u{85}", "\u{9f}"] {
            assert_eq!(
                check_characters(bad, "/name").unwrap_err().rule,
                Rule::ControlCharacter,
                "{bad:?}"
            );
        }
        for good in ["志愿服务", "line\nnext", "a\tb", "crlf\r\n", "·"] {
            assert!(check_characters(good, "/name").is_ok(), "{good:?}");
        }
        assert_eq!(
            check_text("一二三", 2, "/x").unwrap_err().rule,
            Rule::TextTooLong
        );
    }
}
