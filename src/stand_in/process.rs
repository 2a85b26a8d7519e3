//! Turning an upload (CSV/TSV) or `initial_data` into the result file: a JSON array of row
//! objects keyed by field key, each cell typed and checked by `validate.rs`. Blocking code, run
//! with `spawn_blocking`; it reads and writes one row at a time, so memory stays flat whatever
//! the size of the file (but for the values a `unique` validator remembers).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::sync::Arc;

use serde_json::{Map, Value};
use tempfile::{NamedTempFile, TempPath};

use super::fields::Field;
use super::state::Results;
use super::validate::Validation;

/// What to process.
pub(crate) enum Input {
    File {
        path: Arc<TempPath>,
        filename: String,
    },
    Rows(Arc<Vec<Value>>),
}

pub(crate) struct Job {
    pub(crate) input: Input,
    pub(crate) fields: Arc<Vec<Field>>,
}

/// Processes `job`; the error is the message for the import's `import_errors`.
pub(crate) fn run(job: Job) -> Result<Results, String> {
    let keys = job.fields.iter().map(|f| f.key.clone()).collect();
    let mut out = Output::new(Validation::new(&job.fields), keys)
        .map_err(|e| format!("Could not store the results: {e}"))?;
    match &job.input {
        Input::File { path, filename } => read_file(path, filename, &job.fields, &mut out)?,
        Input::Rows(rows) => {
            for row in rows.iter() {
                let row = data_row(row, &job.fields);
                out.row(row)
                    .map_err(|e| format!("Could not store the results: {e}"))?;
            }
        }
    }
    out.finish()
        .map_err(|e| format!("Could not store the results: {e}"))
}

/// The result file, written incrementally: `[`, rows separated by `,`, `]`; each row typed and
/// checked on its way.
struct Output {
    writer: BufWriter<File>,
    path: TempPath,
    rows: u64,
    validation: Validation,
    /// The schema's keys: each row's keys are written in this order, as Dromo's results have
    /// them (whatever map `serde_json` is built with).
    keys: Vec<String>,
}

/// A row written with its keys in the schema's order (then any others).
struct InOrder<'a> {
    keys: &'a [String],
    row: &'a Map<String, Value>,
}

impl serde::Serialize for InOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.row.len()))?;
        let mut written = 0;
        for key in self.keys {
            if let Some(value) = self.row.get(key) {
                map.serialize_entry(key, value)?;
                written += 1;
            }
        }
        if written < self.row.len() {
            for (key, value) in self.row {
                if !self.keys.contains(key) {
                    map.serialize_entry(key, value)?;
                }
            }
        }
        map.end()
    }
}

impl Output {
    fn new(validation: Validation, keys: Vec<String>) -> std::io::Result<Output> {
        let (file, path) = NamedTempFile::new()?.into_parts();
        let mut writer = BufWriter::new(file);
        writer.write_all(b"[")?;
        Ok(Output {
            writer,
            path,
            rows: 0,
            validation,
            keys,
        })
    }

    fn row(&mut self, row: Map<String, Value>) -> std::io::Result<()> {
        let row = self.validation.row(row);
        if self.rows > 0 {
            self.writer.write_all(b",")?;
        }
        let row = InOrder {
            keys: &self.keys,
            row: &row,
        };
        serde_json::to_writer(&mut self.writer, &row)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<Results> {
        self.writer.write_all(b"]")?;
        self.writer.flush()?;
        self.writer.into_inner().map_err(|e| e.into_error())?;
        Ok(Results {
            file: Arc::new(self.path),
            num_rows: self.rows,
            verdict: self.validation.finish(),
        })
    }
}

/// An `initial_data` row (validated at create: an object, or an array of scalars) as an object
/// with every field key.
fn data_row(row: &Value, fields: &[Field]) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, field) in fields.iter().enumerate() {
        let value = match row {
            Value::Object(given) => given.get(&field.key).cloned(),
            Value::Array(cells) => cells.get(i).map(|cell| Value::String(cell_text(cell))),
            _ => None,
        };
        out.insert(
            field.key.clone(),
            value.unwrap_or_else(|| Value::String(String::new())),
        );
    }
    out
}

