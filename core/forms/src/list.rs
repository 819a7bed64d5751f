//! Lists as units keep them: CSV with a header row, in UTF-8 or GB18030, columns found by their
//! Chinese or English header, every row reported by the line a person sees in a spreadsheet.

use zhiyuan_domain::Rule;

use crate::FormError;

/// A column of a list: its Chinese header, its English header, and whether a list must have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub zh: &'static str,
    pub en: &'static str,
    pub required: bool,
}

const fn column(zh: &'static str, en: &'static str, required: bool) -> Column {
    Column { zh, en, required }
}

/// The columns of a volunteer list.
pub const VOLUNTEER_COLUMNS: [Column; 9] = [
    column("姓名", "name", true),
    column("证件类型", "id_kind", false),
    column("证件号码", "id_number", true),
    column("手机号码", "mobile", true),
    column("所属区划", "region", true),
    column("所属单位", "unit", false),
    column("技能", "skills", false),
    column("服务类别", "service_categories", false),
    column("可服务时间", "availability", false),
];

/// The columns of a team list.
pub const TEAM_COLUMNS: [Column; 12] = [
    column("队伍名称", "name", true),
    column("类别", "kind", true),
    column("所属单位", "unit", false),
    column("所属区划", "region", true),
    column("联系人", "contact_name", true),
    column("联系电话", "contact_mobile", true),
    column("登记状态", "legal_status", true),
    column("联络团体", "liaison_team", false),
    column("登记机关", "registration_authority", false),
    column("统一社会信用代码", "credit_code", false),
    column("组织机构代码", "org_code", false),
    column("证书文件", "certificates", false),
];

/// A row that was not imported, and why: the same shape for every list. The reason is a rule
/// of the domain or of the tenant's policy, by its code and in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line in the file, counting the header as line 1.
    pub line: u64,
    /// The column's header as the file has it.
    pub column: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, {}: {} ({})",
            self.line, self.column, self.message_zh, self.code
        )
    }
}

/// Decodes a file as UTF-8 (dropping a byte-order mark) when it is valid UTF-8, and as
/// GB18030 otherwise. Line ends become LF: the CSV reader counts lines by LF alone, and row
/// errors must name the line a person sees in their spreadsheet. Takes the bytes, so that a
/// large list is not held twice.
pub fn decode(mut bytes: Vec<u8>) -> String {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => encoding_rs::GB18030
            .decode_without_bom_handling(error.as_bytes())
            .0
            .into_owned(),
    };
    // Every line end becomes LF, so that each row's line is counted as a spreadsheet shows
    // it: CRLF (Windows), and a lone CR (classic Mac, which Excel for Mac still writes).
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    }
}

/// Reads a list's rows with its columns found by header.
pub struct ListReader<'a, const N: usize> {
    reader: csv::Reader<&'a [u8]>,
    headers: csv::StringRecord,
    positions: [Option<usize>; N],
    columns: &'static [Column; N],
    record: csv::StringRecord,
    rows: u64,
}

/// One row of a list: its line and its fields in the order of the list's columns (empty for a
/// column the file does not have).
pub struct ListRow<'r, const N: usize> {
    pub line: u64,
    pub fields: [&'r str; N],
}

impl<'a, const N: usize> ListReader<'a, N> {
    /// Finds the columns in the header; a missing required column stops the whole file.
    pub fn new(text: &'a str, columns: &'static [Column; N]) -> Result<Self, FormError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader.headers()?.clone();
        if headers.is_empty() {
            return Err(FormError::NoHeader);
        }
        let mut positions = [None; N];
        for (index, column) in columns.iter().enumerate() {
            positions[index] = headers
                .iter()
                .position(|header| header == column.zh || header.eq_ignore_ascii_case(column.en));
            if column.required && positions[index].is_none() {
                return Err(FormError::MissingColumn(column.zh, column.en));
            }
        }
        Ok(ListReader {
            reader,
            headers,
            positions,
            columns,
            record: csv::StringRecord::new(),
            rows: 0,
        })
    }

    /// The next row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<ListRow<'_, N>>, FormError> {
        if !self.reader.read_record(&mut self.record)? {
            return Ok(None);
        }
        self.rows += 1;
        let line = self
            .record
            .position()
            .map(|position| position.line())
            .unwrap_or(self.rows + 1);
        let record = &self.record;
        let positions = &self.positions;
        let fields = std::array::from_fn(|index| {
            positions[index]
                .and_then(|position| record.get(position))
                .unwrap_or("")
        });
        Ok(Some(ListRow { line, fields }))
    }

    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The error of a row: its line, the column (by its index in the list's columns) as the
    /// file heads it, and the rule it breaks.
    pub fn error(&self, line: u64, column: usize, rule: Rule) -> RowError {
        self.refusal(
            line,
            column,
            rule.code(),
            rule.message_zh(),
            rule.message_en(),
        )
    }

    /// The error of a row refused by a rule given by its code and messages (a rule of the
    /// tenant's policy, which a plugin may name).
    pub fn refusal(
        &self,
        line: u64,
        column: usize,
        code: &str,
        message_zh: &str,
        message_en: &str,
    ) -> RowError {
        RowError {
            line,
            column: self.positions[column]
                .and_then(|position| self.headers.get(position))
                .unwrap_or(self.columns[column].zh)
                .to_owned(),
            code: code.to_owned(),
            message_zh: message_zh.to_owned(),
            message_en: message_en.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_and_utf8_with_a_bom_read_alike() {
        let text = "姓名,证件号码\n张三,11010519491231002X\n";
        assert_eq!(decode(b"a\r\nb\r\n".to_vec()), "a\nb\n");
        let (gb18030, _, _) = encoding_rs::GB18030.encode(text);
        assert_eq!(decode(gb18030.into_owned()), text);
        let mut with_bom = b"\xef\xbb\xbf".to_vec();
        with_bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(with_bom), text);
    }

    #[test]
    fn columns_are_found_by_either_header_and_rows_by_their_line() {
        let text = "Name,证件号码,mobile,所属区划,extra\n张三,X,1,421300,\n李四,Y,2,421303,z\n";
        let mut reader = ListReader::new(text, &VOLUNTEER_COLUMNS).unwrap();
        let first = reader.next_row().unwrap().unwrap();
        assert_eq!(
            (first.line, first.fields[0], first.fields[4]),
            (2, "张三", "421300")
        );
        assert_eq!(first.fields[5], "");
        let second = reader.next_row().unwrap().unwrap();
        assert_eq!((second.line, second.fields[2]), (3, "Y"));
        assert!(reader.next_row().unwrap().is_none());
        let error = reader.error(4, 2, Rule::ResidentIdFormat);
        assert_eq!(error.column, "证件号码");
        assert!(matches!(
            ListReader::new("姓名\n张三\n", &VOLUNTEER_COLUMNS),
            Err(FormError::MissingColumn("证件号码", _))
        ));
    }
}
