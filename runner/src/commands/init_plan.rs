//! `init` and `plan`: install the config and run terraform; they never write the state.
use anyhow::{Result, bail};

use crate::commands::setup;
use crate::config::options::Options;
use crate::terraform::init::Init;
use crate::util::console::{errln, outln};
use crate::util::outcome::Outcome;

pub fn init(opts: &Options) -> Result<Outcome> {
    let lock = setup::lock(opts, "init")?;
    let config = setup::config(opts, "init")?;
    let tf = setup::terraform(opts, None, &lock)?;
    config.install(&opts.state_dir)?;
    Init::new(&tf, &opts.state_dir, config.value()).now()?;
    errln!("terraform init: done");
    Ok(Outcome::Success)
}

pub fn plan(opts: &Options) -> Result<Outcome> {
    let lock = setup::lock(opts, "plan")?;
    let config = setup::config(opts, "plan")?;
    let credentials = setup::credentials(opts)?;
    let tf = setup::terraform(opts, Some(&credentials), &lock)?;
    config.install(&opts.state_dir)?;
    let finished = Init::new(&tf, &opts.state_dir, config.value()).around("plan", || tf.plan())?;
    match finished.exit_code() {
        Some(0) => outln!("tailscale-manager: no changes pending"),
        Some(2) => {
            outln!("tailscale-manager: changes pending; `tailscale-manager apply` makes them")
        }
        _ => bail!(finished.error_message("plan")),
    }
    Ok(Outcome::Success)
}
