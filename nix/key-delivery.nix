# NixOS module, imported by module.nix: delivering the keys to what must join the tailnet with them.
#
# `keys.<name>.writeFile` keeps a key's current value in a file (module.nix hands the renderer the
# path; nix/render/key-files.nix renders it as local_sensitive_file.<name>, written by terraform in the
# same apply that creates or replaces the key). `keys.<name>.loadCredentialFor` hands that file to
# systemd services as a credential, and `authKeyForTailscaled` makes it this host's
# services.tailscale.authKeyFile. The key's value never enters the store, a unit file or argv.
{
  config,
  options,
  lib,
  ...
}:
let
  inherit (lib)
    literalExpression
    literalMD
    mkIf
    mkOption
    showOption
    types
    ;

  cfg = config.services.tailscale-manager;
  opt = options.services.tailscale-manager;
  tailscale = config.services.tailscale;
  tailscaleOpt = options.services.tailscale;

  tmTypes = import ./types.nix { inherit lib; };

  managerUnit = "tailscale-manager.service";
  credentialId = name: "tailscale-authkey-${name}";
  keyPath = name: "${cfg.stateDir}/keys/${name}";
  keyOption = name: rest: showOption (opt.keys.loc ++ [ name ] ++ rest);
  serviceOption = service: rest: showOption (options.systemd.services.loc ++ [ service ] ++ rest);

  # Merged into the `keys` submodule declared in module.nix.
  keyOptions =
    { name, config, ... }:
    {
      options = {
        writeFile = mkOption {
          type = types.bool;
          default = config.loadCredentialFor != [ ] || cfg.authKeyForTailscaled == name;
          defaultText = literalMD "`false`; `true` when `loadCredentialFor` is not empty or `authKeyForTailscaled` names this key";
          description = ''
            Keep the key's current value in the file `path` (mode 0600, in a 0700 directory, owned by
            the service's user `tailscale-manager`). Each run that creates or replaces the key rewrites it, the next run rewrites a file
            deleted or edited behind its back, and removing the key (or turning this off) deletes it.
            Rendered as `local_sensitive_file.<name>` of the `hashicorp/local` provider, which
            `terraformPackage` must then contain (the default does).
          '';
        };
        path = mkOption {
          type = types.str;
          readOnly = true;
          default = keyPath name;
          defaultText = literalExpression ''"''${config.${opt.stateDir}}/keys/<name>"'';
          description = "Where `writeFile` keeps the key, for wiring into other options (the file exists only with `writeFile`).";
        };
        loadCredentialFor = mkOption {
          type = types.listOf tmTypes.serviceName;
          default = [ ];
          example = [ "gitlab-runner" ];
          description = ''
            systemd services (names as in `systemd.services.<name>`) that get the key as the
            credential `tailscale-authkey-<name>`: `LoadCredential=tailscale-authkey-<name>:<path>`,
            so the service reads `$CREDENTIALS_DIRECTORY/tailscale-authkey-<name>` whatever user it
            runs as, plus `wants`/`after` `tailscale-manager.service`. systemd copies the file when
            the service starts: after a rotation the service sees the new key at its next start.
            Implies `writeFile`.
          '';
        };
      };
    };

  keyNames = builtins.attrNames cfg.keys;
  fileKeys = builtins.filter (name: cfg.keys.${name}.writeFile) keyNames;

  # Service -> the names of the keys delivered to it; a service listed twice for a key counts once.
  consumers = builtins.mapAttrs (_: map (delivery: delivery.name)) (
    lib.groupBy (delivery: delivery.service) (
      lib.concatMap (
        name:
        map (service: { inherit name service; }) (lib.unique cfg.keys.${name}.loadCredentialFor)
      ) keyNames
    )
  );

  # The credential ids a service's final LoadCredential= loads (the part before the first `:`).
  credentialIdsOf =
    service:
    map (entry: builtins.head (lib.splitString ":" entry)) (
      lib.toList (config.systemd.services.${service}.serviceConfig.LoadCredential or [ ])
    );

  # Whether a terraform or tofu from nixpkgs' withPlugins has hashicorp/local among its plugins: true
  # or false, or null when that cannot be told at evaluation. Its build script names every plugin's
  # store path (pkgs/by-name/op/opentofu/package.nix and terraform's: `for providerDir in
  # ${toString actualPlugins}`, then `--set NIX_TERRAFORM_PLUGIN_DIR`), and nixpkgs names a provider
  # after its repository (terraform-providers/default.nix, mkProvider: `pname = repo`), here
  # terraform-provider-local; the package's `plugins` are nixpkgs' providers, each attribute named
  # <owner>_<repo without terraform-provider->. A plugin that is none of them (a package of your own,
  # which may hold any providers) makes it null, and so does a script that cannot be read (an unfree
  # terraform not allowed: building would fail too).
  hasLocalProvider =
    package:
    let
      attempt = builtins.tryEval (package.buildCommand or null);
      script = builtins.unsafeDiscardStringContext attempt.value;
      pluginLine = builtins.match ".*for providerDir in ([^\n]*)\n.*" script;
      # Each plugin's package name, without store directory, hash and version.
      names = map (path: (builtins.parseDrvName (builtins.substring 33 (-1) (baseNameOf path))).name) (
        builtins.filter (word: word != "") (lib.splitString " " (builtins.head pluginLine))
      );
      nixpkgsNames = map (attr: "terraform-provider-${lib.last (lib.splitString "_" attr)}") (
        builtins.attrNames (package.plugins or { })
      );
    in
    if
      !attempt.success
      || !builtins.isString attempt.value
      || !lib.hasInfix "NIX_TERRAFORM_PLUGIN_DIR" script
      || pluginLine == null
    then
      null
    else if builtins.elem "terraform-provider-local" names then
      true
    else if builtins.all (name: builtins.elem name nixpkgsNames) names then
      false
    else
      null;

  tailscaleKey = cfg.authKeyForTailscaled;
  tailscaleParameters = lib.filterAttrs (_: value: value != null) (
    removeAttrs tailscale.authKeyParameters [ "_module" ]
  );
  parameterFix = {
    ephemeral = "set ${keyOption tailscaleKey [ "ephemeral" ]} instead (a key carries its flags from creation)";
    preauthorized = "set ${keyOption tailscaleKey [ "preauthorized" ]} instead (a key carries its flags from creation)";
    baseURL = "an auth key needs no API URL (for another control server, add --login-server=… to ${tailscaleOpt.extraUpFlags})";
  };
