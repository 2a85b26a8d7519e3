//! Reading result rows into a [`RowSchema`](super::RowSchema) type without serde glue: each
//! value is first brought to the form the Rust type reads, by its field's Dromo type, so the
//! documented alternatives decode (a number an `outputFormat` made a string such as `"$1,234.50"`
//! or `"12.5%"`, a checkbox spelled `"true"`/`"no"`, a datetime without seconds, a select's label
//! instead of its value, a multi-select as delimited text, an empty cell of a typed field as
//! `null`). A value that still does not fit is an [`Error::RowMismatch`] naming the row, the key,
//! what serde expected and the field's Dromo type.

use super::checks::{definitions, type_parts};
use super::spellings::{
    checkbox, number_value, parse_date, parse_datetime, parse_number, parse_time, SelectNames,
};
use crate::error::Error;
use crate::request::Field;
use crate::results::row_mismatch;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// What a field's values become before decoding.
enum Shape {
    /// String-like types: a number or boolean becomes its text.
    Text,
    Number,
    Checkbox,
    Date,
    DateTime,
    Time,
    /// Label or alternate match → option value.
    Select {
        values: SelectNames,
    },
    MultiSelect {
        values: SelectNames,
        delimiter: String,
    },
}

fn shape(field: &Map<String, Value>) -> Shape {
    let (name, options) = type_parts(field);
    match name {
        "number" => Shape::Number,
        "checkbox" => Shape::Checkbox,
        "date" => Shape::Date,
        "datetime" => Shape::DateTime,
        "time" => Shape::Time,
        "select" => Shape::Select {
            values: SelectNames::of(field),
        },
        "multi-select" => Shape::MultiSelect {
            values: SelectNames::of(field),
            delimiter: options
                .and_then(|o| o.get("delimiter"))
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .unwrap_or(",")
                .to_owned(),
        },
        _ => Shape::Text,
    }
}

fn type_name(field: &Map<String, Value>) -> String {
    type_parts(field).0.to_owned()
}

impl Shape {
    /// `value` in the form the Rust type of this shape reads; unchanged when it cannot be
    /// (serde then says what was expected).
    fn normalize(&self, value: Value) -> Value {
        let blank = |text: &str| text.trim().is_empty();
        match (self, value) {
            (Shape::Text, Value::Number(n)) => Value::String(n.to_string()),
            (Shape::Text, Value::Bool(b)) => Value::String(b.to_string()),
            (Shape::Checkbox, Value::String(s)) => Value::Bool(checkbox(&s)),
            (Shape::Checkbox, Value::Number(n)) => Value::Bool(n.as_f64() != Some(0.0)),
            (Shape::Text | Shape::Checkbox, value) => value,
            (_, Value::String(s)) if blank(&s) => Value::Null,
            (Shape::Number, Value::String(s)) => parse_number(&s)
                .and_then(number_value)
                .unwrap_or(Value::String(s)),
            (Shape::Number, Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && !n.is_i64() && !n.is_u64())
                .and_then(number_value)
                .unwrap_or(Value::Number(n)),
            (Shape::Date, Value::String(s)) => parse_date(&s)
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .unwrap_or(Value::String(s)),
            (Shape::DateTime, Value::String(s)) => parse_datetime(&s)
                .map(|d| Value::String(d.format("%Y-%m-%dT%H:%M:%S%.f").to_string()))
                .unwrap_or(Value::String(s)),
            (Shape::Time, Value::String(s)) => parse_time(&s)
                .map(|t| Value::String(t.format("%H:%M:%S%.f").to_string()))
                .unwrap_or(Value::String(s)),
            (Shape::Select { values }, Value::String(s)) => values.value_or_text(&s),
            (Shape::MultiSelect { values, delimiter }, Value::String(s)) => Value::Array(
                s.split(delimiter.as_str())
                    .filter(|part| !blank(part))
                    .map(|part| values.value_or_text(part))
                    .collect(),
            ),
            (Shape::MultiSelect { values, .. }, Value::Array(items)) => Value::Array(
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(s) => values.value_or_text(&s),
                        other => other,
                    })
                    .collect(),
            ),
            (_, value) => value,
        }
    }
}

