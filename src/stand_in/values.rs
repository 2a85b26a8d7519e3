//! Typing a cell as Dromo types its result values (`dromo-api.md`, "Result values"): numbers
//! become JSON numbers (or, with an `outputFormat`, the formatted string), checkboxes booleans,
//! dates, datetimes and times ISO-8601 strings (seconds only with `withSeconds`), selects the
//! matched option's value, multi-selects arrays of them; the string-like types keep the value as
//! entered. The accepted spellings of numbers, checkboxes and dates are those of
//! `crate::typed::spellings`. An empty cell of a typed field is `null` (a checkbox's is `false`,
//! as Dromo documents); a string-like field keeps it as entered (`""`). A cell that cannot be
//! typed (`"abc"` in a number field) keeps its text and is a problem a reviewer must fix.

use serde_json::{Map, Value};

use super::number_format::NumberFormat;
use crate::typed::checks::type_parts;
use crate::typed::spellings::{
    checkbox, number_value, parse_date, parse_datetime, parse_number, parse_time, SelectNames,
};

/// How a field's cells are typed.
#[derive(Debug)]
pub(crate) enum Kind {
    Text,
    Number {
        round: Option<i32>,
        output: Option<NumberFormat>,
    },
    Checkbox,
    Date,
    DateTime {
        seconds: bool,
    },
    Time {
        seconds: bool,
    },
    Select(SelectNames),
    MultiSelect {
        options: SelectNames,
        delimiter: String,
    },
}

/// A cell that cannot be typed: the value kept (its text) and why.
pub(crate) type Untyped = (Value, String);

fn cell_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Kind {
    /// The kind of a field definition (a JSON object of `fields`).
    pub(crate) fn of(field: &Map<String, Value>) -> Kind {
        let (name, options) = type_parts(field);
        let option = |key: &str| options.and_then(|o| o.get(key));
        let seconds = option("withSeconds")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match name {
            "number" => Kind::Number {
                round: option("round")
                    .and_then(Value::as_i64)
                    .and_then(|r| i32::try_from(r.clamp(-15, 15)).ok()),
                output: option("outputFormat").and_then(NumberFormat::from_value),
            },
            "checkbox" => Kind::Checkbox,
            "date" => Kind::Date,
            "datetime" => Kind::DateTime { seconds },
            "time" => Kind::Time { seconds },
            "select" => Kind::Select(SelectNames::of(field)),
            "multi-select" => Kind::MultiSelect {
                options: SelectNames::of(field),
                delimiter: option("delimiter")
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty())
                    .unwrap_or(",")
                    .to_owned(),
            },
            _ => Kind::Text,
        }
    }

    /// The typed value of a cell (before any `outputFormat`), or why it cannot be typed.
    pub(crate) fn typed(&self, cell: Value) -> Result<Value, Untyped> {
        let blank = matches!(&cell, Value::String(s) if s.trim().is_empty());
        match self {
            Kind::Text => Ok(cell),
            Kind::Checkbox => Ok(Value::Bool(match &cell {
                Value::Bool(b) => *b,
                Value::Null => false,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => checkbox(s),
                _ => return Err((cell, "a checkbox takes one value".to_owned())),
            })),
            _ if cell.is_null() || blank => Ok(Value::Null),
            Kind::Number { round, .. } => {
                let number = match &cell {
                    Value::Number(_) if round.is_none() => return Ok(cell.clone()),
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => parse_number(s),
                    _ => None,
                };
                let number = number.map(|n| match round {
                    Some(digits) => {
                        let scale = 10f64.powi(*digits);
                        (n * scale).round() / scale
                    }
                    None => n,
                });
                match number.and_then(number_value) {
                    Some(value) => Ok(value),
                    None => Err(untyped(cell, "is not a number")),
                }
            }
            Kind::Date => typed_text(cell, "is not a date", |s| {
                parse_date(s).map(|d| d.format("%Y-%m-%d").to_string())
            }),
            Kind::DateTime { seconds } => typed_text(cell, "is not a date and time", |s| {
                let format = if *seconds {
                    "%Y-%m-%dT%H:%M:%S"
                } else {
                    "%Y-%m-%dT%H:%M"
                };
                parse_datetime(s).map(|d| d.format(format).to_string())
            }),
            Kind::Time { seconds } => typed_text(cell, "is not a time", |s| {
                let format = if *seconds { "%H:%M:%S" } else { "%H:%M" };
                parse_time(s).map(|t| t.format(format).to_string())
            }),
            Kind::Select(options) => match cell_text(&cell) {
                Some(text) => Ok(options.value_or_text(&text)),
                None => Err(untyped(cell, "is not one value")),
            },
            Kind::MultiSelect { options, delimiter } => {
                let parts: Vec<String> = match &cell {
                    Value::Array(items) => items.iter().filter_map(cell_text).collect(),
                    other => cell_text(other)
                        .map(|text| text.split(delimiter.as_str()).map(str::to_owned).collect())
                        .unwrap_or_default(),
                };
                Ok(Value::Array(
                    parts
                        .iter()
                        .filter(|part| !part.trim().is_empty())
                        .map(|part| options.value_or_text(part))
                        .collect(),
                ))
            }
        }
    }

    /// The value as the results hold it: a number with an `outputFormat` becomes its string.
    pub(crate) fn output(&self, value: Value) -> Value {
        match (self, &value) {
            (
                Kind::Number {
                    output: Some(format),
                    ..
                },
                Value::Number(n),
            ) => match n.as_f64() {
                Some(number) => Value::String(format.format(number)),
                None => value,
            },
            _ => value,
        }
    }
}