/// A scalar cell of an array row as text, as Dromo takes them.
fn cell_text(cell: &Value) -> String {
    match cell {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The UTF-16 encoding a byte-order mark announces, if any.
fn utf16_bom(magic: &[u8]) -> Option<&'static str> {
    if magic.starts_with(b"\xFF\xFE") {
        Some("UTF-16 (little-endian)")
    } else if magic.starts_with(b"\xFE\xFF") {
        Some("UTF-16 (big-endian)")
    } else {
        None
    }
}

/// What the file's name and first bytes say it is.
enum Kind {
    Delimited(u8),
    Spreadsheet,
}

fn kind(filename: &str, magic: &[u8]) -> Kind {
    let lower = filename.to_lowercase();
    let extension = lower.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("");
    // XLSX (and other OOXML) files are ZIP archives; XLS files are OLE2 compound documents.
    let spreadsheet_magic =
        magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    if spreadsheet_magic || matches!(extension, "xls" | "xlsx" | "xlsm" | "xlsb" | "ods") {
        Kind::Spreadsheet
    } else if matches!(extension, "tsv" | "tab") {
        Kind::Delimited(b'\t')
    } else {
        Kind::Delimited(b',')
    }
}

fn read_file(
    path: &TempPath,
    filename: &str,
    fields: &[Field],
    out: &mut Output,
) -> Result<(), String> {
    let open = || File::open(path).map_err(|e| format!("Could not read the uploaded file: {e}"));
    let mut magic = Vec::with_capacity(8);
    open()?
        .take(8)
        .read_to_end(&mut magic)
        .map_err(|e| format!("Could not read the uploaded file: {e}"))?;
    let delimiter = match kind(filename, &magic) {
        Kind::Spreadsheet => {
            return Err(format!(
                "Cannot read \"{filename}\": it is a spreadsheet (XLS/XLSX), and the stand-in \
                 parses only CSV/TSV"
            ))
        }
        Kind::Delimited(delimiter) => delimiter,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(open()?));
    let parse_error = |e: csv::Error| format!("Could not parse \"{filename}\": {e}");

    if let Some(encoding) = utf16_bom(&magic) {
        // Read as UTF-8, a UTF-16 file is noise: every cell would be garbled.
        out.validation.file_problem(format!(
            "\"{filename}\" is {encoding} text: save it as UTF-8 (CSV UTF-8), its cells cannot be read"
        ));
    }
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record).map_err(parse_error)? {
        return Err(format!("\"{filename}\" is empty: it has no header row"));
    }
    let mut headers = Vec::with_capacity(record.len());
    // For each column, the index of the field it maps to; each field takes the first column that
    // matches it.
    let mut columns: Vec<Option<usize>> = Vec::with_capacity(record.len());
    for (i, header) in record.iter().enumerate() {
        let header = String::from_utf8_lossy(header);
        let header = if i == 0 {
            header.trim_start_matches('\u{feff}')
        } else {
            &header
        };
        let header = header.trim().to_lowercase();
        headers.push(header.clone());
        let field = fields.iter().position(|f| f.names.contains(&header));
        let field = field.filter(|f| !columns.contains(&Some(*f)));
        columns.push(field);
    }
    if columns.iter().all(Option::is_none) {
        let shown: Vec<String> = headers.iter().take(10).map(|h| format!("`{h}`")).collect();
        let wanted: Vec<String> = fields
            .iter()
            .take(10)
            .map(|f| format!("`{}`", f.key))
            .collect();
        out.validation.file_problem(format!(
            "no column of \"{filename}\" matches a field: its header is {} and the fields are {} (matched by key, label or alternate match)",
            shown.join(", "),
            wanted.join(", ")
        ));
    }

    while reader.read_byte_record(&mut record).map_err(parse_error)? {
        if record.iter().all(<[u8]>::is_empty) {
            continue;
        }
        let mut cells: Vec<Option<String>> = vec![None; fields.len()];
        for (column, cell) in record.iter().enumerate() {
            if let Some(Some(field)) = columns.get(column) {
                if let Some(slot) = cells.get_mut(*field) {
                    *slot = Some(String::from_utf8_lossy(cell).into_owned());
                }
            }
        }
        let row: Map<String, Value> = fields
            .iter()
            .zip(cells)
            .map(|(field, cell)| (field.key.clone(), Value::String(cell.unwrap_or_default())))
            .collect();
        out.row(row)
            .map_err(|e| format!("Could not store the results: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stand_in::fields::parse_fields;
    use serde_json::json;

    fn fields() -> Arc<Vec<Field>> {
        Arc::new(
            parse_fields(&json!([
                {"key": "first_name", "label": "First Name"},
                {"key": "email", "label": "Email", "alternateMatches": ["e-mail"]},
            ]))
            .unwrap_or_default(),
        )
    }

    fn upload(bytes: &[u8]) -> Arc<TempPath> {
        let mut file = NamedTempFile::new().expect("temp file");
        file.write_all(bytes).expect("write");
        Arc::new(file.into_temp_path())
    }

    fn results(results: &Results) -> Value {
        let text = std::fs::read_to_string(&*results.file).expect("read results");
        serde_json::from_str(&text).expect("results are JSON")
    }

    #[test]
    fn csv_headers_match_keys_labels_and_alternates() {
        let job = Job {
            input: Input::File {
                path: upload(
                    b"\xEF\xBB\xBFE-Mail,ignored,FIRST NAME\na@x.io,zzz,Ada\n,,\nb@x.io\n",
                ),
                filename: "people.csv".into(),
            },
            fields: fields(),
        };
        let done = run(job).expect("processed");
        assert_eq!(done.num_rows, 2);
        assert_eq!(
            results(&done),
            json!([
                {"first_name": "Ada", "email": "a@x.io"},
                {"first_name": "", "email": "b@x.io"},
            ])
        );
    }

    #[test]
    fn tsv_by_extension_and_spreadsheets_fail() {
        let job = Job {
            input: Input::File {
                path: upload(b"email\tfirst_name\na@x.io\tAda, Jr.\n"),
                filename: "people.TSV".into(),
            },
            fields: fields(),
        };
        let done = run(job).expect("processed");
        assert_eq!(
            results(&done),
            json!([{"first_name": "Ada, Jr.", "email": "a@x.io"}])
        );

        let job = Job {
            input: Input::File {
                path: upload(b"PK\x03\x04rest"),
                filename: "people.csv".into(),
            },
            fields: fields(),
        };
        let error = run(job).err().expect("a zip is no CSV");
        assert!(error.contains("parses only CSV/TSV"), "{error}");
    }

    #[test]
    fn empty_file_fails() {
        let job = Job {
            input: Input::File {
                path: upload(b""),
                filename: "empty.csv".into(),
            },
            fields: fields(),
        };
        assert!(run(job).is_err());
    }

    #[test]
    fn cells_are_typed_and_problems_counted() {
        let job = Job {
            input: Input::File {
                path: upload(b"n,c\n\"1,234.5\",yes\nabc,\n"),
                filename: "typed.csv".into(),
            },
            fields: Arc::new(
                parse_fields(&json!([
                    {"key": "n", "label": "N", "type": "number"},
                    {"key": "c", "label": "C", "type": "checkbox"},
                ]))
                .unwrap_or_default(),
            ),
        };
        let done = run(job).expect("processed");
        assert_eq!(
            results(&done),
            json!([{"n": 1234.5, "c": true}, {"n": "abc", "c": false}])
        );
        assert_eq!(done.verdict.problem_count, 1);
        assert_eq!(done.verdict.problems, ["rows[1].n: `abc` is not a number"]);
    }

    #[test]
    fn initial_data_objects_and_arrays() {
        let job = Job {
            input: Input::Rows(Arc::new(vec![
                json!({"first_name": "Ada", "extra": 1}),
                json!(["Bob", 7]),
            ])),
            fields: fields(),
        };
        let done = run(job).expect("processed");
        assert_eq!(
            results(&done),
            json!([
                {"first_name": "Ada", "email": ""},
                {"first_name": "Bob", "email": "7"},
            ])
        );
    }
}
