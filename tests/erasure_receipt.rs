//! The receipt's figures against the tables: a record with known numbers of calls, recordings, voicemails,
//! transcripts, messages and media is counted straight from the tables before it is erased, and the receipt
//! (as answered, as stored) and the queued keys say exactly that. A record without activity gets a receipt of
//! zeros.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// The fixture's figures: what the inserts below add to the record.
const CALLS: i64 = 8;
const RECORDINGS: i64 = 3;
const VOICEMAILS: i64 = 3;
const TRANSCRIPTS: i64 = 4;
const MESSAGES: i64 = 8;
const MEDIA: i64 = 6;

/// A new Lead in Acme with no activity.
async fn new_lead(console: &Console, salesforce_id: &str) -> Uuid {
    scalar_for(
        &console.pool,
        "insert into customers (account_id, salesforce_id, object_type, name, email, phone)
         select id, $1, 'Lead', 'Receipt Fixture', 'receipt.fixture@example.com', '+14155550888'
         from accounts where name = 'Acme Corp' returning id",
        salesforce_id,
    )
    .await
}

/// Gives `customer` the fixture's activity: calls that are recorded (three, two transcribed), voicemails (two
/// with audio, one transcribed, and one without audio), plain calls (one transcribed), text messages and
/// messages with one, two and three media files. The oldest activity is a message, the newest a call.
async fn add_known_activity(console: &Console, customer: Uuid) {
    for (hours_ago, voicemail, recording, transcript) in [
        (1, false, Some("fixture/1.wav"), Some("first transcript")),
        (2, false, Some("fixture/2.wav"), Some("second transcript")),
        (3, false, Some("fixture/3.wav"), None),
        (
            4,
            true,
            Some("fixture/voicemail-4.wav"),
            Some("voicemail transcript"),
        ),
        (5, true, Some("fixture/voicemail-5.wav"), None),
        (6, true, None, None),
        (7, false, None, Some("live transcript")),
        (8, false, None, None),
    ] {
        sqlx::query(
            "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at,
                                duration_seconds, is_voicemail, recording_key, transcript)
             select account_id, id, 'inbound', phone, '+14155559000', now() - make_interval(hours => $2), 60,
                    $3, 'recordings/' || account_id || '/' || $4, $5
             from customers where id = $1",
        )
        .bind(customer)
        .bind(hours_ago)
        .bind(voicemail)
        .bind(recording)
        .bind(transcript)
        .execute(&console.pool)
        .await
        .expect("the fixture call fits the schema");
    }
    for (hours_ago, media) in [
        (9, vec![]),
        (10, vec![]),
        (11, vec![]),
        (12, vec![]),
        (13, vec!["fixture/a.jpg"]),
        (14, vec!["fixture/b.jpg", "fixture/c.jpg"]),
        (15, vec!["fixture/d.jpg", "fixture/e.png", "fixture/f.gif"]),
        (16, vec![]),
    ] {
        sqlx::query(
            "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at, media_keys)
             select account_id, id, 'outbound', '+14155559000', phone, 'fixture message', now() - make_interval(hours => $2),
                    array(select 'media/' || account_id || '/' || key from unnest($3::text[]) key)
             from customers where id = $1",
        )
        .bind(customer)
        .bind(hours_ago)
        .bind(media)
        .execute(&console.pool)
        .await
        .expect("the fixture message fits the schema");
    }
}

/// The record's figures counted straight from the tables: calls, recordings, voicemails, transcripts, messages,
/// media, and the first and last time of any call or message.
type Figures = (
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
);

async fn figures_from_the_tables(console: &Console, customer: Uuid) -> Figures {
    sqlx::query_as(
        "select (select count(*) from calls where customer_id = $1),
                (select count(*) from calls where customer_id = $1 and recording_key is not null and not is_voicemail),
                (select count(*) from calls where customer_id = $1 and is_voicemail),
                (select count(*) from calls where customer_id = $1 and transcript is not null),
                (select count(*) from messages where customer_id = $1),
                (select coalesce(sum(cardinality(media_keys)), 0)::bigint from messages where customer_id = $1),
                (select min(at) from (select started_at as at from calls where customer_id = $1
                                      union all select sent_at from messages where customer_id = $1) a),
                (select max(at) from (select started_at as at from calls where customer_id = $1
                                      union all select sent_at from messages where customer_id = $1) a)",
    )
    .bind(customer)
    .fetch_one(&console.pool)
    .await
    .expect("the record's activity can be counted")
}

