//! Property tests of the readers of untrusted files: decoding bytes as UTF-8 or GB18030, lists
//! read by header, and the labels cells hold. None panics on any input; lines are never lost or
//! invented, so a row's error names the line a person sees; what a writer writes, the reader
//! reads back.
//!
//! The case count is 256 unless `PROPTEST_CASES` says otherwise (CI runs more, under a time
//! limit); failures are never written into the source tree.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as ProptestConfig, contextualize_config};
use zhiyuan_domain::{IdDocumentKind, LegalStatus, Rule, UnitKind};
use zhiyuan_forms::{
    CATEGORY_LABELS, Column, FormError, ListReader, TEAM_COLUMNS, VOLUNTEER_COLUMNS,
    category_label, decode, id_kind_label, parse_category, parse_id_kind, parse_legal_status,
    parse_unit_kind, split_list,
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

const BOM: &[u8] = b"\xef\xbb\xbf";

/// Characters that matter to CSV, to line ends and to labels, beside any character.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        2 => select(vec![
            ',', '"', '\n', '\r', ' ', '\t', '\u{0}', '\u{3000}', '\u{feff}', ';', '；', '、',
            '，', '|', '姓', '名', '证', '件', '号', '码', 'a', 'N', '1', '4', '2', '·', '\u{85}',
            '\u{2028}', '#', '\'',
        ]),
        1 => any::<char>(),
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => proptest::collection::vec(any::<char>(), 0..60).prop_map(String::from_iter),
        4 => proptest::collection::vec(interesting_char(), 0..200).prop_map(String::from_iter),
        1 => proptest::collection::vec(interesting_char(), 0..1000).prop_map(String::from_iter),
    ]
}

/// A cell of a list: short text of any characters, now and then a long one.
fn cell() -> BoxedStrategy<String> {
    prop_oneof![
        20 => proptest::collection::vec(interesting_char(), 0..12).prop_map(String::from_iter),
        10 => proptest::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        1 => proptest::collection::vec(interesting_char(), 0..300).prop_map(String::from_iter),
    ]
    .boxed()
}

/// A cell a spreadsheet saves in GB18030 and reads back unchanged, with no carriage return
/// (the file's line ends are CRLF).
fn gb18030_cell() -> BoxedStrategy<String> {
    let c = interesting_char().prop_filter("round trips in GB18030, no CR", |c| {
        let text = c.to_string();
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
        let (back, malformed) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
        *c != '\r' && !unmappable && !malformed && back == text
    });
    proptest::collection::vec(c, 0..12)
        .prop_map(String::from_iter)
        .boxed()
}

/// Bytes as files come: arbitrary, UTF-8 with or without a byte-order mark, GB18030, and
/// mixtures with line ends of every kind.
fn file_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..16),
        Just(BOM.to_vec()),
        select(vec![&b"\r\n"[..], b"\r", b"\n", b"\r\r\n", b","]).prop_map(<[u8]>::to_vec),
        any_text().prop_map(String::into_bytes),
        any_text().prop_map(|text| encoding_rs::GB18030.encode(&text).0.into_owned()),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2000),
        proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat()),
    ]
}

/// Text that GB18030 writes and reads back unchanged and whose bytes are not UTF-8, as the
/// lists units save from Chinese spreadsheets are: the header's 姓名 alone makes them so.
fn gb18030_text() -> impl Strategy<Value = String> {
    any_text()
        .prop_map(|text| format!("姓名{text}"))
        .prop_filter("round trips in GB18030", |text| {
            let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
            let (back, malformed) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            !unmappable && !malformed && back == *text
        })
}

/// Line ends in a file's bytes: an LF, or a CR not followed by one (CRLF counts once).
fn line_ends(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|(at, b)| **b == b'\n' || (**b == b'\r' && bytes.get(at + 1) != Some(&b'\n')))
        .count()
}

