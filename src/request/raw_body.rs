//! A create body read from the user's own JSON: checked like the generated body, sent as written.

use super::{prepare_raw, Prepared};
use crate::error::{Error, Violation, Violations};
use crate::types;
use serde_json::Value;

/// Every key a create body can hold, at any depth (settings excepted: they are open): the
/// candidates for "did you mean" suggestions.
const KNOWN_KEYS: [&str; 35] = [
    "schema_id",
    "fields",
    "settings",
    "hooks",
    "original_filename",
    "initial_data",
    "import_metadata",
    "key",
    "label",
    "type",
    "description",
    "alternateMatches",
    "validators",
    "invalidValueMessage",
    "readOnly",
    "hidden",
    "requireMapping",
    "manyToOne",
    "selectOptions",
    "value",
    "exactMatchOnly",
    "rowHooks",
    "bulkRowHooks",
    "rowDeleteHooks",
    "beforeFinishCallback",
    "columnHooks",
    "stepHooks",
    "fieldName",
    "callback",
    "user",
    "id",
    "name",
    "email",
    "companyId",
    "companyName",
];

/// A raw create body read from JSON, kept as the user wrote it.
///
/// Reading JSON into the generated `types::CreateHeadlessImportBody` drops what the types do not
/// know (a misspelt `"lable"`, `"hooks": {"rowHook": …}`) and explicit `null`s (settings sent
/// with a `schema_id` replace the saved schema's, so `"maxRecords": null` means "no limit").
/// A `RawBody` instead refuses unknown keys, naming each with its path and the likely key meant,
/// and sends the JSON as written: only the documented defaults are filled in (a field without a
/// `type` is sent with `"type": "string"`). It is checked like any create
/// ([`crate::validate`]) before sending.
///
/// ```
/// use dromo_client::{CreateRequest, Error};
///
/// let request = CreateRequest::from_json(r#"{
///     "schema_id": "94187d21-9820-420f-b08c-a80cbbf52604",
///     "original_filename": "contacts.csv",
///     "settings": {"maxRecords": null}
/// }"#)?;
/// let body: serde_json::Value = serde_json::from_slice(&request.body_bytes()?).unwrap();
/// assert_eq!(body["settings"]["maxRecords"], serde_json::Value::Null);
///
/// let typo = CreateRequest::from_json(r#"{"fields": [{"key": "a", "lable": "A"}], "original_filename": "a.csv"}"#);
/// let Err(Error::InvalidRequest { violations, .. }) = typo else { panic!("expected a refusal") };
/// assert!(violations.to_string().contains("`fields[0].lable` is not a key Dromo knows: did you mean `label`?"));
/// # Ok::<(), dromo_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RawBody {
    /// The JSON to send: the user's, with documented defaults filled in.
    json: Value,
    /// The same body read into the generated types, for the checks.
    typed: types::CreateHeadlessImportBody,
}

impl RawBody {
    /// Reads a create body from JSON text. See [`RawBody::from_value`].
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| invalid("body", format!("is not JSON ({e}): send one JSON object")))?;
        Self::from_value(value)
    }

    /// Reads a create body from a JSON value: fills the documented defaults, refuses unknown
    /// keys (each listed as `path: unknown key`, with the close match), and reads it into the
    /// generated types. Nothing is checked beyond the shape here; the rules are checked before
    /// sending.
    pub fn from_value(mut json: Value) -> Result<Self, Error> {
        let Value::Object(body) = &mut json else {
            return Err(invalid(
                "body",
                "is not a JSON object: send `{\"schema_id\": …}` or `{\"fields\": […]}`",
            ));
        };
        fill_defaults(body);
        let mut unknown = Vec::new();
        let typed: Result<types::CreateHeadlessImportBody, _> =
            serde_ignored::deserialize(&json, |path| unknown.push(path_text(&path)));
        let mut violations: Vec<Violation> = unknown
            .iter()
            .filter(|path| !path.starts_with("settings."))
            .map(|path| unknown_key(path))
            .collect();
        let typed = match typed {
            Ok(typed) => Some(typed),
            Err(e) => {
                violations.push(Violation::new(
                    "body",
                    format!("does not fit Dromo's create body: {e}"),
                ));
                None
            }
        };
        match typed {
            Some(typed) if violations.is_empty() => Ok(Self { json, typed }),
            _ => Err(Error::InvalidRequest {
                violations: Violations(violations),
            }),
        }
    }

    /// The body read into the generated types (what the checks see).
    pub fn typed(&self) -> &types::CreateHeadlessImportBody {
        &self.typed
    }

    /// The JSON that will be sent.
    pub fn json(&self) -> &Value {
        &self.json
    }

    pub(crate) fn prepare(&self) -> Result<Prepared, Error> {
        let checked = prepare_raw(&self.typed)?;
        let body = serde_json::to_vec(&self.json)
            .map_err(|e| invalid("body", format!("cannot be serialized to JSON ({e})")))?;
        Ok(Prepared {
            body,
            schema_id: checked.schema_id,
        })
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidRequest {
        violations: Violations(vec![Violation::new(field, message.into())]),
    }
}

/// The documented defaults: a field's `type` is `string` (`fields.mdx`, `field-types.mdx`).
fn fill_defaults(body: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Array(fields)) = body.get_mut("fields") {
        for field in fields.iter_mut() {
            if let Value::Object(field) = field {
                field
                    .entry("type")
                    .or_insert_with(|| Value::String("string".to_owned()));
            }
        }
    }
}

/// `fields[0].lable` from serde_ignored's path.
fn path_text(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", path_text(parent)),
        Path::Map { parent, key } => {
            let parent = path_text(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => path_text(parent),
    }
}

/// The violation for an unknown key, with the known key it most likely meant.
fn unknown_key(path: &str) -> Violation {
    let key = path.rsplit(['.', ']']).next().unwrap_or(path);
    let normalized = |k: &str| k.replace('_', "").to_ascii_lowercase();
    let best = KNOWN_KEYS
        .iter()
        .map(|known| {
            let same_words = normalized(known) == normalized(key);
            (
                known,
                same_words,
                strsim::normalized_damerau_levenshtein(known, key),
            )
        })
        .filter(|(_, same_words, score)| *same_words || *score >= 0.6)
        .max_by(|a, b| {
            (a.1, a.2)
                .partial_cmp(&(b.1, b.2))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    let hint = match best {
        Some((known, ..)) => format!("did you mean `{known}`? Dromo would ignore it"),
        None => "Dromo would ignore it; remove it or check the spelling in Dromo's docs".to_owned(),
    };
    Violation::new(path.to_owned(), format!("is not a key Dromo knows: {hint}"))
}
