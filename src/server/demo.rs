//! The demo data of DESIGN.md, loaded idempotently: two accounts, their users (password `demo-password`),
//! a few dozen customers each with calls (recording files in the object store) and messages, and
//! jordan.rivera@example.com in Acme as both a Lead and a Contact. Ids are derived from names, rows are
//! inserted with ON CONFLICT DO NOTHING and a customer's activity only together with the customer, in one
//! transaction, so a second run changes nothing and an erased demo customer stays erased.

use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::model::Role;
use crate::salesforce::{SalesforceId, key_prefix};
use crate::server::auth::hash_password;
use crate::server::db::users::role_to_db;
use crate::server::input;
use crate::server::keys::Keyring;
use crate::server::storage::Storage;

/// The password of every demo user and of the synthetic tenant's users.
pub const DEMO_PASSWORD: &str = "demo-password";
const NAMESPACE: Uuid = Uuid::from_u128(0x6a0c_1d2e_83f4_4b5a_9c6d_7e8f_9a0b_1c2d);
const CUSTOMERS_PER_ACCOUNT: usize = 36;

struct DemoUser {
    name: &'static str,
    email: &'static str,
    role: Role,
}

struct DemoAccount {
    key: &'static str,
    name: &'static str,
    users: &'static [DemoUser],
}

const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        key: "acme",
        name: "Acme Corp",
        users: &[
            DemoUser {
                name: "Alex Admin",
                email: "alex.admin@acme.example",
                role: Role::Admin,
            },
            DemoUser {
                name: "Blair Admin",
                email: "blair.admin@acme.example",
                role: Role::Admin,
            },
            DemoUser {
                name: "Casey Agent",
                email: "casey.agent@acme.example",
                role: Role::Agent,
            },
        ],
    },
    DemoAccount {
        key: "globex",
        name: "Globex",
        users: &[DemoUser {
            name: "Gina Admin",
            email: "gina.admin@globex.example",
            role: Role::Admin,
        }],
    },
];

const FIRST_NAMES: &[&str] = &[
    "Avery", "Morgan", "Riley", "Quinn", "Harper", "Rowan", "Emerson", "Sage", "Finley", "Dakota",
    "Reese", "Skyler",
];
const LAST_NAMES: &[&str] = &[
    "Nguyen", "Okafor", "Larsen", "Moreau", "Silva", "Tanaka", "Kowalski", "Haddad", "Byrne",
    "Castillo",
];
const DISPOSITIONS: &[&str] = &[
    "Connected",
    "Left voicemail",
    "No answer",
    "Meeting booked",
    "Not interested",
];
const MESSAGE_BODIES: &[&str] = &[
    "Thanks for the call today, sending the pricing sheet now.",
    "Could we move our meeting to Thursday at 2pm?",
    "Here is the signed order form.",
    "Following up on the demo: any questions from your team?",
    "Got it, talk soon.",
];

/// A small deterministic generator, so every run produces the same demo.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn demo_id(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}:{key}").as_bytes())
}

/// A valid Salesforce id with the given key prefix; distinct `n` below 62^9 give distinct ids, because
/// multiplying by a constant coprime to 62^9 permutes that range (and mixes letter case like real ids).
pub fn salesforce_id(prefix: &str, n: u64) -> SalesforceId {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const RANGE: u128 = 13_537_086_546_263_552; // 62^9
    const SPREAD: u128 = 0x9E37_79B9_7F4A_7C15; // odd and not a multiple of 31
    let mut x = (u128::from(n) * SPREAD) % RANGE;
    let mut body = String::from(prefix);
    body.push_str("5e0");
    for _ in 0..9 {
        body.push(ALPHABET[(x % 62) as usize] as char);
        x /= 62;
    }
    SalesforceId::parse(&body)
        .unwrap_or_else(|_| unreachable!("generated ids are 15 alphanumerics"))
}

/// A valid id for a customer record of `object_type` (Lead, Contact, Account or Opportunity), derived from `n`.
pub fn customer_salesforce_id(object_type: &str, n: u64) -> SalesforceId {
    salesforce_id(key_prefix(object_type).unwrap_or("006"), n)
}

/// The demo accounts' default country, which reads their customers' phone numbers.
const DEMO_COUNTRY: &str = "US";

/// A demo phone number in E.164: `+1415555` and `n` (modulo 10,000) in four digits.
pub fn phone_number(n: u64) -> String {
    format!("+1415555{:04}", n % 10_000)
}

