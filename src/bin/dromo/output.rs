//! Writing cleaned rows: JSON Lines, CSV or one JSON array, to a file or stdout.

use crate::exit::Failure;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// How rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object a line.
    Jsonl,
    /// A header row of field keys (in the schema's order), then one line a row.
    Csv,
    /// One JSON array of objects.
    Json,
}

impl Format {
    /// The format a file name asks for: `.csv` is CSV, `.json` a JSON array, anything else
    /// (`.jsonl`, `-`) JSON Lines.
    pub fn for_path(path: &str) -> Self {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Self::Csv
        } else if lower.ends_with(".json") {
            Self::Json
        } else {
            Self::Jsonl
        }
    }
}

/// One row as Dromo sent it: its keys in the order they came (the schema's), whatever map type
/// `serde_json` is built with (its `preserve_order` feature is shared by the whole build).
#[derive(Debug, Default)]
pub struct Row(pub Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Row {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Row;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a row: an object keyed by field key")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Row(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl serde::Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl Row {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Writes rows one at a time in a [`Format`].
pub struct RowWriter {
    format: Format,
    out: Box<dyn Write>,
    csv: Option<csv::Writer<Box<dyn Write>>>,
    columns: Vec<String>,
    rows: u64,
}

impl RowWriter {
    /// Writes to `path` (`-`: stdout). `columns`: the CSV columns (the schema's keys, in order);
    /// without them, the first row's keys in the order Dromo sent them.
    pub fn create(path: &str, format: Format, columns: Vec<String>) -> Result<Self, Failure> {
        let out: Box<dyn Write> = if path == "-" {
            Box::new(std::io::BufWriter::new(std::io::stdout()))
        } else {
            let file = std::fs::File::create(Path::new(path))
                .map_err(|e| Failure::bad_input(format!("cannot write {path}: {e}")))?;
            Box::new(std::io::BufWriter::new(file))
        };
        Ok(Self {
            format,
            out,
            csv: None,
            columns,
            rows: 0,
        })
    }

    /// How many rows were written.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes one row (a JSON object keyed by field key).
    pub fn write(&mut self, row: &Row) -> Result<(), Failure> {
        let io = |e: std::io::Error| Failure {
            message: format!("cannot write the rows: {e}"),
            code: crate::exit::API_ERROR,
        };
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, row).map_err(|e| io(e.into()))?;
                self.out.write_all(b"\n").map_err(io)?;
            }
            Format::Json => {
                self.out
                    .write_all(if self.rows == 0 { b"[\n" } else { b",\n" })
                    .map_err(io)?;
                serde_json::to_writer(&mut self.out, row).map_err(|e| io(e.into()))?;
            }
            Format::Csv => {
                if self.csv.is_none() {
                    if self.columns.is_empty() {
                        self.columns = row.0.iter().map(|(key, _)| key.clone()).collect();
                    }
                    let out = std::mem::replace(&mut self.out, Box::new(std::io::sink()));
                    let mut writer = csv::Writer::from_writer(out);
                    writer
                        .write_record(&self.columns)
                        .map_err(|e| io(e.into()))?;
                    self.csv = Some(writer);
                }
                let record: Vec<String> = self
                    .columns
                    .iter()
                    .map(|key| csv_cell(row.get(key)))
                    .collect();
                if let Some(writer) = self.csv.as_mut() {
                    writer.write_record(&record).map_err(|e| io(e.into()))?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Ends the output (closes the JSON array) and flushes it.
    pub fn finish(mut self) -> Result<u64, Failure> {
        let io = |e: std::io::Error| Failure {
            message: format!("cannot write the rows: {e}"),
            code: crate::exit::API_ERROR,
        };
        if self.format == Format::Json {
            self.out
                .write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })
                .map_err(io)?;
        }
        if let Some(mut writer) = self.csv.take() {
            writer.flush().map_err(io)?;
        }
        self.out.flush().map_err(io)?;
        Ok(self.rows)
    }
}

/// A CSV cell: strings as they are, `null` empty, anything else as JSON text.
fn csv_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
