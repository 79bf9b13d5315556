//! Running a stand-in as a terraform plugin process: what both provider binaries' `main` does.

use std::process::ExitCode;

use tf_provider::DynamicProvider;

/// Serves `provider` as the plugin `binary` (for messages), named `name` in terraform (the
/// resource prefix, e.g. `tailscale`), until terraform stops it.
pub fn serve(
    binary: &str,
    stands_in_for: &str,
    name: &str,
    provider: impl DynamicProvider,
) -> ExitCode {
    if std::env::args_os().len() > 1 {
        eprintln!(
            "{binary} (stand-in for {stands_in_for}) takes no arguments;\n\
             it is a terraform plugin: install it in a filesystem mirror and let terraform start it"
        );
        return ExitCode::from(2);
    }
    // go-plugin's handshake variable: terraform always sets it (`tf-provider` does not check it;
    // it only explains the binary to a human who runs it, in go-plugin's words).
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
            eprintln!("{binary}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let serve = async {
        // Like go-plugin's Serve, which every real provider runs: SIGINT (a terminal's Ctrl-C,
        // which reaches the whole process group) is eaten, since terraform decides when its
        // plugins stop. SIGTERM keeps its default action, as in Go. There is no parent-death
        // watch either: a plugin whose terraform was killed finishes its calls.
        tokio::spawn(async { while tokio::signal::ctrl_c().await.is_ok() {} });
        tf_provider::serve(name, provider).await
    };
    match runtime.block_on(serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{binary}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
