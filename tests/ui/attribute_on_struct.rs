#[derive(dromo_client::Schema, serde::Deserialize)]
#[dromo(rename_all = "camelCase")]
struct Person {
    first_name: String,
}

fn main() {}
