#[derive(dromo_client::Schema, serde::Deserialize)]
struct Person {
    #[dromo(number = "usd")]
    fee: String,
}

fn main() {}
