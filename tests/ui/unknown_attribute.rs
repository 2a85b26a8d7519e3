#[derive(dromo_client::Schema, serde::Deserialize)]
struct Person {
    #[dromo(uniq)]
    email: String,
}

fn main() {}
