//! A whole number read from a response, tolerant of how JSON writes it.

use std::fmt;
use std::str::FromStr;

/// A whole number a response carries (a page `count`, a `port`, `maxRecords`, schedule
/// `minutes`…): a signed 64-bit integer.
///
/// JSON Schema counts `1000.0` as an integer, so it is read as 1000; a negative value (a count
/// the server got wrong, `-1`) is kept rather than failing the whole response. A fraction
/// (`1.5`) is refused: it is not a whole number.
///
/// ```
/// use dromo_client::WholeNumber;
///
/// let n: WholeNumber = serde_json::from_str("1000.0").unwrap();
/// assert_eq!(n.get(), 1000);
/// assert_eq!(serde_json::to_string(&n).unwrap(), "1000");
/// assert_eq!(serde_json::from_str::<WholeNumber>("-1").unwrap(), WholeNumber::from(-1));
/// assert!(serde_json::from_str::<WholeNumber>("1.5").is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WholeNumber(pub i64);

impl WholeNumber {
    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }

    /// The number if it is not negative (a count or size), else `None`.
    pub fn to_u64(self) -> Option<u64> {
        u64::try_from(self.0).ok()
    }
}

impl From<i64> for WholeNumber {
    fn from(value: i64) -> Self {
        Self(value)
    }
}

impl From<WholeNumber> for i64 {
    fn from(value: WholeNumber) -> Self {
        value.0
    }
}

impl fmt::Display for WholeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for WholeNumber {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

impl serde::Serialize for WholeNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for WholeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WholeNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number (an integer, or a number such as 1000.0)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<WholeNumber, E> {
                Ok(WholeNumber(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<WholeNumber, E> {
                i64::try_from(v).map(WholeNumber).map_err(|_| {
                    E::invalid_value(serde::de::Unexpected::Unsigned(v), &"at most 2^63 - 1")
                })
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<WholeNumber, E> {
                // `i64::MIN` is -2^63 exactly; 2^63 itself is one past `i64::MAX`.
                const LIMIT: f64 = 9_223_372_036_854_775_808.0;
                if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
                    // In range and integral, so the cast is exact.
                    Ok(WholeNumber(v as i64))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The schema progenitor's generated `dromo api` commands need (feature `cli`): an integer, as
/// the spec documents it (a whole-valued float such as `1000.0` is also read, see
/// [`WholeNumber`]).
#[cfg(feature = "cli")]
impl schemars::JsonSchema for WholeNumber {
    fn schema_name() -> String {
        "WholeNumber".to_owned()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <i64 as schemars::JsonSchema>::json_schema(generator)
    }
}
