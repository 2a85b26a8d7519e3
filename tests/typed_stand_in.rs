//! The stand-in follows the schema of a derived row type: values come back typed as Dromo
//! documents them (numbers, booleans, ISO dates, select values), a failed validator ends the
//! import in `NEEDS_REVIEW`, and `RowSchema::check_rows` predicts that verdict: for every row set
//! here (a table with each validator broken, and generated sets), `check_rows(&rows).is_ok()` is
//! exactly "the stand-in answered `SUCCESSFUL`". The typed decoding reads the documented
//! alternatives (an `outputFormat` string into a number) without serde glue.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, Field, FieldType, ImportOutcome, ImportStatus, RowSchema, Step};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRng, TestRunner};
use serde_json::{json, Map, Value};
use std::cell::Cell;

#[derive(
    Debug, Clone, PartialEq, dromo_client::SelectOptions, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
enum Plan {
    Free,
    #[dromo(label = "Pro (monthly)")]
    ProMonthly,
}

#[derive(
    Debug, Clone, PartialEq, dromo_client::SelectOptions, serde::Serialize, serde::Deserialize,
)]
enum Skill {
    Rust,
    Go,
}

/// Every validator the stand-in and `check_rows` decide, on every kind of field.
#[derive(Debug, Clone, PartialEq, dromo_client::Schema, serde::Serialize, serde::Deserialize)]
struct Person {
    #[dromo(type = "email", unique_case_insensitive)]
    email: String,
    #[dromo(length(min = 2, max = 10))]
    name: String,
    #[dromo(regex = "^[A-Z]{2}-\\d+$", unique)]
    code: String,
    #[dromo(regex(pattern = "test", flags = "i", exclude))]
    note: Option<String>,
    #[dromo(min = 0, max = 150)]
    age: Option<i64>,
    score: f64,
    active: bool,
    birthday: Option<NaiveDate>,
    last_login: Option<NaiveDateTime>,
    wake_up: Option<NaiveTime>,
    plan: Plan,
    skills: Option<Vec<Skill>>,
    #[dromo(required_with("note"))]
    phone: Option<String>,
    #[dromo(required_without("phone"))]
    fax: Option<String>,
}

fn ada() -> Person {
    Person {
        email: "ada@example.com".into(),
        name: "Ada".into(),
        code: "AB-1".into(),
        note: Some("first".into()),
        age: Some(36),
        score: 9.5,
        active: true,
        birthday: NaiveDate::from_ymd_opt(1815, 12, 10),
        last_login: NaiveDate::from_ymd_opt(2024, 3, 1).and_then(|d| d.and_hms_opt(9, 30, 15)),
        wake_up: NaiveTime::from_hms_opt(6, 45, 0),
        plan: Plan::ProMonthly,
        skills: Some(vec![Skill::Rust, Skill::Go]),
        phone: Some("+44 20 7946 0000".into()),
        fax: None,
    }
}

fn grace() -> Person {
    Person {
        email: "grace@example.com".into(),
        name: "Grace".into(),
        code: "CD-22".into(),
        note: None,
        age: None,
        score: 0.0,
        active: false,
        birthday: None,
        last_login: None,
        wake_up: None,
        plan: Plan::Free,
        skills: None,
        phone: None,
        fax: Some("+1 555 0199".into()),
    }
}

/// Imports `rows` as they are (no local checks first) with `Person`'s schema; the final status,
/// the id, and the rows as JSON when successful.
async fn stand_in_verdict<R: serde::Serialize>(
    client: &Client,
    rows: &[R],
) -> (ImportStatus, String, Option<Vec<Value>>) {
    let outcome = client
        .import_rows::<Value>(rows, Person::schema())
        .await
        .expect("the import runs");
    let id = outcome.import_id().to_string();
    let status = outcome.status();
    if let ImportOutcome::NeedsReview { review_url, .. } = &outcome {
        assert!(review_url.is_some(), "NEEDS_REVIEW comes with a review_url");
    }
    let rows = match outcome {
        ImportOutcome::Imported { rows, .. } => Some(rows),
        _ => None,
    };
    (status, id, rows)
}

