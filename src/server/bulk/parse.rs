//! Reading an uploaded bulk file: a UTF-8 CSV (a byte order mark, CRLF line ends and quoted cells with commas
//! are read as any spreadsheet writes them) with a header row and one identifier per row, in the column the
//! header names `email`, `phone` or `salesforce_id` (other columns are ignored), or, in a file of one column
//! with another name, whichever each cell is. The file as a whole is refused (413, 422) when it is too big,
//! has too many rows, none, or no identifier column; each row is read into the search it names or the reason
//! it cannot be one, so that one bad row never stops the others.

use crate::error::AppError;
use crate::model::BulkFileRefusal;
use crate::server::input::{self, CustomerQuery, CustomerSearch};

/// The largest file taken, in bytes.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The most data rows a file may hold.
pub const MAX_ROWS: usize = 10_000;

/// Where a file's identifiers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierColumn {
    /// The column headed as email addresses.
    Email,
    /// The column headed as phone numbers.
    Phone,
    /// The column headed as Salesforce ids.
    SalesforceId,
    /// The file's only column, each cell read as whichever identifier it is.
    Detected,
}

impl IdentifierColumn {
    /// The column as `bulk_jobs.identifier_column` stores it.
    pub fn key(self) -> &'static str {
        match self {
            IdentifierColumn::Email => "email",
            IdentifierColumn::Phone => "phone",
            IdentifierColumn::SalesforceId => "salesforce_id",
            IdentifierColumn::Detected => "detected",
        }
    }

    /// The column a header cell names, if it names one (`Email`, `E-mail address`, `phone_number`, `SFID`…).
    fn named(header: &str) -> Option<IdentifierColumn> {
        let name: String = header
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        match name.as_str() {
            "email" | "emailaddress" | "mail" => Some(IdentifierColumn::Email),
            "phone" | "phonenumber" | "mobile" | "mobilephone" | "telephone" => {
                Some(IdentifierColumn::Phone)
            }
            "salesforceid" | "sfid" | "salesforcerecordid" | "recordid" => {
                Some(IdentifierColumn::SalesforceId)
            }
            _ => None,
        }
    }
}

/// One data row of the file: its line (the header is line 1) and the search its identifier names, or why it
/// names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// The line the row starts on.
    pub line: u32,
    /// The identifier as a search, or the reason the row is malformed (text for people, never the cell).
    pub read: Result<CustomerQuery, String>,
}

/// A file read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    /// Where its identifiers were found.
    pub column: IdentifierColumn,
    /// Its data rows, in order.
    pub rows: Vec<ParsedRow>,
}

/// Reads `file` with the account's `default_country` for national phone numbers; refuses a file over
/// `MAX_FILE_BYTES` (413 as `BulkFileRefusal::error` says), and one that is not UTF-8 or not CSV, has no header
/// or no data rows, more than `MAX_ROWS`, or no identifier column (422).
pub fn read_file(file: &[u8], default_country: &str) -> Result<ParsedFile, BulkFileRefusal> {
    if file.len() > MAX_FILE_BYTES {
        return Err(BulkFileRefusal::TooLarge);
    }
    let text = std::str::from_utf8(file).map_err(|_| BulkFileRefusal::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|_| BulkFileRefusal::Unreadable)?
        .clone();
    let (column, position) = identifier_column(&headers, default_country)?;
    let mut rows = Vec::new();
    let mut counted = LineCounter::new(text);
    for record in reader.records() {
        let record = record.map_err(|_| BulkFileRefusal::Unreadable)?;
        if rows.len() == MAX_ROWS {
            return Err(BulkFileRefusal::TooManyRows);
        }
        let line = counted.line_at(record.position().map_or(0, |at| at.byte()));
        let read = read_row(&record, headers.len(), column, position, default_country);
        rows.push(ParsedRow { line, read });
    }
    if rows.is_empty() {
        return Err(BulkFileRefusal::NoRows);
    }
    Ok(ParsedFile { column, rows })
}

/// Lines of a text, counted as a reader moves forward through it: a line ends with LF, CRLF or a lone CR (as the
/// csv crate ends records; its own count is off by one after each CRLF and ignores a lone CR), and a
/// spreadsheet's user reads the file's lines.
struct LineCounter<'t> {
    text: &'t str,
    counted_to: usize,
    line: u32,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text,
            counted_to: 0,
            line: 1,
        }
    }

    /// The line (from 1) of a record the reader says starts at byte `at` (which is never before the byte asked
    /// for last): the reader may place it on the line end before it, which is skipped.
    fn line_at(&mut self, at: u64) -> u32 {
        let bytes = self.text.as_bytes();
        let mut at = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at > self.counted_to {
            let newlines = (self.counted_to..at)
                .filter(|&i| {
                    bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
                })
                .count();
            self.line = self
                .line
                .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            self.counted_to = at;
        }
        self.line
    }
}

