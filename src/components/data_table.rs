//! The console's data table: a caption for screen readers, a row of column headings, and the body its caller
//! gives, in a box that scrolls sideways when the table is wider than its card.

use leptos::prelude::*;

use crate::format::push_escaped_text;

/// A `data-table` with a hidden caption and a heading per column. The children are the table's `<tbody>`.
/// The table sits in a `table-scroll` region named like the table: it scrolls sideways inside its card rather
/// than widening the page, and it can be focused (`tabindex="0"`) so that the keyboard can scroll it too.
/// The caption and the heading row are written as HTML strings (escaped), like the customer page's rows: as
/// views, each text would be followed by a hydration marker (`<!>`), which tables outside islands never use.
#[component]
pub fn DataTable(
    /// What the table holds, read by screen readers (the caption is visually hidden).
    #[prop(into)]
    caption: String,
    /// The column headings, in order.
    headings: &'static [&'static str],
    /// The headings of the columns that hold numbers, aligned with them (`class="num"`).
    #[prop(optional)]
    numeric: &'static [&'static str],
    children: Children,
) -> impl IntoView {
    let mut caption_html = String::with_capacity(caption.len());
    push_escaped_text(&mut caption_html, &caption);
    view! {
        <div class="table-scroll" role="region" aria-label=caption tabindex="0">
            <table class="data-table">
                <caption class="visually-hidden" inner_html=caption_html></caption>
                <thead inner_html=heading_row(headings, numeric)></thead>
                {children()}
            </table>
        </div>
    }
}

/// The heading row as HTML: a `<th scope="col">` per heading, `class="num"` on the numeric ones.
fn heading_row(headings: &[&str], numeric: &[&str]) -> String {
    let mut html = String::from("<tr>");
    for heading in headings {
        html.push_str(if numeric.contains(heading) {
            "<th scope=\"col\" class=\"num\">"
        } else {
            "<th scope=\"col\">"
        });
        push_escaped_text(&mut html, heading);
        html.push_str("</th>");
    }
    html.push_str("</tr>");
    html
}

#[cfg(test)]
mod tests {
    use super::heading_row;

    #[test]
    fn the_heading_row_marks_numeric_columns_and_escapes_headings() {
        assert_eq!(
            heading_row(&["Name", "Calls", "A & B"], &["Calls"]),
            "<tr><th scope=\"col\">Name</th><th scope=\"col\" class=\"num\">Calls</th>\
             <th scope=\"col\">A &amp; B</th></tr>"
        );
    }
}
