//! Scrubbing server text before it enters an error or a log: no credential, bounded length.
//!
//! Anything a server sends may quote a presigned URL (an S3 error echoing the request, a proxy
//! page, a JSON field), and a presigned URL's query is a bearer credential. Every text from a
//! server goes through [`scrub`] before this crate puts it in a message: the query of every URL
//! becomes `?<redacted>`, the value of every credential-like parameter (`X-Amz-Signature=`,
//! `Signature=`, `X-Amz-Credential=`, `AWSAccessKeyId=`, tokens…) becomes `<redacted>`, control
//! characters become spaces, and the text is cut to a bound with `…`.

/// Parameter names whose values are credentials, compared case-insensitively.
const SECRET_PARAMS: &[&str] = &[
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "signature",
    "awsaccesskeyid",
    "x-goog-signature",
    "x-goog-credential",
    "sig",
    "token",
    "access_token",
    "x-dromo-license-key",
    "hydrationid",
    "hydration_id",
];

/// JSON keys whose string values are credentials (the Sessions API's widget token), compared
/// case-insensitively: `"hydrationId": "…"` becomes `"hydrationId": "<redacted>"`.
const SECRET_JSON_KEYS: &[&str] = &["hydrationid", "hydration_id"];

/// The replacement of anything scrubbed.
pub(crate) const REDACTED: &str = "<redacted>";

/// How many characters of one server message an error keeps.
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;

/// How many characters all the server's messages of one error keep together.
pub(crate) const MAX_MESSAGES_CHARS: usize = 1000;

/// `text` with every URL query and credential-like parameter value redacted, control characters
/// turned into spaces, cut to `max_chars` characters (plus `…` when cut).
pub(crate) fn scrub(text: &str, max_chars: usize) -> String {
    // Only a bounded prefix is looked at: a few times the bound, enough for any redaction to
    // shorten it (what lies beyond is cut anyway).
    let window = prefix_chars(text, max_chars.saturating_mul(4).max(4096));
    let cleaned = redact_secret_params(&redact_json_secrets(&redact_url_queries(window)));
    bound(&cleaned, max_chars, window.len() < text.len())
}

/// The first `n` characters of `text`.
fn prefix_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// `text` on one line, at most `max_chars` characters, with `…` when cut (or when `cut`).
fn bound(text: &str, max_chars: usize, cut: bool) -> String {
    let mut out: String = text
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cut || text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// Replaces the query of every `http://` or `https://` URL in `text` by `<redacted>`.
fn redact_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url_start(rest) {
        let (before, url_and_after) = rest.split_at(start);
        out.push_str(before);
        let end = url_and_after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(url_and_after.len());
        let url = &url_and_after[..end];
        match url.find('?') {
            Some(q) => {
                out.push_str(&url[..=q]);
                // Scrubbed once already (text scrubbed, then quoted in a message scrubbed
                // again): one redaction is enough.
                if !url_and_after[q + 1..].starts_with(REDACTED) {
                    out.push_str(REDACTED);
                }
                // A fragment is not sent to the server, but drop it too: it follows the query.
            }
            None => out.push_str(url),
        }
        rest = &url_and_after[end..];
    }
    out.push_str(rest);
    out
}

fn find_url_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    match (lower.find("http://"), lower.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a server message's field (`hydrationId`, `data.hydrationId`) holds a credential, so
/// its value must not be shown.
pub(crate) fn is_secret_field(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    SECRET_JSON_KEYS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(last))
}

