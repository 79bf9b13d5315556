//! `init` and `plan`: install the config and run terraform; they never write the state (`init`
//! moves a local state to a remote backend the config names, as terraform's own init would).
use anyhow::{Result, bail};

use crate::commands::remote::Remote;
use crate::commands::setup;
use crate::config::options::Options;
use crate::terraform::init::Init;
use crate::util::console::{errln, outln};
use crate::util::outcome::{Outcome, one_line};

pub fn init(opts: &Options) -> Result<Outcome> {
    let lock = setup::lock(opts, "init")?;
    let config = setup::config(opts, "init")?;
    let backend = config.backend();
    let access = setup::remote_access(opts, &backend)?;
    let tf = setup::terraform(opts, None, access.as_ref(), &lock)?;
    config.install(&opts.state_dir)?;
    if let Some(remote) = Remote::of(&tf, &opts.state_dir, &backend, access.as_ref()) {
        remote.settle_local()?;
    }
    Init::new(&tf, &opts.state_dir, config.value()).now()?;
    errln!("terraform init: done");
    Ok(Outcome::Success)
}

pub fn plan(opts: &Options) -> Result<Outcome> {
    let lock = setup::lock(opts, "plan")?;
    let config = setup::config(opts, "plan")?;
    let backend = config.backend();
    let credentials = setup::credentials(opts)?;
    let access = setup::remote_access(opts, &backend)?;
    let tf = setup::terraform(opts, Some(&credentials), access.as_ref(), &lock)?;
    if let Some(remote) = Remote::of(&tf, &opts.state_dir, &backend, access.as_ref())
        && remote.waiting_local()?.is_some()
    {
        bail!(
            "{} is a local state that has not moved to {} yet, and plan never changes a state; \
             `tailscale-manager init` (or apply) moves it first",
            opts.state_dir.state().display(),
            remote.describe()
        );
    }
    config.install(&opts.state_dir)?;
    let finished = Init::new(&tf, &opts.state_dir, config.value()).around("plan", || tf.plan())?;
    match finished.exit_code() {
        Some(0) => outln!("tailscale-manager: no changes pending"),
        Some(2) => {
            outln!("tailscale-manager: changes pending; `tailscale-manager apply` makes them")
        }
        _ => bail!(one_line(&finished.error_message("plan"))),
    }
    Ok(Outcome::Success)
}
