//! The create request: a typed [`ImportRequest`] whose exclusive choices are enums, the checks
//! that types cannot express, and the one serialization of the body that is measured and sent.

use crate::error::{Error, Violation, Violations};
mod raw_body;
pub use raw_body::RawBody;
use crate::types;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Dromo's limit on the serialized `initial_data` of a create: 15 MB (15 × 1024 × 1024 bytes).
pub const MAX_INITIAL_DATA_BYTES: usize = 15 * 1024 * 1024;

/// The file extensions Dromo imports from an uploaded file (JSON goes through `initial_data`).
pub const SUPPORTED_FILE_EXTENSIONS: [&str; 4] = ["csv", "tsv", "xls", "xlsx"];

/// The field types of Dromo's field schema (`DeveloperFieldSchema.json`).
const FIELD_TYPES: [&str; 17] = [
    "string",
    "checkbox",
    "email",
    "select",
    "multi-select",
    "number",
    "date",
    "time",
    "datetime",
    "domain",
    "phone-number",
    "url",
    "ssn",
    "uuid",
    "us-zip-code",
    "us-state-territory",
    "country",
];

/// The validator names of Dromo's field schema (`DeveloperFieldSchema.json`).
const VALIDATORS: [&str; 16] = [
    "required",
    "unique",
    "unique_case_insensitive",
    "unique_with",
    "regex_match",
    "regex_exclude",
    "require_with",
    "require_without",
    "require_with_all",
    "require_without_all",
    "require_with_values",
    "require_without_values",
    "require_with_all_values",
    "require_without_all_values",
    "length",
    "alphabetical",
];

/// The number presets of Dromo's field types page (`field-types.mdx`, Number: "Here are all of
/// the presets that Dromo provides"), usable as `["number", "<preset>"]`.
pub const NUMBER_PRESETS: [&str; 18] = [
    "default",
    "percent",
    "plain",
    "usd",
    "usd_accounting",
    "eur",
    "gbp",
    "decimal_0",
    "integer",
    "decimal_1",
    "decimal_2",
    "decimal_3",
    "decimal_4",
    "percent_0",
    "percent_1",
    "percent_2",
    "percent_3",
    "percent_4",
];

/// How many problems of one kind in the rows are listed before "and N more".
const MAX_ROW_PROBLEMS: usize = 5;

/// Which schema an import uses: a saved one, by id, or fields given inline. Exactly one, by
/// construction.
///
/// ```
/// use dromo_client::{Field, FieldType, Schema};
///
/// let saved = Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604");
/// let inline = Schema::inline([
///     Field::new("email", "Email", FieldType::Email).required(),
///     Field::new("name", "Name", FieldType::String),
/// ]);
/// # let _ = (saved, inline);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Schema {
    /// A schema saved in the Dromo dashboard (or with the schemas API), by id.
    Saved(String),
    /// Field definitions sent with the import.
    Inline(Vec<types::SchemaFieldsItem>),
}

impl Schema {
    /// A saved schema, by id.
    pub fn saved(id: impl Into<String>) -> Self {
        Self::Saved(id.into())
    }

    /// An inline schema from [`Field`]s (or generated `types::SchemaFieldsItem`s).
    pub fn inline<F: Into<types::SchemaFieldsItem>>(fields: impl IntoIterator<Item = F>) -> Self {
        Self::Inline(fields.into_iter().map(Into::into).collect())
    }
}

/// Where the rows come from: a file to upload afterwards, or the rows themselves. Exactly one,
/// by construction.
///
/// ```
/// use dromo_client::Source;
///
/// #[derive(serde::Serialize)]
/// struct Contact { email: String, name: String }
///
/// let file = Source::file("contacts.csv");
/// let rows = Source::rows(&[Contact { email: "ada@example.com".into(), name: "Ada".into() }])?;
/// let arrays = Source::rows([["ada@example.com", "Ada"]])?;
/// # let _ = (file, rows, arrays);
/// # Ok::<(), dromo_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A CSV, TSV, XLS or XLSX file, uploaded to the presigned URL the create returns.
    File {
        /// The file's name, e.g. `contacts.csv`; its extension tells Dromo how to read it.
        original_filename: String,
    },
    /// The rows, sent as `initial_data` (at most [`MAX_INITIAL_DATA_BYTES`] serialized).
    Rows(Rows),
}

impl Source {
    /// A file that will be uploaded after the create.
    pub fn file(original_filename: impl Into<String>) -> Self {
        Self::File {
            original_filename: original_filename.into(),
        }
    }

    /// Rows sent with the create, from anything `Serialize`: structs or maps (objects keyed by
    /// field key) or arrays of strings in field order. See [`Rows::new`].
    pub fn rows<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<Self, Error> {
        Rows::new(rows).map(Self::Rows)
    }
}

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
#[derive(Clone, PartialEq, Eq)]
pub struct Rows {
    json: Vec<u8>,
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

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("len", &self.count)
            .field("serialized_len", &self.json.len())
            .finish()
    }
}

