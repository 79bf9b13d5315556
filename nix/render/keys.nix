# The auth keys: one tailscale_tailnet_key resource per entry of `keys`, named after it.
let
  # Per key. `tags` has no useful default: a key created with an OAuth client must be tagged.
  key = {
    description = "";
    tags = [ ];
    reusable = true;
    ephemeral = false;
    preauthorized = true;
    expiry = null; # seconds; null leaves it to the API (90 days)
    recreateIfInvalid = "always";
    file = null; # where key-files.nix keeps the key's value; null: nowhere
  };

  renderKey =
    given:
    let
      k = key // given;
    in
    {
      inherit (k)
        description
        tags
        reusable
        ephemeral
        preauthorized
        ;
      recreate_if_invalid = k.recreateIfInvalid;
    }
    // (if k.expiry == null then { } else { inherit (k) expiry; });
in
{
  from = [ "keys" ];
  defaults = {
    keys = { };
    inherit key;
  };

  # No keys, no `resource` block at all (not an empty one).
  render =
    input:
    if input.keys == { } then
      { }
    else
      { resource.tailscale_tailnet_key = builtins.mapAttrs (_: renderKey) input.keys; };
}
