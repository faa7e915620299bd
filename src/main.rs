fn main() {
    std::process::exit(lzr::cli::main());
}
