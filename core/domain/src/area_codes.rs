//! The GB/T 2260 division codes a resident ID number may begin with, current and retired
//! (older cards keep the code of a county that has since been merged or renamed). The table is
//! data, `core/domain/data/gb2260.tsv`; its README says where it comes from.

use std::sync::LazyLock;

const TABLE: &str = include_str!("../data/gb2260.tsv");

/// Parsed once, on first use: the sorted codes of the table.
static CODES: LazyLock<Vec<u32>> = LazyLock::new(|| {
    let mut codes: Vec<u32> = TABLE
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next()?.parse().ok())
        .collect();
    codes.sort_unstable();
    codes
});

/// True when `code` is a division code that is or was in use.
pub fn is_known(code: &str) -> bool {
    code.len() == 6
        && code
            .parse::<u32>()
            .is_ok_and(|code| CODES.binary_search(&code).is_ok())
}

/// The name of a code in the table (the latest one, for codes that were renamed).
pub fn name_of(code: &str) -> Option<&'static str> {
    TABLE
        .lines()
        .skip(1)
        .find(|line| line.starts_with(code) && line.as_bytes().get(6) == Some(&b'\t'))
        .and_then(|line| line.split('\t').nth(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_current_and_retired_codes() {
        assert!(CODES.len() > 7000);
        for code in [
            "421300", "421303", "421321", "421381", "420700", "110101", "810000",
        ] {
            assert!(is_known(code), "{code}");
        }
        for retired in ["110103", "110104", "420821", "421302", "429001"] {
            assert!(is_known(retired), "{retired}");
        }
        for unknown in ["999999", "000000", "42130", "4213000", "42130x"] {
            assert!(!is_known(unknown), "{unknown}");
        }
        assert_eq!(name_of("421321"), Some("随县"));
    }
}
