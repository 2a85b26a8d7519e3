//! How Dromo's values are spelled as text, read the same way by the stand-in (typing a cell) and
//! by the typed decoding (reading a result back): numbers, checkboxes, dates and times.
//!
//! Numbers: an optional sign or accounting parentheses, currency symbols (`$`, `€`, `£`, `¥`),
//! spaces and `,` thousands separators, digits with an optional `.` fraction and exponent, an
//! optional `%` (the value is then a hundredth: `"12.5%"` is `0.125`). Checkboxes: Dromo's
//! documented falsy spellings, case-insensitive (`""`, `0`, `off`, `n`, `no`, `false`,
//! `disabled`); everything else is true. Dates, datetimes and times: ISO-8601 (`T` or a space
//! between date and time, seconds and fraction optional, an offset ignored), RFC 2822, and the
//! `en-US` short forms Dromo displays by default (`3/27/2022`, `3/27/2022, 3:20 PM`, `3:20 PM`).
//! Select options: a cell names an option by its value, its label or one of its
//! `alternateMatches`, trimmed and case-insensitively ([`SelectNames`]); `check_rows` accepts
//! the same names, so local checks and the stand-in agree.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// The names of a select's options (value, label, `alternateMatches`), each mapped to the
/// option's value. A value matches itself exactly first; otherwise names are trimmed and
/// lowercased, and a value wins over another option's label or alternate.
#[derive(Debug, Default, Clone)]
pub(crate) struct SelectNames {
    values: Vec<String>,
    by_name: HashMap<String, String>,
}

impl SelectNames {
    /// The names of the options in a field definition's `selectOptions`.
    pub(crate) fn of(field: &Map<String, Value>) -> SelectNames {
        let mut names = SelectNames::default();
        let listed = field.get("selectOptions").and_then(Value::as_array);
        let options = || listed.into_iter().flatten();
        for value in options().filter_map(|o| o.get("value").and_then(Value::as_str)) {
            names.values.push(value.to_owned());
            names
                .by_name
                .entry(value.trim().to_lowercase())
                .or_insert_with(|| value.to_owned());
        }
        for option in options() {
            let Some(value) = option.get("value").and_then(Value::as_str) else {
                continue;
            };
            let alternates = option.get("alternateMatches").and_then(Value::as_array);
            let others = option
                .get("label")
                .into_iter()
                .chain(alternates.into_iter().flatten())
                .filter_map(Value::as_str);
            for name in others {
                names
                    .by_name
                    .entry(name.trim().to_lowercase())
                    .or_insert_with(|| value.to_owned());
            }
        }
        names
    }

    /// The value of the option `text` names, if any.
    pub(crate) fn value_of(&self, text: &str) -> Option<&str> {
        if let Some(value) = self.values.iter().find(|v| *v == text) {
            return Some(value);
        }
        self.by_name
            .get(&text.trim().to_lowercase())
            .map(String::as_str)
    }

    /// The value of the option `text` names, or `text` itself (trimmed) when it names none: an
    /// unmatched value is left for the select check.
    pub(crate) fn value_or_text(&self, text: &str) -> Value {
        Value::String(
            self.value_of(text)
                .unwrap_or_else(|| text.trim())
                .to_owned(),
        )
    }

    /// The options' values, in order.
    pub(crate) fn values(&self) -> &[String] {
        &self.values
    }
}

/// The number `text` spells, if any (see the module docs for the accepted spellings).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let mut text = text.trim();
    let mut negative = false;
    if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        negative = true;
        text = inner;
    }
    let mut percent = false;
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '$' | '€' | '£' | '¥' | ',' => {}
            '%' => percent = true,
            c if c.is_whitespace() => {}
            c if c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E') => cleaned.push(c),
            _ => return None,
        }
    }
    if !cleaned.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut number: f64 = cleaned.parse().ok()?;
    if !number.is_finite() {
        return None;
    }
    if percent {
        number /= 100.0;
    }
    if negative {
        number = -number;
    }
    Some(number)
}

/// `number` as JavaScript writes it in JSON: a whole number without a fraction (`3`, not
/// `3.0`), so that it reads into integer types. `None` for NaN and infinities.
pub(crate) fn number_value(number: f64) -> Option<Value> {
    // 2^53: every whole f64 below it is exact as an i64.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0 && number.abs() < EXACT {
        // Whole and below 2^53 in size: the cast is exact.
        Some(Value::from(number as i64))
    } else {
        Number::from_f64(number).map(Value::Number)
    }
}

