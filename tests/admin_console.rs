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

async fn acme_setting(console: &Console) -> bool {
    sqlx::query_scalar("select manage_customer_data from accounts where name = 'Acme Corp'")
        .fetch_one(&console.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn the_account_setting_endpoint_by_actor(pool: PgPool) {
    let console = Console::start(pool).await;
    for actor in ACTORS {
        let client = client_for(&console, actor).await;
        let before = console.snapshot().await;
        let (status, body) = client
            .post("/api/settings/customer-data", &[("enabled", "true")])
            .await;
        let expected = match actor {
            None => StatusCode::UNAUTHORIZED,
            Some(CASEY) => StatusCode::FORBIDDEN,
            _ => StatusCode::OK,
        };
        assert_eq!(status, expected, "{actor:?}: {body}");
        assert_no_internal_text(&body);
        if status != StatusCode::OK {
            assert_eq!(
                console.snapshot().await,
                before,
                "{actor:?} changed the database"
            );
        }
        if actor == Some(GINA) {
            assert_eq!(body["account_name"], json!("Globex"));
        }
    }
    assert!(
        acme_setting(&console).await,
        "Alex turned Acme's setting on"
    );
    let globex: bool =
        sqlx::query_scalar("select manage_customer_data from accounts where name = 'Globex'")
            .fetch_one(&console.pool)
            .await
            .unwrap();
    assert!(globex, "Gina changed her own account only");
}

#[sqlx::test]
async fn the_user_search_endpoint_by_actor(pool: PgPool) {
    let console = Console::start(pool).await;
    for actor in ACTORS {
        let client = client_for(&console, actor).await;
        let before = console.snapshot().await;
        let (status, body) = client
            .post("/api/users/search", &[("query", "blair")])
            .await;
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
        let client = client_for(&console, actor).await;
        let before = console.snapshot().await;
        let (status, body) = client
            .post(
                "/api/users/customer-data-permission",
                &[("user_id", &blair), ("enabled", "true")],
            )
            .await;
        let expected = match actor {
            None => StatusCode::UNAUTHORIZED,
            Some(CASEY) => StatusCode::FORBIDDEN,
            Some(GINA) => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        };
        assert_eq!(status, expected, "{actor:?}: {body}");
        assert_no_internal_text(&body);
        if status != StatusCode::OK {
            assert_eq!(
                console.snapshot().await,
                before,
                "{actor:?} changed the database"
            );
        }
    }
    let granted: bool =
        sqlx::query_scalar("select manage_customer_data from users where email = $1")
            .bind(BLAIR)
            .fetch_one(&console.pool)
            .await
            .unwrap();
    assert!(granted);
}

#[sqlx::test]
async fn both_forms_of_a_salesforce_id_find_the_same_user(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let long: String = sqlx::query_scalar("select salesforce_id from users where email = $1")
        .bind(BLAIR)
        .fetch_one(&console.pool)
        .await
        .unwrap();
    let (_, by_long) = alex.post("/api/users/search", &[("query", &long)]).await;
    let (_, by_short) = alex
        .post("/api/users/search", &[("query", &long[..15])])
        .await;
    assert_eq!(by_long["users"].as_array().unwrap().len(), 1);
    assert_eq!(by_long["users"][0]["email"], json!(BLAIR));
    assert_eq!(by_long, by_short);
    let (_, by_email) = alex
        .post(
            "/api/users/search",
            &[("query", "BLAIR.admin@acme.example")],
        )
        .await;
    assert_eq!(by_email["users"][0]["email"], json!(BLAIR));
    let (_, everyone) = alex.post("/api/users/search", &[("query", "")]).await;
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
    for query in [
        "%",
        "_",
        "\\",
        "'",
        "\"",
        "%'; drop table users; --",
        "a\0b",
        long.as_str(),
    ] {
        let (status, body) = alex.post("/api/users/search", &[("query", query)]).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{query:.20}: {status} {body}"
        );
        assert_no_internal_text(&body);
        if status == StatusCode::OK {
            assert_eq!(
                body["users"],
                json!([]),
                "{query:.20} must match literally, not as a wildcard"
            );
        }
    }
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&console.pool)
        .await
        .unwrap();
    assert_eq!(users, 4);
}

