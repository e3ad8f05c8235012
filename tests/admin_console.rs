//! Admin Console over HTTP with real sessions: the account setting, user search and the per-user permission,
//! for every actor, with the database checked unchanged after each refusal.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

const ACTORS: [Option<&str>; 4] = [None, Some(CASEY), Some(ALEX), Some(GINA)];

async fn client_for(console: &Console, actor: Option<&str>) -> Client {
    match actor {
        Some(email) => console.signed_in(email).await,
        None => console.anonymous(),
    }
}

/// Posts `form` to `path` as `actor` and asserts the `expected` status and no internal text; a refusal must
/// leave the database as it was. Returns the answer's body.
async fn answer_as(
    console: &Console,
    actor: Option<&str>,
    (path, form): (&str, &[(&str, &str)]),
    expected: StatusCode,
) -> Value {
    let client = client_for(console, actor).await;
    let before = console.snapshot().await;
    let answer = client.post(path, form).await;
    let who = format!("{actor:?}");
    assert_answer(&answer, expected, &who);
    if expected != StatusCode::OK {
        console.assert_unchanged(&before, &who).await;
    }
    answer.1
}

/// A console on the demo data with Alex signed in, and Blair's and Casey's user ids as forms send them.
async fn alex_with_the_ids_of_blair_and_casey(pool: PgPool) -> (Console, Client, String, String) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let blair = console.user_id(BLAIR).await.to_string();
    let casey = console.user_id(CASEY).await.to_string();
    (console, alex, blair, casey)
}

async fn acme_setting(console: &Console) -> bool {
    scalar(
        &console.pool,
        "select manage_customer_data from accounts where name = 'Acme Corp'",
    )
    .await
}

#[sqlx::test]
async fn the_account_setting_endpoint_by_actor(pool: PgPool) {
    let console = Console::start(pool).await;
    for actor in ACTORS {
        let expected = match actor {
            None => StatusCode::UNAUTHORIZED,
            Some(CASEY) => StatusCode::FORBIDDEN,
            _ => StatusCode::OK,
        };
        let setting = ("/api/settings/customer-data", &[("enabled", "true")][..]);
        let body = answer_as(&console, actor, setting, expected).await;
        if actor == Some(GINA) {
            assert_eq!(body["account_name"], json!("Globex"));
        }
    }
    assert!(
        acme_setting(&console).await,
        "Alex turned Acme's setting on"
    );
    let globex: bool = scalar(
        &console.pool,
        "select manage_customer_data from accounts where name = 'Globex'",
    )
    .await;
    assert!(globex, "Gina changed her own account only");
}

#[sqlx::test]
async fn the_user_search_endpoint_by_actor(pool: PgPool) {
    let console = Console::start(pool).await;
    for actor in ACTORS {
        let client = client_for(&console, actor).await;
        let before = console.snapshot().await;
        let (status, body) = client.search_users("blair").await;
        match actor {
            None => assert_eq!(status, StatusCode::UNAUTHORIZED),
            Some(CASEY) => assert_eq!(status, StatusCode::FORBIDDEN),
            Some(ALEX) => {
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body["users"][0]["email"], json!(BLAIR));
            }
            _ => {
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body["users"], json!([]), "Globex sees no Acme user");
            }
        }
        assert_eq!(console.snapshot().await, before);
    }
}

#[sqlx::test]
async fn the_permission_endpoint_by_actor(pool: PgPool) {
    let console = Console::start(pool).await;
    console.set_account_setting(ALEX, true).await;
    console.set_account_setting(GINA, true).await;
    let blair = console.user_id(BLAIR).await.to_string();
    for actor in [None, Some(CASEY), Some(GINA), Some(ALEX)] {
        let expected = match actor {
            None => StatusCode::UNAUTHORIZED,
            Some(CASEY) => StatusCode::FORBIDDEN,
            Some(GINA) => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        };
        let grant = [("user_id", blair.as_str()), ("enabled", "true")];
        let permission = ("/api/users/customer-data-permission", &grant[..]);
        answer_as(&console, actor, permission, expected).await;
    }
    let granted: bool = scalar_for(
        &console.pool,
        "select manage_customer_data from users where email = $1",
        BLAIR,
    )
    .await;
    assert!(granted);
}