/// Replaces the string value of every JSON member whose key is in [`SECRET_JSON_KEYS`]; a value
/// cut off before its closing quote is redacted to the end.
fn redact_json_secrets(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some((at, key)) = SECRET_JSON_KEYS
        .iter()
        .filter_map(|k| {
            lower[from..]
                .find(&format!("\"{k}\""))
                .map(|p| (from + p, k))
        })
        .min_by_key(|(p, _)| *p)
    {
        let mut i = at + key.len() + 2;
        let skip_spaces = |mut i: usize| {
            while text.as_bytes().get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            i
        };
        i = skip_spaces(i);
        if text.as_bytes().get(i) != Some(&b':') {
            from = i;
            continue;
        }
        i = skip_spaces(i + 1);
        if text.as_bytes().get(i) != Some(&b'"') {
            from = i;
            continue;
        }
        let value_start = i + 1;
        let mut end = value_start;
        let bytes = text.as_bytes();
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        let end = end.min(bytes.len());
        out.push_str(&text[copied..value_start]);
        out.push_str(REDACTED);
        copied = end;
        from = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces the value of every `name=value` (or `name%3Dvalue`) whose name is a credential.
fn redact_secret_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let sep_len = if bytes[i] == b'=' {
            1
        } else if bytes[i..].len() >= 3 && bytes[i..i + 3].eq_ignore_ascii_case(b"%3D") {
            3
        } else {
            i += 1;
            continue;
        };
        // The name: the run of name characters before the separator.
        let name_start = text[..i]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let name = &text[name_start..i];
        let value_start = i + sep_len;
        if SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            let value_end = text[value_start..]
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '&' | '"' | '\'' | '<' | '>' | ',' | ';')
                })
                .map_or(text.len(), |p| value_start + p);
            if value_end > value_start {
                out.push_str(&text[copied..value_start]);
                out.push_str(REDACTED);
                copied = value_end;
            }
            i = value_end.max(value_start);
        } else {
            i = value_start;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_queries_are_redacted() {
        let text = "PUT https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc123 failed";
        let out = scrub(text, 500);
        assert_eq!(out, "PUT https://b.s3.amazonaws.com/k?<redacted> failed");
    }

    #[test]
    fn scrubbing_twice_redacts_once() {
        for text in [
            "PUT https://b.s3.amazonaws.com/k?X-Amz-Signature=abc123 failed",
            "see https://h/k?<redacted> and Signature=<redacted>",
            "https://h/k?",
            "a https://h/k?X-Amz-Signature=x&b=c, Signature=abc",
        ] {
            let once = scrub(text, 500);
            assert_eq!(scrub(&once, 500), once, "{text}");
            assert!(!once.contains("<redacted><redacted>"), "{once}");
        }
    }

    #[test]
    fn bare_parameters_are_redacted() {
        for text in [
            "we calculated Signature=deadbeef and more",
            "query: X-Amz-Signature=deadbeef&X-Amz-Expires=1800",
            "encoded x-amz-signature%3Ddeadbeef in it",
            "<StringToSign>AWSAccessKeyId=deadbeef</StringToSign>",
        ] {
            let out = scrub(text, 500);
            assert!(!out.contains("deadbeef"), "{text} -> {out}");
            assert!(out.contains(REDACTED), "{out}");
        }
        assert_eq!(
            scrub("X-Amz-Expires=1800", 500),
            "X-Amz-Expires=1800",
            "harmless parameters stay"
        );
    }

    #[test]
    fn hydration_tokens_in_json_are_redacted() {
        for text in [
            r#"{"sessionId": "1b6a", "hydrationId": "tok.en\"x", "expiresIn": 60}"#,
            r#"{"HYDRATIONID":"tok.en"}"#,
            r#"{"hydration_id" :  "tok.en"#,
            "hydrationId=tok.en&x=1",
        ] {
            let out = scrub(text, 500);
            assert!(!out.contains("tok.en"), "{text} -> {out}");
            assert!(out.contains(REDACTED), "{out}");
        }
        assert_eq!(
            scrub(r#"{"hydrationId": "secret", "expiresIn": 60}"#, 500),
            r#"{"hydrationId": "<redacted>", "expiresIn": 60}"#
        );
        assert_eq!(scrub(r#"{"hydrationId": 5}"#, 500), r#"{"hydrationId": 5}"#);
    }

    #[test]
    fn multibyte_text_around_parameters_is_kept_whole() {
        assert_eq!(
            scrub("é=1 ü\u{fffd}Signature=abc ß", 100),
            "é=1 ü\u{fffd}Signature=<redacted> ß"
        );
    }

    #[test]
    fn text_is_bounded_and_on_one_line() {
        let long = "x".repeat(10_000);
        let out = scrub(&long, 300);
        assert_eq!(out.chars().count(), 301);
        assert!(out.ends_with('…'));
        assert_eq!(scrub("a\nb\tc", 10), "a b c");
        assert_eq!(scrub("short", 10), "short");
    }

    #[test]
    fn a_bound_inside_a_query_shows_no_part_of_it() {
        let text = "see https://h/k?X-Amz-Signature=secretsecret";
        for max in 1..text.len() {
            let out = scrub(text, max);
            assert!(!out.contains("sec"), "{max}: {out}");
        }
    }
}
