mod status;
pub use status::ImportStatus;
#[allow(clippy::all, missing_docs, dead_code)]
pub mod generated { include!(concat!(env!("OUT_DIR"), "/generated.rs")); }
