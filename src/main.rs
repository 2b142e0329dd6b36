//! The `vigil` binary: a thin shell over the library (see `cli`).

fn main() {
    std::process::exit(vigil::cli::main());
}
