//! Who may do what.
//!
//! - Every server has a random access token, printed in the URL that `wavecrew serve` shows.
//!   A request carries it as the `X-Wavecrew-Token` header, a `token` query parameter (the
//!   printed URL, and `EventSource`, which cannot send headers), or the cookie the server sets
//!   when a page was opened with the token (so the URL can be shared within the browser without
//!   the token in it).
//! - Bound to a loopback address, reading needs no token; bound to any other address, every
//!   request needs it.
//! - A change (approve, reject, decide, sign off, cancel) needs the token in the header: a
//!   cross-site form or image cannot set a header, so a page of another origin cannot make the
//!   browser act for the person (CSRF). An `Origin` that is not this server is refused too.
//! - The `Host` header must name this server when bound to loopback, so a DNS name rebound to
//!   127.0.0.1 cannot read the dashboard from another site.

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HOST, ORIGIN};

/// A new random access token: 32 bytes from the operating system, in hex.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("could not get random bytes for the access token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares two tokens in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The name of the cookie that holds the token: one per port, since cookies ignore ports.
pub(crate) fn cookie_name(port: u16) -> String {
    format!("wavecrew_token_{port}")
}

/// What a request presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Presented {
    /// The token, in the `X-Wavecrew-Token` header.
    Header,
    /// The token, in the query or the cookie.
    QueryOrCookie,
    /// No token, or a wrong one.
    Nothing,
}

impl Presented {
    /// Whether the request carried the right token, one way or another.
    pub(crate) fn has_token(self) -> bool {
        self != Presented::Nothing
    }
}

/// How `headers` and the `token` query parameter present `token`.
pub(crate) fn presented(token: &str, port: u16, headers: &HeaderMap, query: Option<&str>) -> Presented {
    if headers.get("x-wavecrew-token").and_then(|v| v.to_str().ok()).is_some_and(|v| same(v, token)) {
        return Presented::Header;
    }
    if query.is_some_and(|v| same(v, token)) {
        return Presented::QueryOrCookie;
    }
    let name = cookie_name(port);
    let from_cookie = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(key, value)| key == name && same(value, token));
    if from_cookie { Presented::QueryOrCookie } else { Presented::Nothing }
}

/// Whether the `Host` header names this server (always true when not bound to loopback: the
/// token guards everything there).
pub(crate) fn host_allowed(headers: &HeaderMap, loopback: bool, port: u16) -> bool {
    if !loopback {
        return true;
    }
    let Some(host) = headers.get(HOST).and_then(|v| v.to_str().ok()) else { return false };
    let allowed = [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")];
    allowed.iter().any(|a| a.eq_ignore_ascii_case(host))
}

/// Whether a change request's `Origin`, if it has one, is this server.
pub(crate) fn origin_allowed(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else { return true };
    let (Some(origin), Some(host)) = (origin.to_str().ok(), headers.get(HOST).and_then(|v| v.to_str().ok())) else {
        return false;
    };
    let bare = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    bare.is_some_and(|o| o.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (key, value) in pairs {
            map.append(*key, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn tokens_are_random_hex_of_64_characters() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_token_counts_from_the_header_the_query_or_this_port_s_cookie_only() {
        let t = "abc123";
        assert_eq!(presented(t, 80, &headers(&[("x-wavecrew-token", t)]), None), Presented::Header);
        assert_eq!(presented(t, 80, &headers(&[]), Some(t)), Presented::QueryOrCookie);
        let cookie = headers(&[("cookie", "a=b; wavecrew_token_80=abc123")]);
        assert_eq!(presented(t, 80, &cookie, None), Presented::QueryOrCookie);
        assert_eq!(presented(t, 81, &cookie, None), Presented::Nothing);
        assert_eq!(presented(t, 80, &headers(&[("x-wavecrew-token", "abc124")]), Some("x")), Presented::Nothing);
        assert_eq!(presented(t, 80, &headers(&[("x-wavecrew-token", "abc12")]), None), Presented::Nothing);
    }

    #[test]
    fn on_loopback_the_host_must_be_this_server() {
        assert!(host_allowed(&headers(&[("host", "127.0.0.1:8080")]), true, 8080));
        assert!(host_allowed(&headers(&[("host", "LOCALHOST:8080")]), true, 8080));
        assert!(!host_allowed(&headers(&[("host", "evil.example:8080")]), true, 8080));
        assert!(!host_allowed(&headers(&[("host", "127.0.0.1:9090")]), true, 8080));
        assert!(!host_allowed(&headers(&[]), true, 8080));
        assert!(host_allowed(&headers(&[("host", "dash.example")]), false, 8080));
    }

    #[test]
    fn a_change_from_another_origin_is_refused() {
        assert!(origin_allowed(&headers(&[("host", "127.0.0.1:1")])));
        assert!(origin_allowed(&headers(&[("host", "127.0.0.1:1"), ("origin", "http://127.0.0.1:1")])));
        assert!(!origin_allowed(&headers(&[("host", "127.0.0.1:1"), ("origin", "http://evil.example")])));
        assert!(!origin_allowed(&headers(&[("host", "127.0.0.1:1"), ("origin", "null")])));
    }
}
