#[derive(dromo_client::Schema)]
struct Person(String);

fn main() {}
