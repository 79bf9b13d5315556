//! The stand-in provider plugin: terraform starts it and talks gRPC to it (facts §6).

use std::process::ExitCode;

use tailscale_standin::provider::TailscaleProvider;

fn main() -> ExitCode {
    if std::env::args_os().len() > 1 {
        eprintln!(
            "terraform-provider-tailscale (stand-in for tailscale/tailscale 0.29.2) takes no arguments;\n\
             it is a terraform plugin: install it in a filesystem mirror and let terraform start it"
        );
        return ExitCode::from(2);
    }
    // go-plugin's handshake variable: terraform always sets it (facts §6 says tf-provider does
    // not check it; we only use it to explain ourselves to a human who runs the binary).
    if std::env::var_os("TF_PLUGIN_MAGIC_COOKIE").is_none() {
        eprintln!(
            "This binary is a plugin. These are not meant to be executed directly.\n\
             Please execute the program that consumes these plugins, which will\n\
             load any plugins automatically"
        );
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("terraform-provider-tailscale: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let serve = async {
        // Like go-plugin's Serve, which every real provider runs: SIGINT (a terminal's Ctrl-C,
        // which reaches the whole process group) is eaten, since terraform decides when its
        // plugins stop. SIGTERM keeps its default action, as in Go. There is no parent-death
        // watch either: a plugin whose terraform was killed finishes its calls.
        tokio::spawn(async { while tokio::signal::ctrl_c().await.is_ok() {} });
        tf_provider::serve("tailscale", TailscaleProvider::default()).await
    };
    match runtime.block_on(serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-tailscale: {e:#}");
            ExitCode::FAILURE
        }
    }
}