#[tokio::test]
async fn values_come_back_typed_as_dromo_documents_them() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let (status, id, rows) = stand_in_verdict(&client, &[ada(), grace()]).await;
    assert_eq!(
        status,
        ImportStatus::Successful,
        "{:?}",
        server.review_problems(&id)
    );
    let rows = rows.unwrap();
    assert_eq!(
        rows[0],
        json!({
            "email": "ada@example.com", "name": "Ada", "code": "AB-1", "note": "first",
            "age": 36, "score": 9.5, "active": true, "birthday": "1815-12-10",
            "last_login": "2024-03-01T09:30:15", "wake_up": "06:45",
            "plan": "pro_monthly", "skills": ["Rust", "Go"],
            "phone": "+44 20 7946 0000", "fax": null,
        })
    );
    assert_eq!(rows[1]["age"], Value::Null);
    assert_eq!(rows[1]["active"], json!(false));
    assert_eq!(rows[1]["score"], json!(0.0));

    // The typed flow: the same rows out, field by field.
    let people = vec![ada(), grace()];
    let outcome = client.import_rows_typed(&people).await.unwrap();
    assert_eq!(outcome.rows(), Some(&people[..]));
}

/// A file as people write it: labels and alternate spellings, `en-US` dates, checkbox words.
#[tokio::test]
async fn a_csv_in_human_spellings_decodes_into_the_struct() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(
        &path,
        "Email,Name,Code,Note,Age,Score,Active,Birthday,Last login,Wake up,Plan,Skills,Phone,Fax\n\
         ada@example.com,Ada,AB-1,,36,\"$1,009.50\",Yes,12/10/1815,\"3/1/2024, 9:30 AM\",6:45 PM,Pro (monthly),\"rust, GO\",,+1 555 0199\n\
         grace@example.com,Grace,CD-22,,,0,no,,,,free,,+1 555 0100,\n",
    )
    .unwrap();
    let outcome = client.import_file_typed::<Person>(&path).await.unwrap();
    let ImportOutcome::Imported { rows, .. } = outcome else {
        panic!(
            "{outcome:?}: {:?}",
            server.review_problems(&outcome.import_id().to_string())
        )
    };
    let first = &rows[0];
    assert_eq!(first.age, Some(36));
    assert_eq!(first.score, 1009.5);
    assert!(first.active);
    assert_eq!(first.birthday, NaiveDate::from_ymd_opt(1815, 12, 10));
    assert_eq!(
        first.last_login,
        NaiveDate::from_ymd_opt(2024, 3, 1).and_then(|d| d.and_hms_opt(9, 30, 0))
    );
    assert_eq!(first.wake_up, NaiveTime::from_hms_opt(18, 45, 0));
    assert_eq!(first.plan, Plan::ProMonthly);
    assert_eq!(first.skills, Some(vec![Skill::Rust, Skill::Go]));
    // An empty cell of a string field is as entered: "".
    assert_eq!(first.note.as_deref(), Some(""));
    assert_eq!(rows[1].age, None);
    assert!(!rows[1].active);
    assert_eq!(rows[1].plan, Plan::Free);
}

