#[derive(dromo_client::Schema, serde::Deserialize)]
struct Person {
    email: Option<String>,
    #[dromo(required_with("emial"))]
    phone: Option<String>,
}

fn main() {}