#[sqlx::test]
async fn both_forms_of_a_salesforce_id_find_the_same_user(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let long: String = scalar_for(
        &console.pool,
        "select salesforce_id from users where email = $1",
        BLAIR,
    )
    .await;
    let (_, by_long) = alex.search_users(&long).await;
    let (_, by_short) = alex.search_users(&long[..15]).await;
    assert_eq!(by_long["users"].as_array().unwrap().len(), 1);
    assert_eq!(by_long["users"][0]["email"], json!(BLAIR));
    assert_eq!(by_long, by_short);
    let (_, by_email) = alex.search_users("BLAIR.admin@acme.example").await;
    assert_eq!(by_email["users"][0]["email"], json!(BLAIR));
    let (_, everyone) = alex.search_users("").await;
    assert_eq!(
        everyone["users"].as_array().unwrap().len(),
        3,
        "an empty search lists the account's users"
    );
}

#[sqlx::test]
async fn hostile_search_text_is_matched_literally_or_refused(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let long = "x".repeat(10_000);
    for (query, expected) in [
        ("%", StatusCode::OK),
        ("_", StatusCode::OK),
        ("\\", StatusCode::OK),
        ("'", StatusCode::OK),
        ("\"", StatusCode::OK),
        ("%'; drop table users; --", StatusCode::OK),
        ("a\0b", StatusCode::UNPROCESSABLE_ENTITY),
        (long.as_str(), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body) = alex.search_users(query).await;
        assert_eq!(status, expected, "{query:.20}: {body}");
        assert_no_internal_text(&body);
        if status == StatusCode::OK {
            assert_eq!(
                body["users"],
                json!([]),
                "{query:.20} must match literally, not as a wildcard"
            );
        }
    }
    let users: i64 = scalar(&console.pool, "select count(*) from users").await;
    assert_eq!(users, 4);
}

#[sqlx::test]
async fn grants_are_refused_for_agents_unknown_ids_and_while_the_setting_is_off(pool: PgPool) {
    let (console, alex, blair, casey) = alex_with_the_ids_of_blair_and_casey(pool).await;
    let before = console.snapshot().await;

    let (status, body) = alex.change_permission(&blair, "true").await;
    assert_eq!(status, StatusCode::CONFLICT, "the setting is off: {body}");

    console.set_account_setting(ALEX, true).await;
    let before_on = console.snapshot().await;
    let (status, body) = alex.change_permission(&casey, "true").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"Invalid": "Manage Customer Data can only be given to Admins."})
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, _) = alex.change_permission(&unknown, "true").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = alex.change_permission("not-a-uuid", "true").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = alex.change_permission(&blair, "maybe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(console.snapshot().await, before_on);
    assert_ne!(before, before_on);
}

