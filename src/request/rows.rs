//! The rows sent as `initial_data`: serialized once, their shapes noted for the checks, and the
//! size limit applied to exactly the bytes sent.

use crate::error::{Error, Violation, Violations};
use serde::Serialize;
use serde_json::value::RawValue;
use std::fmt;

/// Dromo's limit on the serialized `initial_data` of a create: 15 MB (15 × 1024 × 1024 bytes).
pub const MAX_INITIAL_DATA_BYTES: usize = 15 * 1024 * 1024;

/// How many problems of one kind in the rows are listed before "and N more".
const MAX_ROW_PROBLEMS: usize = 5;

/// Rows serialized once to the JSON array that is sent as `initial_data`.
///
/// The size checked against [`MAX_INITIAL_DATA_BYTES`] is [`Rows::serialized_len`]: the length
/// of exactly these bytes, which are the ones sent.
///
/// ```
/// use std::collections::BTreeMap;
///
/// let row = BTreeMap::from([("email", "ada@example.com")]);
/// let rows = dromo_client::Rows::new([row])?;
/// assert_eq!(rows.len(), 1);
/// assert_eq!(rows.as_json(), br#"[{"email":"ada@example.com"}]"#);
/// assert_eq!(rows.serialized_len(), 29);
/// # Ok::<(), dromo_client::Error>(())
/// ```
#[derive(Clone)]
pub struct Rows {
    /// The JSON array, embedded as it is in the body by the serializer (no re-encoding).
    json: Box<RawValue>,
    shape: Shape,
}

/// What the checks need to know about the rows' shapes, noted while they are serialized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Shape {
    count: usize,
    first_object: Option<usize>,
    first_array: Option<usize>,
    /// `(row, kind)` of rows that are neither objects nor arrays (at most MAX_ROW_PROBLEMS).
    scalars: Vec<(usize, &'static str)>,
    scalar_count: usize,
    /// `(row, length)` of the longest array row.
    longest_array: Option<(usize, usize)>,
    /// `(row, column, kind)` of array cells that are not strings (at most MAX_ROW_PROBLEMS).
    non_strings: Vec<(usize, usize, &'static str)>,
    non_string_count: usize,
}

impl PartialEq for Rows {
    fn eq(&self, other: &Self) -> bool {
        self.json.get() == other.json.get() && self.shape == other.shape
    }
}

impl Eq for Rows {}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("len", &self.shape.count)
            .field("serialized_len", &self.serialized_len())
            .finish()
    }
}

impl Rows {
    /// Serializes `rows` to a JSON array, noting each row's shape for the checks.
    ///
    /// Fails with [`Error::InvalidRequest`] when a row cannot be serialized to JSON (a map with
    /// non-string keys, a `Serialize` impl that errors…).
    pub fn new<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<Self, Error> {
        let mut json = vec![b'['];
        let mut shape = Shape::default();
        for (index, row) in rows.into_iter().enumerate() {
            if index > 0 {
                json.push(b',');
            }
            let start = json.len();
            serde_json::to_writer(&mut json, &row).map_err(|e| {
                Error::InvalidRequest {
                    violations: Violations(vec![Violation::new(
                        format!("initial_data[{index}]"),
                        format!("cannot be serialized to JSON ({e}): make each row a struct, a map with string keys, or an array of strings"),
                    )]),
                }
            })?;
            shape.note(&json, index, start);
            shape.count += 1;
        }
        json.push(b']');
        // serde_json wrote this array, so it is UTF-8 JSON; were it not, say so rather than
        // send it.
        let json = String::from_utf8(json)
            .map_err(|e| e.to_string())
            .and_then(|text| RawValue::from_string(text).map_err(|e| e.to_string()))
            .map_err(|e| Error::InvalidRequest {
                violations: Violations(vec![Violation::new(
                    "initial_data",
                    format!("could not be read back as JSON ({e}); please report this"),
                )]),
            })?;
        Ok(Rows { json, shape })
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.shape.count
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.shape.count == 0
    }

    /// The serialized JSON array: exactly the bytes sent as `initial_data`.
    pub fn as_json(&self) -> &[u8] {
        self.json.get().as_bytes()
    }

