#[derive(dromo_client::Schema, serde::Deserialize)]
struct Person {
    #[dromo(type = "e-mail")]
    email: String,
}

fn main() {}
