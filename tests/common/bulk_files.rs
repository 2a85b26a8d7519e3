//! Small files and a schema for the bulk-import tests, and Dromo's minute scaled down for them.

use dromo_client::{Field, FieldType, Schema};
use std::path::PathBuf;
use std::time::Duration;

/// Dromo's minute, scaled down 50 times: 20 creates per 1.2 s, one every 60 ms.
pub const PERIOD: Duration = Duration::from_millis(1200);

/// `n` one-row CSV files in `dir`, each with its own email.
pub fn files(dir: &tempfile::TempDir, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let path = dir.path().join(format!("f{i}.csv"));
            std::fs::write(&path, format!("email\nuser{i}@example.com\n")).unwrap();
            path
        })
        .collect()
}

/// The files' schema: one email field.
pub fn schema() -> Schema {
    Schema::inline([Field::new("email", "Email", FieldType::Email)])
}
