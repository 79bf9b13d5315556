//! The `tailscale-manager` binary. Everything lives in the library (see `lib.rs` for its
//! layers); exit codes: `util/outcome.rs` (0 ok, 1 the operation failed, 2 usage or
//! configuration error).
fn main() -> std::process::ExitCode {
    tailscale_manager::cli::main(std::env::args_os().skip(1))
}