/// A text with its line ends as `decode` leaves them: each one LF.
fn with_lf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// A list's header and rows, as a spreadsheet saves them: each column of the list present or
/// not (required ones always), headed in Chinese or in English of any case, in any order, with
/// extra columns; cells of any text.
#[derive(Debug, Clone)]
struct Table {
    /// For each header cell, the index of the list's column it heads (None: an extra column).
    heads: Vec<Option<usize>>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn table(columns: &'static [Column], cell: BoxedStrategy<String>) -> impl Strategy<Value = Table> {
    let choices = proptest::collection::vec((any::<bool>(), 0u8..3), columns.len());
    (choices, 0usize..3)
        .prop_flat_map(move |(choices, extras)| {
            let mut heads: Vec<(Option<usize>, String)> = Vec::new();
            for (index, (present, style)) in choices.into_iter().enumerate() {
                let column = columns[index];
                if column.required || present {
                    let head = match style {
                        0 => column.zh.to_owned(),
                        1 => column.en.to_owned(),
                        _ => column.en.to_ascii_uppercase(),
                    };
                    heads.push((Some(index), head));
                }
            }
            for extra in 0..extras {
                heads.push((None, format!("备注{extra}")));
            }
            let width = heads.len();
            (
                Just(heads).prop_shuffle(),
                proptest::collection::vec(
                    proptest::collection::vec(cell.clone(), width..=width),
                    0..8,
                ),
                proptest::collection::vec(select(vec!["", " ", "\t", "\u{3000}"]), width..=width),
            )
        })
        .prop_map(|(heads, rows, pads)| Table {
            header: heads
                .iter()
                .zip(pads)
                .map(|((_, head), pad)| format!("{pad}{head}{pad}"))
                .collect(),
            heads: heads.into_iter().map(|(index, _)| index).collect(),
            rows,
        })
}

/// Writes a table as CSV, and the line each row begins on (the header is line 1).
fn write(table: &Table) -> (String, Vec<u64>) {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&table.header).unwrap();
    let mut lines = Vec::new();
    for row in &table.rows {
        writer.flush().unwrap();
        lines.push(writer.get_ref().iter().filter(|b| **b == b'\n').count() as u64 + 1);
        writer.write_record(row).unwrap();
    }
    let bytes = writer.into_inner().unwrap();
    (String::from_utf8(bytes).unwrap(), lines)
}

/// Reads every row of any text as a list: no panic; a row's error names a column of the file
/// or the list's own header; and, in text without carriage returns (the reader counts lines by
/// LF alone, which is why `decode` turns CRLF into LF), rows come in order of their lines,
/// after the header.
fn read_any<const N: usize>(
    text: &str,
    columns: &'static [Column; N],
) -> Result<(), TestCaseError> {
    let mut reader = match ListReader::new(text, columns) {
        Ok(reader) => reader,
        Err(FormError::MissingColumn(zh, _)) => {
            prop_assert!(columns.iter().any(|c| c.required && c.zh == zh));
            return Ok(());
        }
        Err(_) => return Ok(()),
    };
    let mut last = 1;
    let mut rows = 0;
    loop {
        match reader.next_row() {
            Ok(Some(row)) => {
                rows += 1;
                if !text.contains('\r') {
                    prop_assert!(row.line > last, "line {} after {}", row.line, last);
                }
                last = row.line;
                for field in row.fields {
                    prop_assert_eq!(field, field.trim());
                }
            }
            Ok(None) => break,
            Err(_) => return Ok(()),
        }
        prop_assert!(rows <= text.len() + 1, "more rows than the text has bytes");
    }
    prop_assert_eq!(reader.rows(), rows as u64);
    for (index, column) in columns.iter().enumerate() {
        let error = reader.error(last, index, Rule::TextTooLong);
        prop_assert_eq!(error.line, last);
        prop_assert!(
            error.column == column.zh || error.column.eq_ignore_ascii_case(column.en),
            "{} for {}",
            error.column,
            column.zh
        );
    }
    Ok(())
}