impl Rows {
    /// Serializes `rows` to a JSON array, noting each row's shape for the checks.
    ///
    /// Fails with [`Error::InvalidRequest`] when a row cannot be serialized to JSON (a map with
    /// non-string keys, a `Serialize` impl that errors…).
    pub fn new<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<Self, Error> {
        let mut out = Rows {
            json: vec![b'['],
            count: 0,
            first_object: None,
            first_array: None,
            scalars: Vec::new(),
            scalar_count: 0,
            longest_array: None,
            non_strings: Vec::new(),
            non_string_count: 0,
        };
        for (index, row) in rows.into_iter().enumerate() {
            if index > 0 {
                out.json.push(b',');
            }
            let start = out.json.len();
            serde_json::to_writer(&mut out.json, &row).map_err(|e| {
                Error::InvalidRequest {
                    violations: Violations(vec![Violation::new(
                        format!("initial_data[{index}]"),
                        format!("cannot be serialized to JSON ({e}): make each row a struct, a map with string keys, or an array of strings"),
                    )]),
                }
            })?;
            out.note(index, start);
            out.count += 1;
        }
        out.json.push(b']');
        Ok(out)
    }

    fn note(&mut self, index: usize, start: usize) {
        match self.json.get(start) {
            Some(b'{') => {
                self.first_object.get_or_insert(index);
            }
            Some(b'[') => {
                self.first_array.get_or_insert(index);
                // Re-read the array just written for its length and the kinds of its cells.
                let cells: Vec<Kind> =
                    serde_json::from_slice(&self.json[start..]).unwrap_or_default();
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

    /// How many rows.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The serialized JSON array: exactly the bytes sent as `initial_data`.
    pub fn as_json(&self) -> &[u8] {
        &self.json
    }

    /// The size of [`Rows::as_json`] in bytes, the size Dromo's 15 MB limit applies to.
    pub fn serialized_len(&self) -> usize {
        self.json.len()
    }

    fn check(&self, inline_field_count: Option<usize>, out: &mut Vec<Violation>) {
        let len = self.json.len();
        if len > MAX_INITIAL_DATA_BYTES {
            out.push(Violation::new(
                "initial_data",
                format!(
                    "is {len} bytes serialized ({:.1} MB), over Dromo's limit of {MAX_INITIAL_DATA_BYTES} bytes (15 MB): split the rows over several imports, or upload them as a CSV file",
                    len as f64 / (1024.0 * 1024.0)
                ),
            ));
        }
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

/// A Dromo field type (`DeveloperFieldSchema.json`).
///
/// ```
/// assert_eq!(dromo_client::FieldType::PhoneNumber.as_str(), "phone-number");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// `string`.
    String,
    /// `checkbox`.
    Checkbox,
    /// `email`.
    Email,
    /// `select`: needs options, see [`Field::select`].
    Select,
    /// `multi-select`: needs options, see [`Field::multi_select`]; outputs an array of values.
    MultiSelect,
    /// `number`.
    Number,
    /// `date`.
    Date,
    /// `time`.
    Time,
    /// `datetime`.
    Datetime,
    /// `domain`.
    Domain,
    /// `phone-number`.
    PhoneNumber,
    /// `url`.
    Url,
    /// `ssn`.
    Ssn,
    /// `uuid`.
    Uuid,
    /// `us-zip-code`.
    UsZipCode,
    /// `us-state-territory`.
    UsStateTerritory,
    /// `country`.
    Country,
}

impl FieldType {
    /// The wire name, e.g. `phone-number`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Checkbox => "checkbox",
            Self::Email => "email",
            Self::Select => "select",
            Self::MultiSelect => "multi-select",
            Self::Number => "number",
            Self::Date => "date",
            Self::Time => "time",
            Self::Datetime => "datetime",
            Self::Domain => "domain",
            Self::PhoneNumber => "phone-number",
            Self::Url => "url",
            Self::Ssn => "ssn",
            Self::Uuid => "uuid",
            Self::UsZipCode => "us-zip-code",
            Self::UsStateTerritory => "us-state-territory",
            Self::Country => "country",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One option of a select field: what the person sees (`label`) and what is stored (`value`).
///
/// ```
/// let yes = dromo_client::SelectOption::new("Yes", "yes").alternate_matches(["y", "true"]);
/// let no: dromo_client::SelectOption = ("No", "no").into();
/// # let _ = (yes, no);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectOption {
    label: String,
    value: String,
    alternate_matches: Vec<String>,
    exact_match_only: Option<bool>,
}

impl SelectOption {
    /// An option shown as `label`, stored as `value`.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
            alternate_matches: Vec::new(),
            exact_match_only: None,
        }
    }

    /// Only exact matches of the label, value or alternate matches are suggested for this
    /// option: no fuzzy or AI matching (`exactMatchOnly`, default false).
    ///
    /// ```
    /// let option = dromo_client::SelectOption::new("Yes", "yes").exact_match_only(true);
    /// # let _ = option;
    /// ```
    pub fn exact_match_only(mut self, yes: bool) -> Self {
        self.exact_match_only = Some(yes);
        self
    }

    /// Other spellings that map to this option.
    pub fn alternate_matches<S: Into<String>>(
        mut self,
        matches: impl IntoIterator<Item = S>,
    ) -> Self {
        self.alternate_matches = matches.into_iter().map(Into::into).collect();
        self
    }
}

impl<L: Into<String>, V: Into<String>> From<(L, V)> for SelectOption {
    fn from((label, value): (L, V)) -> Self {
        Self::new(label, value)
    }
}

impl From<SelectOption> for types::SchemaFieldsItemSelectOptionsItem {
    fn from(option: SelectOption) -> Self {
        Self {
            alternate_matches: option.alternate_matches,
            exact_match_only: option.exact_match_only,
            label: option.label,
            value: option.value,
        }
    }
}

/// Builds one inline field (a generated `types::SchemaFieldsItem`).
///
/// ```
/// use dromo_client::{Field, FieldType};
///
/// let fields = [
///     Field::new("email", "Email", FieldType::Email).required().unique(),
///     Field::new("joined", "Joined", FieldType::Date)
///         .type_options(serde_json::json!({ "outputFormat": "YYYY-MM-DD" })),
///     Field::select("plan", "Plan", [("Free", "free"), ("Pro", "pro")]).description("Billing plan"),
/// ];
/// let item: dromo_client::types::SchemaFieldsItem = fields[0].clone().into();
/// assert_eq!(item.key, "email");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Field(types::SchemaFieldsItem);

impl Field {
    /// A field stored under `key`, shown as `label`, of type `field_type`.
    pub fn new(key: impl Into<String>, label: impl Into<String>, field_type: FieldType) -> Self {
        Self(types::SchemaFieldsItem {
            alternate_matches: Vec::new(),
            description: None,
            hidden: None,
            invalid_value_message: None,
            key: key.into(),
            label: label.into(),
            many_to_one: None,
            read_only: None,
            require_mapping: None,
            select_options: Vec::new(),
            type_: types::SchemaFieldsItemType::String(field_type.as_str().to_owned()),
            validators: Vec::new(),
        })
    }

    /// A `select` field with its options.
    pub fn select<O: Into<SelectOption>>(
        key: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = O>,
    ) -> Self {
        let mut field = Self::new(key, label, FieldType::Select);
        field.0.select_options = options.into_iter().map(|o| o.into().into()).collect();
        field
    }

    /// A `multi-select` field with its options; its values come out as an array. Type options
    /// (`{"delimiter": ";", "trimValues": true}`) go through [`Field::type_options`].
    ///
    /// ```
    /// use dromo_client::Field;
    ///
    /// let skills = Field::multi_select("skills", "Skills", [("JavaScript", "js"), ("Python", "py")])
    ///     .type_options(serde_json::json!({ "delimiter": ";", "trimValues": true }));
    /// # let _ = skills;
    /// ```
    pub fn multi_select<O: Into<SelectOption>>(
        key: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = O>,
    ) -> Self {
        let mut field = Self::new(key, label, FieldType::MultiSelect);
        field.0.select_options = options.into_iter().map(|o| o.into().into()).collect();
        field
    }

    /// A `number` field with one of Dromo's number presets ([`NUMBER_PRESETS`]: `usd`, `eur`,
    /// `percent`, `decimal_2`…), sent as `["number", "<preset>"]`.
    ///
    /// ```
    /// use dromo_client::Field;
    ///
    /// let fee = Field::number_preset("fee", "Subscription fee", "eur");
    /// let item: dromo_client::types::SchemaFieldsItem = fee.into();
    /// assert_eq!(serde_json::to_value(&item.type_).unwrap(), serde_json::json!(["number", "eur"]));
    /// ```
    pub fn number_preset(
        key: impl Into<String>,
        label: impl Into<String>,
        preset: impl Into<String>,
    ) -> Self {
        let mut field = Self::new(key, label, FieldType::Number);
        field.0.type_ = types::SchemaFieldsItemType::Array(vec![
            serde_json::Value::String("number".to_owned()),
            serde_json::Value::String(preset.into()),
        ]);
        field
    }

    /// The type's options, sent as `[type, options]` (e.g. `{"outputFormat": "YYYY-MM-DD"}` for a
    /// date; see Dromo's field types for each type's options).
    pub fn type_options(mut self, options: serde_json::Value) -> Self {
        let name = match &self.0.type_ {
            types::SchemaFieldsItemType::String(name) => serde_json::Value::String(name.clone()),
            types::SchemaFieldsItemType::Array(parts) => {
                parts.first().cloned().unwrap_or(serde_json::Value::Null)
            }
        };
        self.0.type_ = types::SchemaFieldsItemType::Array(vec![name, options]);
        self
    }

    /// A help text shown to the person importing.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.0.description = Some(text.into());
        self
    }

    /// Other column headers that map to this field.
    pub fn alternate_matches<S: Into<String>>(
        mut self,
        matches: impl IntoIterator<Item = S>,
    ) -> Self {
        self.0.alternate_matches = matches.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a validator, e.g. `json!({"validate": "regex_match", "regex": "^[0-9]+$"})`; a
    /// bare name (`json!("required")`) is taken as `{"validate": name}`. Unknown validator names
    /// are reported by the checks before sending.
    pub fn validator(mut self, validator: serde_json::Value) -> Self {
        let map = match validator {
            serde_json::Value::Object(map) => map,
            other => {
                let mut map = serde_json::Map::new();
                map.insert("validate".to_owned(), other);
                map
            }
        };
        self.0.validators.push(map);
        self
    }

    /// Adds the `required` validator.
    pub fn required(self) -> Self {
        self.validator(serde_json::json!({ "validate": "required" }))
    }

    /// Adds the `unique` validator.
    pub fn unique(self) -> Self {
        self.validator(serde_json::json!({ "validate": "unique" }))
    }

    /// The message shown for a value that does not fit the type.
    pub fn invalid_value_message(mut self, message: impl Into<String>) -> Self {
        self.0.invalid_value_message = Some(message.into());
        self
    }

    /// Makes the field read-only in the review screen.
    pub fn read_only(mut self, yes: bool) -> Self {
        self.0.read_only = Some(yes);
        self
    }

    /// Hides the field in the review screen.
    pub fn hidden(mut self, yes: bool) -> Self {
        self.0.hidden = Some(yes);
        self
    }

    /// Requires a column to be mapped to this field.
    pub fn require_mapping(mut self, yes: bool) -> Self {
        self.0.require_mapping = Some(yes);
        self
    }

    /// Lets several columns map to this field.
    pub fn many_to_one(mut self, yes: bool) -> Self {
        self.0.many_to_one = Some(yes);
        self
    }
}

impl From<Field> for types::SchemaFieldsItem {
    fn from(field: Field) -> Self {
        field.0
    }
}

/// The person an import is made for (`import_metadata.user`), shown in the Dromo dashboard.
///
/// ```
/// let user = dromo_client::User::new("user-42").name("Ada").email("ada@example.com").company("acme", "Acme");
/// # let _ = user;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct User(types::ImportMetaDataInnerUser);

impl User {
    /// A user with this id (required by Dromo, must not be empty).
    pub fn new(id: impl Into<String>) -> Self {
        Self(types::ImportMetaDataInnerUser {
            company_id: None,
            company_name: None,
            email: None,
            id: id.into(),
            name: None,
        })
    }

    /// The user's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.0.name = Some(name.into());
        self
    }

    /// The user's email.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.0.email = Some(email.into());
        self
    }