#[sqlx::test]
async fn grants_are_refused_for_agents_unknown_ids_and_while_the_setting_is_off(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let blair = console.user_id(BLAIR).await.to_string();
    let casey = console.user_id(CASEY).await.to_string();
    let before = console.snapshot().await;

    let (status, body) = alex
        .post(
            "/api/users/customer-data-permission",
            &[("user_id", &blair), ("enabled", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the setting is off: {body}");

    console.set_account_setting(ALEX, true).await;
    let before_on = console.snapshot().await;
    let (status, body) = alex
        .post(
            "/api/users/customer-data-permission",
            &[("user_id", &casey), ("enabled", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"Invalid": "Manage Customer Data can only be given to Admins."})
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, _) = alex
        .post(
            "/api/users/customer-data-permission",
            &[("user_id", &unknown), ("enabled", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = alex
        .post(
            "/api/users/customer-data-permission",
            &[("user_id", "not-a-uuid"), ("enabled", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = alex
        .post(
            "/api/users/customer-data-permission",
            &[("user_id", &blair), ("enabled", "maybe")],
        )
        .await;
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
    assert_eq!(
        alex.post_status("/api/settings/customer-data", &[("enabled", "true")])
            .await,
        StatusCode::OK
    );
    assert_eq!(
        alex.post_status(
            "/api/users/customer-data-permission",
            &[("user_id", &blair_text), ("enabled", "true")]
        )
        .await,
        StatusCode::OK
    );

    let blair = console.signed_in(BLAIR).await;
    let (_, viewer) = blair.post("/api/auth/viewer", &[]).await;
    assert_eq!(viewer["can_manage_customer_data"], json!(true));
    assert_eq!(
        blair
            .post_status("/api/customers/search", &[("query", JORDAN)])
            .await,
        StatusCode::OK
    );

    assert_eq!(
        alex.post_status("/api/settings/customer-data", &[("enabled", "false")])
            .await,
        StatusCode::OK
    );
    let (_, viewer) = blair.post("/api/auth/viewer", &[]).await;
    assert_eq!(
        viewer["can_manage_customer_data"],
        json!(false),
        "off applies on Blair's next request"
    );
    assert_eq!(
        blair
            .post_status("/api/customers/search", &[("query", JORDAN)])
            .await,
        StatusCode::FORBIDDEN
    );
    let kept: bool = sqlx::query_scalar("select manage_customer_data from users where id = $1")
        .bind(blair_id)
        .fetch_one(&console.pool)
        .await
        .unwrap();
    assert!(kept, "the grant is kept while the setting is off");

    assert_eq!(
        alex.post_status("/api/settings/customer-data", &[("enabled", "true")])
            .await,
        StatusCode::OK
    );
    assert_eq!(
        blair
            .post_status("/api/customers/search", &[("query", JORDAN)])
            .await,
        StatusCode::OK
    );
    assert_eq!(
        alex.post_status(
            "/api/users/customer-data-permission",
            &[("user_id", &blair_text), ("enabled", "false")]
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        blair
            .post_status("/api/customers/search", &[("query", JORDAN)])
            .await,
        StatusCode::FORBIDDEN
    );

    let alex_id = console.user_id(ALEX).await;
    let events: Vec<(String, uuid::Uuid, Option<uuid::Uuid>)> =
        sqlx::query_as("select action, actor_id, target_user_id from audit_events order by id")
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
    assert!(
        demoted.is_err(),
        "the database refuses an Agent holding the permission"
    );
    sqlx::query("update users set role = 'agent', manage_customer_data = false where email = $1")
        .bind(BLAIR)
        .execute(&console.pool)
        .await
        .unwrap();
    console.set_account_setting(ALEX, true).await;
    let blair = console.signed_in(BLAIR).await;
    let (status, _) = blair
        .post("/api/customers/search", &[("query", JORDAN)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn the_profile_offers_the_toggle_only_to_admins_while_the_setting_is_on(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let blair = console.user_id(BLAIR).await.to_string();
    let casey = console.user_id(CASEY).await.to_string();
    let offered = |body: &Value| body["permission_toggle_offered"].clone();
    assert_eq!(
        offered(
            &alex
                .post("/api/users/profile", &[("user_id", &blair)])
                .await
                .1
        ),
        json!(false)
    );
    console.set_account_setting(ALEX, true).await;
    assert_eq!(
        offered(
            &alex
                .post("/api/users/profile", &[("user_id", &blair)])
                .await
                .1
        ),
        json!(true)
    );
    assert_eq!(
        offered(
            &alex
                .post("/api/users/profile", &[("user_id", &casey)])
                .await
                .1
        ),
        json!(false)
    );
    let gina = console.signed_in(GINA).await;
    assert_eq!(
        gina.post_status("/api/users/profile", &[("user_id", &blair)])
            .await,
        StatusCode::NOT_FOUND
    );
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
