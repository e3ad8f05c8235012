//! /customers/{id}: one customer record with all its calls and messages (newest first, paged), and Delete,
//! which erases all of its call and message data behind the confirmation dialog.

use std::fmt::Write as _;

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::customers::{EraseCustomerData, get_customer};
use crate::components::confirm_dialog::ConfirmEraseDialog;
use crate::components::hydration::{reload_page, use_hydrated};
use crate::components::notice::{EmptyState, ErrorNotice, Notice, Tone};
use crate::format::{format_time, push_escaped_text, urlencode, write_duration, write_time};
use crate::model::{CallEntry, CustomerDetail, ErasureCounts, ErasureReceipt, MessageEntry};

/// The record is read once, inside the `Suspense`: this page is rendered on the server only (the browser
/// hydrates just its islands), so a `Resource`, which spawns its read as a task and hands each reader a clone
/// of the rows, would add work and give nothing back.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let (id, calls_before, messages_before) = {
        let (params, query) = (use_params_map(), use_query_map());
        let q = query.read_untracked();
        (
            params.read_untracked().get("id").unwrap_or_default(),
            q.get("calls_before"),
            q.get("messages_before"),
        )
    };
    let detail = get_customer(id, calls_before, messages_before);
    view! {
        <Title text="Customer"/>
        <p class="breadcrumb"><a href="/customers">"Customers"</a> " / Record"</p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <Customer detail/> }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Customer(detail: CustomerDetail) -> impl IntoView {
    let CustomerDetail {
        customer,
        phone,
        pending,
        erasure,
        calls,
        messages,
        older_calls,
        older_messages,
    } = detail;
    let label = format!(
        "{} ({} {})",
        customer.name, customer.object_type, customer.salesforce_id
    );
    let has_data = !pending.is_empty();
    let this_page = format!("/customers/{}", customer.id);
    // Each list pages on its own: a link moves one list and keeps the other where it is.
    let query = use_query_map();
    let (calls_now, messages_now) =
        query.with_untracked(|q| (q.get("calls_before"), q.get("messages_before")));
    let page_link = |calls: Option<&String>, messages: Option<&String>| {
        let mut params = Vec::new();
        if let Some(c) = calls {
            params.push(format!("calls_before={}", urlencode(c)));
        }
        if let Some(m) = messages {
            params.push(format!("messages_before={}", urlencode(m)));
        }
        format!("{this_page}?{}", params.join("&"))
    };
    let older_calls = older_calls
        .as_ref()
        .map(|next| page_link(Some(next), messages_now.as_ref()));
    let older_messages = older_messages
        .as_ref()
        .map(|next| page_link(calls_now.as_ref(), Some(next)));
    let erased = erasure.is_some();
    view! {
        <div class="page-header">
            <div>
                <h1>{customer.name}</h1>
                <p class="muted"><span class="badge">{customer.object_type}</span> " " <span class="mono">{customer.salesforce_id}</span></p>
            </div>
            {(!erased).then(|| view! {
                <EraseControl
                    customer_id=customer.id.to_string()
                    customer_label=label
                    activity=pending.activity_range()
                    counts=pending.clone()
                />
            })}
        </div>
        {erasure.map(|receipt| view! { <ErasedNotice receipt/> })}
        <section class="card" aria-labelledby="record-details">
            <h2 id="record-details">"Record"</h2>
            <dl class="details">
                <dt>"Email"</dt><dd>{customer.email.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Phone"</dt><dd>{phone.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Calls"</dt><dd class="num-inline">{pending.calls}</dd>
                <dt>"Messages"</dt><dd class="num-inline">{pending.messages}</dd>
            </dl>
            <p class="muted">"Name, email and phone come from Salesforce and are managed there."</p>
        </section>
        <section class="card table-card" aria-labelledby="calls-heading">
            <h2 id="calls-heading">"Calls"</h2>
            <CallTable calls/>
            {older_calls.map(|href| view! { <nav class="pager" aria-label="Calls pages"><a class="button" href=href>"Older calls"</a></nav> })}
        </section>
        <section class="card table-card" aria-labelledby="messages-heading">
            <h2 id="messages-heading">"Messages"</h2>
            <MessageTable messages/>
            {older_messages.map(|href| view! { <nav class="pager" aria-label="Messages pages"><a class="button" href=href>"Older messages"</a></nav> })}
        </section>
        {(!has_data && !erased).then(|| view! {
            <p class="muted">"This record has no calls or messages. Delete still marks it erased and records a receipt."</p>
        })}
    }
}

/// Delete and its confirmation dialog. Once the erasure has committed, the page is loaded again, so that
/// everything on it (lists, counts, the receipt) comes from the database after the erasure.
#[island]
fn EraseControl(
    customer_id: String,
    customer_label: String,
    counts: ErasureCounts,
    activity: String,
) -> impl IntoView {
    let erase = ServerAction::<EraseCustomerData>::new();
    let hydrated = use_hydrated();
    let open = RwSignal::new(false);
    let delete_button = NodeRef::<html::Button>::new();
    let erased = move || matches!(erase.value().get(), Some(Ok(_)));
    Effect::new(move |_| {
        if erased() {
            reload_page();
        }
    });
    let pending = Signal::derive(move || erase.pending().get() || erased());
    let error = Signal::derive(move || {
        erase
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    });
    let on_confirm = Callback::new(move |confirmation: String| {
        erase.dispatch(EraseCustomerData {
            customer_id: customer_id.clone(),
            confirmation,
        });
    });
    view! {
        <button
            type="button"
            class="button danger"
            node_ref=delete_button
            disabled=move || !hydrated.get() || pending.get()
            on:click=move |_| open.set(true)
        >
            "Delete"
        </button>
        <ConfirmEraseDialog open customer_label counts activity on_confirm pending error return_focus=delete_button/>
    }
}

#[component]
fn ErasedNotice(receipt: ErasureReceipt) -> impl IntoView {
    let c = receipt.counts;
    view! {
        <Notice tone=Tone::Success>
            <p><strong>"Call and message data deleted"</strong> " on " {format_time(receipt.erased_at)} " by " {receipt.erased_by_name}"."</p>
            <p class="muted">
                "Erased: " {c.calls} " calls, " {c.recordings} " recordings, " {c.voicemails} " voicemails, "
                {c.transcripts} " transcripts, " {c.messages} " messages, " {c.media} " media files. Receipt "
                <span class="mono">{receipt.erasure_id.to_string()}</span> "."
            </p>
        </Notice>
    }
}

#[component]
fn CallTable(calls: Vec<CallEntry>) -> impl IntoView {
    if calls.is_empty() {
        return view! { <EmptyState title="No calls"><p>"There are no calls stored for this record."</p></EmptyState> }.into_any();
    }
    view! {
        <table class="data-table">
            <caption class="visually-hidden">"Calls, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Time"</th>
                    <th scope="col">"Direction"</th>
                    <th scope="col">"From"</th>
                    <th scope="col">"To"</th>
                    <th scope="col" class="num">"Duration"</th>
                    <th scope="col">"Disposition"</th>
                    <th scope="col">"Stored"</th>
                </tr>
            </thead>
            <tbody inner_html=call_rows(&calls)></tbody>
        </table>
    }
    .into_any()
}

#[component]
fn MessageTable(messages: Vec<MessageEntry>) -> impl IntoView {
    if messages.is_empty() {
        return view! { <EmptyState title="No messages"><p>"There are no messages stored for this record."</p></EmptyState> }.into_any();
    }
    view! {
        <table class="data-table">
            <caption class="visually-hidden">"Messages, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Time"</th>
                    <th scope="col">"Direction"</th>
                    <th scope="col">"From"</th>
                    <th scope="col">"To"</th>
                    <th scope="col">"Message"</th>
                    <th scope="col" class="num">"Media"</th>
                </tr>
            </thead>
            <tbody inner_html=message_rows(&messages)></tbody>
        </table>
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
