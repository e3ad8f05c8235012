//! One person's records tied together: the line that places a record among the records of the account that
//! share its email ("1 of 2 records for <email>") with links to the others, and the offer of the next record
//! that still has data once one is erased.

use leptos::prelude::*;

use crate::model::SamePersonRecord;

/// Where a record stands among the person's records (`SamePerson::position_of`), and the others.
pub type Placement = (String, Vec<SamePersonRecord>);

/// "1 of 2 records for <email>:" and a link to each other record, with its type and whether it was erased.
#[component]
pub fn SamePersonLine(
    /// The record's place among the person's records, and the other records.
    placement: Placement,
) -> impl IntoView {
    let (position, others) = placement;
    let count = others.len();
    view! {
        <p class="same-person">
            <strong>{position}</strong> ". " {if count == 1 { "The other: " } else { "The others: " }}
            {others.into_iter().enumerate().map(|(i, other)| view! {
                {(i > 0).then_some(", ")}
                <a href=format!("/customers/{}", other.id)>{record_label(&other)}</a>
                {status(&other)}
            }).collect_view()}
            "."
        </p>
    }
}

/// What an erased record's notice offers next: the person's next record that still has call or message data.
#[component]
pub fn NextWithData(
    /// That record.
    next: SamePersonRecord,
) -> impl IntoView {
    view! {
        <p>
            "The same person's " {record_label(&next)} " still has call and message data: "
            <a href=format!("/customers/{}", next.id)>"Open the " {next.object_type.clone()}</a>
        </p>
    }
}

/// "Contact Jordan Rivera": the record's object type and name.
fn record_label(record: &SamePersonRecord) -> String {
    format!("{} {}", record.object_type, record.name)
}

/// " (erased)", " (has data)" or " (no data)" after a record's link.
fn status(record: &SamePersonRecord) -> &'static str {
    match (record.erased, record.has_data) {
        (true, _) => " (erased)",
        (false, true) => " (has data)",
        (false, false) => " (no data)",
    }
}
