//! The typed workflow: the schema comes from the row type, the cleaned rows decode into it.

use super::RowSchema;
use crate::error::{Error, Step};
use crate::workflow::ImportOutcome;
use crate::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

impl Client {
    /// Imports the file at `path` with `T`'s inline schema ([`RowSchema::schema`]) and decodes
    /// the cleaned rows into `T`: [`Client::import_file`] without writing the schema.
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
        self.import_file::<T>(path, T::schema()).await
    }

    /// Checks `rows` ([`RowSchema::check_rows`]: a violation is an [`Error::Step`] at
    /// [`Step::Create`] wrapping [`Error::InvalidRequest`], and nothing is sent), then imports
    /// them with `T`'s inline schema and decodes the cleaned rows into `T`:
    /// [`Client::import_rows`] without writing the schema.
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
        self.import_rows::<T>(rows, T::schema()).await
    }
}