/// Whether a checkbox cell spelled `text` is checked (Dromo's documented falsy spellings).
pub(crate) fn checkbox(text: &str) -> bool {
    const FALSY: [&str; 7] = ["", "0", "off", "n", "no", "false", "disabled"];
    let text = text.trim();
    !FALSY.iter().any(|falsy| text.eq_ignore_ascii_case(falsy))
}

const DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y, %I:%M %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y, %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y, %H:%M",
    "%m/%d/%Y %H:%M",
];

const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%m/%d/%Y"];

const TIME_FORMATS: &[&str] = &["%H:%M:%S%.f", "%H:%M", "%I:%M %p", "%I:%M:%S %p"];

/// The date and time `text` spells; a date alone is midnight.
pub(crate) fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Some(with_offset.naive_local());
    }
    if let Some(found) = DATETIME_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    {
        return Some(found);
    }
    if let Ok(rfc2822) = DateTime::parse_from_rfc2822(text) {
        return Some(rfc2822.naive_local());
    }
    DATE_FORMATS
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
        .map(|date| date.and_time(NaiveTime::MIN))
}

/// The date `text` spells; a time given with it is ignored, as Dromo does.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    DATE_FORMATS
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
        .or_else(|| parse_datetime(text).map(|datetime| datetime.date()))
}

/// The time of day `text` spells; a date given with it is ignored.
pub(crate) fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    TIME_FORMATS
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(text, format).ok())
        .or_else(|| parse_datetime(text).map(|datetime| datetime.time()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers() {
        for (text, number) in [
            ("42", 42.0),
            (" -3.5 ", -3.5),
            ("1,234,567.25", 1_234_567.25),
            ("$ 1,234.57", 1234.57),
            ("1,234.57 €", 1234.57),
            ("(3,456.78)", -3456.78),
            ("12.5%", 0.125),
            ("1e3", 1000.0),
        ] {
            assert_eq!(parse_number(text), Some(number), "{text}");
        }
        for text in ["", "abc", "12abc", "NaN", "inf", "$", "1.2.3", "--1"] {
            assert_eq!(parse_number(text), None, "{text}");
        }
        assert_eq!(number_value(3.0), Some(json!(3)));
        assert_eq!(number_value(-2.5), Some(json!(-2.5)));
        assert_eq!(number_value(f64::NAN), None);
    }

    #[test]
    fn checkboxes() {
        for falsy in ["", " ", "0", "OFF", "n", "No", "false", "Disabled"] {
            assert!(!checkbox(falsy), "{falsy}");
        }
        for truthy in ["1", "yes", "Y", "true", "x", "checked", "on"] {
            assert!(checkbox(truthy), "{truthy}");
        }
    }

    #[test]
    fn dates_and_times() {
        let date = NaiveDate::from_ymd_opt(2022, 3, 27);
        for text in [
            "2022-03-27",
            "3/27/2022",
            "2022-03-27T15:20",
            "Sun, 27 Mar 2022 15:20:00 +0000",
        ] {
            assert_eq!(parse_date(text), date, "{text}");
        }
        let at = |h, m, s| date.and_then(|d| d.and_hms_opt(h, m, s));
        for (text, expected) in [
            ("2022-03-27T15:20", at(15, 20, 0)),
            ("2022-03-27 15:20:05", at(15, 20, 5)),
            ("2022-03-27T15:20:05+02:00", at(15, 20, 5)),
            ("3/27/2022, 3:20 PM", at(15, 20, 0)),
            ("2022-03-27", at(0, 0, 0)),
        ] {
            assert_eq!(parse_datetime(text), expected, "{text}");
        }
        let time = |h, m, s| NaiveTime::from_hms_opt(h, m, s);
        for (text, expected) in [
            ("15:20", time(15, 20, 0)),
            ("15:20:05", time(15, 20, 5)),
            ("3:20 pm", time(15, 20, 0)),
            ("2022-03-27T15:20", time(15, 20, 0)),
        ] {
            assert_eq!(parse_time(text), expected, "{text}");
        }
        for bad in ["", "tomorrow", "2022-13-40", "25:99"] {
            assert_eq!(parse_date(bad), None, "{bad}");
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
