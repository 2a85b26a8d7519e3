#[derive(dromo_client::Schema, serde::Deserialize)]
struct Person {
    name: String,
    tags: std::collections::HashMap<String, String>,
}

fn main() {}
