//! The status of a headless import, open to values Dromo adds later.

use std::fmt;
use std::str::FromStr;

/// Where a headless import is in Dromo's processing.
///
/// Dromo documents `AWAITING_UPLOAD → PENDING → RUNNING → SUCCESSFUL | NEEDS_REVIEW | FAILED`.
/// Any other value the server sends is kept as [`ImportStatus::Unknown`] instead of failing the
/// response, and counts as "still working".
///
/// ```
/// use dromo_client::ImportStatus;
///
/// let status: ImportStatus = serde_json::from_str("\"PENDING\"").unwrap();
/// assert_eq!(status, ImportStatus::Pending);
/// assert!(!status.is_terminal());
/// let future: ImportStatus = "VALIDATING".parse().unwrap();
/// assert_eq!(future, ImportStatus::Unknown("VALIDATING".into()));
/// assert_eq!(future.to_string(), "VALIDATING");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImportStatus {
    /// Created; waiting for the file to be uploaded to the presigned URL.
    AwaitingUpload,
    /// Uploaded (or rows received); queued for processing.
    Pending,
    /// Being processed.
    Running,
    /// Done; the cleaned rows can be fetched.
    Successful,
    /// Processed, but a person must fix the data at the import's `review_url`.
    NeedsReview,
    /// Processing failed; see the import's `import_errors`.
    Failed,
    /// A status this version of the crate does not know.
    Unknown(String),
}

impl ImportStatus {
    /// The wire form, e.g. `"AWAITING_UPLOAD"`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AwaitingUpload => "AWAITING_UPLOAD",
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Successful => "SUCCESSFUL",
            Self::NeedsReview => "NEEDS_REVIEW",
            Self::Failed => "FAILED",
            Self::Unknown(other) => other,
        }
    }

    /// True for the statuses that end processing: `SUCCESSFUL`, `NEEDS_REVIEW` and `FAILED`.
    ///
    /// `NEEDS_REVIEW` is terminal for a machine: only a person at the review URL moves it on.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Successful | Self::NeedsReview | Self::Failed)
    }
}

impl fmt::Display for ImportStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportStatus {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "AWAITING_UPLOAD" => Self::AwaitingUpload,
            "PENDING" => Self::Pending,
            "RUNNING" => Self::Running,
            "SUCCESSFUL" => Self::Successful,
            "NEEDS_REVIEW" => Self::NeedsReview,
            "FAILED" => Self::Failed,
            other => Self::Unknown(other.to_owned()),
        })
    }
}

impl serde::Serialize for ImportStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ImportStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(s.parse()
            .unwrap_or_else(|never: std::convert::Infallible| match never {}))
    }
}

/// The schema progenitor's generated `dromo api` commands need (feature `cli`): a string, since
/// the status is open to values Dromo adds later (see [`ImportStatus::Unknown`]).
#[cfg(feature = "cli")]
impl schemars::JsonSchema for ImportStatus {
    fn schema_name() -> String {
        "ImportStatus".to_owned()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <String as schemars::JsonSchema>::json_schema(generator)
    }
}
