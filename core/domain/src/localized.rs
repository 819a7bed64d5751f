use serde::{Deserialize, Serialize};

use crate::{InvalidInput, Rule};

const MAX_NAME_CHARS: usize = 100;

/// A name shown to people: Chinese first, English where one is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalizedName {
    pub zh: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl LocalizedName {
    /// Trims both names and checks them; `field` is where the name sits in its document.
    pub fn parse(zh: &str, en: Option<&str>, field: &str) -> Result<Self, InvalidInput> {
        let zh = parse_name(zh, &format!("{field}/zh"))?;
        let en = match en.map(str::trim) {
            None | Some("") => None,
            Some(en) => Some(parse_name(en, &format!("{field}/en"))?),
        };
        Ok(LocalizedName { zh, en })
    }
}

fn parse_name(name: &str, field: &str) -> Result<String, InvalidInput> {
    let name = name.trim();
    if name.is_empty() {
        return Err(InvalidInput::new(field, Rule::NameEmpty));
    }
    crate::check_characters(name, field)?;
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(InvalidInput::new(field, Rule::NameTooLong));
    }
    Ok(name.to_owned())
}
