#[derive(dromo_client::SelectOptions)]
enum Plan {
    Free,
    Custom(String),
}

fn main() {}
