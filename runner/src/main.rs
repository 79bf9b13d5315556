//! tailscale-manager: runs the Terraform configuration rendered by the NixOS module.
//! Exit codes: see `outcome.rs` (0 ok, 1 the operation failed, 2 usage or configuration error).
mod atomic;
mod backup;
mod cli;
mod clock;
mod credentials;
mod last_apply;
mod lock;
mod outcome;
mod run;
mod scrub;
mod signals;
mod state;
mod status;
mod terraform;

fn main() -> std::process::ExitCode {
    cli::main(std::env::args_os().skip(1))
}
