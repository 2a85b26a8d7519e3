//! Local checks of a file before an import is created for it: what can be known here is refused
//! here, before Dromo makes an import that could only fail or wait for a person.
//!
//! - An empty file (0 bytes, or only white space) is refused.
//! - A CSV or TSV file must be UTF-8 text: a UTF-16 or UTF-32 file (with or without a
//!   byte-order mark), or one with bytes that are not UTF-8, is refused with how to convert it.
//!   Nothing is transcoded: the bytes Dromo gets are the bytes of the file.
//! - With a schema ([`check_header`]), a CSV or TSV file whose header row shares no column with
//!   it (by key, label or alternate match, ignoring case) is refused: Dromo would match no
//!   column, and every row would wait for a person.
//!
//! Only the first 64 KiB are read. Excel files (`.xls`, `.xlsx`) are checked for emptiness only.

use crate::error::Error;
use crate::types;
use std::path::Path;
use tokio::io::AsyncReadExt;

/// How many bytes of a file the checks read at most.
const SNIFF_BYTES: usize = 64 * 1024;

/// Checks the file at `path`, imported under the name `original_filename` (its extension says
/// whether it is CSV/TSV), before anything is created: it exists, is not empty, and a CSV/TSV
/// file is UTF-8 text. [`Client::import_file`](crate::Client::import_file) and the `dromo`
/// tool run it for you.
///
/// ```
/// # async fn run() {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("people.csv");
/// std::fs::write(&path, b"\xFF\xFEe\0m\0a\0i\0l\0").unwrap(); // UTF-16
/// let err = dromo_client::check_file(&path, "people.csv").await.unwrap_err();
/// assert!(err.to_string().contains("UTF-16"), "{err}");
/// std::fs::write(&path, "email\nada@example.com\n").unwrap();
/// dromo_client::check_file(&path, "people.csv").await.unwrap();
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run());
/// ```
pub async fn check_file(path: impl AsRef<Path>, original_filename: &str) -> Result<(), Error> {
    let path = path.as_ref();
    let prefix = read_prefix(path).await?;
    check_prefix(path, original_filename, &prefix.bytes, prefix.whole)
}

/// [`check_file`], and the header row of a CSV/TSV file shares at least one column with
/// `fields` (by key, label or alternate match, ignoring case and surrounding white space).
pub(crate) async fn check_header(
    path: &Path,
    original_filename: &str,
    fields: &[types::SchemaFieldsItem],
) -> Result<(), Error> {
    let prefix = read_prefix(path).await?;
    check_prefix(path, original_filename, &prefix.bytes, prefix.whole)?;
    let Some(delimiter) = delimiter(original_filename) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&prefix.bytes);
    let text = text.trim_start_matches('\u{feff}');
    let Some(line) = header_line(text, prefix.whole) else {
        return Ok(()); // A header longer than what was read: not judged.
    };
    let columns = split_header(line, delimiter);
    let names: Vec<String> = fields
        .iter()
        .flat_map(|f| {
            [f.key.as_str(), f.label.as_str()]
                .into_iter()
                .chain(f.alternate_matches.iter().map(String::as_str))
        })
        .map(normalize)
        .collect();
    if columns.iter().any(|c| names.contains(&normalize(c))) {
        return Ok(());
    }
    let shown = |items: &mut dyn Iterator<Item = String>| {
        let items: Vec<String> = items.take(8).map(|c| format!("`{c}`")).collect();
        crate::scrub::scrub(&items.join(", "), 300)
    };
    Err(unusable(
        path,
        format!(
            "its header row ({}) shares no column with the schema's fields ({}), by key, label or alternate match: Dromo would match no column and every row would wait for review; rename the columns, or give the fields `alternate_matches`",
            shown(&mut columns.iter().map(|c| c.trim().to_owned())),
            shown(&mut fields.iter().map(|f| f.key.clone())),
        ),
    ))
}

/// The first bytes of a file, and whether they are all of it.
struct Prefix {
    bytes: Vec<u8>,
    whole: bool,
}

async fn read_prefix(path: &Path) -> Result<Prefix, Error> {
    let file_error = |source| Error::File {
        path: path.display().to_string(),
        source,
    };
    let file = tokio::fs::File::open(path).await.map_err(file_error)?;
    let metadata = file.metadata().await.map_err(file_error)?;
    if !metadata.is_file() {
        return Err(file_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file",
        )));
    }
    let mut bytes = Vec::with_capacity(SNIFF_BYTES.min(metadata.len() as usize));
    file.take(SNIFF_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(file_error)?;
    let whole = bytes.len() <= SNIFF_BYTES;
    bytes.truncate(SNIFF_BYTES);
    Ok(Prefix { bytes, whole })
}

fn unusable(path: &Path, reason: String) -> Error {
    Error::UnusableFile {
        path: path.display().to_string(),
        reason,
    }
}

