//! Sessions over HTTP: a session ends at the latest `SESSION_MAX_HOURS` (12 by default) after sign-in however
//! often it is used; a user signs out their other sessions and an Admin ends all sessions of a user of their
//! account, each recorded in the audit trail; over https the session cookie is `__Host-` named and no other
//! name signs anyone in.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// Hours from now to the session's idle end and to its absolute end, and from sign-in to its absolute end.
async fn session_hours(console: &Console) -> (f64, f64, f64) {
    sqlx::query_as(
        "select extract(epoch from expires_at - now())::float8 / 3600,
                extract(epoch from absolute_expires_at - now())::float8 / 3600,
                extract(epoch from absolute_expires_at - created_at)::float8 / 3600
         from sessions",
    )
    .fetch_one(&console.pool)
    .await
    .expect("the signed-in client has a session")
}

async fn viewer_email(client: &Client) -> serde_json::Value {
    let (status, viewer) = client.post("/api/auth/viewer", &[]).await;
    assert_eq!(status, StatusCode::OK);
    if viewer.is_null() {
        viewer
    } else {
        viewer["email"].clone()
    }
}

#[sqlx::test]
async fn a_session_ends_twelve_hours_after_sign_in_however_often_it_is_used(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let (idle, absolute, lifetime) = session_hours(&console).await;
    assert!((7.99..8.01).contains(&idle), "{idle}");
    assert!((11.99..12.01).contains(&absolute), "{absolute}");
    assert!((11.999..12.001).contains(&lifetime), "{lifetime}");

    // Eleven hours and fifty minutes later, in use all along: its idle end is due to move forward.
    sqlx::query(
        "update sessions set created_at = created_at - interval '11 hours 50 minutes',
                             absolute_expires_at = absolute_expires_at - interval '11 hours 50 minutes',
                             expires_at = now() + interval '5 minutes'",
    )
    .execute(&console.pool)
    .await
    .unwrap();
    assert_eq!(viewer_email(&alex).await, json!(ALEX));
    let (idle, absolute, _) = session_hours(&console).await;
    assert!(
        idle <= absolute && absolute < 0.17,
        "renewed past its absolute end: idle end in {idle} h, absolute end in {absolute} h"
    );
    assert!(idle > 0.16, "renewed up to its absolute end: {idle}");

    sqlx::query(
        "update sessions set absolute_expires_at = now() - interval '1 second',
                             expires_at = now() - interval '1 second'",
    )
    .execute(&console.pool)
    .await
    .unwrap();
    assert_eq!(viewer_email(&alex).await, json!(null));
}

#[sqlx::test]
async fn the_longest_life_of_a_session_is_configurable(pool: PgPool) {
    let console = Console::start_configured(pool, |web| web.session_max_hours = 2).await;
    console.signed_in(ALEX).await;
    let (idle, absolute, _) = session_hours(&console).await;
    assert!((1.99..2.01).contains(&absolute), "{absolute}");
    assert!(
        idle <= absolute,
        "the idle end comes no later: {idle} > {absolute}"
    );
}

/// The audit trail's entries for ending sessions: (action, actor, target).
async fn session_audit(console: &Console) -> Vec<(String, Uuid, Option<Uuid>)> {
    sqlx::query_as(
        "select action, actor_id, target_user_id from audit_log
         where action like '%sessions_ended' order by account_id, seq",
    )
    .fetch_all(&console.pool)
    .await
    .expect("the audit trail can be read")
}

#[sqlx::test]
async fn a_user_signs_out_their_other_sessions_and_keeps_this_one(pool: PgPool) {
    let console = Console::start(pool).await;
    let here = console.signed_in(ALEX).await;
    let laptop = console.signed_in(ALEX).await;
    let phone = console.signed_in(ALEX).await;
    let blair = console.signed_in(BLAIR).await;
    let (status, ended) = here.post("/api/auth/end-other-sessions", &[]).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended, json!({"ended": 2, "signed_out": false}));
    assert_eq!(viewer_email(&here).await, json!(ALEX));
    assert_eq!(viewer_email(&laptop).await, json!(null));
    assert_eq!(viewer_email(&phone).await, json!(null));
    assert_eq!(
        viewer_email(&blair).await,
        json!(BLAIR),
        "nobody else's session"
    );
    let alex_id = console.user_id(ALEX).await;
    let audited = vec![("other_sessions_ended".to_owned(), alex_id, Some(alex_id))];
    assert_eq!(session_audit(&console).await, audited);

    let (_, again) = here.post("/api/auth/end-other-sessions", &[]).await;
    assert_eq!(again, json!({"ended": 0, "signed_out": false}));
    assert_eq!(
        session_audit(&console).await,
        audited,
        "ending nothing is not an act"
    );
    let agent = console.signed_in(CASEY).await;
    assert_eq!(
        agent.post_status("/api/auth/end-other-sessions", &[]).await,
        StatusCode::OK,
        "Agents may too"
    );
}

