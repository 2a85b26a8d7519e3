//! Typed end to end: a Rust struct is the inline schema ([`RowSchema`], usually derived with
//! `#[derive(dromo_client::Schema)]`, feature `derive`), its rows are checked before sending
//! ([`RowSchema::check_rows`]) and the cleaned rows decode back into it
//! ([`Client::import_file_typed`](crate::Client::import_file_typed),
//! [`Client::import_rows_typed`](crate::Client::import_rows_typed)).

pub(crate) mod checks;
mod de;
mod flow;
pub(crate) mod spellings;

use crate::error::Error;
use crate::request::{Field, Schema, SelectOption};
use serde::Serialize;

/// A row type that is its own inline schema: one Dromo field per struct field.
///
/// Derive it with `#[derive(dromo_client::Schema)]` (feature `derive`). Each field's key is the
/// name serde reads back (the field name, `#[serde(rename)]`, the struct's
/// `#[serde(rename_all)]`, or `#[dromo(rename = "...")]`); its label is `#[dromo(label = "...")]`
/// or the field name in words (`first_name` → `First name`); its type comes from the Rust type:
///
/// | Rust type | Dromo field |
/// | --- | --- |
/// | `String` | `string`, or with `#[dromo(type = "email")]` any string-like type (`phone-number`, `url`, `domain`, `ssn`, `uuid`, `us-zip-code`, `us-state-territory`, `country`) |
/// | integers, floats | `number`; `#[dromo(number = "usd", min = 0, max = 100)]` sets its preset and bounds |
/// | `bool` | `checkbox` (never `required`: unchecked is `false`) |
/// | `chrono::NaiveDate`, `NaiveDateTime`, `NaiveTime` | `date`, `datetime` (with `withSeconds`, the form chrono reads), `time` |
/// | `uuid::Uuid` | `uuid` |
/// | an enum deriving [`SelectOptions`] | `select` of its variants |
/// | `Vec` of such an enum | `multi-select` |
/// | `Option<T>` | as `T`, not required (every other field but a checkbox gets `required`) |
///
/// Validators, each with an optional `error_message`: `required(error_message = "...")`,
/// `unique`, `unique_case_insensitive`, `regex = "..."` or
/// `regex(pattern = "...", flags = "i", exclude, error_message = "...")` (checked as a
/// JavaScript regex at compile time), `length(min = 1, max = 20)`,
/// `required_with("key", ...)`, `required_without(..)`, `required_with_all(..)`,
/// `required_without_all(..)` (keys of other fields, checked at compile time). Also
/// `description = "..."`, `alternate_matches("..", ..)`, `hidden`, `read_only`. An unsupported
/// type or a bad attribute is a compile error on the field, saying what to write instead.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// use dromo_client::RowSchema;
///
/// #[derive(dromo_client::SelectOptions, serde::Serialize, serde::Deserialize)]
/// #[serde(rename_all = "snake_case")]
/// enum Plan { Free, ProMonthly }
///
/// #[derive(dromo_client::Schema, serde::Serialize, serde::Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct Person {
///     #[dromo(type = "email", unique)]
///     email: String,
///     first_name: Option<String>,
///     plan: Plan,
///     #[dromo(number = "usd", min = 0)]
///     monthly_fee: f64,
/// }
///
/// let fields = Person::fields();
/// let json = serde_json::to_value(dromo_client::types::SchemaFieldsItem::from(fields[3].clone())).unwrap();
/// assert_eq!(json["key"], "monthlyFee");
/// assert_eq!(json["type"], serde_json::json!(["number", {"preset": "usd", "min": 0.0}]));
/// # }
/// ```
pub trait RowSchema: Sized {
    /// The inline schema's fields, in the struct's order.
    fn fields() -> Vec<Field>;

    /// The inline schema: `Schema::inline(Self::fields())`.
    fn schema() -> Schema {
        Schema::inline(Self::fields())
    }

    /// Runs on `rows` the validators that can be decided here (required, unique,
    /// `unique_case_insensitive`, regex with JavaScript semantics, length, `require_with` and
    /// friends, select options named by value, label or alternate match as Dromo matches them,
    /// number min/max), so a `NEEDS_REVIEW` can be predicted before an import is spent. Every violation is listed in [`Error::InvalidRequest`], at
    /// `rows[<index>].<key>`.
    fn check_rows(rows: &[Self]) -> Result<(), Error>
    where
        Self: Serialize,
    {
        checks::check_rows(&Self::fields(), rows)
    }
}

/// A fieldless enum whose variants are the options of a select field. Derive it with
/// `#[derive(dromo_client::SelectOptions)]` (feature `derive`): each option's value is the name
/// serde writes for the variant (`#[serde(rename)]`, `#[serde(rename_all)]`), its label
/// `#[dromo(label = "...")]` or the variant in words (`ProMonthly` → `Pro monthly`).
///
/// ```
/// # #[cfg(feature = "derive")] {
/// use dromo_client::SelectOptions;
///
/// #[derive(dromo_client::SelectOptions, serde::Serialize)]
/// #[serde(rename_all = "kebab-case")]
/// enum Plan { Free, #[dromo(label = "Pro (monthly)")] ProMonthly }
///
/// assert_eq!(Plan::select_options()[1], dromo_client::SelectOption::new("Pro (monthly)", "pro-monthly"));
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of select options",
    label = "a field of this type is a select of `{Self}`'s variants",
    note = "add #[derive(dromo_client::SelectOptions)] to `{Self}` (a fieldless enum), or give the field a supported type: String, an integer or float, bool, chrono::NaiveDate/NaiveDateTime/NaiveTime, uuid::Uuid"
)]
pub trait SelectOptions {
    /// The options, in the enum's order.
    fn select_options() -> Vec<SelectOption>;
}

/// What the derives' generated code uses; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use serde_json;
}