/// The identifier column the header names, and its position.
fn identifier_column(
    headers: &csv::StringRecord,
    default_country: &str,
) -> Result<(IdentifierColumn, usize), BulkFileRefusal> {
    let named: Vec<(usize, IdentifierColumn)> = headers
        .iter()
        .enumerate()
        .filter_map(|(at, header)| IdentifierColumn::named(header).map(|column| (at, column)))
        .collect();
    match named.as_slice() {
        [(at, column)] => Ok((*column, *at)),
        [] if headers.len() == 1 => {
            if input::customer_query_in(&headers[0], default_country).is_ok() {
                Err(BulkFileRefusal::HeaderIsData)
            } else {
                Ok((IdentifierColumn::Detected, 0))
            }
        }
        [] => Err(BulkFileRefusal::NoIdentifierColumn),
        _ => Err(BulkFileRefusal::ManyIdentifierColumns),
    }
}

/// One row's identifier, read as its column says.
fn read_row(
    record: &csv::StringRecord,
    header_cells: usize,
    column: IdentifierColumn,
    position: usize,
    default_country: &str,
) -> Result<CustomerQuery, String> {
    if record.iter().all(str::is_empty) {
        return Err("The row is empty.".into());
    }
    if record.len() != header_cells {
        return Err(format!(
            "The row has {} cells; the header has {header_cells}.",
            record.len()
        ));
    }
    let cell = record.get(position).unwrap_or_default();
    if cell.is_empty() {
        return Err("The identifier cell is empty.".into());
    }
    if cell.starts_with(['=', '@', '-', '\t', '\r']) {
        return Err(FORMULA.into());
    }
    let query = identifier(cell, column, default_country).map_err(|err| shortened(&err))?;
    if cell.starts_with('+') && !matches!(query, CustomerQuery::Phone(_)) {
        return Err(FORMULA.into());
    }
    Ok(query)
}

/// Why a cell that a spreadsheet would run as a formula is refused.
const FORMULA: &str = "The cell starts like a spreadsheet formula.";

/// `cell` read as `column`'s kind of identifier.
fn identifier(
    cell: &str,
    column: IdentifierColumn,
    default_country: &str,
) -> Result<CustomerQuery, AppError> {
    match column {
        IdentifierColumn::Detected => input::customer_query_in(cell, default_country),
        IdentifierColumn::Email => match input::customer_query(cell) {
            Ok(query @ CustomerQuery::Email(_)) => Ok(query),
            Ok(_) => Err(AppError::invalid("This is not an email address.")),
            Err(err) => Err(err),
        },
        IdentifierColumn::SalesforceId => match input::customer_query(cell) {
            Ok(query @ CustomerQuery::SalesforceId(_)) => Ok(query),
            Ok(_) => Err(AppError::invalid(
                "This is not a 15- or 18-character Salesforce ID.",
            )),
            Err(err) => Err(err),
        },
        IdentifierColumn::Phone => match input::customer_search(cell)? {
            CustomerSearch::Phone(number) => {
                number.to_e164(default_country).map(CustomerQuery::Phone)
            }
            CustomerSearch::Ready(_) => Err(AppError::invalid("This is not a phone number.")),
        },
    }
}

