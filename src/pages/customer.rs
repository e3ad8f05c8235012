//! /customers/{id}: one customer record with all its calls and messages (newest first, paged), Export (a ZIP of
//! them, `GET /customers/{id}/export.zip`) and Delete,
//! which erases all of its call and message data behind the confirmation dialog. A record that shares its
//! email with others says so and links to them; once erased, it offers the next of them that still has data,
//! and shows the signed receipt of its erasure with its download (or the stored files still pending).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::customers::get_customer;
use crate::components::activity_tables::{CallTable, MessageTable};
use crate::components::erase_control::{EraseControl, ErasedNotice};
use crate::components::loaded::Loaded;
use crate::components::notice::{ErrorNotice, Notice, Tone};
use crate::components::receipt::ReceiptCard;
use crate::components::same_person::{Placement, SamePersonLine};
use crate::error::AppError;
use crate::format::format_time;
use crate::format::urlencode;
use crate::model::{CustomerDetail, HeldRequest, RequestState};

/// One customer record: its details, its calls and messages (each list paged on its own through the
/// `calls_before` and `messages_before` query parameters), and Delete, or the receipt once it is erased. When
/// the record cannot be shown, the page is still headed "Record", above the reason.
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
    let detail = async move { Ok::<_, AppError>(detail.await) };
    view! {
        <Title text="Record"/>
        <p class="breadcrumb"><a href="/customers">"Customers"</a> " / Record"</p>
        <Loaded loading="Loading…" data=detail let:detail>
            {match detail {
                Ok(detail) => view! { <Customer detail/> }.into_any(),
                Err(error) => view! { <h1>"Record"</h1> <ErrorNotice error/> }.into_any(),
            }}
        </Loaded>
    }
}

#[component]
fn Customer(detail: CustomerDetail) -> impl IntoView {
    let CustomerDetail {
        customer,
        phone,
        pending,
        erasure,
        receipt,
        calls,
        messages,
        older_calls,
        older_messages,
        same_person,
        held,
        policy,
    } = detail;
    let placement: Option<Placement> = same_person
        .position_of(customer.id)
        .map(|position| (position, same_person.others(customer.id).cloned().collect()));
    let next = same_person.next_with_data(customer.id).cloned();
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
    let export_href = format!("/customers/{}/export.zip", customer.id);
    let export_name = format!("customer-data-{}.zip", customer.salesforce_id);
    view! {
        <div class="page-header">
            <div>
                <h1>{customer.name}</h1>
                <p class="muted"><span class="badge">{customer.object_type}</span> " " <span class="mono">{customer.salesforce_id}</span></p>
            </div>
            {(!erased).then(|| view! {
                <div class="header-actions">
                    <a class="button" href=export_href download=export_name
                        aria-label=format!("Export the data of {label} (ZIP)")>"Export"</a>
                    {held.is_none().then(|| view! {
                        <EraseControl
                            customer_id=customer.id.to_string()
                            customer_label=label.clone()
                            activity=pending.activity_range()
                            counts=pending.clone()
                            same_person=placement.clone()
                            policy
                        />
                    })}
                </div>
            })}
        </div>
        {placement.map(|placement| view! { <SamePersonLine placement/> })}
        {(!erased).then_some(held).flatten().map(|request| view! { <HeldRecordNotice request/> })}
        {erasure.map(|receipt| view! { <ErasedNotice receipt next/> })}
        {receipt.map(|receipt| view! { <ReceiptCard request_id=receipt.request_id files=receipt.files signed=receipt.signed/> })}
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
            <p class="muted">"This record has no calls or messages. Delete still marks its data as deleted and records a receipt."</p>
        })}
    }
}

/// What a record shows instead of Delete while a request holds it: where the request stands and a link to it,
/// where it can be cancelled, approved or tried again.
#[component]
fn HeldRecordNotice(request: HeldRequest) -> impl IntoView {
    let what = match (request.state, request.not_before) {
        (RequestState::AwaitingApproval, _) => {
            "A request to delete this record's data awaits another Admin's approval.".to_owned()
        }
        (RequestState::Failed, _) => {
            "A request to delete this record's data failed; nothing was deleted.".to_owned()
        }
        (_, Some(at)) => format!(
            "This record's data will be deleted on {} unless the request is cancelled.",
            format_time(at)
        ),
        _ => "A request to delete this record's data is scheduled.".to_owned(),
    };
    view! {
        <Notice tone=Tone::Info>
            <p>{what} " " <a href=format!("/requests/{}", request.request_id)>"Open the request"</a></p>
        </Notice>
    }
}