#[tokio::test]
async fn an_untypeable_cell_or_a_failed_validator_needs_review() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(
        &path,
        "email,name,code,age,score,plan,birthday,fax\n\
         ada@example.com,Ada,AB-1,old,1,free,someday,x\n\
         ADA@example.com,Ada,AB-1,1,2,gold,,x\n",
    )
    .unwrap();
    let outcome = client.import_file_typed::<Person>(&path).await.unwrap();
    let ImportOutcome::NeedsReview {
        import_id,
        review_url,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(review_url.is_some());
    let problems = server.review_problems(&import_id.to_string());
    for expected in [
        "rows[0].age: `old` is not a number",
        "rows[0].birthday: `someday` is not a date",
        "rows[1].email: `ADA@example.com` is not unique",
        "rows[1].code: `AB-1` is not unique",
        "rows[1].plan: `gold` is not an option",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "no `{expected}` in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), 5, "{problems:#?}");
    // A person fixes the data; the rows are then there (untyped cells as entered).
    assert!(server.complete_review(&import_id.to_string()));
    let rows: Vec<Value> = client
        .fetch_results(import_id.to_string().as_str())
        .await
        .unwrap();
    assert_eq!(rows[0]["age"], "old");
    assert_eq!(rows[1]["age"], 1);
}

/// A row whose values the Rust types cannot hold (a select value that is no option), checked with
/// `Person`'s schema.
#[derive(Debug, serde::Serialize)]
struct Loose(Map<String, Value>);

impl RowSchema for Loose {
    fn fields() -> Vec<Field> {
        Person::fields()
    }
}

fn loose(person: &Person, key: &str, value: Value) -> Loose {
    let Value::Object(mut row) = serde_json::to_value(person).unwrap() else {
        unreachable!("a struct serializes to an object")
    };
    row.insert(key.into(), value);
    Loose(row)
}

/// One case of the table: the rows, and the key a validator must refuse (`None`: valid).
struct Case {
    name: &'static str,
    rows: Vec<Person>,
    refused: Option<&'static str>,
}

fn case(
    name: &'static str,
    change: impl FnOnce(&mut Person, &mut Person),
    refused: Option<&'static str>,
) -> Case {
    let (mut a, mut g) = (ada(), grace());
    change(&mut a, &mut g);
    Case {
        name,
        rows: vec![a, g],
        refused,
    }
}

fn table() -> Vec<Case> {
    vec![
        case("valid", |_, _| {}, None),
        case(
            "valid: length counts UTF-16 units (5 emoji = 10)",
            |a, _| a.name = "😀😀😀😀😀".into(),
            None,
        ),
        case(
            "valid: max length, boundaries",
            |a, g| {
                a.name = "Bartholome".into();
                a.age = Some(150);
                g.age = Some(0);
            },
            None,
        ),
        case(
            "valid: unique ignores empty notes; case differs in code",
            |a, g| {
                a.note = None;
                g.note = None;
            },
            None,
        ),
        case(
            "required: empty name",
            |a, _| a.name = String::new(),
            Some("name"),
        ),
        case(
            "required: blank name",
            |a, _| a.name = "  ".into(),
            Some("name"),
        ),
        case(
            "length: too short",
            |a, _| a.name = "A".into(),
            Some("name"),
        ),
        case(
            "length: too long",
            |a, _| a.name = "Bartholomew".into(),
            Some("name"),
        ),
        case(
            "length: 6 emoji are 12 UTF-16 units",
            |a, _| a.name = "😀😀😀😀😀😀".into(),
            Some("name"),
        ),
        case(
            "regex_match: lowercase",
            |a, _| a.code = "ab-1".into(),
            Some("code"),
        ),
        case(
            "regex_match: JavaScript's \\d is ASCII only",
            |a, _| a.code = "AB-١".into(),
            Some("code"),
        ),
        case(
            "unique",
            |a, g| {
                a.code = "EF-3".into();
                g.code = "EF-3".into();
            },
            Some("code"),
        ),
        case(
            "unique_case_insensitive",
            |_, g| g.email = "ADA@Example.com".into(),
            Some("email"),
        ),
        case(
            "regex_exclude with the i flag",
            |a, _| a.note = Some("a TeSt row".into()),
            Some("note"),
        ),
        case("number max", |a, _| a.age = Some(151), Some("age")),
        case("number min", |a, _| a.age = Some(-1), Some("age")),
        case(
            "require_with: a note needs a phone",
            |a, _| {
                a.phone = None;
                a.fax = Some("+1 555 0198".into());
            },
            Some("phone"),
        ),
        case(
            "require_without: no phone needs a fax",
            |_, g| g.fax = None,
            Some("fax"),
        ),
    ]
}

#[tokio::test]
async fn local_checks_agree_with_the_stand_in_on_every_validator() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    for case in table() {
        let local = Person::check_rows(&case.rows);
        let (status, id, _) = stand_in_verdict(&client, &case.rows).await;
        let problems = server.review_problems(&id);
        assert_eq!(
            local.is_ok(),
            status == ImportStatus::Successful,
            "{}: local {local:?}, stand-in {status} {problems:?}",
            case.name
        );
        match case.refused {
            None => assert!(local.is_ok(), "{}: {local:?}", case.name),
            Some(key) => {
                let Err(Error::InvalidRequest { violations, .. }) = &local else {
                    panic!("{}: {local:?}", case.name)
                };
                let at = |field: &str| field.ends_with(&format!("].{key}"));
                assert!(
                    violations.0.iter().all(|v| at(&v.field)),
                    "{}: {violations}",
                    case.name
                );
                assert!(
                    !problems.is_empty()
                        && problems
                            .iter()
                            .all(|p| at(p.split(':').next().unwrap_or(""))),
                    "{}: {problems:?}",
                    case.name
                );
            }
        }
    }

    // Select values the enum cannot hold: a cell may name an option by its value, its label or
    // an alternate match (trimmed, any case), as Dromo matches cells; both sides accept those.
    for (value, valid) in [
        (json!("free"), true),
        (json!("gold"), false),
        (json!("Free"), true),
        (json!(" pro (MONTHLY) "), true),
        (json!("monthly"), false),
    ] {
        let rows = [loose(&ada(), "plan", value.clone())];
        let local = Loose::check_rows(&rows);
        let (status, id, _) = stand_in_verdict(&client, &rows).await;
        let verdict = status == ImportStatus::Successful;
        assert_eq!(local.is_ok(), valid, "{value}: {local:?}");
        assert_eq!(
            verdict,
            valid,
            "{value}: {status} {:?}",
            server.review_problems(&id)
        );
    }
}

fn person() -> impl Strategy<Value = Person> {
    // Collisions (`ada`/`ADA`, a repeated code) are possible but rare enough for valid sets.
    let email = prop_oneof![
        20 => (0u32..40).prop_map(|n| format!("user{n}@example.com")),
        1 => Just("USER1@example.com".to_owned()),
    ];
    let name = prop_oneof![
        10 => prop::sample::select(vec!["Al", "Zoë", "Grace", "😀😀😀😀😀", "Bartholome"]),
        1 => prop::sample::select(vec!["", "A", "Bartholomew", "😀😀😀😀😀😀"]),
    ];
    let code = prop_oneof![
        15 => (1u32..60).prop_map(|n| format!("AB-{n}")),
        1 => prop::sample::select(vec!["ab-1".to_owned(), "AB-".to_owned(), "AB-١".to_owned()]),
    ];
    let note = prop_oneof![
        4 => Just(None),
        1 => Just(Some("")),
        2 => Just(Some("hello")),
        1 => Just(Some("a Test")),
    ];
    let age = prop_oneof![
        10 => prop::option::of(0i64..=150),
        1 => prop::sample::select(vec![Some(-1), Some(151)]),
    ];
    let phone = prop::option::weighted(0.8, Just("+1 555 0100"));
    let fax = prop::option::weighted(0.8, Just("+1 555 0199"));
    let score = prop::sample::select(vec![0.0, 0.5, 1.0, 2.25, -3.5]);
    let skills = prop::sample::select(vec![
        None,
        Some(vec![]),
        Some(vec![Skill::Go]),
        Some(vec![Skill::Rust, Skill::Go]),
    ]);
    let when = prop::option::of((0i64..20_000, 0u32..86_400));
    (
        (email, name, code, note, age),
        (
            phone,
            fax,
            score,
            skills,
            when,
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |((email, name, code, note, age), (phone, fax, score, skills, when, active, pro))| {
                let day = when.and_then(|(days, _)| {
                    NaiveDate::from_ymd_opt(1970, 1, 1)
                        .and_then(|d| d.checked_add_signed(chrono::Duration::days(days)))
                });
                let time = when.and_then(|(_, secs)| {
                    NaiveTime::from_num_seconds_from_midnight_opt(secs - secs % 60, 0)
                });
                Person {
                    email,
                    name: name.into(),
                    code,
                    note: note.map(Into::into),
                    age,
                    score,
                    active,
                    birthday: day,
                    last_login: day.zip(when).and_then(|(d, (_, secs))| {
                        NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)
                            .map(|t| d.and_time(t))
                    }),
                    wake_up: time,
                    plan: if pro { Plan::ProMonthly } else { Plan::Free },
                    skills,
                    phone: phone.map(Into::into),
                    fax: fax.map(Into::into),
                }
            },
        )
}

/// Generated row sets (1 to 3 rows): `check_rows` is OK exactly when the stand-in answers
/// `SUCCESSFUL`, and then the typed rows come back equal. `DROMO_TYPED_CASES` sets the number of
/// cases (default 64).
#[test]
fn generated_row_sets_agree_and_round_trip() {
    let cases = std::env::var("DROMO_TYPED_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(StandIn::start()).unwrap();
    let client = server.client().unwrap();
    let (valid, invalid) = (Cell::new(0u32), Cell::new(0u32));
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed: the counts of valid and invalid sets asserted below are stable.
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    runner
        .run(&prop::collection::vec(person(), 1..=3), |rows| {
            let local = Person::check_rows(&rows);
            if local.is_ok() {
                valid.set(valid.get() + 1);
                // The typed flow checks, sends and decodes: the same rows come back.
                let outcome = runtime.block_on(client.import_rows_typed(&rows));
                let outcome = outcome.map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(outcome.status(), ImportStatus::Successful);
                prop_assert_eq!(outcome.rows(), Some(&rows[..]));
            } else {
                invalid.set(invalid.get() + 1);
                let (status, id, _) = runtime.block_on(stand_in_verdict(&client, &rows));
                prop_assert_eq!(
                    status,
                    ImportStatus::NeedsReview,
                    "local {:?}, stand-in {:?}",
                    local,
                    server.review_problems(&id)
                );
            }
            Ok(())
        })
        .unwrap();
    // The generator must produce both kinds, or the agreement means little.
    eprintln!(
        "{} valid and {} invalid row sets",
        valid.get(),
        invalid.get()
    );
    assert!(valid.get() >= cases / 8, "{} valid of {cases}", valid.get());
    assert!(
        invalid.get() >= cases / 8,
        "{} invalid of {cases}",
        invalid.get()
    );
}

/// A number field whose `outputFormat` makes it a string in the results.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Invoice {
    amount: f64,
    units: i64,
    share: Option<f64>,
    paid: bool,
}

impl RowSchema for Invoice {
    fn fields() -> Vec<Field> {
        vec![
            Field::new("amount", "Amount", FieldType::Number).type_options(json!({
                "outputFormat": {"output": "currency", "mantissa": 2, "thousandSeparated": true}
            })),
            Field::new("units", "Units", FieldType::Number)
                .type_options(json!({"outputFormat": "0,0"})),
            Field::new("share", "Share", FieldType::Number)
                .type_options(json!({"outputFormat": {"output": "percent", "mantissa": 1}})),
            Field::new("paid", "Paid", FieldType::Checkbox),
        ]
    }
}

#[tokio::test]
async fn output_format_strings_decode_into_numbers() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let invoices = vec![
        Invoice {
            amount: 1234.5,
            units: 12_000,
            share: Some(0.125),
            paid: true,
        },
        Invoice {
            amount: -3.25,
            units: 0,
            share: None,
            paid: false,
        },
    ];
    // What the results hold: the formatted strings.
    let raw = client
        .import_rows::<Value>(&invoices, Invoice::schema())
        .await
        .unwrap();
    let raw = raw.rows().unwrap();
    assert_eq!(raw[0]["amount"], "$1,234.50");
    assert_eq!(raw[0]["units"], "12,000");
    assert_eq!(raw[0]["share"], "12.5%");
    assert_eq!(raw[1]["amount"], "-$3.25");
    assert_eq!(raw[1]["share"], Value::Null);
    // The typed flow reads them back into f64 and i64, no serde glue.
    let outcome = client.import_rows_typed(&invoices).await.unwrap();
    assert_eq!(outcome.rows(), Some(&invoices[..]));
}

