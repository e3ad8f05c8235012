//! Slow clients over real sockets: a connection that does not finish sending a request's headers within the
//! header-read timeout is closed, and connections beyond the cap wait until one closes, so 300 half-sent
//! requests neither keep the console from answering nor stay open. The tests shorten the timeout to 1 s.

mod common;

use std::time::{Duration, Instant};

use common::*;
use customer_data_console::server::http::ConnectionLimits;
use reqwest::StatusCode;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(1);

/// A console that serves at most `max_connections` at once and gives clients `TIMEOUT` to send headers.
async fn console_serving(pool: PgPool, max_connections: usize) -> Console {
    let limits = ConnectionLimits {
        header_read_timeout: TIMEOUT,
        max_connections,
    };
    Console::start_limited(pool, limits).await
}

/// A connection that sent a request line and part of its headers, and nothing more.
async fn half_sent_request(console: &Console) -> TcpStream {
    let address = console.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address)
        .await
        .expect("the console accepts the connection");
    stream
        .write_all(b"GET /login HTTP/1.1\r\nHost: console\r\nX-Slow: ")
        .await
        .expect("the partial request can be written");
    stream
}

/// Whether the server closes `stream` before `deadline` (reading whatever it sends first).
async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// A request from a new client, and how long its answer took.
async fn timed_request(console: &Console) -> (StatusCode, Duration) {
    let started = Instant::now();
    let response = reqwest::Client::new()
        .get(console.url("/robots.txt"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the console answers within the timeout");
    (response.status(), started.elapsed())
}

#[sqlx::test]
async fn three_hundred_half_sent_requests_keep_nobody_waiting_and_are_closed(pool: PgPool) {
    let console = console_serving(pool, ConnectionLimits::default().max_connections).await;
    let mut stalled = Vec::new();
    for _ in 0..300 {
        stalled.push(half_sent_request(&console).await);
    }
    let address = console.base.trim_start_matches("http://");
    stalled.push(TcpStream::connect(address).await.unwrap());
    let (status, took) = timed_request(&console).await;
    assert_eq!(status, StatusCode::OK);
    assert!(took < Duration::from_secs(3), "answered after {took:?}");

    let deadline = Instant::now() + TIMEOUT * 4;
    for (n, stream) in stalled.iter_mut().enumerate() {
        assert!(
            closed_by(stream, deadline).await,
            "connection {n} still open {:?} after the header-read timeout",
            TIMEOUT * 3
        );
    }
}

#[sqlx::test]
async fn connections_beyond_the_cap_wait_until_one_closes(pool: PgPool) {
    let console = console_serving(pool, 8).await;
    let mut stalled = Vec::new();
    for _ in 0..8 {
        stalled.push(half_sent_request(&console).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, took) = timed_request(&console).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        took >= Duration::from_millis(500),
        "answered after {took:?} beside 8 open connections: nothing caps them at 8"
    );
    assert!(
        took < TIMEOUT * 4,
        "answered after {took:?}: a closed connection frees its place"
    );
}
