# The example configuration of README's quick start (the same as the original tool's,
# tailscale-manager 0.3.0),
#   services.tailscale-manager = { enable = true; tailnet = "-"; tags = [ "tag:ci" ]; credentialsFile = …; };
# with every other option at its default, written out as the NixOS module hands it to nix/render.nix.
# The stand-in provider's end-to-end tests apply the matching .json with real terraform.
{
  tailnet = "-";
  providerVersion = "~> 0.29";
  keys.managed_key = {
    description = "";
    tags = [ "tag:ci" ];
    reusable = true;
    ephemeral = false;
    preauthorized = true;
    expiry = null;
    recreateIfInvalid = "always";
  };
  settings = { };
}
