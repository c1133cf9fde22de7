//! Where notifications go: webhooks (a JSON POST, retried with backoff), the desktop
//! (`notify-send`) and the terminal bell. Each destination is a [`Sink`] with a thread of its
//! own, so a slow or dead one holds up neither the run nor the others; what it fails to
//! deliver is said once, with the webhook's URL redacted.

use super::notice::{Notice, webhook_body};
use serde::Deserialize;
use std::fmt;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A webhook's URL. It is a secret (Slack's and Discord's carry their token in the path, an
/// ntfy topic is its own password): it is only ever shown as [`WebhookUrl::redacted`], and
/// its `Debug` is that too.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct WebhookUrl(String);

impl TryFrom<String> for WebhookUrl {
    type Error = String;

    /// Only `http://` and `https://` URLs with a host; the error does not quote the URL.
    fn try_from(url: String) -> Result<Self, String> {
        let rest = strip_scheme(&url).ok_or("a webhook URL starts with `https://` (or `http://`)")?;
        if host_of(rest).is_empty() {
            return Err("a webhook URL names a host after `https://`".to_owned());
        }
        Ok(WebhookUrl(url))
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `url` after `http://` or `https://` (any case), or `None` for another scheme.
fn strip_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")).then_some(rest)
}

/// The host (and port) of what follows the scheme, without a `user:password@`.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

impl WebhookUrl {
    /// The scheme and host only (`https://hooks.slack.com/…`): what wavecrew says of it.
    pub fn redacted(&self) -> String {
        let scheme = self.0.split_once("://").map_or("", |(scheme, _)| scheme);
        let host = strip_scheme(&self.0).map(host_of).unwrap_or_default();
        format!("{scheme}://{host}/…")
    }

    /// `text` with the URL replaced by [`WebhookUrl::redacted`], and what follows its host and
    /// any `user:password` by `…`: an HTTP client's error may quote what it was given.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.replace(&self.0, &self.redacted());
        if let Some(rest) = strip_scheme(&self.0) {
            let (authority, after_host) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
            let userinfo = authority.rsplit_once('@').map_or("", |(userinfo, _)| userinfo);
            for secret in [after_host, userinfo] {
                if secret.len() > 1 {
                    text = text.replace(secret, "…");
                }
            }
        }
        text
    }
}

/// Tries of one notification on one webhook, the first included.
pub const TRIES: u32 = 4;

/// Seconds one try may take, connecting and answering together.
pub const TRY_TIMEOUT: Duration = Duration::from_secs(10);

/// What came of one try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it (2xx).
    Delivered,
    /// The receiver refused it, and will again (a 4xx other than 408 and 429: a wrong URL, a
    /// revoked token): not retried.
    Refused(u16),
    /// It may pass later: no connection, a timeout, a 5xx, 408 or 429.
    Failed(String),
}

impl Outcome {
    /// The outcome of an answer with HTTP status `status`.
    pub fn of_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::Delivered,
            408 | 429 | 500..=599 => Outcome::Failed(format!("HTTP {status}")),
            _ => Outcome::Refused(status),
        }
    }
}

/// Whether to try again after try number `tried` (1 for the first) came to `outcome`, and
/// after how long: 0.5 s, then 1 s, then 2 s, for [`TRIES`] in all.
pub fn retry_after(tried: u32, outcome: &Outcome) -> Option<Duration> {
    match outcome {
        Outcome::Failed(_) if tried < TRIES => Some(Duration::from_millis(500 << (tried - 1).min(8))),
        _ => None,
    }
}

/// A destination of notifications.
pub enum Sink {
    /// A JSON POST to a URL, with ntfy's topic if configured.
    Webhook { url: WebhookUrl, topic: Option<String>, agent: ureq::Agent },
    /// `notify-send TITLE MESSAGE`.
    Desktop { program: PathBuf },
    /// The terminal bell on stderr.
    Bell,
}

