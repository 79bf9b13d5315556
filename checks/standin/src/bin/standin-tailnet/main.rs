//! `standin-tailnet`: sets up, inspects and breaks the simulated tailnet file of the stand-in
//! provider. Test infrastructure only.

mod args;
mod devices;
mod dns;
mod keys;
mod policy;
mod scopes;
mod setup;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use tailscale_standin::sim::SimFile;

use args::{Args, Usage, usage};

const HELP: &str = "\
standin-tailnet: set up, inspect and break a simulated tailnet for the stand-in
tailscale/tailscale provider (test infrastructure; it never contacts a network).

Usage: standin-tailnet [--file PATH] <command> [arguments]

The file is --file PATH, else the path in TAILSCALE_BASE_URL=file:///PATH
(the variable the provider reads).

Commands:
  init [--tags T1,T2] [--tailnet NAME] [--scopes S1,S2] [--credentials-out FILE]
       [--force]
        Create the file with one OAuth client owning the tags (default tag:ci;
        its keys must ask for exactly that set) and holding the scopes
        (default auth_keys,policy_file,dns,devices:core:read) in tailnet NAME
        (default example.com; the provider's \"-\" also matches), with the
        default policy, MagicDNS on and no devices. Prints the base URL.
        --credentials-out writes TAILSCALE_OAUTH_CLIENT_ID and
        TAILSCALE_OAUTH_CLIENT_SECRET to FILE (0600, EnvironmentFile syntax).
  list [--json]
        Keys (id, state, tags, flags, expiry), fault knobs and event counts.
        --json prints the file with every secret replaced by \"<redacted>\".
  expire ID|--all    Make keys expired (the API then reports them invalid).
  revoke ID|--all    Mark keys revoked (the API then reports them invalid).
  delete ID          Delete a key behind terraform's back (the API answers 404).
  fail-creates N [--message TEXT] [--status CODE]
        Fail the next N creates with the API error \"TEXT (CODE)\"
        (default \"internal server error\", 500). N = 0 clears it.
  slow-create SECONDS [--commit after-sleep|before-sleep]
        Every create sleeps SECONDS (0 turns it off, and ends the sleep of
        every create in flight). after-sleep (default):
        the key is put into the tailnet after the sleep, so a create killed
        while sleeping leaves nothing behind. before-sleep: the key exists
        before the sleep, so killing terraform then leaks a key that its
        state never records (a lost API response).
  add-device NAME [--hostname H] [--os OS] [--user U] [--tags T1,T2]
       [--addresses A1,A2 | --no-addresses] [--unauthorized] [--created TIME]
       [--expires TIME | --key-expiry-disabled] [--last-seen TIME | --online]
       [--client-version V] [--update-available] [--external] [--ephemeral]
       [--blocks-incoming] [--tailnet-lock-key K] [--tailnet-lock-error E]
        Add a device. NAME is its full MagicDNS name (web-1.tail0000.ts.net);
        the hostname defaults to its first label. TIME is RFC 3339
        (2026-05-01T00:00:00Z, kept as written) or relative to now (+3d, -2h,
        +90m, -30s). Defaults: os linux, user user@example.com, no tags,
        authorized, created now, node key expiring 180 days after creation,
        online (connected, so no last seen), addresses 100.64.0.N and
        fd7a:115c:a1e0::N. --no-addresses lists it without addresses;
        --key-expiry-disabled gives it Go's zero time 0001-01-01T00:00:00Z as
        expiry. Prints its node id.
  list-devices [--json]
        Devices: name, node id, os, tags, key expiry, last seen.
  set-policy FILE|-|--default
        Set the policy file to FILE's text (- reads stdin), as the admin
        console would: it is no longer the untouched default, so a
        tailscale_acl create without overwrite_existing_content fails.
        --default restores the default policy.
  show-policy [--json]
        Print the policy text; --json adds whether it is the untouched default
        and its ETag.
  show-dns [--json]
        Nameservers, split DNS, search paths, MagicDNS, override local DNS.
  grant-scope SCOPE... [--client ID]
  drop-scope SCOPE... [--client ID]
        Give the OAuth client (the only one, or ID) scopes, or take them away
        (auth_keys, policy_file, dns, devices:core, their :read forms, all,
        all:read). Tokens fetched afterwards carry the new set.
  help, --help       This text.

Exit status: 0 done, 1 the file, key or device could not be used, 2 usage error.
";

fn main() -> ExitCode {
    match run(std::env::args_os().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Usage>() => {
            eprintln!("standin-tailnet: {e} (see standin-tailnet --help)");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("standin-tailnet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<OsString>) -> Result<()> {
    let mut args: Vec<String> = args
        .into_iter()
        .map(|a| {
            a.into_string()
                .map_err(|a| usage(format!("argument {a:?} is not UTF-8")))
        })
        .collect::<Result<_>>()?;
    let mut file = None;
    if let Some(i) = args.iter().position(|a| a == "--file") {
        args.remove(i);
        if i >= args.len() {
            return Err(usage("--file needs a path"));
        }
        file = Some(PathBuf::from(args.remove(i)));
    }
    let Some(command) = args.first().cloned() else {
        return Err(usage("missing command"));
    };
    let rest = Args(args.split_off(1));
    if matches!(command.as_str(), "help" | "--help" | "-h") {
        print!("{HELP}");
        return Ok(());
    }
    let file = match file {
        Some(path) => SimFile::new(path),
        None => match std::env::var("TAILSCALE_BASE_URL") {
            Ok(url) => SimFile::from_base_url(&url)?,
            Err(_) => {
                return Err(usage(
                    "no file: pass --file PATH or set TAILSCALE_BASE_URL=file:///PATH",
                ));
            }
        },
    };
    match command.as_str() {
        "init" => setup::init(&file, rest),
        "list" => setup::list(&file, rest),
        "expire" | "revoke" => keys::invalidate(&file, &command, rest),
        "delete" => keys::delete(&file, rest),
        "fail-creates" => keys::fail_creates(&file, rest),
        "slow-create" => keys::slow_create(&file, rest),
        "add-device" => devices::add(&file, rest),
        "list-devices" => devices::list(&file, rest),
        "set-policy" => policy::set(&file, rest),
        "show-policy" => policy::show(&file, rest),
        "show-dns" => dns::show(&file, rest),
        "grant-scope" | "drop-scope" => scopes::change(&file, &command, rest),
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}
