//! The stand-in's verdict on an import: every row's cells are typed per field type
//! (`values.rs`), then the schema's validators run on the typed rows with the crate's own local
//! checks (`crate::typed::checks::RowChecker`: required, unique, `unique_case_insensitive`,
//! JavaScript regexes, length, `require_with` and friends, select values, number min/max), so
//! [`RowSchema::check_rows`](crate::RowSchema::check_rows) predicts the verdict. Any problem (a
//! cell that cannot be typed, a failed validator, a regex JavaScript would refuse) ends the
//! import in `NEEDS_REVIEW`.

use serde_json::{Map, Value};

use super::fields::Field;
use super::values::Kind;
use crate::error::Violation;
use crate::typed::checks::RowChecker;

/// How many problems are kept for [`StandIn::review_problems`](super::StandIn::review_problems).
const KEPT_PROBLEMS: usize = 50;

/// The typing and checks of one import, fed row by row.
pub(crate) struct Validation {
    kinds: Vec<(String, Kind)>,
    checker: RowChecker,
    rows: usize,
    problems: Vec<String>,
    problem_count: u64,
}

/// What the validation found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verdict {
    /// The first problems, as `rows[<index>].<key>: <what is wrong>`.
    pub(crate) problems: Vec<String>,
    /// How many there were.
    pub(crate) problem_count: u64,
}

impl Validation {
    pub(crate) fn new(fields: &[Field]) -> Validation {
        let kinds = fields
            .iter()
            .map(|field| (field.key.clone(), Kind::of(&field.definition)))
            .collect();
        let (checker, refused) = RowChecker::new(fields.iter().map(|field| &field.definition));
        let mut validation = Validation {
            kinds,
            checker,
            rows: 0,
            problems: Vec::new(),
            problem_count: 0,
        };
        validation.note(refused);
        validation
    }

    fn note(&mut self, violations: impl IntoIterator<Item = Violation>) {
        for violation in violations {
            self.problem_count += 1;
            if self.problems.len() < KEPT_PROBLEMS {
                self.problems
                    .push(format!("{}: {}", violation.field, violation.message));
            }
        }
    }

    /// A problem of the whole file (its encoding, a header that matches no field), listed
    /// before the rows' problems.
    pub(crate) fn file_problem(&mut self, message: String) {
        self.note([Violation::new("file", message)]);
    }

    /// Types and checks the next row; returns it as the results hold it.
    pub(crate) fn row(&mut self, mut row: Map<String, Value>) -> Map<String, Value> {
        let r = self.rows;
        self.rows += 1;
        let mut found = Vec::new();
        for (key, kind) in &self.kinds {
            let Some(cell) = row.get_mut(key) else {
                continue;
            };
            *cell = match kind.typed(cell.take()) {
                Ok(typed) => typed,
                Err((kept, problem)) => {
                    found.push(Violation::new(format!("rows[{r}].{key}"), problem));
                    kept
                }
            };
        }
        self.checker.check_row(r, &row, &mut found);
        self.note(found);
        for (key, kind) in &self.kinds {
            if let Some(cell) = row.get_mut(key) {
                *cell = kind.output(cell.take());
            }
        }
        row
    }

    pub(crate) fn finish(self) -> Verdict {
        Verdict {
            problems: self.problems,
            problem_count: self.problem_count,
        }
    }
}
