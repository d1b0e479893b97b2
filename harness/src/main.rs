fn main() {
    println!("bqh: see `bqh --help`");
}