/// A tiny valid WAV file standing in for a recording.
fn recording_bytes(seed: u64) -> Vec<u8> {
    let samples: Vec<u8> = (0..800u64).map(|i| ((i * 7 + seed) % 251) as u8).collect();
    let mut wav = Vec::with_capacity(44 + samples.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&8u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(&samples);
    wav
}

struct DemoCustomer {
    key: String,
    object_type: &'static str,
    name: String,
    email: String,
    /// The phone as the Salesforce record spells it; `None`: one made up from the record's number.
    phone: Option<&'static str>,
    calls: u64,
    messages: u64,
}

fn customers_of(account_key: &str, seq: &mut Sequence) -> Vec<DemoCustomer> {
    let mut customers = Vec::with_capacity(CUSTOMERS_PER_ACCOUNT + 2);
    if account_key == "acme" {
        for (object_type, phone, calls, messages) in [
            ("Lead", "(415) 555-0142", 4, 5),
            ("Contact", "+1 415 555 0142", 3, 3),
        ] {
            customers.push(DemoCustomer {
                key: format!("jordan-{object_type}"),
                object_type,
                name: "Jordan Rivera".into(),
                email: "jordan.rivera@example.com".into(),
                phone: Some(phone),
                calls,
                messages,
            });
        }
    }
    for i in 0..CUSTOMERS_PER_ACCOUNT {
        let first = FIRST_NAMES[i % FIRST_NAMES.len()];
        let last = LAST_NAMES[(i / FIRST_NAMES.len() + i) % LAST_NAMES.len()];
        let object_type = ["Lead", "Contact", "Contact", "Account", "Opportunity"][i % 5];
        customers.push(DemoCustomer {
            key: format!("{i}"),
            object_type,
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}{}@{}-customer.example",
                first.to_lowercase(),
                last.to_lowercase(),
                i,
                account_key
            ),
            phone: None,
            calls: seq.below(7),
            messages: seq.below(9),
        });
    }
    customers
}

/// What `seed` inserted on this run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Users created (an existing demo user is left as it is and not counted).
    pub users: usize,
    /// Customer records inserted, with their activity.
    pub customers: usize,
    /// Calls inserted.
    pub calls: usize,
    /// Messages inserted.
    pub messages: usize,
    /// Recording and media files written to the object store.
    pub files: usize,
}

