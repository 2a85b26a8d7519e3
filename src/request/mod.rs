//! The create request: the public builders ([`ImportRequest`] with its [`Schema`] and [`Source`],
//! [`Field`], [`FieldType`], [`User`]) and [`CreateRequest`], any form of a create body.
//!
//! The rows sent as `initial_data` live in `rows`, the checks made before sending and the one
//! serialization of the body in `checks`, JSON bodies as the user wrote them in `raw_body`.

mod checks;
mod raw_body;
mod rows;

use checks::prepare_raw;
pub(crate) use checks::Prepared;
pub use checks::{validate, NUMBER_PRESETS, SUPPORTED_FILE_EXTENSIONS};
pub use raw_body::RawBody;
pub use rows::{Rows, MAX_INITIAL_DATA_BYTES};

use crate::error::Error;
use crate::types;
use serde::Serialize;
use std::fmt;

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

    /// An inline schema from the JSON array of its fields, as Dromo's docs write them: every
    /// key the fields do not know is refused, named with its path and the key likely meant
    /// (as [`CreateRequest::from_json`] does), where reading the JSON straight into the
    /// generated `types::SchemaFieldsItem` would drop it without a word.
    ///
    /// ```
    /// use dromo_client::Schema;
    /// use serde_json::json;
    ///
    /// let schema = Schema::inline_from_value(json!([{"key": "email", "label": "Email", "type": "email"}]))?;
    /// assert!(matches!(schema, Schema::Inline(fields) if fields.len() == 1));
    ///
    /// let typo = Schema::inline_from_value(json!([{"key": "email", "lable": "Email"}])).unwrap_err();
    /// assert!(typo.to_string().contains("`fields[0].lable` is not a key Dromo knows: did you mean `label`?"), "{typo}");
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn inline_from_value(fields: serde_json::Value) -> Result<Self, Error> {
        // Read as a create body's `fields`, through the path that reports unknown keys.
        let body = RawBody::from_value(serde_json::json!({
            "fields": fields,
            "original_filename": "schema.csv",
        }))?;
        Ok(Self::Inline(
            body.typed()
                .fields
                .clone()
                .map(|fields| fields.0)
                .unwrap_or_default(),
        ))
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
/// and user. Pass it to [`Client::create_import`](crate::Client::create_import).
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
    /// `.build_settings(|s| s.development_mode(true).title("Contacts".to_owned()))`: the easy way
    /// to set a few settings.
    ///
    /// ```
    /// let request = dromo_client::ImportRequest::new(
    ///     dromo_client::Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604"),
    ///     dromo_client::Source::file("contacts.csv"),
    /// )
    /// .build_settings(|s| s.development_mode(true).max_records(Some(1000)));
    /// request.validate()?;
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn build_settings(
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
    /// [`ImportRequest::build_settings`]).
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
