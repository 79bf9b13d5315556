# The one renderer: plain settings -> the Terraform JSON value that becomes main.tf.json.
#
# Pure and builtins-only (no nixpkgs lib), so the golden tests in checks/render/ run on any machine with
# nix-instantiate. The NixOS module, the Home Manager docs, the flake's `lib` output and the tests all call
# this file; nothing else renders Terraform configuration.
#
#   render = import ./nix/render.nix;
#   render {
#     tailnet = "-";                        # optional, default "-"
#     providerVersion = "~> 0.29";          # optional
#     keys.managed_key = {                  # one tailscale_tailnet_key resource per entry
#       tags = [ "tag:ci" ];                # every other field is optional, see `defaults.key`
#     };
#     extraConfig = { };                    # optional, merged into the result (see `problems`)
#   }
#
# Credentials are never rendered: the runner hands them to terraform through the environment.
# The result is a plain attribute set; `builtins.toJSON` of it is byte-reproducible (sorted keys).
let
  defaults = {
    tailnet = "-";
    providerVersion = "~> 0.29";
    extraConfig = { };
    keys = { };
    # Per key. `tags` has no useful default: a key created with an OAuth client must be tagged.
    key = {
      description = "";
      tags = [ ];
      reusable = true;
      ephemeral = false;
      preauthorized = true;
      expiry = null; # seconds; null leaves it to the API (90 days)
      recreateIfInvalid = "always";
    };
  };

  renderKey =
    key:
    let
      k = defaults.key // key;
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

  # The part rendered from typed settings, before extraConfig.
  base =
    settings:
    let
      s = defaults // settings;
    in
    {
      terraform.required_providers.tailscale = {
        source = "tailscale/tailscale";
        version = s.providerVersion;
      };
      provider.tailscale.tailnet = s.tailnet;
    }
    // (
      if s.keys == { } then
        { }
      else
        { resource.tailscale_tailnet_key = builtins.mapAttrs (_: renderKey) s.keys; }
    );

  showPath = path: builtins.concatStringsSep "." path;

  # Leaves of `extra` that would replace a different rendered value. Adding new attributes anywhere
  # (other resources, a `lifecycle` block on a managed key, more required_providers) is fine.
  conflicts =
    path: rendered: extra:
    builtins.concatLists (
      map (
        name:
        let
          r = rendered.${name};
          e = extra.${name};
          here = path ++ [ name ];
        in
        if !(rendered ? ${name}) then
          [ ]
        else if builtins.isAttrs r && builtins.isAttrs e then
          conflicts here r e
        else if r == e then
          [ ]
        else
          [
            {
              path = here;
              message = "would replace the value ${builtins.toJSON r} that tailscale-manager renders from its typed settings; set the typed setting instead of overriding it in extraConfig.";
            }
          ]
      ) (builtins.attrNames extra)
    );

  # Everything wrong with `settings.extraConfig`, as { path; message; } with path relative to extraConfig.
  problems =
    settings:
    let
      extra = settings.extraConfig or { };
      terraformBlock = extra.terraform or { };
      backendProblems = map (name: {
        path = [
          "terraform"
          name
        ];
        message = "is not supported: the runner backs up and restores the local terraform.tfstate in its state directory, which a ${name} block would bypass; remove it.";
      }) (builtins.filter (name: builtins.isAttrs terraformBlock && terraformBlock ? ${name}) [
        "backend"
        "cloud"
      ]);
    in
    if !(builtins.isAttrs extra) then
      [
        {
          path = [ ];
          message = "must be an attribute set (a JSON object).";
        }
      ]
    else
      backendProblems ++ conflicts [ ] (base settings) extra;

  # Recursive merge; only called once `problems` is empty, so leaves never collide with different values.
  merge =
    rendered: extra:
    rendered
    // builtins.mapAttrs (
      name: e:
      if rendered ? ${name} && builtins.isAttrs rendered.${name} && builtins.isAttrs e then
        merge rendered.${name} e
      else
        e
    ) extra;

  render =
    settings:
    let
      found = problems settings;
      first = builtins.head found;
    in
    if found != [ ] then
      throw "tailscale-manager render: extraConfig${
        if first.path == [ ] then "" else "." + showPath first.path
      } ${first.message}"
    else
      merge (base settings) (settings.extraConfig or { });
in
{
  inherit defaults problems;
  # Called like a function: `import ./nix/render.nix settings`.
  __functor = _self: render;
  # main.tf.json's exact text.
  toJSON = settings: builtins.toJSON (render settings);
}