    /// The user's company: its id and name.
    pub fn company(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.0.company_id = Some(id.into());
        self.0.company_name = Some(name.into());
        self
    }

    /// The user's company id only.
    pub fn company_id(mut self, id: impl Into<String>) -> Self {
        self.0.company_id = Some(id.into());
        self
    }

    /// The user's company name only.
    pub fn company_name(mut self, name: impl Into<String>) -> Self {
        self.0.company_name = Some(name.into());
        self
    }
}

impl From<User> for types::ImportMetaDataInnerUser {
    fn from(user: User) -> Self {
        user.0
    }
}

/// A headless import to create: a [`Schema`] and a [`Source`], plus optional settings, hooks
/// and user. Pass it to [`Client::create_headless_import`](crate::Client::create_headless_import).
///
/// "Both a saved schema and inline fields" or "neither a file nor rows" cannot be written; the
/// rules types cannot express (unique non-empty keys, the 15 MB limit, known field types…) are
/// checked before anything is sent ([`ImportRequest::validate`]).
///
/// ```
/// use dromo_client::{types, Field, FieldType, ImportRequest, Schema, Source, User};
///
/// let settings: types::SchemaSettings =
///     serde_json::from_value(serde_json::json!({"developmentMode": true, "importIdentifier": "contacts"})).unwrap();
/// let hooks = types::SchemaHooks::builder().row_hooks(vec!["(record) => record".to_owned()]);
/// let request = ImportRequest::new(Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604"), Source::file("contacts.csv"))
///     .settings(settings)
///     .hooks(hooks)
///     .user(User::new("user-42").name("Ada"));
/// request.validate()?;
///
/// let inline = ImportRequest::new(
///     Schema::inline([Field::new("email", "Email", FieldType::Email)]),
///     Source::rows([["ada@example.com"]])?,
/// );
/// inline.validate()?;
/// # Ok::<(), dromo_client::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ImportRequest {
    schema: Schema,
    source: Source,
    settings: Option<Result<types::SchemaSettings, String>>,
    hooks: Option<Result<types::SchemaHooks, String>>,
    metadata: Option<types::ImportMetaData>,
}