in
{
  options.services.tailscale-manager = {
    keys = mkOption { type = types.attrsOf (types.submodule keyOptions); };

    authKeyForTailscaled = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "managed_key";
      description = ''
        The key (a name in `keys`) this host's `tailscaled` logs in with. Implies that key's
        `writeFile`, sets `services.tailscale.authKeyFile` to its `path`, and orders
        `tailscaled-autoconnect.service` (where nixpkgs runs `tailscale up`) after
        `tailscale-manager.service`. Needs `services.tailscale.enable`, and
        `services.tailscale.authKeyParameters` left unset: nixpkgs appends them to the key as
        `?k=v`, which only an OAuth client secret understands.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions =
      [
        {
          assertion = tailscaleKey == null || cfg.keys ? ${tailscaleKey};
          message = "${opt.authKeyForTailscaled} is ${builtins.toJSON tailscaleKey}, which is not a key in ${opt.keys} (${
            if keyNames == [ ] then "there are none" else "declared: ${lib.concatStringsSep ", " keyNames}"
          }). Set it to one of them, or declare ${keyOption (toString tailscaleKey) [ ]} = { };.";
        }
        {
          assertion = tailscaleKey == null || tailscale.enable;
          message = "${opt.authKeyForTailscaled} makes the key ${toString tailscaleKey} this host's ${tailscaleOpt.authKeyFile}, but ${tailscaleOpt.enable} is false. Set ${tailscaleOpt.enable} = true; (or ${opt.authKeyForTailscaled} = null;).";
        }
      ]
      ++ lib.mapAttrsToList (parameter: _: {
        assertion = tailscaleKey == null;
        message = "${showOption (tailscaleOpt.authKeyParameters.loc ++ [ parameter ])} is set, but nixpkgs appends ${tailscaleOpt.authKeyParameters} to the auth key as \"?${parameter}=…\", which only an OAuth client secret (tskey-client-…) understands: it would corrupt the key ${opt.authKeyForTailscaled} delivers. Remove it; ${
          parameterFix.${parameter} or "it does not apply to an auth key"
        }.";
      }) tailscaleParameters
      ++ lib.concatMap (
        name:
        let
          key = cfg.keys.${name};
          needs =
            lib.optional (key.loadCredentialFor != [ ]) (keyOption name [ "loadCredentialFor" ])
            ++ lib.optional (tailscaleKey == name) "${opt.authKeyForTailscaled}";
        in
        [
          {
            assertion = key.writeFile || needs == [ ];
            message = "${keyOption name [ "writeFile" ]} is false, but ${lib.concatStringsSep " and " needs} ${
              if builtins.length needs > 1 then "need" else "needs"
            } the key's file. Remove ${keyOption name [ "writeFile" ]} = false;.";
          }
          {
            assertion = !(builtins.elem "tailscale-manager" key.loadCredentialFor);
            message = "${keyOption name [ "loadCredentialFor" ]} names tailscale-manager, the service that writes the key (it would be ordered after itself). Remove it.";
          }
        ]
      ) keyNames
      # Two deliveries under one credential name: systemd would hand the service only one of them.
      ++ lib.concatLists (
        lib.mapAttrsToList (
          service: names:
          map (name: {
            assertion = lib.count (id: id == credentialId name) (credentialIdsOf service) <= 1;
            message = "${serviceOption service [ "serviceConfig" "LoadCredential" ]} loads the credential ${credentialId name} more than once, and ${keyOption name [ "loadCredentialFor" ]} is one of them. Remove the other entry, or ${service} from ${keyOption name [ "loadCredentialFor" ]}.";
          }) names
        ) consumers
      );

    warnings = lib.optional (fileKeys != [ ] && hasLocalProvider cfg.terraformPackage == false) (
      "${opt.terraformPackage} has no plugin named terraform-provider-local (hashicorp/local), but a key "
      + "writes its file (${lib.concatMapStringsSep ", " (name: keyOption name [ "writeFile" ]) fileKeys}), "
      + "so `init` will fail. Add it, e.g. ${opt.terraformPackage} = "
      + "pkgs.opentofu.withPlugins (p: [ p.tailscale_tailscale p.hashicorp_local ]);."
    );

    # Not through cfg.keys: an unknown name must reach its assertion, not fail here.
    services.tailscale.authKeyFile = mkIf (tailscaleKey != null) (keyPath tailscaleKey);

    systemd.services = lib.mkMerge [
      (builtins.mapAttrs (_: names: {
        wants = [ managerUnit ];
        after = [ managerUnit ];
        serviceConfig.LoadCredential = map (name: "${credentialId name}:${cfg.keys.${name}.path}") names;
      }) consumers)
      (mkIf (tailscaleKey != null) {
        # nixpkgs' services.tailscale runs `tailscale up --auth-key "$(cat authKeyFile)"` here, and
        # only while the node needs a login.
        tailscaled-autoconnect = {
          wants = [ managerUnit ];
          after = [ managerUnit ];
        };
      })
    ];
  };
}
