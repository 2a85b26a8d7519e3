//! Typed ids: one type for each kind of resource Dromo names by UUID, so an upload id cannot be
//! passed where an import id is wanted, and a malformed id is an error before any request.
//!
//! Each type wraps a [`uuid::Uuid`], prints and (de)serializes as its hyphenated string, parses
//! with [`FromStr`] or `TryFrom<&str>`/`TryFrom<String>` (a bad id is an
//! [`Error::InvalidRequest`] naming the kind and showing the expected form), and converts into a
//! `Uuid` by value or by reference, so the generated builders (`.id(..)` takes any
//! `TryInto<Uuid>`) accept it directly:
//!
//! ```no_run
//! # async fn run(client: dromo_client::Client, id: dromo_client::ImportId) {
//! let deleted = client.api().delete_headless_import().id(&id).send().await;
//! # let _ = deleted; }
//! ```

use crate::error::{Error, Violation, Violations};
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// An id from a conversion that cannot fail (`Uuid`, or the id itself) needs no error; this lets
/// methods taking `impl TryInto<ImportId>` accept those alongside strings.
impl From<Infallible> for Error {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// The id as a [`Uuid`].
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            /// Parses the id; surrounding whitespace is ignored.
            fn from_str(text: &str) -> Result<Self, Error> {
                Uuid::parse_str(text.trim())
                    .map(Self)
                    .map_err(|_| invalid_id($kind, $example, text))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;

            fn try_from(text: &str) -> Result<Self, Error> {
                text.parse()
            }
        }

        impl TryFrom<&String> for $name {
            type Error = Error;

            fn try_from(text: &String) -> Result<Self, Error> {
                text.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;

            fn try_from(text: String) -> Result<Self, Error> {
                text.parse()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                *id
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        /// The hyphenated form, e.g. for [`Schema::saved`](crate::Schema::saved).
        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.to_string()
            }
        }

        impl From<&$name> for Uuid {
            fn from(id: &$name) -> Self {
                id.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0.hyphenated())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Uuid::parse_str(&text).map(Self).map_err(|_| {
                    serde::de::Error::custom(format!(
                        concat!("`{}` is not ", $kind, " id (a UUID like ", $example, ")"),
                        crate::scrub::scrub(&text, 80)
                    ))
                })
            }
        }
    };
}

/// The [`Error::InvalidRequest`] of a malformed id.
fn invalid_id(kind: &str, example: &str, text: &str) -> Error {
    Error::InvalidRequest {
        violations: Violations(vec![Violation::new(
            "id",
            format!(
                "`{}` is not {kind} id: Dromo's {kind} ids are UUIDs like {example}",
                crate::scrub::scrub(text, 80)
            ),
        )]),
    }
}

uuid_id!(
    /// The id of a headless import (`/headless/imports/{id}/`). An import that completes is
    /// also listed as an upload under the same UUID: see [`UploadId`], and the `From`
    /// conversions between the two.
    ///
    /// ```
    /// use dromo_client::ImportId;
    ///
    /// let id: ImportId = "94187d21-9820-420f-b08c-a80cbbf52604".parse()?;
    /// assert_eq!(id.to_string(), "94187d21-9820-420f-b08c-a80cbbf52604");
    /// assert!("not-an-id".parse::<ImportId>().is_err());
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    ImportId,
    "an import",
    "94187d21-9820-420f-b08c-a80cbbf52604"
);

uuid_id!(
    /// The id of a saved import schema (`/schemas/{id}/`).
    ///
    /// ```
    /// let id: dromo_client::SchemaId = "66d6300d-1414-4655-83b4-8c80fc527315".parse()?;
    /// # let _ = id; Ok::<(), dromo_client::Error>(())
    /// ```
    SchemaId,
    "a saved schema",
    "66d6300d-1414-4655-83b4-8c80fc527315"
);

uuid_id!(
    /// The id of an upload: a completed import as `/uploads/` and `/upload/{id}/…` show it.
    ///
    /// ```
    /// let id: dromo_client::UploadId = "94187d21-9820-420f-b08c-a80cbbf52604".parse()?;
    /// # let _ = id; Ok::<(), dromo_client::Error>(())
    /// ```
    UploadId,
    "an upload",
    "94187d21-9820-420f-b08c-a80cbbf52604"
);

