#[derive(serde::Deserialize)]
enum Plan {
    Free,
    Pro,
}

#[derive(dromo_client::Schema, serde::Deserialize)]
struct Person {
    plan: Plan,
}

fn main() {}
