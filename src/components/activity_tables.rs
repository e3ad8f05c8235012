//! The customer page's activity tables, calls and messages: a page of the record's activity, newest first, or
//! an empty state when it has none. The rows are written as one HTML string (`call_rows`, `message_rows`).

use std::fmt::Write as _;

use leptos::prelude::*;

use crate::components::data_table::DataTable;
use crate::components::notice::EmptyState;
use crate::format::{push_escaped_text, write_duration, write_time};
use crate::model::{CallEntry, MessageEntry};

/// The record's calls, newest first.
#[component]
pub fn CallTable(
    /// One page of the record's calls, newest first (`CustomerDetail::calls`).
    calls: Vec<CallEntry>,
) -> impl IntoView {
    let headings = &[
        "Time",
        "Direction",
        "From",
        "To",
        "Duration",
        "Disposition",
        "Stored",
    ];
    activity_table("Calls", headings, &["Duration"], call_rows(&calls))
}

/// The record's messages, newest first.
#[component]
pub fn MessageTable(
    /// One page of the record's messages, newest first (`CustomerDetail::messages`).
    messages: Vec<MessageEntry>,
) -> impl IntoView {
    let headings = &["Time", "Direction", "From", "To", "Message", "Media"];
    activity_table("Messages", headings, &["Media"], message_rows(&messages))
}

/// One activity table, or the empty state when `rows` (the table's rows as HTML) is empty. Its words are made
/// from `name` ("Calls"): the caption "Calls, newest first" and the empty state "No calls".
fn activity_table(
    name: &'static str,
    headings: &'static [&'static str],
    numeric: &'static [&'static str],
    rows: String,
) -> AnyView {
    let noun = name.to_lowercase();
    if rows.is_empty() {
        let hint = format!("There are no {noun} stored for this record.");
        return view! { <EmptyState title=format!("No {noun}")><p>{hint}</p></EmptyState> }
            .into_any();
    }
    view! {
        <DataTable caption=format!("{name}, newest first") headings numeric>
            <tbody inner_html=rows></tbody>
        </DataTable>
    }
    .into_any()
}

/// The rows of the calls table as HTML. The rows are most of a customer page and never change in the
/// browser, so they are written as one string rather than as a view per cell, which the benchmark's customer
/// page needed to keep up with the plain handler. Text goes through `push_cell`, which escapes it; times,
/// durations and counts, which hold nothing to escape, are written straight into the row (`push_cell_with`).
fn call_rows(calls: &[CallEntry]) -> String {
    let mut html = String::with_capacity(calls.len() * 320);
    for call in calls {
        let stored = match (call.is_voicemail, call.has_recording, call.has_transcript) {
            (true, _, false) => "Voicemail",
            (true, _, true) => "Voicemail, Transcript",
            (false, true, false) => "Recording",
            (false, true, true) => "Recording, Transcript",
            (false, false, true) => "Transcript",
            (false, false, false) => "—",
        };
        html.push_str("<tr>");
        push_cell_with(&mut html, "", |html| write_time(html, call.started_at));
        push_cell(&mut html, "", &call.direction);
        push_cell(&mut html, "mono", &call.from_number);
        push_cell(&mut html, "mono", &call.to_number);
        push_cell_with(&mut html, "num", |html| {
            write_duration(html, call.duration_seconds)
        });
        push_cell(
            &mut html,
            "",
            call.disposition.as_deref().unwrap_or_default(),
        );
        push_cell(&mut html, "", stored);
        html.push_str("</tr>");
    }
    html
}

/// The rows of the messages table as HTML; see `call_rows`.
fn message_rows(messages: &[MessageEntry]) -> String {
    let mut html = String::with_capacity(messages.len() * 320);
    for message in messages {
        html.push_str("<tr>");
        push_cell_with(&mut html, "", |html| write_time(html, message.sent_at));
        push_cell(&mut html, "", &message.direction);
        push_cell(&mut html, "mono", &message.from_number);
        push_cell(&mut html, "mono", &message.to_number);
        push_cell(&mut html, "message-body", &message.body);
        push_cell_with(&mut html, "num", |html| {
            let _ = write!(html, "{}", message.media_count);
        });
        html.push_str("</tr>");
    }
    html
}

/// Appends one table cell with `text` escaped. `class` is one of this module's literals (empty for none).
fn push_cell(html: &mut String, class: &'static str, text: &str) {
    push_cell_with(html, class, |html| push_escaped_text(html, text));
}

/// Appends one table cell whose content `write` appends as it is: only for text HTML would not escape (times,
/// durations, numbers), which is then written without a copy to escape.
fn push_cell_with(html: &mut String, class: &'static str, write: impl FnOnce(&mut String)) {
    if class.is_empty() {
        html.push_str("<td>");
    } else {
        html.push_str("<td class=\"");
        html.push_str(class);
        html.push_str("\">");
    }
    write(html);
    html.push_str("</td>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    #[test]
    fn message_rows_escape_what_customers_wrote() {
        let message = MessageEntry {
            id: Uuid::nil(),
            sent_at: datetime!(2026-11-30 07:05 UTC),
            direction: "inbound".into(),
            from_number: "+14155550100".into(),
            to_number: "+14155559000".into(),
            body: "</td><script>alert(1)</script> & <b>".into(),
            media_count: 2,
        };
        assert_eq!(
            message_rows(&[message]),
            "<tr><td>2026-11-30 07:05 UTC</td><td>inbound</td><td class=\"mono\">+14155550100</td>\
             <td class=\"mono\">+14155559000</td><td class=\"message-body\">&lt;/td&gt;&lt;script&gt;alert(1)\
             &lt;/script&gt; &amp; &lt;b&gt;</td><td class=\"num\">2</td></tr>"
        );
    }

    #[test]
    fn call_rows_name_what_is_stored_and_escape_the_disposition() {
        let call = |is_voicemail, has_recording, has_transcript| CallEntry {
            id: Uuid::nil(),
            started_at: datetime!(2026-11-30 07:05 UTC),
            direction: "outbound".into(),
            from_number: "+14155559000".into(),
            to_number: "+14155550100".into(),
            duration_seconds: 75,
            disposition: Some("<i>Left message</i>".into()),
            has_recording,
            is_voicemail,
            has_transcript,
        };
        let html = call_rows(&[call(false, true, true)]);
        assert_eq!(
            html,
            "<tr><td>2026-11-30 07:05 UTC</td><td>outbound</td><td class=\"mono\">+14155559000</td>\
             <td class=\"mono\">+14155550100</td><td class=\"num\">1:15</td>\
             <td>&lt;i&gt;Left message&lt;/i&gt;</td><td>Recording, Transcript</td></tr>"
        );
        for (flags, stored) in [
            ((true, true, false), "<td>Voicemail</td></tr>"),
            ((true, false, true), "<td>Voicemail, Transcript</td></tr>"),
            ((false, false, true), "<td>Transcript</td></tr>"),
            ((false, false, false), "<td>—</td></tr>"),
        ] {
            assert!(call_rows(&[call(flags.0, flags.1, flags.2)]).ends_with(stored));
        }
    }
}