/// The receipt as stored, in the same order.
async fn figures_of_the_receipt(console: &Console, customer: Uuid) -> Figures {
    let (calls, recordings, voicemails, transcripts, messages, media, first, last): (
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        Option<OffsetDateTime>,
        Option<OffsetDateTime>,
    ) = sqlx::query_as(
        "select calls_deleted, recordings_deleted, voicemails_deleted, transcripts_deleted, messages_deleted,
                media_deleted, first_activity_at, last_activity_at
         from erasures where customer_id = $1",
    )
    .bind(customer)
    .fetch_one(&console.pool)
    .await
    .expect("the erased record has one receipt");
    (
        calls.into(),
        recordings.into(),
        voicemails.into(),
        transcripts.into(),
        messages.into(),
        media.into(),
        first,
        last,
    )
}

/// The counts of an answered receipt, in the same order as `Figures` (without the times).
fn answered_counts(receipt: &serde_json::Value) -> [Option<i64>; 6] {
    [
        "calls",
        "recordings",
        "voicemails",
        "transcripts",
        "messages",
        "media",
    ]
    .map(|count| receipt["counts"][count].as_i64())
}

#[sqlx::test]
async fn the_receipt_counts_what_the_tables_held(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let customer = new_lead(&console, "00Q5e00RcptFixtEEB").await;
    add_known_activity(&console, customer).await;
    let mut keys = console.stored_keys(customer).await;
    keys.sort();

    let before = figures_from_the_tables(&console, customer).await;
    let (calls, recordings, voicemails, transcripts, messages, media, first, last) = before;
    assert_eq!(
        (calls, recordings, voicemails, transcripts, messages, media),
        (CALLS, RECORDINGS, VOICEMAILS, TRANSCRIPTS, MESSAGES, MEDIA),
        "the fixture holds its known figures"
    );
    assert_eq!(
        keys.len() as i64,
        5 + MEDIA,
        "five audio files and the media"
    );
    let (first_message, last_call): (OffsetDateTime, OffsetDateTime) = sqlx::query_as(
        "select (select min(sent_at) from messages where customer_id = $1),
                (select max(started_at) from calls where customer_id = $1)",
    )
    .bind(customer)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!((first, last), (Some(first_message), Some(last_call)));

    let (status, receipt) = alex.erase(customer).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(
        answered_counts(&receipt),
        [calls, recordings, voicemails, transcripts, messages, media].map(Some),
        "{receipt}"
    );
    assert_eq!(figures_of_the_receipt(&console, customer).await, before);
    let mut queued: Vec<String> = column(
        &console.pool,
        "select unnest(object_keys) from object_deletions",
    )
    .await;
    queued.sort();
    assert_eq!(
        queued, keys,
        "the outbox holds exactly the record's stored keys"
    );
    assert_eq!(
        figures_from_the_tables(&console, customer).await,
        (0, 0, 0, 0, 0, 0, None, None)
    );
}

#[sqlx::test]
async fn a_record_without_activity_gets_a_receipt_of_zeros(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let customer = new_lead(&console, "00Q5e00RcptEmptEEB").await;
    let (status, receipt) = alex.erase(customer).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(answered_counts(&receipt), [Some(0); 6], "{receipt}");
    assert_eq!(receipt["counts"]["first_activity_at"], json!(null));
    assert_eq!(
        figures_of_the_receipt(&console, customer).await,
        (0, 0, 0, 0, 0, 0, None, None)
    );
    let queued: i64 = scalar(&console.pool, "select count(*) from object_deletions").await;
    assert_eq!(queued, 0);
}
