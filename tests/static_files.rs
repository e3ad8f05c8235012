//! The built files and `public/`'s files are served from their stored Brotli and gzip variants, chosen by
//! `Accept-Encoding`, with `Vary` and a strong `ETag` per representation; `If-None-Match` answers 304. Every
//! `/pkg` file must have its variants: a file served compressed at request time, or not at all, fails here.

mod common;

use std::io::Read;

use common::*;
use customer_data_console::server::http::PKG_EXTENSIONS;
use reqwest::StatusCode;
use sqlx::PgPool;

/// GETs `path` accepting `encodings` (as the header says), with no decoding by the client.
async fn get_encoded(console: &Console, path: &str, encodings: &str) -> reqwest::Response {
    get_unless(console, path, encodings, None).await
}

/// Like `get_encoded`, with `If-None-Match: <tag>` when a tag is given.
async fn get_unless(
    console: &Console,
    path: &str,
    encodings: &str,
    tag: Option<&str>,
) -> reqwest::Response {
    let mut request = bare_client()
        .get(console.url(path))
        .header("accept-encoding", encodings);
    if let Some(tag) = tag {
        request = request.header("if-none-match", tag);
    }
    request.send().await.expect("request")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("ASCII").to_owned())
}

fn decoded(encoding: &str, body: &[u8]) -> String {
    let mut text = String::new();
    match encoding {
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_string(&mut text)
            .expect("Brotli"),
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .expect("gzip"),
        _ => panic!("unexpected encoding {encoding}"),
    };
    text
}

#[sqlx::test]
async fn each_built_file_is_served_from_its_stored_variants(pool: PgPool) {
    let console = Console::start(pool).await;
    let version = console.state.asset_version.clone().expect("a version");
    for extension in PKG_EXTENSIONS {
        let path = format!("/pkg/{OUTPUT_NAME}.{extension}?v={version}");
        let mut tags = Vec::new();
        for (accepted, served) in [
            ("br", Some("br")),
            ("gzip, deflate", Some("gzip")),
            ("gzip, br", Some("br")),
            ("identity", None),
        ] {
            let response = get_encoded(&console, &path, accepted).await;
            let what = format!("{path} accepting {accepted}");
            assert_eq!(response.status(), StatusCode::OK, "{what}");
            assert_eq!(
                header(&response, "content-encoding").as_deref(),
                served,
                "{what}"
            );
            assert_eq!(
                header(&response, "vary").as_deref(),
                Some("accept-encoding"),
                "{what}"
            );
            assert_eq!(
                header(&response, "cache-control").as_deref(),
                Some("public, max-age=31536000, immutable"),
                "{what}"
            );
            let tag = header(&response, "etag").expect("an ETag");
            assert!(tag.starts_with('"') && tag.ends_with('"'), "{what}: {tag}");
            let body = response.bytes().await.expect("body");
            let text = match served {
                Some(encoding) => {
                    assert!(body.len() < stand_in(extension).len(), "{what}: compressed");
                    decoded(encoding, &body)
                }
                None => String::from_utf8(body.to_vec()).expect("text"),
            };
            assert_eq!(text, stand_in(extension), "{what}");
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        assert_eq!(tags.len(), 3, "one tag per representation: {tags:?}");
    }
}

#[sqlx::test]
async fn a_kept_copy_is_confirmed_with_304(pool: PgPool) {
    let console = Console::start(pool).await;
    for path in [
        format!("/pkg/{OUTPUT_NAME}.wasm"),
        "/favicon.svg".to_owned(),
    ] {
        let first = get_encoded(&console, &path, "br").await;
        assert_eq!(
            header(&first, "content-encoding").as_deref(),
            Some("br"),
            "{path}"
        );
        let tag = header(&first, "etag").expect("an ETag");
        let again = get_unless(&console, &path, "br", Some(&tag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&again, "etag"), Some(tag.clone()), "{path}");
        assert!(again.bytes().await.expect("body").is_empty());
        let other_representation = get_unless(&console, &path, "identity", Some(&tag)).await;
        assert_eq!(
            other_representation.status(),
            StatusCode::OK,
            "{path}: the tag of the Brotli copy does not confirm the plain one"
        );
    }
}
