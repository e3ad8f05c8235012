//! CSV cells a spreadsheet shows as text, for every CSV the console writes (the audit log's export, a bulk
//! job's dry run and results): a cell that starts as a formula would is kept from running as one.

/// `text` as a cell a spreadsheet shows as text: one that starts as a formula would (`=`, `+`, `-`, `@`, a tab
/// or a carriage return) gets a leading apostrophe (OWASP's advice on CSV injection).
pub fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_as_formulas_are_kept_as_text() {
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("+1"), "'+1");
        assert_eq!(text_cell("-1"), "'-1");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("\tx"), "'\tx");
        assert_eq!(text_cell("Alex Admin"), "Alex Admin");
    }
}
