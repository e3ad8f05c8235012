//! Text made for people and for HTML, the same on the server and in the browser: times and call lengths as the
//! console shows them, percent-encoding for query strings, and the escaping of text written straight into
//! HTML.

use std::fmt::Write as _;

use time::OffsetDateTime;

/// Formats a timestamp for people: "2026-11-28 14:05 UTC". Written out by hand rather than with `time`'s
/// format descriptions, which would bring its formatting engine into the wasm.
pub fn format_time(at: OffsetDateTime) -> String {
    let mut text = String::with_capacity(20);
    write_time(&mut text, at);
    text
}

/// Appends `format_time(at)` to `out`: digits, '-', ':', spaces and "UTC", nothing HTML would escape.
pub fn write_time(out: &mut String, at: OffsetDateTime) {
    let at = at.to_offset(time::UtcOffset::UTC);
    let year = at.year();
    if (0..=9999).contains(&year) {
        push_two_digits(out, (year / 100) as u8);
        push_two_digits(out, (year % 100) as u8);
    } else {
        let _ = write!(out, "{year:04}");
    }
    out.push('-');
    push_two_digits(out, u8::from(at.month()));
    out.push('-');
    push_two_digits(out, at.day());
    out.push(' ');
    push_two_digits(out, at.hour());
    out.push(':');
    push_two_digits(out, at.minute());
    out.push_str(" UTC");
}

/// Appends `n` (below 100) as two digits.
fn push_two_digits(out: &mut String, n: u8) {
    out.push(char::from(b'0' + n / 10));
    out.push(char::from(b'0' + n % 10));
}

/// Formats a call length for people: "4:05" or "1:02:09".
pub fn format_duration(seconds: i32) -> String {
    let mut text = String::with_capacity(8);
    write_duration(&mut text, seconds);
    text
}

/// Appends `format_duration(seconds)` to `out`: digits and ':', nothing HTML would escape.
pub fn write_duration(out: &mut String, seconds: i32) {
    let s = seconds.max(0);
    if s >= 3600 {
        let _ = write!(out, "{}:", s / 3600);
        push_two_digits(out, ((s % 3600) / 60) as u8);
    } else {
        let _ = write!(out, "{}", s / 60);
    }
    out.push(':');
    push_two_digits(out, (s % 60) as u8);
}

/// Percent-encodes text for a query string.
pub fn urlencode(text: &str) -> String {
    encode_except(text, b"")
}

/// Percent-encodes a console path as a query value, `/` kept as it is (`/login?next=/customers`); its own
/// `?`, `&`, `=` and `#` are encoded.
pub fn urlencode_path(path: &str) -> String {
    encode_except(path, b"/")
}

/// Percent-encodes every byte of `text` but the unreserved ones and those in `keep`.
fn encode_except(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ if keep.contains(&byte) => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Appends `text` as element content: `&`, `<` and `>` escaped (quotes need no escaping outside attributes),
/// and each run between them copied whole, so that text with nothing to escape (nearly every cell) is one copy.
pub fn push_escaped_text(html: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.bytes().position(|b| matches!(b, b'&' | b'<' | b'>')) {
        html.push_str(&rest[..at]);
        html.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            _ => "&gt;",
        });
        rest = &rest[at + 1..];
    }
    html.push_str(rest);
}

/// `count` and the noun in the number it needs: "1 call", "2 calls", "0 calls".
pub fn counted(count: i64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(0), "0:00");
        assert_eq!(format_duration(245), "4:05");
        assert_eq!(format_duration(3729), "1:02:09");
        assert_eq!(format_duration(3600), "1:00:00");
        assert_eq!(format_duration(59 * 60 + 59), "59:59");
        assert_eq!(format_duration(100 * 3600 + 61), "100:01:01");
        assert_eq!(format_duration(-5), "0:00");
    }

    #[test]
    fn formats_times_in_utc() {
        let at = time::macros::datetime!(2026-11-28 15:05 +01:00);
        assert_eq!(format_time(at), "2026-11-28 14:05 UTC");
        let early = time::macros::datetime!(0905-01-02 03:04 UTC);
        assert_eq!(format_time(early), "0905-01-02 03:04 UTC");
        let new_year = time::macros::datetime!(2027-01-01 00:30 +01:00);
        assert_eq!(format_time(new_year), "2026-12-31 23:30 UTC");
    }

    #[test]
    fn write_time_appends() {
        let mut out = String::from("at ");
        write_time(&mut out, time::macros::datetime!(2026-11-28 14:05 UTC));
        write_duration(&mut out, 75);
        assert_eq!(out, "at 2026-11-28 14:05 UTC1:15");
    }

    #[test]
    fn urlencode_escapes_everything_but_unreserved() {
        assert_eq!(urlencode("a b&c=%"), "a%20b%26c%3D%25");
        assert_eq!(
            urlencode("blair.admin@acme.example"),
            "blair.admin%40acme.example"
        );
    }

    #[test]
    fn urlencode_path_keeps_slashes_and_encodes_the_rest() {
        assert_eq!(urlencode_path("/customers"), "/customers");
        assert_eq!(
            urlencode_path("/customers?search=5eed&page=2#x"),
            "/customers%3Fsearch%3D5eed%26page%3D2%23x"
        );
    }

    #[test]
    fn escaped_text_keeps_everything_but_markup_characters() {
        let mut html = String::from("<td>");
        push_escaped_text(&mut html, "");
        push_escaped_text(&mut html, "plain text, \"quoted\" and 'single'");
        push_escaped_text(&mut html, "&&<<>> ünïcødé <b>bold</b> &amp; end");
        assert_eq!(
            html,
            "<td>plain text, \"quoted\" and 'single'&amp;&amp;&lt;&lt;&gt;&gt; ünïcødé &lt;b&gt;bold&lt;/b&gt; \
             &amp;amp; end"
        );
    }

    #[test]
    fn a_count_takes_the_noun_in_its_number() {
        assert_eq!(counted(1, "call", "calls"), "1 call");
        assert_eq!(counted(0, "call", "calls"), "0 calls");
        assert_eq!(counted(2, "media file", "media files"), "2 media files");
    }
}
