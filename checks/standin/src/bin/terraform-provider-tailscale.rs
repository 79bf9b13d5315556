//! The stand-in `tailscale/tailscale` provider plugin: terraform starts it and talks gRPC to it.

use std::process::ExitCode;

use tailscale_standin::tailscale::TailscaleProvider;

fn main() -> ExitCode {
    tailscale_standin::plugin::serve(
        "terraform-provider-tailscale",
        "tailscale/tailscale 0.29.2",
        "tailscale",
        TailscaleProvider::default(),
    )
}