fn check_prefix(path: &Path, name: &str, bytes: &[u8], whole: bool) -> Result<(), Error> {
    if bytes.is_empty() {
        return Err(unusable(
            path,
            "it is empty (0 bytes): there is nothing to import".to_owned(),
        ));
    }
    if delimiter(name).is_none() {
        return Ok(()); // An Excel file: Dromo reads its bytes itself.
    }
    let convert = |from: &str| {
        format!("save it as UTF-8 (\"CSV UTF-8\" in Excel) or convert it, e.g. `iconv -f {from} -t UTF-8`; the client does not transcode files")
    };
    if let Some(encoding) = wide_encoding(bytes) {
        return Err(unusable(
            path,
            format!(
                "it is {encoding} text, and Dromo reads CSV and TSV files as UTF-8: {}",
                convert(if encoding.starts_with("UTF-32") {
                    "UTF-32"
                } else {
                    "UTF-16"
                })
            ),
        ));
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        // A character cut at the end of what was read is not an error of the file.
        if e.error_len().is_some() || whole {
            return Err(unusable(
                path,
                format!(
                    "it is not UTF-8 text (byte {} is not valid UTF-8; Latin-1 or Windows-1252, perhaps), and Dromo reads CSV and TSV files as UTF-8: {}",
                    e.valid_up_to(),
                    convert("WINDOWS-1252")
                ),
            ));
        }
    }
    let text = String::from_utf8_lossy(bytes);
    if whole && text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(unusable(
            path,
            "it holds only white space: there is no header row and nothing to import".to_owned(),
        ));
    }
    Ok(())
}

/// The CSV/TSV delimiter of a file name, or `None` for other files (Excel).
fn delimiter(name: &str) -> Option<u8> {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "tsv" | "tab" => Some(b'\t'),
        "xls" | "xlsx" | "xlsm" | "xlsb" => None,
        _ => Some(b','),
    }
}

/// A UTF-16 or UTF-32 encoding, by its byte-order mark or, without one, by the NUL bytes that
/// ASCII text has in those encodings.
fn wide_encoding(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\xFF\xFE\0\0") || bytes.starts_with(b"\0\0\xFE\xFF") {
        return Some("UTF-32");
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Some("UTF-16 (little-endian)");
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Some("UTF-16 (big-endian)");
    }
    let sample = &bytes[..bytes.len().min(1024)];
    let nuls = sample.iter().filter(|b| **b == 0).count();
    (nuls * 4 >= sample.len() && nuls > 0).then_some(
        "UTF-16 or UTF-32 (it has no byte-order mark, but NUL bytes between its letters)",
    )
}

/// The first line of `text`, if it ends within it (or `text` is the whole file).
fn header_line(text: &str, whole: bool) -> Option<&str> {
    match text.find('\n') {
        Some(end) => Some(text[..end].trim_end_matches('\r')),
        None if whole => Some(text),
        None => None,
    }
}

/// The cells of a header line, `"quoted, with commas"` and `"doubled "" quotes"` included.
fn split_header(line: &str, delimiter: u8) -> Vec<String> {
    let delimiter = char::from(delimiter);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => cells.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

fn normalize(name: &str) -> String {
    name.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, bytes: &[u8]) -> Result<(), String> {
        check_prefix(Path::new(name), name, bytes, true).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_wide_and_non_utf8_files_are_refused() {
        assert!(check("a.csv", b"").unwrap_err().contains("empty (0 bytes)"));
        assert!(check("a.xlsx", b"")
            .unwrap_err()
            .contains("empty (0 bytes)"));
        assert!(check("a.csv", b" \n\r\n")
            .unwrap_err()
            .contains("only white space"));
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("email\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert!(check("a.csv", &utf16)
            .unwrap_err()
            .contains("UTF-16 (little-endian)"));
        let bare: Vec<u8> = "email\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(check("a.tsv", &bare).unwrap_err().contains("NUL bytes"));
        let latin1 = b"name\nJos\xE9\n";
        let err = check("a.csv", latin1).unwrap_err();
        assert!(err.contains("byte 8 is not valid UTF-8"), "{err}");
        check("a.csv", "name\nJosé\n".as_bytes()).unwrap();
        check("a.xlsx", b"PK\x03\x04\0\0\0").unwrap();
        // A character cut by the 64 KiB window is not an error.
        check_prefix(
            Path::new("a.csv"),
            "a.csv",
            "é".as_bytes().split_at(1).0,
            false,
        )
        .unwrap();
    }

    #[test]
    fn header_cells_split_like_csv() {
        assert_eq!(
            split_header(r#"a,"b, c","d ""e""",,f"#, b','),
            ["a", "b, c", "d \"e\"", "", "f"]
        );
        assert_eq!(split_header("a\tb", b'\t'), ["a", "b"]);
    }
}
