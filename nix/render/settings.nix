# `settings`: free-form Terraform JSON merged on top of what the other parts render. It may add
# attributes anywhere (other resources, a lifecycle block on a managed key, more required_providers)
# but may not change a rendered value, and may not declare a backend (state-backend.nix renders it,
# and a connection string written here would end up in the store).
let
  # "a", "a and b", "a, b and c".
  enumerate =
    names:
    let
      n = builtins.length names;
      init = builtins.genList (i: builtins.elemAt names i) (n - 1);
    in
    if n < 2 then
      builtins.concatStringsSep "" names
    else
      builtins.concatStringsSep ", " init + " and " + builtins.elemAt names (n - 1);

  # Leaves of `extra` that would replace a different rendered value; `from path` names the input
  # fields rendering the value there.
  conflicts =
    from: path: rendered: extra:
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
          conflicts from here r e
        else if r == e then
          [ ]
        else
          [
            rec {
              path = here;
              messageFor =
                name:
                let
                  fields = from here;
                in
                "would replace the value ${builtins.toJSON r} that tailscale-manager renders from ${enumerate (map name fields)}; set ${
                  if builtins.length fields == 1 then "it" else "those"
                } instead of overriding the value in settings.";
              message = messageFor (field: field);
            }
          ]
      ) (builtins.attrNames extra)
    );

  backendProblems =
    extra:
    let
      terraformBlock = extra.terraform or { };
    in
    map (name: rec {
      path = [
        "terraform"
        name
      ];
      messageFor =
        field:
        "is not supported: the runner must know where the state is (it backs it up, restores or keeps it, and reads it for status), which a ${name} block would hide; remove it, and set ${field "stateBackend.type"} (\"local\" or \"pg\") instead.";
      message = messageFor (field: field);
    }) (builtins.filter (name: builtins.isAttrs terraformBlock && terraformBlock ? ${name}) [
      "backend"
      "cloud"
    ]);

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
in
{
  defaults.settings = { };

  # Everything wrong with `extra` on top of `rendered`, as { path; message; } (path relative to settings;
  # see render.nix's `problems` for `messageFor`); `from path` names the input fields that render the
  # value at `path`.
  problems =
    rendered: from: extra:
    if !(builtins.isAttrs extra) then
      [
        {
          path = [ ];
          message = "must be an attribute set (a JSON object).";
        }
      ]
    else
      backendProblems extra ++ conflicts from [ ] rendered extra;

  inherit merge;

  # The names `settings` declares under resource.<type> (none where that is not an attribute set),
  # for the parts that refuse a second resource of a type they render.
  declared =
    extra: type:
    let
      resources = extra.resource.${type} or { };
    in
    if builtins.isAttrs resources then builtins.attrNames resources else [ ];
}