impl ImportRequest {
    /// An import of `source` with `schema`.
    pub fn new(schema: Schema, source: Source) -> Self {
        Self {
            schema,
            source,
            settings: None,
            hooks: None,
            metadata: None,
        }
    }

    /// Settings built from an empty settings builder, e.g.
    /// `.settings_with(|s| s.development_mode(true).title("Contacts".to_owned()))`: the easy way
    /// to set a few settings.
    ///
    /// ```
    /// let request = dromo_client::ImportRequest::new(
    ///     dromo_client::Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604"),
    ///     dromo_client::Source::file("contacts.csv"),
    /// )
    /// .settings_with(|s| s.development_mode(true).max_records(Some(1000)));
    /// request.validate()?;
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn settings_with(
        self,
        build: impl FnOnce(types::builder::SchemaSettings) -> types::builder::SchemaSettings,
    ) -> Self {
        // The generated builder wants its catch-all `extra` map set explicitly.
        self.settings(build(
            types::SchemaSettings::builder().extra(serde_json::Map::new()),
        ))
    }

    /// Settings (merged over a saved schema's, or the inline schema's): a
    /// `types::SchemaSettings` (e.g. `serde_json::from_value(json!({..}))`) or its builder
    /// (`types::SchemaSettings::builder()`, whose `extra` must be set; see
    /// [`ImportRequest::settings_with`]).
    pub fn settings<S>(mut self, settings: S) -> Self
    where
        S: TryInto<types::SchemaSettings>,
        S::Error: fmt::Display,
    {
        self.settings = Some(settings.try_into().map_err(|e| e.to_string()));
        self
    }