/// Reads a written table back: every cell of the list's columns, trimmed, on the line it was
/// written at; columns the file lacks read as empty.
fn read_back<const N: usize>(
    table: &Table,
    columns: &'static [Column; N],
) -> Result<(), TestCaseError> {
    let (text, lines) = write(table);
    let mut reader = ListReader::new(&text, columns)
        .map_err(|e| TestCaseError::fail(format!("{e}: {text:?}")))?;
    for (row, line) in table.rows.iter().zip(&lines) {
        let read = reader
            .next_row()
            .map_err(|e| TestCaseError::fail(format!("{e}")))?
            .ok_or_else(|| TestCaseError::fail("a row is missing"))?;
        prop_assert_eq!(read.line, *line);
        for (index, expected) in expected_fields::<N>(table, row).iter().enumerate() {
            prop_assert_eq!(
                read.fields[index],
                expected.as_str(),
                "{}",
                columns[index].en
            );
        }
    }
    prop_assert!(reader.next_row().unwrap().is_none(), "a row too many");
    Ok(())
}

fn expected_fields<const N: usize>(table: &Table, row: &[String]) -> [String; N] {
    std::array::from_fn(|index| {
        table
            .heads
            .iter()
            .position(|head| *head == Some(index))
            .map(|at| row[at].trim().to_owned())
            .unwrap_or_default()
    })
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes decode without panic, and keep every line: one LF out for each line end in
    /// (LF, CRLF or a lone CR), whether read as UTF-8 or as GB18030, so row errors name the
    /// line a person sees.
    #[test]
    fn decoding_keeps_every_line(bytes in file_bytes()) {
        let lines = line_ends(&bytes);
        let text = decode(bytes);
        prop_assert_eq!(text.matches('\n').count(), lines);
    }

    /// UTF-8 text reads as itself, with or without a byte-order mark, every line end as LF
    /// (a text that begins with U+FEFF begins with a byte-order mark, which is dropped).
    #[test]
    fn utf8_reads_as_itself(text in any_text(), bom in any::<bool>()) {
        let body = if bom { &text } else { text.strip_prefix('\u{feff}').unwrap_or(&text) };
        let expected = with_lf(body);
        let mut bytes = if bom { BOM.to_vec() } else { Vec::new() };
        bytes.extend_from_slice(text.as_bytes());
        prop_assert_eq!(decode(bytes), expected);
    }

    /// GB18030 text reads as itself, every line end as LF.
    #[test]
    fn gb18030_reads_as_itself(text in gb18030_text()) {
        let bytes = encoding_rs::GB18030.encode(&text).0.into_owned();
        prop_assert_eq!(decode(bytes), with_lf(&text));
    }

    /// Any text, as a volunteer list and as a team list: no panic, rows in order.
    #[test]
    fn lists_of_any_text(text in any_text()) {
        for text in [text.clone(), text.replace('\r', "")] {
            read_any(&text, &VOLUNTEER_COLUMNS)?;
            read_any(&text, &TEAM_COLUMNS)?;
        }
    }

    /// Any text after a header that has every column, decoded as a file is: rows are read and
    /// numbered.
    #[test]
    fn rows_of_any_text_under_a_full_header(text in any_text(), crlf in any::<bool>()) {
        let end = if crlf { "\r\n" } else { "\n" };
        let volunteer: Vec<&str> = VOLUNTEER_COLUMNS.iter().map(|c| c.zh).collect();
        let team: Vec<&str> = TEAM_COLUMNS.iter().map(|c| c.en).collect();
        for text in [text.clone(), text.replace('\r', "")] {
            let list = decode(format!("{}{end}{text}", volunteer.join(",")).into_bytes());
            read_any(&list, &VOLUNTEER_COLUMNS)?;
            let list = decode(format!("{}{end}{text}", team.join(",")).into_bytes());
            read_any(&list, &TEAM_COLUMNS)?;
        }
    }

    /// A file decoded and read as a list numbers its rows as a spreadsheet shows them: each on
    /// a line of its own, below the header, whatever the line ends: LF, CRLF, a lone CR
    /// (classic Mac, which Excel for Mac still writes) or CR CR LF ("姓名,证件号码,手机号码,
    /// 所属区划\rA" once put row A on the header's line).
    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them(
        rows in proptest::collection::vec(
            (
                proptest::collection::vec(select(vec!["A", "张三", "1", ""]), 1..5),
                select(vec!["\n", "\r\n", "\r", "\r\r\n"]),
            ),
            1..6,
        ),
        header_end in select(vec!["\n", "\r\n", "\r", "\r\r\n"]),
        gb18030 in any::<bool>(),
    ) {
        let mut text = format!("姓名,证件号码,手机号码,所属区划{header_end}");
        for (cells, end) in &rows {
            text.push_str(&format!("X{}{end}", cells.join(",")));
        }
        let bytes = if gb18030 {
            encoding_rs::GB18030.encode(&text).0.into_owned()
        } else {
            text.into_bytes()
        };
        let decoded = decode(bytes);
        let mut reader = ListReader::new(&decoded, &VOLUNTEER_COLUMNS).unwrap();
        let mut last = 1;
        while let Some(row) = reader.next_row().unwrap() {
            prop_assert!(row.line > last, "line {} after {} in {:?}", row.line, last, decoded);
            last = row.line;
        }
        prop_assert_eq!(reader.rows(), rows.len() as u64);
    }

    /// A list written by a CSV writer is read back cell for cell, on the lines written.
    #[test]
    fn volunteer_lists_read_back(table in table(&VOLUNTEER_COLUMNS, cell())) {
        read_back(&table, &VOLUNTEER_COLUMNS)?;
    }

    #[test]
    fn team_lists_read_back(table in table(&TEAM_COLUMNS, cell())) {
        read_back(&table, &TEAM_COLUMNS)?;
    }

    /// The same list saved as GB18030 with CRLF line ends, as a spreadsheet might, reads alike.
    #[test]
    fn gb18030_lists_read_back(table in table(&VOLUNTEER_COLUMNS, gb18030_cell())) {
        let (text, lines) = write(&table);
        let saved = text.replace('\n', "\r\n");
        let decoded = decode(encoding_rs::GB18030.encode(&saved).0.into_owned());
        prop_assert_eq!(&decoded, &text);
        let mut reader = ListReader::new(&decoded, &VOLUNTEER_COLUMNS).unwrap();
        for line in lines {
            prop_assert_eq!(reader.next_row().unwrap().unwrap().line, line);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

/// Every spelling a label parser accepts, by what it means.
const ID_KIND_SPELLINGS: [(&str, IdDocumentKind); 11] = [
    ("", IdDocumentKind::ResidentIdCard),
    ("居民身份证", IdDocumentKind::ResidentIdCard),
    ("身份证", IdDocumentKind::ResidentIdCard),
    ("resident_id_card", IdDocumentKind::ResidentIdCard),
    (
        "港澳居民来往内地通行证",
        IdDocumentKind::HongKongMacaoPermit,
    ),
    (
        "hong_kong_macao_permit",
        IdDocumentKind::HongKongMacaoPermit,
    ),
    ("台湾居民来往大陆通行证", IdDocumentKind::TaiwanPermit),
    ("taiwan_permit", IdDocumentKind::TaiwanPermit),
    ("护照", IdDocumentKind::Passport),
    ("passport", IdDocumentKind::Passport),
    (
        "外国人永久居留身份证",
        IdDocumentKind::ForeignPermanentResidentId,
    ),
];

const UNIT_KIND_SYNONYMS: [(&str, UnitKind); 8] = [
    ("党政机关", UnitKind::Organ),
    ("机关", UnitKind::Organ),
    ("人民团体", UnitKind::PeoplesOrganisation),
    ("企业", UnitKind::Enterprise),
    ("事业单位", UnitKind::PublicInstitution),
    ("社会组织", UnitKind::SocialOrganisation),
    ("社区", UnitKind::Community),
    ("学校", UnitKind::School),
];

const LEGAL_STATUS_SYNONYMS: [(&str, LegalStatus); 4] = [
    ("未登记", LegalStatus::Unregistered),
    ("未登记的社会组织或其他组织", LegalStatus::Unregistered),
    ("已登记", LegalStatus::Registered),
    ("已登记的社会组织", LegalStatus::Registered),
];

/// Labels and codes, exactly and a little off, beside any text.
fn label_text() -> impl Strategy<Value = String> {
    let mut known: Vec<String> = ID_KIND_SPELLINGS
        .iter()
        .map(|(s, _)| s.to_string())
        .collect();
    known.push("foreign_permanent_resident_id".into());
    known.extend(UNIT_KIND_SYNONYMS.iter().map(|(s, _)| s.to_string()));
    known.extend(UnitKind::ALL.iter().map(|k| k.as_str().to_owned()));
    known.extend(LEGAL_STATUS_SYNONYMS.iter().map(|(s, _)| s.to_string()));
    known.extend(
        CATEGORY_LABELS
            .iter()
            .flat_map(|(_, zh, code)| [zh.to_string(), code.to_string()]),
    );
    known.push("其他".into());
    prop_oneof![
        3 => select(known.clone()),
        2 => (select(known), select(vec![" ", "\u{3000}", "X", "\t", "s"]), any::<bool>())
            .prop_map(|(label, extra, before)| {
                if before { format!("{extra}{label}") } else { format!("{label}{extra}") }
            }),
        2 => any_text(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// A label parser accepts exactly the spellings it lists, never a padded or altered one
    /// (the list reader trims cells first); every kind reads back from its label and its code.
    #[test]
    fn labels_parse_only_their_spellings(text in label_text()) {
        let id_kind = ID_KIND_SPELLINGS
            .iter()
            .find(|(spelling, _)| *spelling == text)
            .map(|(_, kind)| *kind)
            .or_else(|| IdDocumentKind::ALL.iter().copied().find(|k| k.as_str() == text));
        prop_assert_eq!(parse_id_kind(&text), id_kind);
        let unit_kind = UNIT_KIND_SYNONYMS
            .iter()
            .find(|(spelling, _)| *spelling == text)
            .map(|(_, kind)| *kind)
            .or_else(|| UnitKind::ALL.iter().copied().find(|k| k.as_str() == text))
            .or((text == "其他").then_some(UnitKind::Other));
        prop_assert_eq!(parse_unit_kind(&text), unit_kind);
        let status = LEGAL_STATUS_SYNONYMS
            .iter()
            .find(|(spelling, _)| *spelling == text)
            .map(|(_, status)| *status)
            .or_else(|| LegalStatus::ALL.iter().copied().find(|s| s.as_str() == text));
        prop_assert_eq!(parse_legal_status(&text), status);
        let category = CATEGORY_LABELS
            .iter()
            .find(|(_, zh, code)| *zh == text || *code == text)
            .map(|(category, _, _)| *category);
        prop_assert_eq!(parse_category(&text), category);
        for parsed in [parse_id_kind(&text).is_some(), parse_unit_kind(&text).is_some(),
            parse_legal_status(&text).is_some(), parse_category(&text).is_some()]
        {
            if parsed && !text.is_empty() {
                prop_assert_eq!(text.as_str(), text.trim());
            }
        }
    }

    /// Labels and codes of every kind read back as that kind.
    #[test]
    fn labels_round_trip(
        id_kind in select(IdDocumentKind::ALL),
        unit_kind in select(UnitKind::ALL),
        status in select(LegalStatus::ALL),
        category in select(CATEGORY_LABELS.iter().map(|(c, _, _)| *c).collect::<Vec<_>>()),
    ) {
        prop_assert_eq!(parse_id_kind(id_kind_label(id_kind)), Some(id_kind));
        prop_assert_eq!(parse_id_kind(id_kind.as_str()), Some(id_kind));
        prop_assert_eq!(parse_unit_kind(unit_kind.as_str()), Some(unit_kind));
        prop_assert_eq!(parse_legal_status(status.as_str()), Some(status));
        prop_assert_eq!(parse_category(category_label(category)), Some(category));
    }

    /// A cell of entries splits into trimmed, non-empty entries free of separators, in order,
    /// and splitting them again, joined by any separator, gives the same entries.
    #[test]
    fn lists_in_a_cell_split_idempotently(
        text in any_text(),
        separator in select(vec![";", "；", "、", ",", "，", "|", " ; "]),
    ) {
        let items = split_list(&text);
        let mut rest = text.as_str();
        for item in &items {
            prop_assert!(!item.is_empty());
            prop_assert_eq!(item.as_str(), item.trim());
            prop_assert!(!item.contains([';', '；', '、', ',', '，', '|']), "{:?}", item);
            let at = rest.find(item.as_str());
            prop_assert!(at.is_some(), "{:?} out of order", item);
            rest = &rest[at.unwrap() + item.len()..];
        }
        prop_assert_eq!(split_list(&items.join(separator)), items.clone());
    }
}