/// A value that is not what the field's type documents stays an error naming row, key and type.
#[tokio::test]
async fn a_value_that_cannot_fit_names_the_row_and_the_key() {
    #[derive(Debug, serde::Deserialize)]
    struct Counted {
        #[allow(dead_code)]
        count: u8,
    }
    impl RowSchema for Counted {
        fn fields() -> Vec<Field> {
            vec![Field::new("count", "Count", FieldType::Number)]
        }
    }
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counts.csv");
    std::fs::write(&path, "count\n7\n\"1,000\"\n").unwrap();
    let error = client
        .import_file_typed::<Counted>(&path)
        .await
        .unwrap_err();
    let Error::Step { step, source, .. } = error else {
        panic!("{error:?}")
    };
    assert_eq!(step, Step::Results);
    let Error::RowMismatch {
        index,
        path,
        message,
        ..
    } = *source
    else {
        panic!("{source:?}")
    };
    assert_eq!((index, path.as_str()), (1, "[1].count"));
    assert!(
        message.contains("1000") && message.contains("u8"),
        "{message}"
    );
    assert!(message.contains("Dromo `number` field"), "{message}");
}

/// How fast the stand-in types, checks and the typed flow decodes a file of `Person` rows:
/// `DROMO_TYPED_ROWS` rows (default 20 000), printed as rows per second. Ignored by default (a
/// measurement, not a check): `cargo test --test typed_stand_in -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn typed_file_import_throughput() {
    let rows: usize = std::env::var("DROMO_TYPED_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.csv");
    let mut csv = String::from(
        "email,name,code,note,age,score,active,birthday,last_login,wake_up,plan,skills,phone,fax\n",
    );
    for n in 0..rows {
        csv.push_str(&format!(
            "user{n}@example.com,Grace,AB-{n},,{},\"1,{:03}.5\",yes,3/27/2022,2022-03-27T15:20:05,3:20 PM,Pro (monthly),\"Rust,Go\",+1 555 0100,\n",
            n % 150,
            n % 1000
        ));
    }
    std::fs::write(&path, csv).unwrap();
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let started = std::time::Instant::now();
    let outcome = client.import_file_typed::<Person>(&path).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(outcome.rows().map(<[Person]>::len), Some(rows));
    eprintln!(
        "typed: {rows} rows in {:.2} s: {:.0} rows/s (create, upload, type and check, download, decode)",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64()
    );
    // The same file with every field a plain string and no validators, read as JSON: the
    // baseline the typing, checks and typed decoding add to.
    let keys = Person::fields()
        .into_iter()
        .map(|field| serde_json::to_value(dromo_client::types::SchemaFieldsItem::from(field)))
        .map(|json| json.unwrap()["key"].as_str().unwrap().to_owned());
    let plain = dromo_client::Schema::inline(
        keys.map(|key| Field::new(key.clone(), key, FieldType::String))
            .collect::<Vec<_>>(),
    );
    let started = std::time::Instant::now();
    let outcome = client
        .import_file::<Map<String, Value>>(&path, plain)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(outcome.rows().map(<[_]>::len), Some(rows));
    eprintln!(
        "untyped: {rows} rows in {:.2} s: {:.0} rows/s",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64()
    );
}