    /// Hooks (merged over a saved schema's, or the inline schema's): a `types::SchemaHooks` or
    /// its builder, `types::SchemaHooks::builder()`.
    pub fn hooks<H>(mut self, hooks: H) -> Self
    where
        H: TryInto<types::SchemaHooks>,
        H::Error: fmt::Display,
    {
        self.hooks = Some(hooks.try_into().map_err(|e| e.to_string()));
        self
    }

    /// The person the import is for (`import_metadata.user`).
    pub fn user(mut self, user: User) -> Self {
        self.metadata = Some(types::ImportMetaData(Some(types::ImportMetaDataInner {
            user: Some(user.into()),
        })));
        self
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The source.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Runs the checks made before sending; [`Error::InvalidRequest`] lists every problem.
    pub fn validate(&self) -> Result<(), Error> {
        self.prepare().map(|_| ())
    }

    pub(crate) fn prepare(&self) -> Result<Prepared, Error> {
        let mut violations = Vec::new();
        let settings = match &self.settings {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                violations.push(Violation::new(
                    "settings",
                    format!("could not be built: {e}"),
                ));
                None
            }
            None => None,
        };
        let hooks = match &self.hooks {
            Some(Ok(h)) => Some(h),
            Some(Err(e)) => {
                violations.push(Violation::new("hooks", format!("could not be built: {e}")));
                None
            }
            None => None,
        };
        let parts = Parts {
            schema_id: match &self.schema {
                Schema::Saved(id) => Some(id.as_str()),
                Schema::Inline(_) => None,
            },
            fields: match &self.schema {
                Schema::Inline(fields) => Some(fields.as_slice()),
                Schema::Saved(_) => None,
            },
            settings,
            hooks,
            import_metadata: self.metadata.as_ref(),
            original_filename: match &self.source {
                Source::File { original_filename } => Some(original_filename.as_str()),
                Source::Rows(_) => None,
            },
        };
        let rows = match &self.source {
            Source::Rows(rows) => Some(rows),
            Source::File { .. } => None,
        };
        parts.prepare(rows, violations)
    }
}

/// Checks a raw generated body before it is sent, as
/// [`Client::create_headless_import`](crate::Client::create_headless_import) does: every
/// problem is listed at once in an [`Error::InvalidRequest`], each naming the field and the fix.
///
/// ```
/// use dromo_client::{types, validate, Error};
///
/// let body = types::CreateHeadlessImportBody {
///     schema_id: Some("94187d21-9820-420f-b08c-a80cbbf52604".into()),
///     original_filename: Some("contacts.pdf".into()),
///     initial_data: Some(vec![serde_json::json!({"email": "ada@example.com"})]),
///     ..Default::default()
/// };
/// let Err(Error::InvalidRequest { violations }) = validate(&body) else { panic!("expected violations") };
/// assert_eq!(violations.0.len(), 2); // both a file and rows; not a supported file type
/// ```
pub fn validate(body: &types::CreateHeadlessImportBody) -> Result<(), Error> {
    prepare_raw(body).map(|_| ())
}

pub(crate) fn prepare_raw(body: &types::CreateHeadlessImportBody) -> Result<Prepared, Error> {
    let rows = body.initial_data.as_ref().map(Rows::new).transpose()?;
    let parts = Parts {
        schema_id: body.schema_id.as_deref(),
        fields: body.fields.as_ref().map(|f| f.0.as_slice()),
        settings: body.settings.as_ref(),
        hooks: body.hooks.as_ref(),
        import_metadata: body.import_metadata.as_ref(),
        original_filename: body.original_filename.as_deref(),
    };
    parts.prepare(rows.as_ref(), Vec::new())
}

/// Any form of a create request: a typed [`ImportRequest`], a raw generated
/// `types::CreateHeadlessImportBody`, or the user's own JSON ([`CreateRequest::from_json`]);
/// each is checked with [`validate`] before sending.
#[derive(Debug, Clone)]
pub enum CreateRequest {
    /// The typed request.
    Typed(ImportRequest),
    /// The generated body, as built by the caller.
    Raw(types::CreateHeadlessImportBody),
    /// JSON as the user wrote it (unknown keys refused, `null`s kept), see [`RawBody`].
    Json(RawBody),
}

impl From<RawBody> for CreateRequest {
    fn from(body: RawBody) -> Self {
        Self::Json(body)
    }
}

impl From<ImportRequest> for CreateRequest {
    fn from(request: ImportRequest) -> Self {
        Self::Typed(request)
    }
}

impl From<types::CreateHeadlessImportBody> for CreateRequest {
    fn from(body: types::CreateHeadlessImportBody) -> Self {
        Self::Raw(body)
    }
}

impl CreateRequest {
    /// A create body from JSON text, kept as written: see [`RawBody`]. Unknown keys are refused
    /// with their path (`fields[0].lable: did you mean label?`), `null`s are sent as `null`,
    /// and a field without a `type` is sent as a `string` field, as Dromo documents.
    ///
    /// ```
    /// let request = dromo_client::CreateRequest::from_json(
    ///     r#"{"fields": [{"key": "firstName", "label": "First name"}], "original_filename": "people.csv"}"#,
    /// )?;
    /// assert_eq!(
    ///     request.body_bytes()?,
    ///     br#"{"fields":[{"key":"firstName","label":"First name","type":"string"}],"original_filename":"people.csv"}"#
    /// );
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self, Error> {
        RawBody::from_json(json).map(Self::Json)
    }