/// Loads the demo, each record's call and message values and stored files sealed under its data key from
/// `keyring`. Safe to run any number of times.
pub async fn seed(
    pool: &PgPool,
    storage: &Storage,
    keyring: &Keyring,
) -> Result<SeedReport, String> {
    let mut report = SeedReport::default();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut tx = pool.begin().await.map_err(db_text)?;
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|e| e.to_string())?;
    for (account_index, account) in ACCOUNTS.iter().enumerate() {
        let account_id = demo_id("account", account.key);
        sqlx::query!(
            "insert into accounts (id, name) values ($1, $2) on conflict (id) do nothing",
            account_id,
            account.name
        )
        .execute(&mut *tx)
        .await
        .map_err(db_text)?;
        let mut user_ids = Vec::new();
        for (user_index, user) in account.users.iter().enumerate() {
            let user_id = demo_id("user", user.email);
            user_ids.push(user_id);
            let exists = sqlx::query_scalar!(
                r#"select exists (select 1 from users where id = $1) as "exists!""#,
                user_id
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(db_text)?;
            if exists {
                continue;
            }
            let hash = hash_password(DEMO_PASSWORD).map_err(|e| e.to_string())?;
            let sf = salesforce_id("005", (account_index * 100 + user_index) as u64 + 1);
            sqlx::query!(
                "insert into users (id, account_id, name, email, role, salesforce_id, password_hash)
                 values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing",
                user_id,
                account_id,
                user.name,
                user.email,
                role_to_db(user.role),
                sf.as_str(),
                hash.as_str()
            )
            .execute(&mut *tx)
            .await
            .map_err(db_text)?;
            report.users += 1;
        }

        let mut seq = Sequence(0x5EED_0000 + account_index as u64 * 7919);
        for (customer_index, customer) in
            customers_of(account.key, &mut seq).into_iter().enumerate()
        {
            let customer_id = demo_id("customer", &format!("{}:{}", account.key, customer.key));
            let n = (account_index * 1000 + customer_index) as u64 + 1;
            let sf = customer_salesforce_id(customer.object_type, n);
            let phone = customer
                .phone
                .map_or_else(|| phone_number(n), str::to_owned);
            let phone_e164 = input::phone_e164(&phone, DEMO_COUNTRY);
            let inserted = sqlx::query!(
                "insert into customers (id, account_id, salesforce_id, object_type, name, email, phone, phone_e164)
                 values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
                customer_id,
                account_id,
                sf.as_str(),
                customer.object_type,
                customer.name,
                customer.email,
                phone,
                phone_e164
            )
            .execute(&mut *tx)
            .await
            .map_err(db_text)?
            .rows_affected();
            if inserted == 0 {
                continue;
            }
            report.customers += 1;
            let sealer = keyring
                .sealer(account_id, customer_id)
                .await
                .map_err(|e| format!("cannot make a demo record's key: {e}"))?;
            let customer_phone = phone_e164.unwrap_or(phone);
            let rep_phone = phone_number(9000 + account_index as u64);
            for c in 0..customer.calls {
                let call_id = demo_id("call", &format!("{customer_id}:{c}"));
                let inbound = seq.below(3) == 0;
                let voicemail = !inbound && seq.below(4) == 0;
                let recorded = voicemail || seq.below(2) == 0;
                let recording_key =
                    recorded.then(|| format!("recordings/{account_id}/{call_id}.wav"));
                let started_at = now - Duration::hours((c as i64 + 1) * 26 + seq.below(20) as i64);
                let (from, to) = if inbound {
                    (&customer_phone, &rep_phone)
                } else {
                    (&rep_phone, &customer_phone)
                };
                sqlx::query!(
                    "insert into calls (id, account_id, customer_id, user_id, direction, from_number_sealed,
                         to_number_sealed, started_at, duration_seconds, disposition, notes_sealed,
                         transcript_sealed, is_voicemail, recording_key)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    call_id,
                    account_id,
                    customer_id,
                    user_ids[c as usize % user_ids.len()],
                    if inbound { "inbound" } else { "outbound" },
                    sealer.seal("calls", "from_number", call_id, from),
                    sealer.seal("calls", "to_number", call_id, to),
                    started_at,
                    if voicemail { 35 } else { 30 + seq.below(900) as i32 },
                    if voicemail { "Left voicemail" } else { seq.pick(DISPOSITIONS) },
                    sealer.seal("calls", "notes", call_id, &format!("Call {} with {}", c + 1, customer.name)),
                    (recorded && !voicemail).then(|| sealer.seal(
                        "calls",
                        "transcript",
                        call_id,
                        &format!("Transcript of call {} with {}.", c + 1, customer.name)
                    )),
                    voicemail,
                    recording_key
                )
                .execute(&mut *tx)
                .await
                .map_err(db_text)?;
                report.calls += 1;
                if let Some(key) = recording_key {
                    let sealed = sealer.seal_file(&key, &recording_bytes(n * 31 + c));
                    files.push((key, sealed));
                }
            }
            for m in 0..customer.messages {
                let message_id = demo_id("message", &format!("{customer_id}:{m}"));
                let inbound = seq.below(2) == 0;
                let media: Vec<String> = if seq.below(4) == 0 {
                    vec![format!("media/{account_id}/{message_id}/0.jpg")]
                } else {
                    Vec::new()
                };
                let sent_at = now - Duration::hours((m as i64 + 1) * 19 + seq.below(15) as i64);
                let (from, to) = if inbound {
                    (&customer_phone, &rep_phone)
                } else {
                    (&rep_phone, &customer_phone)
                };
                sqlx::query!(
                    "insert into messages (id, account_id, customer_id, user_id, direction, from_number_sealed,
                         to_number_sealed, body_sealed, sent_at, media_keys)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    message_id,
                    account_id,
                    customer_id,
                    user_ids[m as usize % user_ids.len()],
                    if inbound { "inbound" } else { "outbound" },
                    sealer.seal("messages", "from_number", message_id, from),
                    sealer.seal("messages", "to_number", message_id, to),
                    sealer.seal("messages", "body", message_id, seq.pick(MESSAGE_BODIES)),
                    sent_at,
                    &media
                )
                .execute(&mut *tx)
                .await
                .map_err(db_text)?;
                report.messages += 1;
                for key in media {
                    let sealed = sealer.seal_file(&key, &recording_bytes(n * 17 + m));
                    files.push((key, sealed));
                }
            }
        }
    }
    for (key, sealed) in files {
        storage
            .put(&key, sealed)
            .await
            .map_err(|e| format!("cannot store {key}: {e}"))?;
        report.files += 1;
    }
    tx.commit().await.map_err(db_text)?;
    Ok(report)
}

fn db_text(err: sqlx::Error) -> String {
    format!("database error while seeding: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_salesforce_ids_are_valid_and_typed() {
        for n in 0..500 {
            let id = salesforce_id("00Q", n);
            assert_eq!(id.as_str().len(), 18);
            assert_eq!(SalesforceId::parse(id.short()).unwrap(), id);
            assert_eq!(id.object_type(), Some("Lead"));
        }
        let distinct: std::collections::HashSet<_> =
            (0..20_000).map(|n| salesforce_id("003", n)).collect();
        assert_eq!(distinct.len(), 20_000);
    }

    #[test]
    fn acme_has_jordan_as_lead_and_contact() {
        let customers = customers_of("acme", &mut Sequence(1));
        let jordans: Vec<_> = customers
            .iter()
            .filter(|c| c.email == "jordan.rivera@example.com")
            .collect();
        assert_eq!(jordans.len(), 2);
        assert_eq!(jordans[0].object_type, "Lead");
        assert_eq!(jordans[1].object_type, "Contact");
        assert!(
            customers_of("globex", &mut Sequence(1))
                .iter()
                .all(|c| c.email != "jordan.rivera@example.com")
        );
    }
}
