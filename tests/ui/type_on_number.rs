#[derive(dromo_client::Schema, serde::Deserialize)]
struct Person {
    #[dromo(type = "email")]
    age: u32,
}

fn main() {}
