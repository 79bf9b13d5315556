# The Tailscale provider: which one terraform installs, and which tailnet it manages. Credentials are
# never rendered: the runner hands them to terraform through the environment.
{
  from = path: if builtins.head path == "provider" then [ "tailnet" ] else [ "providerVersion" ];
  defaults = {
    tailnet = "-"; # the OAuth client's own tailnet
    providerVersion = "~> 0.29";
  };

  render = input: {
    # "tailscale/tailscale" suits both tools: terraform expands it to registry.terraform.io and OpenTofu
    # to registry.opentofu.org, matching the directories nixpkgs' withPlugins wrappers install into.
    terraform.required_providers.tailscale = {
      source = "tailscale/tailscale";
      version = input.providerVersion;
    };
    provider.tailscale.tailnet = input.tailnet;
  };
}
