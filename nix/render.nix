# The one renderer: the renderer's input -> the Terraform JSON value that becomes main.tf.json.
#
# Pure and builtins-only (no nixpkgs lib), so the golden tests in checks/render/ run on any machine with
# nix-instantiate. The NixOS module, the flake's `lib.render` and the tests all call this file; nothing
# else renders Terraform configuration.
#
#   render = import ./nix/render.nix;
#   render {
#     tailnet = "-";                        # optional, default "-"
#     providerVersion = "~> 0.29";          # optional
#     keys.managed_key = {                  # one tailscale_tailnet_key resource per entry
#       tags = [ "tag:ci" ];                # every other field is optional, see `defaults.key`
#       file = "/var/lib/x/keys/k";         # e.g.: also keep the key's value in this file
#     };
#     stateBackend = {                      # optional, default { type = "local"; }
#       type = "pg";                        # terraform's pg backend (the connection string is
#       schemaName = "tailscale_manager";   # never rendered)
#     };
#     acl.policy = { tagOwners = …; };      # optional: tailscale_acl.policy (render/acl.nix)
#     dns = { nameservers = [ … ]; };       # optional: tailscale_dns_configuration.dns (render/dns.nix)
#     monitorDevices = true;                # optional: data.tailscale_devices.all (render/devices.nix)
#     settings = { };                       # optional free-form Terraform JSON merged into the
#   }                                       # result (see `problems`); `extraConfig` is its old name
#
# The result is a plain attribute set; `builtins.toJSON` of it is byte-reproducible (sorted keys).
#
# Each concern is one part in render/, rendering its own attributes from the input; `settings` is
# merged on top of their union. A new concern (another kind of resource) is a new part in `parts`.
# A part names the input fields it renders from (`from`, for messages about `settings`), and may also
# list `problems` of the input's `settings` that only it knows about.
let
  parts = [
    (import ./render/provider.nix)
    (import ./render/keys.nix)
    (import ./render/key-files.nix)
    (import ./render/acl.nix)
    (import ./render/dns.nix)
    (import ./render/devices.nix)
    (import ./render/state-backend.nix)
  ];
  settings = import ./render/settings.nix;

  defaults = builtins.foldl' (acc: part: acc // part.defaults) settings.defaults parts;

  # The input with its defaults, `extraConfig` (the input's name for `settings` until the module's
  # option was renamed) read as `settings`.
  complete =
    input:
    if input ? extraConfig && input ? settings then
      throw "tailscale-manager render: both settings and extraConfig (its old name) are given; keep settings."
    else
      defaults
      // removeAttrs input [ "extraConfig" ]
      // (if input ? extraConfig then { settings = input.extraConfig; } else { });

  # The parts render disjoint attributes; two parts rendering the same leaf is a bug in this file.
  union =
    a: b:
    a
    // builtins.mapAttrs (
      name: value:
      if !(a ? ${name}) then
        value
      else if builtins.isAttrs a.${name} && builtins.isAttrs value then
        union a.${name} value
      else
        throw "tailscale-manager render: two parts render ${name}"
    ) b;

  base = input: builtins.foldl' (acc: part: union acc (part.render input)) { } parts;

  hasPath =
    path: value:
    path == [ ]
    || (
      builtins.isAttrs value
      && value ? ${builtins.head path}
      && hasPath (builtins.tail path) value.${builtins.head path}
    );

  # The input fields whose parts render something at `path` of the result, each once. A part's `from`
  # is a list, or a function of the path for a part that renders from several fields.
  renderedFrom =
    input: path:
    builtins.foldl' (acc: field: if builtins.elem field acc then acc else acc ++ [ field ]) [ ] (
      builtins.concatMap (
        part:
        if !(hasPath path (part.render input)) then
          [ ]
        else if builtins.isFunction part.from then
          part.from path
        else
          part.from
      ) parts
    );

  # Everything wrong with the input's `settings`, as { path; message; } with path relative to settings
  # (a message that names input fields also comes as `messageFor field`, with `field "dns.nameservers"`
  # naming an input field as the caller's options do):
  # what settings.nix finds, then, when settings is an attribute set at all, what each part finds (a
  # part may refuse settings that would fight what it renders: dns.nix the older DNS resources,
  # key-files.nix create_before_destroy on a key file).
  problems =
    input:
    let
      full = complete input;
      general = settings.problems (base full) (renderedFrom full) full.settings;
    in
    if builtins.isAttrs full.settings then
      general ++ builtins.concatMap (part: (part.problems or (_: [ ])) full) parts
    else
      general;

  render =
    input:
    let
      full = complete input;
      found = problems input;
      first = builtins.head found;
      field = if input ? extraConfig then "extraConfig" else "settings";
    in
    if found != [ ] then
      throw "tailscale-manager render: ${field}${
        if first.path == [ ] then "" else "." + builtins.concatStringsSep "." first.path
      } ${first.message}"
    else
      settings.merge (base full) full.settings;
in
{
  inherit defaults problems;
  # Called like a function: `import ./nix/render.nix input`.
  __functor = _self: render;
  # main.tf.json's exact text.
  toJSON = input: builtins.toJSON (render input);
}
