//! A minimal HTTP/1.1 client on one kept-alive connection: it writes a form POST with the session cookie and
//! reads the answer by its `Content-Length`, in the calling task. The reference rows use it to show the HTTP
//! exchange without a client library's own work (reqwest's connection pool, cookie store and the task that
//! drives its connection).

use std::time::Instant;

use customer_data_console::server::sessions::SESSION_COOKIE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::report::ms;

pub struct MinimalHttp {
    stream: tokio::net::TcpStream,
    host: String,
    cookie: String,
    answer: Vec<u8>,
}

impl MinimalHttp {
    pub async fn connect(base: &str, session_token: &str) -> Self {
        let host = base.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(&host)
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        MinimalHttp {
            stream,
            host,
            cookie: format!("{SESSION_COOKIE}={session_token}"),
            answer: Vec::with_capacity(16 * 1024),
        }
    }

    /// Milliseconds for one form POST of `query` to `path`, which must answer 200 with a body.
    pub async fn post_query(&mut self, path: &str, query: &str) -> f64 {
        let body = format!("query={}", form_encode(query));
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\norigin: http://{}\r\ncookie: {}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
            self.host,
            self.host,
            self.cookie,
            body.len()
        );
        let t = Instant::now();
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write");
        self.answer.clear();
        let mut expected = None;
        while expected.is_none_or(|total| self.answer.len() < total) {
            let n = self.stream.read_buf(&mut self.answer).await.expect("read");
            assert!(n > 0, "the server closed the connection");
            if expected.is_none() {
                expected = answer_length(&self.answer);
            }
        }
        let elapsed = ms(t);
        assert!(
            self.answer.starts_with(b"HTTP/1.1 200"),
            "{path} answered 200"
        );
        elapsed
    }
}

/// `text` as a form value: ASCII letters, digits and `-_.~` as they are, every other byte as `%XX`. Runs before
/// the timed span.
fn form_encode(text: &str) -> String {
    let kept = |b: u8| b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
    text.bytes()
        .map(|b| {
            if kept(b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The whole length (head and body) of an HTTP/1.1 answer once its head has arrived.
fn answer_length(answer: &[u8]) -> Option<usize> {
    let head_end = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&answer[..head_end]).expect("an ASCII head");
    let body = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse::<usize>().expect("a length"))
        .expect("the answer states its length");
    Some(head_end + body)
}