fn untyped(cell: Value, problem: &str) -> Untyped {
    let shown = cell_text(&cell).unwrap_or_else(|| cell.to_string());
    (cell, format!("`{shown}` {problem}"))
}

fn typed_text(
    cell: Value,
    problem: &str,
    parse: impl Fn(&str) -> Option<String>,
) -> Result<Value, Untyped> {
    match cell.as_str().and_then(&parse) {
        Some(text) => Ok(Value::String(text)),
        None => Err(untyped(cell, problem)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(field: Value) -> Kind {
        Kind::of(field.as_object().expect("an object"))
    }

    #[test]
    fn numbers() {
        let plain = kind(json!({"key": "n", "type": "number"}));
        assert_eq!(plain.typed(json!("1,234.5")), Ok(json!(1234.5)));
        assert_eq!(plain.typed(json!("36")), Ok(json!(36)));
        assert_eq!(plain.typed(json!(9.5)), Ok(json!(9.5)));
        assert_eq!(plain.typed(json!("")), Ok(Value::Null));
        let (kept, problem) = plain.typed(json!("abc")).unwrap_err();
        assert_eq!(
            (kept, problem.as_str()),
            (json!("abc"), "`abc` is not a number")
        );
        let rounded = kind(json!({"key": "n", "type": ["number", {"round": 1}]}));
        assert_eq!(rounded.typed(json!(2.46)), Ok(json!(2.5)));
        let usd = kind(json!({"key": "n", "type": ["number", {"outputFormat": "$0,0.00"}]}));
        let typed = usd.typed(json!("1234.5")).unwrap();
        assert_eq!(usd.output(typed), json!("$1,234.50"));
        assert_eq!(usd.output(Value::Null), Value::Null);
    }

    #[test]
    fn checkboxes_dates_and_selects() {
        let check = kind(json!({"key": "c", "type": "checkbox"}));
        assert_eq!(check.typed(json!("No")), Ok(json!(false)));
        assert_eq!(check.typed(json!("")), Ok(json!(false)));
        assert_eq!(check.typed(json!("x")), Ok(json!(true)));
        let date = kind(json!({"key": "d", "type": "date"}));
        assert_eq!(date.typed(json!("3/27/2022")), Ok(json!("2022-03-27")));
        assert!(date.typed(json!("someday")).is_err());
        let datetime = kind(json!({"key": "d", "type": "datetime"}));
        assert_eq!(
            datetime.typed(json!("2022-03-27 15:20:05")),
            Ok(json!("2022-03-27T15:20"))
        );
        let seconds = kind(json!({"key": "d", "type": ["datetime", {"withSeconds": true}]}));
        assert_eq!(
            seconds.typed(json!("2022-03-27T15:20:05")),
            Ok(json!("2022-03-27T15:20:05"))
        );
        let time = kind(json!({"key": "t", "type": "time"}));
        assert_eq!(time.typed(json!("3:20 PM")), Ok(json!("15:20")));
        let options = json!([{"label": "Pro (monthly)", "value": "pro", "alternateMatches": ["professional"]},
                             {"label": "Free", "value": "free"}]);
        let select = kind(json!({"key": "s", "type": "select", "selectOptions": options}));
        assert_eq!(select.typed(json!("pro (MONTHLY)")), Ok(json!("pro")));
        assert_eq!(select.typed(json!("Professional")), Ok(json!("pro")));
        assert_eq!(select.typed(json!("gold")), Ok(json!("gold")));
        let multi = kind(
            json!({"key": "m", "type": ["multi-select", {"delimiter": ";"}],
                                "selectOptions": options}),
        );
        assert_eq!(
            multi.typed(json!("Free; professional")),
            Ok(json!(["free", "pro"]))
        );
        assert_eq!(multi.typed(json!(["free"])), Ok(json!(["free"])));
        assert_eq!(multi.typed(json!("")), Ok(Value::Null));
    }
}
