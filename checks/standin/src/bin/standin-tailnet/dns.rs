//! The DNS settings: `show-dns`.

use std::fmt::Write as _;

use anyhow::Result;
use tailscale_standin::sim::{Nameserver, SimFile};

use crate::args::Args;

fn servers(nameservers: &[Nameserver]) -> String {
    if nameservers.is_empty() {
        return "-".to_owned();
    }
    nameservers
        .iter()
        .map(|n| match n.use_with_exit_node {
            true => format!("{} (with exit node)", n.address),
            false => n.address.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn show(file: &SimFile, mut rest: Args) -> Result<()> {
    let json = rest.flag("--json");
    rest.done()?;
    let dns = file.read()?.dns;
    if json {
        println!("{}", serde_json::to_string_pretty(&dns)?);
        return Ok(());
    }
    let on_off = |b: bool| if b { "on" } else { "off" };
    let mut out = String::new();
    writeln!(out, "nameservers: {}", servers(&dns.nameservers))?;
    for (domain, nameservers) in &dns.split_dns {
        writeln!(out, "split DNS {domain}: {}", servers(nameservers))?;
    }
    let search_paths = match dns.search_paths.is_empty() {
        true => "-".to_owned(),
        false => dns.search_paths.join(", "),
    };
    writeln!(out, "search paths: {search_paths}")?;
    writeln!(out, "MagicDNS: {}", on_off(dns.magic_dns))?;
    writeln!(
        out,
        "override local DNS: {}",
        on_off(dns.override_local_dns)
    )?;
    print!("{out}");
    Ok(())
}
