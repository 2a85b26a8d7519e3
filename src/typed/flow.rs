//! The typed workflow: the schema comes from the row type, the cleaned rows decode into it.

use super::de::RowDecoder;
use super::RowSchema;
use crate::error::{Error, Step};
use crate::workflow::ImportOutcome;
use crate::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// The rows of `outcome` (fetched as JSON) decoded into `T` by `T`'s schema, tolerating the
/// documented alternative forms of each field type; a row that does not fit is an error of the
/// results step.
fn decode_outcome<T: RowSchema + DeserializeOwned>(
    outcome: ImportOutcome<Vec<Value>>,
) -> Result<ImportOutcome<Vec<T>>, Error> {
    outcome.try_map_rows(|import_id, rows| {
        RowDecoder::new(&T::fields())
            .decode_all(rows)
            .map_err(|error| Error::Step {
                step: Step::Results,
                import_id: Some(import_id.to_string()),
                source: Box::new(error),
            })
    })
}

impl Client {
    /// Imports the file at `path` with `T`'s inline schema ([`RowSchema::schema`]) and decodes
    /// the cleaned rows into `T`: [`Client::import_file`] without writing the schema. Each value
    /// is read as its field's Dromo type documents it, alternatives included (a number an
    /// `outputFormat` made a string, a checkbox spelled `"yes"`, a datetime without seconds, a
    /// select's label), so `T` needs no serde glue; a value that still does not fit is an
    /// [`Error::RowMismatch`] (in an [`Error::Step`] at [`Step::Results`]) naming the row and key.
    ///
    /// ```no_run
    /// # #[cfg(feature = "derive")] {
    /// #[derive(dromo_client::Schema, serde::Deserialize)]
    /// struct Person {
    ///     name: String,
    ///     #[dromo(type = "email", unique)]
    ///     email: String,
    /// }
    ///
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let outcome = client.import_file_typed::<Person>("people.csv").await?;
    /// if let Some(people) = outcome.rows() {
    ///     println!("{} people", people.len());
    /// }
    /// # Ok(()) }
    /// # }
    /// ```
    pub async fn import_file_typed<T: RowSchema + DeserializeOwned + Send + 'static>(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<ImportOutcome<Vec<T>>, Error> {
        // A header that shares no column with `T` would only wait for a person: refused before
        // anything is created.
        let fields: Vec<crate::types::SchemaFieldsItem> =
            T::fields().into_iter().map(Into::into).collect();
        decode_outcome(
            self.import_file_checked::<Value>(path.as_ref(), T::schema(), Some(&fields))
                .await?,
        )
    }

    /// Checks `rows` ([`RowSchema::check_rows`]: a violation is an [`Error::Step`] at
    /// [`Step::Create`] wrapping [`Error::InvalidRequest`], and nothing is sent), then imports
    /// them with `T`'s inline schema and decodes the cleaned rows into `T`:
    /// [`Client::import_rows`] without writing the schema. The rows are decoded as
    /// [`Client::import_file_typed`] decodes them.
    ///
    /// ```no_run
    /// # #[cfg(feature = "derive")] {
    /// #[derive(dromo_client::Schema, serde::Serialize, serde::Deserialize)]
    /// struct Person {
    ///     name: String,
    ///     age: Option<u32>,
    /// }
    ///
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let people = vec![Person { name: "Ada".into(), age: Some(36) }];
    /// let outcome = client.import_rows_typed(&people).await?;
    /// println!("{}", outcome.status());
    /// # Ok(()) }
    /// # }
    /// ```
    pub async fn import_rows_typed<T: RowSchema + Serialize + DeserializeOwned + Send + 'static>(
        &self,
        rows: &[T],
    ) -> Result<ImportOutcome<Vec<T>>, Error> {
        T::check_rows(rows).map_err(|error| Error::Step {
            step: Step::Create,
            import_id: None,
            source: Box::new(error),
        })?;
        decode_outcome(self.import_rows::<Value>(rows, T::schema()).await?)
    }
}
