# Key files: two keys keep their value in a file (the module's keys.<name>.writeFile, implied by
# loadCredentialFor and authKeyForTailscaled), one does not. Only then is hashicorp/local required.
# The key `tailscaled` also has create_before_destroy, which stays allowed: terraform does not force
# it onto the file that depends on the key (see nix/render/key-files.nix).
let
  readme = import ./01-readme-example.nix;
in
readme
// {
  keys = {
    managed_key = readme.keys.managed_key // {
      file = "/var/lib/tailscale-manager/keys/managed_key";
    };
    runners = {
      description = "";
      tags = [ "tag:ci" ];
      reusable = true;
      ephemeral = true;
      preauthorized = true;
      expiry = null;
      recreateIfInvalid = "always";
      file = null;
    };
    tailscaled = {
      description = "this host";
      tags = [ "tag:server" ];
      reusable = false;
      ephemeral = false;
      preauthorized = true;
      expiry = null;
      recreateIfInvalid = "always";
      file = "/var/lib/tailscale-manager/keys/tailscaled";
    };
  };
  stateBackend.type = "local";
  settings = {
    resource.tailscale_tailnet_key.tailscaled.lifecycle.create_before_destroy = true;
  };
}