uuid_id!(
    /// The id of a set of SFTP credentials (`/headless/sftp/credentials/{id}/`).
    ///
    /// ```
    /// let id: dromo_client::SftpCredentialsId = "ee5d0e45-b098-47bc-8217-e93790243dfa".parse()?;
    /// # let _ = id; Ok::<(), dromo_client::Error>(())
    /// ```
    SftpCredentialsId,
    "an SFTP credentials",
    "ee5d0e45-b098-47bc-8217-e93790243dfa"
);

uuid_id!(
    /// The id of an SFTP connector (`/headless/sftp/connectors/{id}/`).
    ///
    /// ```
    /// let id: dromo_client::SftpConnectorId = "a1b2c3d4-e5f6-7890-abcd-ef1234567890".parse()?;
    /// # let _ = id; Ok::<(), dromo_client::Error>(())
    /// ```
    SftpConnectorId,
    "an SFTP connector",
    "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
);

uuid_id!(
    /// The id of a widget session of Dromo's Sessions API (`sessionId`): long-lived, kept
    /// server-side to resume or delete the session (see [`Client::create_session`](crate::Client::create_session)).
    ///
    /// ```
    /// let id: dromo_client::SessionId = "1b6acf28-8748-4120-8d7a-4b7846d5e487".parse()?;
    /// # let _ = id; Ok::<(), dromo_client::Error>(())
    /// ```
    SessionId,
    "a session",
    "1b6acf28-8748-4120-8d7a-4b7846d5e487"
);

/// An upload is a completed import under the same UUID.
impl From<ImportId> for UploadId {
    fn from(id: ImportId) -> Self {
        Self(id.0)
    }
}

/// An upload is a completed import under the same UUID.
impl From<UploadId> for ImportId {
    fn from(id: UploadId) -> Self {
        Self(id.0)
    }
}

/// Converts an argument given as `impl TryInto<ImportId>` (a string, a `Uuid`, an `ImportId`
/// or `&ImportId`).
pub(crate) fn import_id(id: impl TryInto<ImportId, Error: Into<Error>>) -> Result<ImportId, Error> {
    id.try_into().map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "94187d21-9820-420f-b08c-a80cbbf52604";

    #[test]
    fn parses_prints_and_round_trips_through_json() {
        let id: ImportId = format!("  {TEXT}\n").parse().unwrap();
        assert_eq!(id.to_string(), TEXT);
        assert_eq!(format!("{id:?}"), format!("ImportId({TEXT})"));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{TEXT}\""));
        assert_eq!(serde_json::from_str::<ImportId>(&json).unwrap(), id);
        let uuid: Uuid = (&id).into();
        assert_eq!(ImportId::from(uuid), id);
    }

    #[test]
    fn a_bad_id_names_its_kind_and_the_expected_form() {
        let err = "12345".parse::<SftpConnectorId>().unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains("`12345` is not an SFTP connector id"),
            "{shown}"
        );
        assert!(
            shown.contains("a1b2c3d4-e5f6-7890-abcd-ef1234567890"),
            "{shown}"
        );
        let err = serde_json::from_str::<SchemaId>("\"nope\"").unwrap_err();
        assert!(
            err.to_string().contains("is not a saved schema id"),
            "{err}"
        );
    }

    #[test]
    // The borrowed forms are what this test is about.
    #[allow(clippy::needless_borrows_for_generic_args)]
    fn every_argument_form_converts() {
        let id: ImportId = TEXT.parse().unwrap();
        assert_eq!(import_id(TEXT).unwrap(), id);
        assert_eq!(import_id(TEXT.to_owned()).unwrap(), id);
        assert_eq!(import_id(&TEXT.to_owned()).unwrap(), id);
        assert_eq!(import_id(*id.as_uuid()).unwrap(), id);
        assert_eq!(import_id(id).unwrap(), id);
        assert_eq!(import_id(&id).unwrap(), id);
        assert!(matches!(import_id("x"), Err(Error::InvalidRequest { .. })));
    }
}