#[sqlx::test]
async fn changes_are_audited_and_grants_survive_the_setting_going_off(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let blair_id = console.user_id(BLAIR).await;
    let blair_text = blair_id.to_string();
    assert_eq!(alex.change_setting("true").await.0, StatusCode::OK);
    assert_eq!(
        alex.change_permission(&blair_text, "true").await.0,
        StatusCode::OK
    );

    let blair = console.signed_in(BLAIR).await;
    let (_, viewer) = blair.post("/api/auth/viewer", &[]).await;
    assert_eq!(viewer["can_manage_customer_data"], json!(true));
    assert_eq!(blair.search_customers(JORDAN).await.0, StatusCode::OK);

    assert_eq!(alex.change_setting("false").await.0, StatusCode::OK);
    let (_, viewer) = blair.post("/api/auth/viewer", &[]).await;
    assert_eq!(
        viewer["can_manage_customer_data"],
        json!(false),
        "off applies on Blair's next request"
    );
    assert_eq!(
        blair.search_customers(JORDAN).await.0,
        StatusCode::FORBIDDEN
    );
    let kept: bool = scalar_for(
        &console.pool,
        "select manage_customer_data from users where id = $1",
        blair_id,
    )
    .await;
    assert!(kept, "the grant is kept while the setting is off");

    assert_eq!(alex.change_setting("true").await.0, StatusCode::OK);
    assert_eq!(blair.search_customers(JORDAN).await.0, StatusCode::OK);
    assert_eq!(
        alex.change_permission(&blair_text, "false").await.0,
        StatusCode::OK
    );
    assert_eq!(
        blair.search_customers(JORDAN).await.0,
        StatusCode::FORBIDDEN
    );

    let alex_id = console.user_id(ALEX).await;
    let events: Vec<(String, uuid::Uuid, Option<uuid::Uuid>)> = sqlx::query_as(
        "select action, actor_id, target_user_id from audit_log
             where action like 'customer_data_%' order by account_id, seq",
    )
    .fetch_all(&console.pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        vec![
            ("customer_data_setting_enabled".into(), alex_id, None),
            (
                "customer_data_permission_granted".into(),
                alex_id,
                Some(blair_id)
            ),
            ("customer_data_setting_disabled".into(), alex_id, None),
            ("customer_data_setting_enabled".into(), alex_id, None),
            (
                "customer_data_permission_revoked".into(),
                alex_id,
                Some(blair_id)
            ),
        ]
    );
}

#[sqlx::test]
async fn a_demoted_admin_cannot_keep_the_permission(pool: PgPool) {
    let console = Console::start(pool).await;
    console.set_permission(BLAIR, true).await;
    let demoted = sqlx::query("update users set role = 'agent' where email = $1")
        .bind(BLAIR)
        .execute(&console.pool)
        .await;
    let refusal = demoted.expect_err("the database refuses an Agent holding the permission");
    assert_eq!(
        refusal
            .as_database_error()
            .and_then(|e| e.constraint().map(str::to_owned)),
        Some("users_permission_only_for_admins".to_owned()),
        "{refusal}"
    );
    sqlx::query("update users set role = 'agent', manage_customer_data = false where email = $1")
        .bind(BLAIR)
        .execute(&console.pool)
        .await
        .unwrap();
    console.set_account_setting(ALEX, true).await;
    let blair = console.signed_in(BLAIR).await;
    let (status, _) = blair.search_customers(JORDAN).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn the_profile_offers_the_toggle_only_to_admins_while_the_setting_is_on(pool: PgPool) {
    let (console, alex, blair, casey) = alex_with_the_ids_of_blair_and_casey(pool).await;
    let offered = |body: &Value| body["permission_toggle_offered"].clone();
    assert_eq!(offered(&alex.profile(&blair).await.1), json!(false));
    console.set_account_setting(ALEX, true).await;
    assert_eq!(offered(&alex.profile(&blair).await.1), json!(true));
    assert_eq!(offered(&alex.profile(&casey).await.1), json!(false));
    let gina = console.signed_in(GINA).await;
    assert_eq!(gina.profile(&blair).await.0, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn the_server_rendered_switch_shows_the_saved_state_before_hydration(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let switch_html = |html: &str| {
        let start = html
            .find(r#"id="manage-customer-data""#)
            .expect("the switch");
        let open = html[..start].rfind('<').expect("tag start");
        let end = start + html[start..].find('>').expect("tag end");
        html[open..end].to_owned()
    };
    let (_, off) = alex.get("/admin").await;
    assert!(
        !switch_html(&off).contains("checked"),
        "{}",
        switch_html(&off)
    );
    console.set_account_setting(ALEX, true).await;
    let (_, on) = alex.get("/admin").await;
    assert!(switch_html(&on).contains("checked"), "{}", switch_html(&on));
}