    /// The serialized JSON array, for the serializer to embed as it is.
    pub(super) fn as_raw(&self) -> &RawValue {
        &self.json
    }

    /// The size of [`Rows::as_json`] in bytes, the size Dromo's 15 MB limit applies to.
    pub fn serialized_len(&self) -> usize {
        self.json.get().len()
    }

    pub(super) fn check(&self, inline_field_count: Option<usize>, out: &mut Vec<Violation>) {
        let len = self.serialized_len();
        if len > MAX_INITIAL_DATA_BYTES {
            out.push(Violation::new(
                "initial_data",
                format!(
                    "is {len} bytes serialized ({:.1} MB), over Dromo's limit of {MAX_INITIAL_DATA_BYTES} bytes (15 MB): split the rows over several imports, or upload them as a CSV file",
                    len as f64 / (1024.0 * 1024.0)
                ),
            ));
        }
        self.shape.check(inline_field_count, out);
    }
}

impl Shape {
    fn note(&mut self, json: &[u8], index: usize, start: usize) {
        match json.get(start) {
            Some(b'{') => {
                self.first_object.get_or_insert(index);
            }
            Some(b'[') => {
                self.first_array.get_or_insert(index);
                // Re-read the array just written for its length and the kinds of its cells.
                let cells: Vec<Kind> =
                    serde_json::from_slice(json.get(start..).unwrap_or_default())
                        .unwrap_or_default();
                if self.longest_array.is_none_or(|(_, len)| cells.len() > len) {
                    self.longest_array = Some((index, cells.len()));
                }
                for (column, cell) in cells.iter().enumerate() {
                    if *cell != Kind::String {
                        self.non_string_count += 1;
                        if self.non_strings.len() < MAX_ROW_PROBLEMS {
                            self.non_strings.push((index, column, cell.name()));
                        }
                    }
                }
            }
            other => {
                self.scalar_count += 1;
                if self.scalars.len() < MAX_ROW_PROBLEMS {
                    let kind = match other {
                        Some(b'"') => "a string",
                        Some(b'n') => "null",
                        Some(b't' | b'f') => "a boolean",
                        _ => "a number",
                    };
                    self.scalars.push((index, kind));
                }
            }
        }
    }

    fn check(&self, inline_field_count: Option<usize>, out: &mut Vec<Violation>) {
        if let (Some(object), Some(array)) = (self.first_object, self.first_array) {
            out.push(Violation::new(
                "initial_data",
                format!("mixes object rows (first: row {object}) and array rows (first: row {array}): send every row as an object keyed by field key, or every row as an array of strings in field order"),
            ));
        }
        if self.scalar_count > 0 {
            let listed = self
                .scalars
                .iter()
                .map(|(row, kind)| format!("row {row} is {kind}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Violation::new(
                "initial_data",
                format!("{listed}{}: each row must be an object keyed by field key or an array of strings in field order", more(self.scalar_count, self.scalars.len())),
            ));
        }
        if self.non_string_count > 0 {
            let listed = self
                .non_strings
                .iter()
                .map(|(row, column, kind)| format!("row {row} value {column} is {kind}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Violation::new(
                "initial_data",
                format!("{listed}{}: array rows hold strings, in field order; convert the values to strings or send object rows", more(self.non_string_count, self.non_strings.len())),
            ));
        }
        if let (Some(fields), Some((row, values))) = (inline_field_count, self.longest_array) {
            if values > fields {
                out.push(Violation::new(
                    format!("initial_data[{row}]"),
                    format!("has {values} values but the inline schema has {fields} fields: array rows hold one string per field, in field order; add the missing fields or drop the extra values"),
                ));
            }
        }
    }
}

fn more(total: usize, listed: usize) -> String {
    if total > listed {
        format!(" (and {} more)", total - listed)
    } else {
        String::new()
    }
}

/// The JSON kind of an array row's cell, read without keeping its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Bool,
    Null,
    Array,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Bool => "a boolean",
            Kind::Null => "null",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Kind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
                Ok(Kind::String)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
                Ok(Kind::Bool)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
                Ok(Kind::Number)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
                Ok(Kind::Number)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
                Ok(Kind::Number)
            }
            fn visit_unit<E>(self) -> Result<Kind, E> {
                Ok(Kind::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Kind::Array)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Kind::Object)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