impl Sink {
    /// A webhook sink, with an HTTP client that takes any status as an answer (the retry
    /// policy reads it) and gives up on a try after [`TRY_TIMEOUT`].
    pub fn webhook(url: WebhookUrl, topic: Option<String>) -> Sink {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TRY_TIMEOUT))
            .http_status_as_error(false)
            .user_agent(concat!("wavecrew/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Sink::Webhook { url, topic, agent }
    }

    /// What the sink is called when it fails (a webhook by its redacted URL).
    pub fn name(&self) -> String {
        match self {
            Sink::Webhook { url, .. } => format!("webhook {}", url.redacted()),
            Sink::Desktop { .. } => "desktop notification (notify-send)".to_owned(),
            Sink::Bell => "terminal bell".to_owned(),
        }
    }

    /// Delivers `notice`, retrying a webhook as [`retry_after`] says. The error is fit to show
    /// (no URL in it).
    pub fn deliver(&self, notice: &Notice) -> Result<(), String> {
        match self {
            Sink::Webhook { url, topic, agent } => {
                let body = webhook_body(notice, topic.as_deref()).to_string();
                let mut tried = 0;
                loop {
                    tried += 1;
                    let outcome = match agent.post(&url.0).header("Content-Type", "application/json").send(&body) {
                        Ok(response) => Outcome::of_status(response.status().as_u16()),
                        Err(error) => Outcome::Failed(url.scrub(&error.to_string())),
                    };
                    match (retry_after(tried, &outcome), outcome) {
                        (_, Outcome::Delivered) => return Ok(()),
                        (Some(wait), _) => std::thread::sleep(wait),
                        (None, Outcome::Refused(status)) => return Err(format!("refused with HTTP {status}")),
                        (None, Outcome::Failed(why)) => return Err(format!("{why} ({tried} tries)")),
                    }
                }
            }
            Sink::Desktop { program } => {
                let status = Command::new(program)
                    .args(["--app-name=wavecrew", &notice.title, &notice.message()])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .map_err(|e| format!("could not start {}: {e}", program.display()))?;
                if status.success() { Ok(()) } else { Err(format!("{} {status}", program.display())) }
            }
            Sink::Bell => std::io::stderr().write_all(b"\x07").map_err(|e| e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn url(text: &str) -> WebhookUrl {
        WebhookUrl::try_from(text.to_owned()).unwrap()
    }

    #[test]
    fn a_webhook_url_is_shown_as_its_scheme_and_host_only() {
        let slack = url("https://hooks.slack.com/services/T000/B000/XXXXSECRET");
        assert_eq!(slack.redacted(), "https://hooks.slack.com/…");
        assert_eq!(format!("{slack:?}"), "https://hooks.slack.com/…");
        assert_eq!(url("http://me:pw@127.0.0.1:8080?t=SECRET").redacted(), "http://127.0.0.1:8080/…");
        let error = "bad uri: https://hooks.slack.com/services/T000/B000/XXXXSECRET is wrong";
        assert_eq!(slack.scrub(error), "bad uri: https://hooks.slack.com/… is wrong");
        assert_eq!(slack.scrub("path /services/T000/B000/XXXXSECRET"), "path …");
    }

    #[test]
    fn only_http_urls_with_a_host_are_webhooks_and_the_error_does_not_quote_them() {
        for bad in ["hooks.slack.com/services/SECRET", "ftp://host/SECRET", "https:///SECRET", ""] {
            let error = WebhookUrl::try_from(bad.to_owned()).unwrap_err();
            assert!(!error.contains("SECRET"), "{error}");
        }
        assert!(WebhookUrl::try_from("HTTPS://ntfy.sh/".to_owned()).is_ok());
    }

    #[test]
    fn failures_that_may_pass_are_retried_with_backoff_and_refusals_are_not() {
        assert_eq!(Outcome::of_status(204), Outcome::Delivered);
        assert_eq!(Outcome::of_status(404), Outcome::Refused(404));
        let busy = Outcome::of_status(503);
        assert_eq!(retry_after(1, &busy), Some(Duration::from_millis(500)));
        assert_eq!(retry_after(2, &busy), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(3, &Outcome::of_status(429)), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(TRIES, &busy), None, "{TRIES} tries in all");
        assert_eq!(retry_after(1, &Outcome::Refused(401)), None);
        assert_eq!(retry_after(1, &Outcome::Delivered), None);
    }

    proptest! {
        #[test]
        fn nothing_after_the_host_survives_redaction_or_scrubbing(
            scheme in "(https|http|HTTPS)",
            host in "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
            // Upper case first: the host, lower case, never holds it.
            secret in "[A-Z][A-Za-z0-9_]{7,29}",
            tail in "[/?#][A-Za-z0-9_/=&-]{0,20}",
        ) {
            let text = format!("{scheme}://{host}/{secret}{tail}");
            let webhook = url(&text);
            prop_assert!(!webhook.redacted().contains(&secret));
            let error = format!("error: {text}: failed");
            prop_assert!(!webhook.scrub(&error).contains(&secret));
        }
    }
}