#[sqlx::test]
async fn an_admin_ends_all_sessions_of_a_user_of_their_account(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let blair_here = console.signed_in(BLAIR).await;
    let blair_there = console.signed_in(BLAIR).await;
    let blair_id = console.user_id(BLAIR).await;
    let alex_id = console.user_id(ALEX).await;
    let blair_form = [("user_id", blair_id.to_string())];
    let blair_form: Vec<(&str, &str)> = blair_form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let casey = console.signed_in(CASEY).await;
    let (status, _) = casey.post("/api/users/end-sessions", &blair_form).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "Agents may not");
    let gina = console.signed_in(GINA).await;
    let (status, _) = gina.post("/api/users/end-sessions", &blair_form).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another account's Admin may not"
    );
    assert_eq!(viewer_email(&blair_here).await, json!(BLAIR));
    assert_eq!(session_audit(&console).await, []);

    let (status, ended) = alex.post("/api/users/end-sessions", &blair_form).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended, json!({"ended": 2, "signed_out": false}));
    assert_eq!(viewer_email(&blair_here).await, json!(null));
    assert_eq!(viewer_email(&blair_there).await, json!(null));
    assert_eq!(viewer_email(&alex).await, json!(ALEX));
    assert_eq!(
        session_audit(&console).await,
        [("user_sessions_ended".to_owned(), alex_id, Some(blair_id))]
    );

    let own = alex_id.to_string();
    let (status, ended) = alex
        .post("/api/users/end-sessions", &[("user_id", own.as_str())])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ended, json!({"ended": 1, "signed_out": true}));
    assert_eq!(viewer_email(&alex).await, json!(null));
}

#[sqlx::test]
async fn the_home_page_and_a_profile_offer_to_end_sessions(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let (_, home) = alex.get("/").await;
    assert!(home.contains("End other sessions"), "{home}");
    let (_, profile) = alex
        .get(&format!("/users/{}", console.user_id(BLAIR).await))
        .await;
    assert!(profile.contains("End all sessions"), "{profile}");
}

/// The name and value of the session cookie that signing in as Alex sets, and its whole `Set-Cookie` line.
async fn signed_in_cookie(console: &Console) -> (String, String, String) {
    let line = session_cookie_line(console, ALEX).await;
    let (name, rest) = line
        .split_once('=')
        .expect("a Set-Cookie line starts with name=");
    let value = rest
        .split(';')
        .next()
        .expect("split always yields a first part");
    (name.to_owned(), value.to_owned(), line.clone())
}

#[sqlx::test]
async fn over_https_the_session_cookie_is_host_prefixed_and_no_other_name_signs_in(pool: PgPool) {
    let console = Console::start_with(pool, true).await;
    let (name, token, line) = signed_in_cookie(&console).await;
    assert_eq!(name, "__Host-cdc_session", "{line}");
    assert!(
        line.contains("; Path=/;") && line.ends_with("; Secure") && !line.contains("Domain"),
        "{line}"
    );
    assert_eq!(
        viewer_presenting(&console, &format!("__Host-cdc_session={token}")).await["email"],
        json!(ALEX)
    );
    assert_eq!(
        viewer_presenting(&console, &format!("cdc_session={token}")).await,
        json!(null),
        "a cookie without the prefix could have been planted over http"
    );

    let plain = Console::start(console.pool.clone()).await;
    let (name, _, _) = signed_in_cookie(&plain).await;
    assert_eq!(
        name, "cdc_session",
        "over plain http the prefix is not allowed"
    );
}