    /// A create body from a JSON value, kept as written: see [`RawBody::from_value`].
    pub fn from_value(json: serde_json::Value) -> Result<Self, Error> {
        RawBody::from_value(json).map(Self::Json)
    }

    /// Runs the checks and returns the exact bytes that would be sent as the body.
    pub fn body_bytes(&self) -> Result<Vec<u8>, Error> {
        self.prepare().map(|prepared| prepared.body)
    }

    pub(crate) fn prepare(&self) -> Result<Prepared, Error> {
        match self {
            Self::Typed(request) => request.prepare(),
            Self::Raw(body) => prepare_raw(body),
            Self::Json(body) => body.prepare(),
        }
    }
}

/// A checked body, serialized once: the bytes to send.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub body: Vec<u8>,
    pub schema_id: Option<String>,
}

/// The body without `initial_data`, borrowed; the rows are spliced in as serialized.
#[derive(Serialize)]
struct Parts<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a [types::SchemaFieldsItem]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<&'a types::SchemaSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hooks: Option<&'a types::SchemaHooks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import_metadata: Option<&'a types::ImportMetaData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_filename: Option<&'a str>,
}

impl Parts<'_> {
    fn prepare(
        &self,
        rows: Option<&Rows>,
        mut violations: Vec<Violation>,
    ) -> Result<Prepared, Error> {
        self.check(rows, &mut violations);
        if !violations.is_empty() {
            return Err(Error::InvalidRequest {
                violations: Violations(violations),
            });
        }
        let mut body = serde_json::to_vec(self).map_err(|e| Error::InvalidRequest {
            violations: Violations(vec![Violation::new(
                "body",
                format!("cannot be serialized to JSON ({e}); check the settings and hooks"),
            )]),
        })?;
        if let Some(rows) = rows {
            // `Parts` is a struct, so serde_json wrote one JSON object `{…}`: reopen it and
            // append `"initial_data": <the rows' bytes>`.
            if body.pop() != Some(b'}') {
                return Err(Error::InvalidRequest {
                    violations: Violations(vec![Violation::new(
                        "body",
                        "did not serialize to a JSON object; please report this",
                    )]),
                });
            }
            if body.len() > 1 {
                body.push(b',');
            }
            body.extend_from_slice(b"\"initial_data\":");
            body.extend_from_slice(rows.as_json());
            body.push(b'}');
        }
        Ok(Prepared {
            body,
            schema_id: self.schema_id.map(str::to_owned),
        })
    }

    fn check(&self, rows: Option<&Rows>, out: &mut Vec<Violation>) {
        match (self.schema_id, self.fields) {
            (Some(_), Some(_)) => out.push(Violation::new(
                "schema_id",
                "and `fields` are both set: use a saved schema (`schema_id`) or an inline schema (`fields`), not both",
            )),
            (None, None) => out.push(Violation::new(
                "schema_id",
                "and `fields` are both missing: give the id of a saved schema (`schema_id`) or the fields of an inline schema (`fields`)",
            )),
            _ => {}
        }
        if let Some(id) = self.schema_id {
            if id.trim().is_empty() {
                out.push(Violation::new(
                    "schema_id",
                    "is empty: give the id of a saved schema from the Dromo dashboard",
                ));
            }
        }
        if let Some(fields) = self.fields {
            check_fields(fields, out);
        }
        match (self.original_filename, rows) {
            (Some(_), Some(_)) => out.push(Violation::new(
                "original_filename",
                "and `initial_data` are both set: upload a file (`original_filename`) or send the rows (`initial_data`), not both",
            )),
            (None, None) => out.push(Violation::new(
                "original_filename",
                "and `initial_data` are both missing: name the file you will upload (`original_filename`) or send the rows (`initial_data`)",
            )),
            _ => {}
        }
        if let Some(name) = self.original_filename {
            check_filename(name, out);
        }
        if let Some(rows) = rows {
            rows.check(self.fields.map(<[_]>::len), out);
        }
        if let Some(user) = self
            .import_metadata
            .and_then(|m| m.0.as_ref())
            .and_then(|m| m.user.as_ref())
        {
            if user.id.trim().is_empty() {
                out.push(Violation::new(
                    "import_metadata.user.id",
                    "is empty: give the id of the user the import is for",
                ));
            }
        }
    }
}

fn check_filename(name: &str, out: &mut Vec<Violation>) {
    if name.trim().is_empty() {
        out.push(Violation::new(
            "original_filename",
            "is empty: give the name of the file you will upload, e.g. `contacts.csv`",
        ));
        return;
    }
    let extension = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension {
        Some(ext) if SUPPORTED_FILE_EXTENSIONS.contains(&ext.as_str()) => {}
        Some(ext) if ext == "json" => out.push(Violation::new(
            "original_filename",
            format!("`{name}` is a JSON file: Dromo imports CSV, TSV, XLS and XLSX files; send JSON rows as `initial_data` (Source::rows) instead"),
        )),
        _ => out.push(Violation::new(
            "original_filename",
            format!("`{name}` does not end in .csv, .tsv, .xls or .xlsx: Dromo imports only these files; rename it if it is one, or convert it"),
        )),
    }
}

