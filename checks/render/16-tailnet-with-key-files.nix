# The tailnet and key files together: golden 13 (the keys of golden 02, the ACL policy defining
# their tags, DNS, the device inventory) with two keys keeping their value in a file, as the module
# renders `keys.<name>.loadCredentialFor` and `authKeyForTailscaled`. Local state and tailnet "-",
# like golden 13; the providers are tailscale/tailscale and hashicorp/local.
let
  golden13 = import ./13-tailnet-with-keys.nix;
  file = name: { file = "/var/lib/tailscale-manager/keys/${name}"; };
in
golden13
// {
  keys = golden13.keys // {
    managed_key = golden13.keys.managed_key // file "managed_key";
    servers = golden13.keys.servers // file "servers";
  };
}
