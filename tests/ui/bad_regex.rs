#[derive(dromo_client::Schema, serde::Deserialize)]
struct Person {
    #[dromo(regex = "(?<=a")]
    code: String,
}

fn main() {}