fn check_fields(fields: &[types::SchemaFieldsItem], out: &mut Vec<Violation>) {
    if fields.is_empty() {
        out.push(Violation::new(
            "fields",
            "is empty: give at least one field, or use a saved schema (`schema_id`)",
        ));
        return;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, field) in fields.iter().enumerate() {
        if field.key.trim().is_empty() {
            out.push(Violation::new(
                format!("fields[{i}].key"),
                "is empty: give every field a key, the name its values are stored under",
            ));
        } else if let Some(first) = seen.get(field.key.as_str()) {
            out.push(Violation::new(
                format!("fields[{i}].key"),
                format!(
                    "`{}` is also the key of fields[{first}]: field keys must be unique",
                    field.key
                ),
            ));
        } else {
            seen.insert(field.key.as_str(), i);
        }
        if field.label.trim().is_empty() {
            out.push(Violation::new(
                format!("fields[{i}].label"),
                "is empty: give every field a label, the column name people see",
            ));
        }
        let name = check_field_type(i, &field.type_, out);
        if matches!(name, Some("select" | "multi-select")) && field.select_options.is_empty() {
            out.push(Violation::new(
                format!("fields[{i}].selectOptions"),
                format!("is missing: a {} field needs its options, e.g. Field::select(key, label, [(\"Yes\", \"yes\")])", name.unwrap_or("select")),
            ));
        }
        for (j, validator) in field.validators.iter().enumerate() {
            match validator.get("validate").and_then(|v| v.as_str()) {
                Some(v) if VALIDATORS.contains(&v) => {}
                Some(v) => out.push(Violation::new(
                    format!("fields[{i}].validators[{j}].validate"),
                    format!(
                        "`{v}` is not a Dromo validator: use one of {}",
                        VALIDATORS.join(", ")
                    ),
                )),
                None => out.push(Violation::new(
                    format!("fields[{i}].validators[{j}]"),
                    format!(
                        "has no `validate` name: give one of {}",
                        VALIDATORS.join(", ")
                    ),
                )),
            }
        }
    }
}

