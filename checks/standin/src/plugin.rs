//! Running a stand-in as a terraform plugin process: what both provider binaries' `main` does.
//!
//! One difference from go-plugin is made up for here. When terraform is interrupted it calls
//! StopProvider and then waits for the calls in flight (terraform v1.11.4,
//! internal/terraform/context.go `watchStop`). A go-plugin provider keeps serving (the
//! SDK's StopProvider only cancels its stop context, the framework's does nothing), and
//! terraform ends it when it is done. `tf-provider` instead shuts its server down on
//! StopProvider: the call in flight is still answered, but the process would exit right after,
//! and go-plugin cancels every call of a plugin whose process has exited (it closes the
//! client's context, hashicorp/go-plugin client.go), answered or not. When terraform had not
//! read the answer yet (a busy machine), it reported `Request cancelled` for a create the API
//! had made, and the key was in no state. So after StopProvider the process stays until
//! terraform ends it, or is gone itself.

use std::fmt;
use std::os::unix::process::parent_id;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tf_provider::DynamicProvider;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::sim::SimFile;

/// The gRPC method terraform calls to stop a provider.
const STOP_PROVIDER: &str = "/tfplugin6.Provider/StopProvider";

/// Set once terraform has called StopProvider.
static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

/// Notes StopProvider, which `tf-provider` handles out of the stand-in's reach: its gRPC
/// server traces each request as a `request` span with the `uri` (tower-http's `TraceLayer`),
/// and this layer sees those spans.
struct StopProviderWatch;

impl<S: tracing::Subscriber> Layer<S> for StopProviderWatch {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        struct Uri(bool);
        impl Visit for Uri {
            fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                if field.name() == "uri" && format!("{value:?}").ends_with(STOP_PROVIDER) {
                    self.0 = true;
                }
            }
        }
        let mut uri = Uri(false);
        attrs.record(&mut uri);
        if uri.0 && !STOP_REQUESTED.swap(true, Ordering::SeqCst) {
            record_stop();
        }
    }
}

/// Records the first StopProvider as the event `stop_provider` in the simulated tailnet that
/// TAILSCALE_BASE_URL names, if any: tests see that terraform was interrupted (and has told its
/// plugins) before they let a create they hold in flight answer.
fn record_stop() {
    let Some(url) = std::env::var_os("TAILSCALE_BASE_URL") else {
        return;
    };
    if let Ok(file) = SimFile::from_base_url(&url.to_string_lossy()) {
        let recorded = file.update(|tailnet| {
            tailnet.record("stop_provider", None, None);
            Ok(())
        });
        if let Err(e) = recorded {
            eprintln!(
                "cannot record StopProvider in {}: {e:#}",
                file.path().display()
            );
        }
    }
}

/// Watches for StopProvider, unless `PLUGIN_LOG_FILE` asks `tf-provider` for its own log
/// (which installs the one global subscriber itself).
fn watch_stop_provider() {
    if std::env::var_os("PLUGIN_LOG_FILE").is_some() {
        return;
    }
    let requests = tracing_subscriber::filter::filter_fn(|meta| {
        meta.is_span() && meta.target().starts_with("tower_http::trace")
    });
    let _ = tracing_subscriber::registry()
        .with(StopProviderWatch.with_filter(requests))
        .try_init();
}

/// After terraform's StopProvider, stays until terraform ends this process (go-plugin kills a
/// plugin that has not exited 2 s after its shutdown call) or is gone itself.
fn stay_while_terraform_runs() {
    if !STOP_REQUESTED.load(Ordering::SeqCst) {
        return;
    }
    let terraform = parent_id();
    while parent_id() == terraform {
        std::thread::sleep(Duration::from_millis(50));
    }
}

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
    watch_stop_provider();
    let served = runtime.block_on(serve);
    stay_while_terraform_runs();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{binary}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
