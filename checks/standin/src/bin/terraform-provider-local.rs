//! The stand-in `hashicorp/local` provider plugin: terraform starts it and talks gRPC to it.

use std::process::ExitCode;

use tailscale_standin::local::LocalProvider;

fn main() -> ExitCode {
    tailscale_standin::plugin::serve(
        "terraform-provider-local",
        "hashicorp/local 2.9.0",
        "local",
        LocalProvider,
    )
}