/// A refusal's text as a row's reason (at most 200 characters, as stored).
fn shortened(err: &AppError) -> String {
    err.to_string().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(file: &str) -> Vec<(u32, Result<CustomerQuery, String>)> {
        read_file(file.as_bytes(), "US")
            .unwrap()
            .rows
            .into_iter()
            .map(|row| (row.line, row.read))
            .collect()
    }

    #[test]
    fn a_named_column_is_read_and_others_are_ignored_even_with_quoted_commas() {
        let file = "\u{feff}Name,Email\r\n\"Rivera, Jordan\",Jordan@Example.com\r\n\"Lee, Pia\",pia@example.com\r\n";
        let parsed = read_file(file.as_bytes(), "US").unwrap();
        assert_eq!(parsed.column, IdentifierColumn::Email);
        assert_eq!(
            parsed.rows,
            vec![
                ParsedRow {
                    line: 2,
                    read: Ok(CustomerQuery::Email("Jordan@Example.com".into()))
                },
                ParsedRow {
                    line: 3,
                    read: Ok(CustomerQuery::Email("pia@example.com".into()))
                },
            ]
        );
    }

    #[test]
    fn a_single_column_of_another_name_is_detected_per_cell() {
        let read = rows("customer\njordan@example.com\n(415) 555-0142\n00Q5e00000AbCdE\n");
        assert_eq!(
            read[0].1,
            Ok(CustomerQuery::Email("jordan@example.com".into()))
        );
        assert_eq!(read[1].1, Ok(CustomerQuery::Phone("+14155550142".into())));
        assert!(
            matches!(read[2].1, Ok(CustomerQuery::SalesforceId(_))),
            "{:?}",
            read[2]
        );
    }

    #[test]
    fn bad_rows_get_their_reason_and_the_rows_after_them_are_still_read() {
        let wide = vec!["x"; 200].join(",");
        let file = format!(
            "email,name\n=HYPERLINK(\"http://x\"),a\n,b\n{wide}\n@SUM(A1),c\n-1+1,d\n+a@example.com,e\nnot-an-email,f\nok@example.com,g\n"
        );
        let read = rows(&file);
        let reasons: Vec<String> = read
            .iter()
            .map(|(_, read)| read.clone().err().unwrap_or_default())
            .collect();
        assert_eq!(reasons[0], FORMULA);
        assert_eq!(reasons[1], "The identifier cell is empty.");
        assert_eq!(reasons[2], "The row has 200 cells; the header has 2.");
        assert_eq!(reasons[3], FORMULA);
        assert_eq!(reasons[4], FORMULA);
        assert_eq!(reasons[5], FORMULA);
        assert!(reasons[6].contains("Salesforce ID"), "{}", reasons[6]);
        assert_eq!(
            read[7],
            (9, Ok(CustomerQuery::Email("ok@example.com".into())))
        );
    }

    #[test]
    fn lines_are_counted_whatever_ends_them() {
        for end in ["\n", "\r\n", "\r"] {
            let file = ["email", "a@example.com", "", "b@example.com"].join(end) + end;
            let lines: Vec<u32> = rows(&file).iter().map(|(line, _)| *line).collect();
            assert_eq!(lines, vec![2, 4], "{end:?}");
        }
    }

    #[test]
    fn a_row_of_empty_cells_is_empty_and_lines_count_from_the_header() {
        let read = rows("phone,name\n,\n+1 415 555 0142,Jo\n");
        assert_eq!(read[0], (2, Err("The row is empty.".into())));
        assert_eq!(
            read[1],
            (3, Ok(CustomerQuery::Phone("+14155550142".into())))
        );
    }

    #[test]
    fn a_file_is_refused_whole_when_it_cannot_be_a_bulk_file() {
        let refusal = |file: &[u8]| read_file(file, "US").unwrap_err();
        assert_eq!(
            refusal(&vec![b'a'; MAX_FILE_BYTES + 1]),
            BulkFileRefusal::TooLarge
        );
        assert_eq!(BulkFileRefusal::TooLarge.error().status(), 413);
        assert_eq!(refusal(b"email\n"), BulkFileRefusal::NoRows);
        assert_eq!(
            refusal(b"jordan@example.com\npia@example.com\n"),
            BulkFileRefusal::HeaderIsData
        );
        assert_eq!(
            refusal(b"name,company\nJo,Acme\n"),
            BulkFileRefusal::NoIdentifierColumn
        );
        assert_eq!(
            refusal(b"email,phone\na@example.com,+14155550142\n"),
            BulkFileRefusal::ManyIdentifierColumns
        );
        assert_eq!(refusal(b"email\n\xff\xfe\n"), BulkFileRefusal::NotUtf8);
        assert_eq!(BulkFileRefusal::NotUtf8.error().status(), 422);
        let many = format!("email\n{}", "a@example.com\n".repeat(MAX_ROWS + 1));
        assert_eq!(refusal(many.as_bytes()), BulkFileRefusal::TooManyRows);
        let most = format!("email\n{}", "a@example.com\n".repeat(MAX_ROWS));
        assert_eq!(
            read_file(most.as_bytes(), "US").unwrap().rows.len(),
            MAX_ROWS
        );
    }
}