/// Decodes result rows into `T` by the fields of its schema.
pub(crate) struct RowDecoder {
    /// (key, shape, Dromo type name)
    fields: Vec<(String, Shape, String)>,
}

impl RowDecoder {
    /// The decoder for rows of the schema `fields`.
    pub(crate) fn new(fields: &[Field]) -> RowDecoder {
        let fields = definitions(fields)
            .iter()
            .filter_map(|field| {
                let key = field.get("key")?.as_str()?.to_owned();
                Some((key, shape(field), type_name(field)))
            })
            .collect();
        RowDecoder { fields }
    }

    /// Row `index` of the results, decoded into `T`.
    pub(crate) fn decode<T: DeserializeOwned>(&self, index: usize, row: Value) -> Result<T, Error> {
        let row = match row {
            Value::Object(mut map) => {
                for (key, shape, _) in &self.fields {
                    if let Some(value) = map.get_mut(key) {
                        *value = shape.normalize(value.take());
                    }
                }
                Value::Object(map)
            }
            other => other,
        };
        serde_path_to_error::deserialize(row).map_err(|e| {
            let key = e.path().iter().next().map(ToString::to_string);
            let dromo_type = self
                .fields
                .iter()
                .find(|(k, _, _)| Some(k) == key.as_ref())
                .map(|(_, _, name)| format!(" (a Dromo `{name}` field)"))
                .unwrap_or_default();
            row_mismatch(index, e.path(), format!("{}{dromo_type}", e.inner()))
        })
    }

    /// Every row, decoded into `T`; the first that does not fit is the error.
    pub(crate) fn decode_all<T: DeserializeOwned>(
        &self,
        rows: Vec<Value>,
    ) -> Result<Vec<T>, Error> {
        rows.into_iter()
            .enumerate()
            .map(|(index, row)| self.decode(index, row))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::FieldType;
    use serde_json::json;

    fn decoder() -> RowDecoder {
        RowDecoder::new(&[
            Field::new("n", "N", FieldType::Number)
                .type_options(json!({"outputFormat": {"output": "currency"}})),
            Field::new("c", "C", FieldType::Checkbox),
            Field::new("dt", "Dt", FieldType::Datetime),
            Field::new("t", "T", FieldType::Time),
            Field::new("s", "S", FieldType::String),
        ])
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Row {
        n: Option<i64>,
        c: bool,
        dt: chrono::NaiveDateTime,
        t: chrono::NaiveTime,
        s: String,
    }

    #[test]
    fn documented_alternatives_decode() {
        let row: Row = decoder()
            .decode(
                0,
                json!({"n": "$1,234", "c": "No", "dt": "2022-03-27T15:20", "t": "3:20 PM", "s": 7}),
            )
            .unwrap();
        assert_eq!(row.n, Some(1234));
        assert!(!row.c);
        assert_eq!(row.dt.to_string(), "2022-03-27 15:20:00");
        assert_eq!(row.t.to_string(), "15:20:00");
        assert_eq!(row.s, "7");
        let row: Row = decoder()
            .decode(
                0,
                json!({"n": "", "c": true, "dt": "2022-03-27T15:20:00", "t": "15:20", "s": ""}),
            )
            .unwrap();
        assert_eq!(row.n, None);
    }

    #[test]
    fn wrong_values_name_the_row_the_key_and_the_type() {
        let error = decoder()
            .decode::<Row>(
                3,
                json!({"n": "twelve", "c": true, "dt": "2022-03-27T15:20", "t": "15:20", "s": ""}),
            )
            .unwrap_err();
        let Error::RowMismatch {
            index,
            path,
            message,
            ..
        } = error
        else {
            panic!("{error:?}")
        };
        assert_eq!(index, 3);
        assert_eq!(path, "[3].n");
        assert!(message.contains("twelve"), "{message}");
        assert!(message.contains("Dromo `number` field"), "{message}");
    }
}