/// Checks a field's `type` (a name, or `[name, options]`); returns the name if it is known.
fn check_field_type<'a>(
    i: usize,
    field_type: &'a types::SchemaFieldsItemType,
    out: &mut Vec<Violation>,
) -> Option<&'a str> {
    let field = format!("fields[{i}].type");
    let name = match field_type {
        types::SchemaFieldsItemType::String(name) => name.as_str(),
        types::SchemaFieldsItemType::Array(parts) => match parts.as_slice() {
            [serde_json::Value::String(name), serde_json::Value::Object(_)] => name.as_str(),
            [serde_json::Value::String(name), serde_json::Value::String(preset)]
                if name == "number" =>
            {
                if !NUMBER_PRESETS.contains(&preset.as_str()) {
                    out.push(Violation::new(
                        field,
                        format!(
                            "`{preset}` is not a Dromo number preset: use one of {}, or options `[\"number\", {{\"round\": 2}}]`",
                            NUMBER_PRESETS.join(", ")
                        ),
                    ));
                    return None;
                }
                name.as_str()
            }
            _ => {
                out.push(Violation::new(field, "must be a type name, a pair `[name, {options}]` or a number preset `[\"number\", \"usd\"]`, e.g. `[\"date\", {\"outputFormat\": \"YYYY-MM-DD\"}]`"));
                return None;
            }
        },
    };
    if FIELD_TYPES.contains(&name) {
        Some(name)
    } else {
        out.push(Violation::new(
            field,
            format!(
                "`{name}` is not a Dromo field type: use one of {}",
                FIELD_TYPES.join(", ")
            ),
        ));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn violations(result: Result<Prepared, Error>) -> Vec<Violation> {
        match result {
            Err(Error::InvalidRequest { violations }) => violations.0,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    fn fields_of(names: &[&str]) -> types::SchemaFields {
        types::SchemaFields(
            names
                .iter()
                .map(|n| Field::new(*n, n.to_uppercase(), FieldType::String).into())
                .collect(),
        )
    }

    #[test]
    fn typed_body_is_the_documented_json() {
        let request = ImportRequest::new(Schema::saved("s-1"), Source::file("a.csv"))
            .user(User::new("u").name("Ada"));
        let prepared = request.prepare().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&prepared.body).unwrap();
        assert_eq!(
            value,
            json!({"schema_id": "s-1", "original_filename": "a.csv", "import_metadata": {"user": {"id": "u", "name": "Ada"}}})
        );
        assert_eq!(prepared.schema_id.as_deref(), Some("s-1"));

        let rows = Source::rows([json!({"email": "a@b"})]).unwrap();
        let request = ImportRequest::new(
            Schema::inline([Field::new("email", "Email", FieldType::Email)]),
            rows,
        );
        let body = request.prepare().unwrap().body;
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"fields":[{"key":"email","label":"Email","type":"email"}],"initial_data":[{"email":"a@b"}]}"#
        );
    }

    #[test]
    fn raw_body_reports_every_violation_at_once() {
        let body = types::CreateHeadlessImportBody {
            schema_id: Some(" ".into()),
            fields: Some(types::SchemaFields(vec![
                Field::new("a", "A", FieldType::String).into(),
                Field::new("a", "", FieldType::Select).into(),
                types::SchemaFieldsItem {
                    type_: types::SchemaFieldsItemType::String("text".into()),
                    ..Field::new("", "C", FieldType::String).into()
                },
                Field::new("d", "D", FieldType::String)
                    .validator(json!({"validate": "nope"}))
                    .into(),
            ])),
            original_filename: Some("data.json".into()),
            initial_data: Some(vec![
                json!({"a": "1"}),
                json!(["1", 2, "3", "4", "5"]),
                json!(7),
            ]),
            import_metadata: Some(types::ImportMetaData(Some(types::ImportMetaDataInner {
                user: Some(User::new("").into()),
            }))),
            ..Default::default()
        };
        let found = violations(prepare_raw(&body));
        let text = Violations(found.clone()).to_string();
        for needle in [
            "`schema_id` and `fields` are both set",
            "`schema_id` is empty",
            "`fields[1].key` `a` is also the key of fields[0]",
            "`fields[1].label` is empty",
            "`fields[1].selectOptions` is missing",
            "`fields[2].key` is empty",
            "`fields[2].type` `text` is not a Dromo field type",
            "`fields[3].validators[0].validate` `nope` is not a Dromo validator",
            "`original_filename` and `initial_data` are both set",
            "`data.json` is a JSON file",
            "mixes object rows (first: row 0) and array rows (first: row 1)",
            "row 2 is a number",
            "row 1 value 1 is a number",
            "`initial_data[1]` has 5 values but the inline schema has 4 fields",
            "`import_metadata.user.id` is empty",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in {text}");
        }
        assert_eq!(found.len(), 15, "{text}");
    }

    #[test]
    fn neither_choice_is_reported() {
        let found = violations(prepare_raw(&types::CreateHeadlessImportBody::default()));
        let text = Violations(found).to_string();
        assert!(
            text.contains("`schema_id` and `fields` are both missing"),
            "{text}"
        );
        assert!(
            text.contains("`original_filename` and `initial_data` are both missing"),
            "{text}"
        );
        let found = violations(prepare_raw(&types::CreateHeadlessImportBody {
            fields: Some(fields_of(&[])),
            original_filename: Some("x.XLSX".into()),
            ..Default::default()
        }));
        assert_eq!(Violations(found).to_string(), "1 problem: `fields` is empty: give at least one field, or use a saved schema (`schema_id`)");
    }

    #[test]
    fn the_size_limit_is_measured_on_the_serialized_bytes() {
        // One array row with one string: `[["…"]]` is the string's escaped length + 6 bytes.
        let at_limit = "x".repeat(MAX_INITIAL_DATA_BYTES - 6);
        let rows = Rows::new([[at_limit.as_str()]]).unwrap();
        assert_eq!(rows.serialized_len(), MAX_INITIAL_DATA_BYTES);
        let request = ImportRequest::new(
            Schema::inline([Field::new("a", "A", FieldType::String)]),
            Source::Rows(rows),
        );
        let body = request.prepare().unwrap().body;
        assert!(body
            .windows(MAX_INITIAL_DATA_BYTES)
            .any(|w| w.starts_with(b"[[\"x") && w.ends_with(b"x\"]]")));

        let over = Rows::new([[format!("{at_limit}x")]]).unwrap();
        let request = ImportRequest::new(
            Schema::inline([Field::new("a", "A", FieldType::String)]),
            Source::Rows(over),
        );
        let text = Violations(violations(request.prepare())).to_string();
        assert!(
            text.contains(&format!(
                "is {} bytes serialized",
                MAX_INITIAL_DATA_BYTES + 1
            )),
            "{text}"
        );

        // Quotes double when escaped: 8 MiB of them serialize to over 15 MiB.
        let quotes = "\"".repeat(8 * 1024 * 1024);
        let body = types::CreateHeadlessImportBody {
            fields: Some(fields_of(&["a"])),
            initial_data: Some(vec![json!({ "a": quotes })]),
            ..Default::default()
        };
        let text = Violations(violations(prepare_raw(&body))).to_string();
        assert!(
            text.contains("over Dromo's limit of 15728640 bytes"),
            "{text}"
        );
    }

    #[test]
    fn rows_accept_any_serialize() {
        #[derive(Serialize)]
        struct Row<'a> {
            email: &'a str,
            age: u32,
        }
        let rows = Rows::new(&[Row {
            email: "a@b",
            age: 3,
        }])
        .unwrap();
        assert_eq!(rows.as_json(), br#"[{"email":"a@b","age":3}]"#);
        let map = std::collections::BTreeMap::from([(1, "x")]);
        assert_eq!(Rows::new([map]).unwrap().as_json(), br#"[{"1":"x"}]"#);
        let err = Rows::new([std::collections::BTreeMap::from([((1, 2), "x")])]).unwrap_err();
        assert!(
            err.to_string()
                .contains("`initial_data[0]` cannot be serialized to JSON"),
            "{err}"
        );
        assert!(Rows::new(Vec::<[&str; 1]>::new()).unwrap().is_empty());
    }

    #[test]
    fn supported_files_pass_and_builders_report_errors() {
        for name in ["a.csv", "b.TSV", "c.xls", "d.Xlsx"] {
            ImportRequest::new(Schema::saved("s"), Source::file(name))
                .validate()
                .unwrap();
        }
        struct Broken;
        impl TryFrom<Broken> for types::SchemaHooks {
            type Error = &'static str;
            fn try_from(_: Broken) -> Result<Self, Self::Error> {
                Err("no callback")
            }
        }
        let err = ImportRequest::new(Schema::saved("s"), Source::file("a.csv"))
            .hooks(Broken)
            .validate()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("`hooks` could not be built: no callback"),
            "{err}"
        );
    }
}
