//! A number field's `outputFormat`: Dromo then writes the number to the results as a string.
//! Dromo formats numbers with numbro; the stand-in writes the part of numbro's format object a
//! result string depends on most (`output: "percent" | "currency"`, `currencySymbol`,
//! `currencyPosition`, `mantissa`, `trimMantissa`/`optionalMantissa`, `thousandSeparated`,
//! `prefix`, `postfix`, `negative: "parenthesis"`, `forceSign`, `spaceSeparated`), and of a
//! numbro format string (`"0,0.00"`, `"0.0%"`, `"$0,0.00"`, `"(0,0)"`, `"+0"`): thousands
//! separators, decimals, percent, a `$` currency, parentheses and a forced sign. Other keys are
//! ignored.

use serde_json::Value;

/// How a number is written as a string.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NumberFormat {
    percent: bool,
    /// The symbol and whether it follows the number.
    currency: Option<(String, bool)>,
    mantissa: Option<usize>,
    trim_mantissa: bool,
    thousands: bool,
    prefix: String,
    postfix: String,
    parenthesis: bool,
    force_sign: bool,
    space: bool,
}

impl NumberFormat {
    /// The format an `outputFormat` value describes (an object or a numbro format string).
    pub(crate) fn from_value(value: &Value) -> Option<NumberFormat> {
        match value {
            Value::Object(o) => {
                let text = |key: &str| o.get(key).and_then(Value::as_str);
                let flag = |key: &str| o.get(key).and_then(Value::as_bool).unwrap_or(false);
                let output = text("output");
                Some(NumberFormat {
                    percent: output == Some("percent"),
                    currency: (output == Some("currency")).then(|| {
                        (
                            text("currencySymbol").unwrap_or("$").to_owned(),
                            text("currencyPosition") == Some("postfix"),
                        )
                    }),
                    mantissa: o
                        .get("mantissa")
                        .and_then(Value::as_u64)
                        .and_then(|m| usize::try_from(m.min(20)).ok()),
                    trim_mantissa: flag("trimMantissa") || flag("optionalMantissa"),
                    thousands: flag("thousandSeparated"),
                    prefix: text("prefix").unwrap_or_default().to_owned(),
                    postfix: text("postfix").unwrap_or_default().to_owned(),
                    parenthesis: text("negative") == Some("parenthesis"),
                    force_sign: flag("forceSign"),
                    space: flag("spaceSeparated") || flag("spaceSeparatedCurrency"),
                })
            }
            Value::String(format) => {
                let decimals = format
                    .split_once('.')
                    .map(|(_, after)| after.chars().take_while(|c| *c == '0').count());
                let dollar = format.find('$');
                let first_digit = format.find('0');
                Some(NumberFormat {
                    percent: format.contains('%'),
                    currency: dollar
                        .map(|at| ("$".to_owned(), first_digit.is_some_and(|d| d < at))),
                    mantissa: decimals,
                    thousands: format.contains(','),
                    parenthesis: format.starts_with('('),
                    force_sign: format.starts_with('+'),
                    space: format.contains(' '),
                    ..NumberFormat::default()
                })
            }
            _ => None,
        }
    }

    /// `number` written in this format.
    pub(crate) fn format(&self, number: f64) -> String {
        let scaled = if self.percent { number * 100.0 } else { number };
        let negative = scaled < 0.0;
        let magnitude = scaled.abs();
        let mut digits = match self.mantissa {
            Some(mantissa) => format!("{magnitude:.mantissa$}"),
            None => format!("{magnitude}"),
        };
        if self.trim_mantissa && digits.contains('.') {
            digits = digits
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_owned();
        }
        if self.thousands {
            digits = separate_thousands(&digits);
        }
        let space = if self.space { " " } else { "" };
        let mut body = digits;
        if self.percent {
            body = format!("{body}{space}%");
        }
        if let Some((symbol, postfix)) = &self.currency {
            body = if *postfix {
                format!("{body}{space}{symbol}")
            } else {
                format!("{symbol}{space}{body}")
            };
        }
        let signed = if negative && self.parenthesis {
            format!("({body})")
        } else if negative {
            format!("-{body}")
        } else if self.force_sign && scaled != 0.0 {
            format!("+{body}")
        } else {
            body
        };
        format!("{}{signed}{}", self.prefix, self.postfix)
    }
}

/// `1234567.5` → `1,234,567.5`.
fn separate_thousands(digits: &str) -> String {
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let mut out = String::with_capacity(digits.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typed::spellings::parse_number;
    use serde_json::json;

    fn format(spec: Value, number: f64) -> String {
        NumberFormat::from_value(&spec)
            .expect("a format")
            .format(number)
    }

    #[test]
    fn objects_and_strings() {
        let usd = json!({"output": "currency", "mantissa": 2, "thousandSeparated": true});
        assert_eq!(format(usd.clone(), 1234.567), "$1,234.57");
        assert_eq!(format(usd, -3456.78), "-$3,456.78");
        let eur = json!({"output": "currency", "currencySymbol": "€", "currencyPosition": "postfix",
                         "spaceSeparated": true, "mantissa": 2, "negative": "parenthesis"});
        assert_eq!(format(eur, -3456.78), "(3456.78 €)");
        assert_eq!(
            format(json!({"output": "percent", "mantissa": 1}), 0.1256),
            "12.6%"
        );
        assert_eq!(
            format(json!({"mantissa": 3, "trimMantissa": true}), 2.5),
            "2.5"
        );
        assert_eq!(format(json!({"forceSign": true}), 7.0), "+7");
        assert_eq!(format(json!("0,0.00"), 1234567.891), "1,234,567.89");
        assert_eq!(format(json!("0.0%"), 0.5), "50.0%");
        assert_eq!(format(json!("$0,0"), 999.0), "$999");
        assert_eq!(format(json!("0.00"), 0.5), "0.50");
    }

    /// What the stand-in writes, the typed decoding reads back.
    #[test]
    fn formatted_numbers_read_back() {
        for spec in [
            json!({"output": "currency", "mantissa": 2, "thousandSeparated": true}),
            json!({"output": "currency", "currencySymbol": "€", "currencyPosition": "postfix",
                   "spaceSeparated": true, "mantissa": 2, "negative": "parenthesis"}),
            json!({"output": "percent", "mantissa": 2}),
            json!({"forceSign": true, "thousandSeparated": true}),
            json!("0,0.00"),
            json!("$0,0.00"),
        ] {
            for number in [0.0, 1.25, -1234.5, 1_000_000.75] {
                let text = format(spec.clone(), number);
                let back = parse_number(&text).expect("reads back");
                assert!(
                    (back - number).abs() < 1e-9,
                    "{spec} {number} → {text} → {back}"
                );
            }
        }
    }
}
