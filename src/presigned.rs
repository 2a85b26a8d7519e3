//! Presigned S3 URLs (upload and result download) that never print their signature.

use crate::error::Error;
use std::fmt;
use std::time::Duration;

/// A presigned URL from Dromo (the `upload` URL of a created import, or a result download URL).
///
/// Its query string is a bearer credential (`X-Amz-Signature`, `X-Amz-Credential`…): anyone
/// holding the whole URL can use it until it expires. So `Debug` and `Display` show only the
/// scheme, host and path, with the query replaced by `?<redacted>`; the whole URL is reachable
/// only through [`PresignedUrl::as_url`] or [`PresignedUrl::expose`], for the code that sends the
/// request.
///
/// ```
/// use dromo_client::PresignedUrl;
/// use std::time::Duration;
///
/// let url = PresignedUrl::parse(
///     "https://bucket.s3.us-west-2.amazonaws.com/key-123?X-Amz-Expires=1800&X-Amz-Signature=abc123",
/// )?;
/// assert_eq!(url.to_string(), "https://bucket.s3.us-west-2.amazonaws.com/key-123?<redacted>");
/// assert!(!format!("{url:?}").contains("abc123"));
/// assert_eq!(url.expires_after(), Some(Duration::from_secs(1800)));
/// assert!(url.expose().contains("X-Amz-Signature=abc123"));
/// # Ok::<(), dromo_client::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PresignedUrl {
    url: reqwest::Url,
}

impl PresignedUrl {
    /// Parses a presigned URL: an absolute `http(s)` URL with a host.
    ///
    /// A malformed URL is an [`Error::BadUrl`], whose message never contains the URL's query.
    ///
    /// ```
    /// use dromo_client::PresignedUrl;
    ///
    /// assert!(PresignedUrl::parse("https://s3.example.com/k?X-Amz-Signature=s").is_ok());
    /// let err = PresignedUrl::parse("not a url?X-Amz-Signature=secret").unwrap_err();
    /// assert!(!err.to_string().contains("secret"));
    /// ```
    pub fn parse(url: &str) -> Result<Self, Error> {
        let parsed = reqwest::Url::parse(url.trim()).map_err(|e| Error::BadUrl {
            what: "presigned URL".to_owned(),
            reason: "it does not parse as a URL".to_owned(),
            source: Some(Box::new(e)),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::BadUrl {
                what: "presigned URL".to_owned(),
                reason: format!(
                    "it must be an http(s) URL with a host, not a `{}:` URL",
                    parsed.scheme()
                ),
                source: None,
            });
        }
        Ok(Self { url: parsed })
    }

    /// The whole URL, signature included, for the code that sends the request. Never log it.
    pub fn as_url(&self) -> &reqwest::Url {
        &self.url
    }

    /// The whole URL as text, signature included. Never log it.
    pub fn expose(&self) -> &str {
        self.url.as_str()
    }

    /// Scheme, host (and port) and path, with the query shown as `?<redacted>`: safe to log.
    ///
    /// ```
    /// let url = dromo_client::PresignedUrl::parse("https://user:pw@s3.example.com:9000/a/b?sig=1#x")?;
    /// assert_eq!(url.redacted(), "https://s3.example.com:9000/a/b?<redacted>");
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn redacted(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        let port = self.url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let query = if self.url.query().is_some() {
            "?<redacted>"
        } else {
            ""
        };
        format!(
            "{}://{host}{port}{}{query}",
            self.url.scheme(),
            self.url.path()
        )
    }

    /// How long the URL is valid after it was signed: the `X-Amz-Expires` parameter (Dromo's
    /// upload URLs: 30 minutes), if present.
    pub fn expires_after(&self) -> Option<Duration> {
        self.query_param("X-Amz-Expires")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs)
    }

    /// When the URL was signed: the `X-Amz-Date` parameter (`20230227T160315Z`), if present.
    pub fn signed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let value = self.query_param("X-Amz-Date")?;
        chrono::NaiveDateTime::parse_from_str(&value, "%Y%m%dT%H%M%SZ")
            .ok()
            .map(|d| d.and_utc())
    }

    /// When the URL stops working: [`signed_at`](Self::signed_at) plus
    /// [`expires_after`](Self::expires_after), if both are present.
    ///
    /// ```
    /// let url = dromo_client::PresignedUrl::parse(
    ///     "https://s3.example.com/k?X-Amz-Date=20230227T160315Z&X-Amz-Expires=1800&X-Amz-Signature=s",
    /// )?;
    /// assert_eq!(url.expires_at().map(|t| t.to_rfc3339()).as_deref(), Some("2023-02-27T16:33:15+00:00"));
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let after = chrono::Duration::from_std(self.expires_after()?).ok()?;
        self.signed_at()?.checked_add_signed(after)
    }

    fn query_param(&self, name: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
    }
}

impl fmt::Display for PresignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PresignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PresignedUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl std::str::FromStr for PresignedUrl {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = "https://dromo-headless-imports-prod.s3.us-west-2.amazonaws.com/test-key-123?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20230227%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20230227T160315Z&X-Amz-Expires=1800&X-Amz-SignedHeaders=host&X-Amz-Signature=example1234567890abcdef1234567890abcdef1234567890abcdef12345678";

    #[test]
    fn debug_and_display_hide_the_query() {
        let url = PresignedUrl::parse(SPEC_EXAMPLE).unwrap();
        for shown in [
            format!("{url}"),
            format!("{url:?}"),
            format!("{url:#?}"),
            url.redacted(),
        ] {
            assert!(!shown.contains("example1234567890"), "{shown}");
            assert!(!shown.contains("AKIAIOSFODNN7EXAMPLE"), "{shown}");
            assert!(
                shown.contains(
                    "dromo-headless-imports-prod.s3.us-west-2.amazonaws.com/test-key-123"
                ),
                "{shown}"
            );
        }
        assert_eq!(url.expose(), SPEC_EXAMPLE);
        assert_eq!(url.as_url().as_str(), SPEC_EXAMPLE);
    }

    #[test]
    fn expiry_is_read_from_the_query() {
        let url = PresignedUrl::parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(url.expires_after(), Some(Duration::from_secs(1800)));
        assert_eq!(
            url.signed_at().unwrap().to_rfc3339(),
            "2023-02-27T16:03:15+00:00"
        );
        assert_eq!(
            url.expires_at().unwrap().to_rfc3339(),
            "2023-02-27T16:33:15+00:00"
        );
        let bare = PresignedUrl::parse("https://s3.example.com/key").unwrap();
        assert_eq!((bare.expires_after(), bare.expires_at()), (None, None));
        assert_eq!(bare.redacted(), "https://s3.example.com/key");
    }

    #[test]
    fn bad_urls_are_errors_without_the_query() {
        for bad in [
            "/relative/path?X-Amz-Signature=topsecret",
            "ftp://host/x?X-Amz-Signature=topsecret",
            "mailto:a@b?X-Amz-Signature=topsecret",
        ] {
            let err = PresignedUrl::parse(bad).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, Error::BadUrl { .. }), "{bad}: {err:?}");
            assert!(
                !text.contains("topsecret") && !format!("{err:?}").contains("topsecret"),
                "{text}"
            );
        }
    }
}
