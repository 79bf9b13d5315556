//! The OAuth client's scopes: `grant-scope`, `drop-scope`.

use anyhow::Result;
use tailscale_standin::sim::SimFile;

use crate::args::Args;

pub fn change(file: &SimFile, command: &str, mut rest: Args) -> Result<()> {
    let client = rest.value("--client")?;
    let scopes = rest.positionals("a scope")?;
    rest.done()?;
    let grant = command == "grant-scope";
    let (id, now) = file.update(|tailnet| {
        let oauth = tailnet.oauth_client_mut(client.as_deref())?;
        for scope in &scopes {
            oauth.scopes.retain(|s| s != scope);
            if grant {
                oauth.scopes.push(scope.clone());
            }
        }
        let result = (oauth.id.clone(), oauth.scopes.clone());
        let op = command.replace('-', "_");
        tailnet.record(&op, Some(&result.0), Some(scopes.join(" ")));
        Ok(result)
    })?;
    println!("OAuth client {id} now has the scopes: {}", now.join(" "));
    Ok(())
}
