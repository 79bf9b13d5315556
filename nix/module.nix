# NixOS module: services.tailscale-manager.
#
# Nix renders, Rust runs: this module turns its options into main.tf.json at evaluation time
# (nix/render.nix + builtins.toJSON + builtins.toFile, no build step) and runs the runner's `apply` on it
# from a oneshot unit. Nothing here reads the evaluating machine's disk, and no secret enters the store:
# credentialsFile is a runtime path that systemd hands to the unit with LoadCredential.
{
  config,
  options,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    literalExpression
    mkEnableOption
    mkIf
    mkOption
    showOption
    types
    ;

  cfg = config.services.tailscale-manager;
  # Option names in messages and docs come from the declarations: "${opt.tags}" is
  # "services.tailscale-manager.tags".
  opt = options.services.tailscale-manager;

  render = import ./render.nix;
  tmTypes = import ./types.nix { inherit lib; };
  runnerCli = import ./runner-cli.nix { inherit lib; };
  sharedOptions = import ./shared-options.nix { inherit lib pkgs; };

  keyDefaults = render.defaults.key;

  keyModule = {
    options = {
      description = mkOption {
        type = tmTypes.keyDescription;
        default = keyDefaults.description;
        description = ''
          The key's description in the admin console. Changing it replaces the key (the provider
          forces a new resource), so the default stays the provider's own `""`.
        '';
      };
      tags = mkOption {
        type = types.listOf tmTypes.tag;
        default = cfg.tags;
        defaultText = literalExpression "config.${opt.tags}";
        description = ''
          Tags of the key. A key created with an OAuth client must carry exactly the client's
          tags, all of them (Tailscale admin console → OAuth client → Tags).
        '';
      };
      reusable = mkOption {
        type = types.bool;
        default = keyDefaults.reusable;
        description = "Whether the key can register more than one device.";
      };
      ephemeral = mkOption {
        type = types.bool;
        default = keyDefaults.ephemeral;
        description = "Whether devices registered with the key are removed when they go offline.";
      };
      preauthorized = mkOption {
        type = types.bool;
        default = keyDefaults.preauthorized;
        description = "Whether devices registered with the key skip device approval.";
      };
      expiry = mkOption {
        type = types.nullOr types.ints.positive;
        default = keyDefaults.expiry;
        example = 604800;
        description = ''
          Lifetime of the key in seconds; `null` leaves it to the Tailscale API (90 days).
          Changing it replaces the key.
        '';
      };
      recreateIfInvalid = mkOption {
        type = tmTypes.recreateIfInvalid;
        default = cfg.recreateIfInvalid;
        defaultText = literalExpression "config.${opt.recreateIfInvalid}";
        description = ''
          Rendered as `recreate_if_invalid`: with `"always"` an expired or revoked key is replaced on
          the next run; with `"never"` it stays (and `tailscale-manager status` reports it as bad).
        '';
      };
    };
  };

  # ---- rendering -----------------------------------------------------------------------------------

  pg = cfg.stateBackend.type == "pg";

  # The renderer's input: the typed options, and `settings` on top.
  renderInput = {
    inherit (cfg) tailnet providerVersion settings;
    # The tailnet around the keys (nix/tailnet.nix); the options have the renderer's shape.
    inherit (cfg) acl dns monitorDevices;
    keys = builtins.mapAttrs (_: key: {
      inherit (key)
        description
        tags
        reusable
        ephemeral
        preauthorized
        expiry
        recreateIfInvalid
        ;
      # The key's file, if it keeps one (key-delivery.nix).
      file = if key.writeFile then key.path else null;
    }) cfg.keys;
    # Where terraform keeps the state (state-backend.nix; the renderer reads schemaName for "pg" only).
    stateBackend = {
      inherit (cfg.stateBackend) type;
      inherit (cfg.stateBackend.pg) schemaName;
    };
  };

  # builtins.toFile needs no build. It refuses text that refers to derivation outputs, so settings
  # cannot interpolate packages (nothing the renderer produces does).
  configFile = builtins.toFile "main.tf.json" (render.toJSON renderInput);

  # ---- the runner --------------------------------------------------------------------------------

  # The unit's user and group (and the CLI's, see `cli`): a static system user rather than root, so
  # terraform and its providers (network-facing code that parses API responses) hold no privilege;
  # not DynamicUser, because the state must outlive the unit and be shared with the CLI.
  user = "tailscale-manager";

  # What the service's runner is given. ExecStart's flags, the activation line and the CLI wrapper's
  # environment are all made from this one set (through nix/runner-cli.nix).
  runnerSettings = {
    inherit (cfg)
      stateDir
      terraformBin
      backupCount
      onFailure
      ;
    config = configFile;
    # The pg backend's workspace (state-backend.nix); local state has only the default one.
    workspace = if pg then cfg.stateBackend.pg.workspace else null;
  };
  runnerCommand =
    args: values:
    runnerCli.command {
      inherit (cfg) package;
      inherit args values;
    };

  # `sudo tailscale-manager status|plan|apply` acts on the service's state with the service's config,
  # terraform and credentials, as the service's user (nix/cli-wrapper.nix: root drops to it and hands
  # the runner the root-only secrets as open descriptors).
  cli = pkgs.callPackage ./cli-wrapper.nix {
    inherit (cfg) package;
    environment = runnerCli.environment (
      runnerSettings
      // {
        inherit (cfg) credentialsFile;
        pgConnectionFile = if pg then cfg.stateBackend.pg.connectionStringFile else null;
      }
    );
    serviceUser = user;
    secretFiles = runnerCli.secretEnvironment;
  };

  # ---- messages ----------------------------------------------------------------------------------

  keyOption = name: rest: showOption (opt.keys.loc ++ [ name ] ++ rest);
  # The option behind a renderer input field ("tailnet", "dns.nameservers"): renderInput's fields
  # are this module's option names.
  renderedOption = field: showOption (lib.init opt.settings.loc ++ lib.splitString "." field);

  credentialsExample = ''
      agenix:   age.secrets.tailscale-oauth.file = ./secrets/tailscale-oauth.age;
                ${opt.credentialsFile} = config.age.secrets.tailscale-oauth.path;
      sops-nix: sops.secrets.tailscale-oauth = { format = "dotenv"; sopsFile = ./secrets/tailscale-oauth.env; key = ""; };
                ${opt.credentialsFile} = config.sops.secrets.tailscale-oauth.path;'';
in
{
  imports = [
    # keys.<name>.writeFile/path/loadCredentialFor, authKeyForTailscaled.
    ./key-delivery.nix
    # acl, dns and monitorDevices.
    ./tailnet.nix
    # stateBackend.
    ./state-backend.nix
    # RFC 42: free-form structured configuration is called `settings`.
    (lib.mkRenamedOptionModule
      [
        "services"
        "tailscale-manager"
        "extraConfig"
      ]
      [
        "services"
        "tailscale-manager"
        "settings"
      ]
    )
  ];

  options.services.tailscale-manager = {
    enable = mkEnableOption "tailscale-manager, which keeps the declared Tailscale auth keys alive through Terraform";

    tailnet = mkOption {
      type = types.nonEmptyStr;
      default = render.defaults.tailnet;
      example = "example.com";
      description = ''
        Tailnet the keys belong to. `"-"` means the tailnet of the OAuth client, which is what you want
        unless the client can reach several.
      '';
    };

    credentialsFile = mkOption {
      type = types.nullOr tmTypes.credentialsPath;
      default = null;
      example = literalExpression "config.age.secrets.tailscale-oauth.path";
      description = ''
        Runtime path of an EnvironmentFile-style file with `TAILSCALE_OAUTH_CLIENT_ID=…` and
        `TAILSCALE_OAUTH_CLIENT_SECRET=…`, decrypted on the host by agenix or sops-nix. Required.
        systemd hands it to the unit with `LoadCredential=` (so it may be root-only, mode 0400), and
        `sudo tailscale-manager` hands it to the runner as an open descriptor; it is never read at
        evaluation time and never copied into the Nix store.
      '';
    };

    tags = mkOption {
      type = types.listOf tmTypes.tag;
      default = [ ];
      example = [ "tag:ci" ];
      description = ''
        Tags of the default key `managed_key`, and the default tags of every entry in
        `${opt.keys}`: the OAuth client's tags, all of them (Tailscale refuses a key with
        other tags or only some of the client's).
      '';
    };

    keys = mkOption {
      type = types.attrsOf (types.submodule keyModule);
      default = {
        managed_key = { };
      };
      defaultText = literalExpression "{ managed_key = { }; }";
      example = literalExpression ''
        {
          managed_key = { };   # keep the default key (and its Terraform address)
          ci-runners = { tags = [ "tag:ci" ]; ephemeral = true; expiry = 604800; };
        }
      '';
      description = ''
        The auth keys to keep alive, one `tailscale_tailnet_key` resource each, named after the
        attribute. The default is the single key `managed_key` built from the top-level options, so
        configurations written for the original tool keep their resource address. Setting this
        replaces the default; include `managed_key = { };` to keep that key. Removing a key here
        deletes it from the tailnet on the next run.
      '';
    };

    stateDir = mkOption {
      type = tmTypes.stateDir;
      default = "/var/lib/tailscale-manager";
      description = ''
        Terraform state, backups and `last-apply.json`, owned by the service's user
        `tailscale-manager`. Must be below `/var/lib/`, because the unit gets it as its systemd
        `StateDirectory=` (the only writable path under `ProtectSystem=strict`).
      '';
    };

    inherit (sharedOptions) package;

    terraformPackage = mkOption {
      type = types.package;
      # hashicorp/local (nix/render/key-files.nix) also while no key writes its file: a file written
      # before stays in the state until a run deletes it, and terraform's init needs the provider of
      # every resource in the state, so turning writeFile off would otherwise fail that run.
      default = pkgs.opentofu.withPlugins (p: [
        (p.tailscale_tailscale or p.tailscale)
        (p.hashicorp_local or p.local)
      ]);
      defaultText = literalExpression "pkgs.opentofu.withPlugins (p: [ p.tailscale_tailscale p.hashicorp_local ])";
      example = literalExpression "pkgs.terraform.withPlugins (p: [ p.tailscale_tailscale p.hashicorp_local ])";
      description = ''
        Terraform or OpenTofu, with the providers built by Nix, so `init` never downloads anything:
        the Tailscale provider, and `hashicorp/local` when a key writes its file
        (`keys.<name>.writeFile`, also implied by `loadCredentialFor` and `authKeyForTailscaled`) and
        until a run has deleted the files after that is turned off (terraform needs the provider of
        every resource in its state). A package you set must contain both then; evaluation warns when
        a `withPlugins` package of nixpkgs' providers lacks `hashicorp/local` while a key writes its
        file. The default, OpenTofu with both, is free software; `pkgs.terraform` is unfree
        (BUSL-1.1) and needs `nixpkgs.config.allowUnfreePredicate` to allow `"terraform"`.
      '';
    };

    terraformBin = mkOption {
      type = tmTypes.executablePath;
      default = lib.getExe cfg.terraformPackage;
      defaultText = literalExpression "lib.getExe config.${opt.terraformPackage}";
      description = "The terraform (or tofu) executable the runner calls.";
    };

    backupCount = mkOption {
      type = types.ints.between 1 1000;
      default = 5;
      description = "How many state backups (and failed-run states) to keep in `stateDir/backups/`.";
    };

    onFailure = mkOption {
      type = tmTypes.onFailure;
      default = "restore";
      defaultText = lib.literalMD "`\"restore\"`; `\"keep\"` with `stateBackend.type = \"pg\"`";
      description = ''
        What the runner does with terraform's state after a failed run. `"restore"` puts the pre-run
        backup back and lists any resources created meanwhile as orphaned; `"keep"` keeps terraform's
        state, which records what really exists, so the next run converges. With the `"pg"` state
        backend only `"keep"` is allowed: a restore could undo what another host wrote meanwhile.
      '';
    };

    watchCredentials = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Start the unit again whenever `credentialsFile` changes (a systemd path unit). agenix and
        sops-nix re-link their secrets on every activation, so expect an extra, harmless run per switch.
      '';
    };

    enableTimer = mkOption {
      type = types.bool;
      default = false;
      description = "Also run daily (`OnCalendar=daily`, `Persistent=true`), to replace expired keys without a switch.";
    };

    recreateIfInvalid = mkOption {
      type = tmTypes.recreateIfInvalid;
      default = keyDefaults.recreateIfInvalid;
      description = "Default of `keys.<name>.recreateIfInvalid`.";
    };

    providerVersion = mkOption {
      type = types.nonEmptyStr;
      default = render.defaults.providerVersion;
      description = ''
        Version constraint of the Tailscale provider. It must match the provider inside
        `terraformPackage` (an exact pin that differs from the Nix build makes `init` fail).
      '';
    };

    settings = mkOption {
      type = types.submodule { freeformType = types.attrsOf tmTypes.jsonValue; };
      default = render.defaults.settings;
      example = literalExpression ''
        {
          resource.tailscale_dns_nameservers.main.nameservers = [ "8.8.8.8" ];
        }
      '';
      description = ''
        Free-form Terraform JSON merged into main.tf.json, e.g. other `tailscale_*` resources (formerly
        `extraConfig`). It may add attributes anywhere but may not change a value rendered from the
        options above, and may not declare a `terraform.backend` or `terraform.cloud` (set
        `stateBackend` instead), nor `create_before_destroy` on a key file.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.credentialsFile != null;
        message = ''
          ${opt.credentialsFile} is not set. Set it to the runtime path of a file with
          TAILSCALE_OAUTH_CLIENT_ID=… and TAILSCALE_OAUTH_CLIENT_SECRET=… lines, decrypted on the host
          (never a file in the Nix store), for example:
          ${credentialsExample}'';
      }
    ]
    ++ lib.mapAttrsToList (name: _: {
      assertion = tmTypes.isIdentifier name;
      message = "${keyOption name [ ]}: the name is not a Terraform identifier (a letter or underscore, then letters, digits, underscores or dashes), and it becomes the resource name tailscale_tailnet_key.<name>. Rename it, for example to ${keyOption (tmTypes.suggestIdentifier name) [ ]}.";
    }) cfg.keys
    ++ lib.mapAttrsToList (name: key: {
      assertion = !(tmTypes.isIdentifier name) || key.tags != [ ];
      message = "${keyOption name [ "tags" ]} is empty, but Tailscale refuses untagged keys from an OAuth client (\"tailnet-owned auth key must have tags set\"). Set ${opt.tags} = [ \"tag:ci\" ]; (or ${keyOption name [ "tags" ]}) to tags the OAuth client owns.";
    }) cfg.keys
    ++ map (problem: {
      assertion = false;
      message = "${showOption (opt.settings.loc ++ problem.path)} ${
        (problem.messageFor or (_: problem.message)) renderedOption
      }";
    }) (render.problems renderInput);

    system.build.tailscale-manager-config = configFile;

    systemd.services.tailscale-manager = {
      description = "tailscale-manager: apply the declared Tailscale auth keys";
      # Type=oneshot without RemainAfterExit: the unit is inactive after each run, so every switch
      # (which starts multi-user.target) runs it again, and the path and timer units can start it.
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];

      serviceConfig = {
        Type = "oneshot";
        ExecStart = runnerCommand [ "apply" ] runnerSettings;
        # The runner finds it at $CREDENTIALS_DIRECTORY/tailscale-oauth; no --credentials flag.
        LoadCredential = lib.optional (cfg.credentialsFile != null) "tailscale-oauth:${cfg.credentialsFile}";
        StateDirectory = lib.removePrefix tmTypes.stateRoot cfg.stateDir;
        StateDirectoryMode = "0700";
        # Longer than the runner's lock timeout (300 s) plus an apply. On timeout (or stop) systemd
        # sends SIGTERM; the runner never kills terraform itself.
        TimeoutStartSec = "15min";
        # SIGTERM to the runner only. With the default (control-group) it would also reach the
        # provider plugin, which dies on it mid-request: a key the API had just created would be
        # tracked nowhere. The runner instead forwards one SIGINT to terraform, which lets the
        # requests in flight finish (providers ignore SIGINT), saves its state and exits; the
        # runner then records the failure. Whatever is still running after TimeoutStopSec is killed.
        KillMode = "mixed";

        # Hardening (check with `systemd-analyze security tailscale-manager`: exposure 1.2).
        # The service's own user (see `user`); systemd gives it StateDirectory, and takes over one an
        # earlier version left to root (it changes the owner of everything below on start).
        User = user;
        Group = user;
        # Only root, the service's user and group exist in its user namespace: other users' files
        # and processes are out of reach.
        PrivateUsers = true;
        # No mount made inside the unit reaches the host (it makes none).
        PrivateMounts = true;
        # No capability either, should anything gain one.
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        NoNewPrivileges = true;
        ProtectSystem = "strict"; # everything read-only except StateDirectory
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        # /proc holds only processes: terraform and the runner read their own entries there
        # (/proc/self; /proc/<pid>/stat of the lock's holder, or kill(pid, 0) where ProtectProc
        # hides it: a CLI run is this user's, but outside this user namespace).
        ProcSubset = "pid";
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        # No memory both writable and executable: terraform and its providers (Go) and the runner
        # (Rust) compile ahead of time, none writes code at run time.
        MemoryDenyWriteExecute = true;
        # AF_UNIX: terraform talks to its provider plugin over a unix socket (go-plugin/gRPC);
        # AF_INET/AF_INET6: the Tailscale API.
        RestrictAddressFamilies = [
          "AF_UNIX"
          "AF_INET"
          "AF_INET6"
        ];
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged"
        ];
        # A filtered call fails with EPERM instead of killing terraform mid-apply (which would lose
        # the state of keys it had just created).
        SystemCallErrorNumber = "EPERM";
        UMask = "0077";
      };
    };

    users.users.${user} = {
      isSystemUser = true;
      group = user;
      description = "tailscale-manager service";
    };
    users.groups.${user} = { };

    systemd.paths.tailscale-manager-watch = mkIf (cfg.watchCredentials && cfg.credentialsFile != null) {
      description = "tailscale-manager: re-apply when the OAuth credentials change";
      wantedBy = [ "paths.target" ];
      pathConfig = {
        # PathChanged also fires on atomic rename-into-place; agenix and sops-nix re-link on every
        # activation, so this triggers once per switch as well (harmless: the run is then a no-op).
        PathChanged = cfg.credentialsFile;
        Unit = "tailscale-manager.service";
      };
    };

    systemd.timers.tailscale-manager = mkIf cfg.enableTimer {
      description = "tailscale-manager: daily apply (replaces expired keys)";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = "daily";
        Persistent = true;
        Unit = "tailscale-manager.service";
      };
    };

    # Activation runs before systemd starts this generation's units, so the line reports the most
    # recent finished run; a failure of this switch's run shows up as a failed unit in the switch's
    # own summary. `|| true`: status exits 1 on error or no result, and must never fail activation.
    system.activationScripts.tailscale-manager = {
      deps = [ ];
      text = ''
        ${runnerCommand [
          "status"
          "--oneline"
        ] { inherit (runnerSettings) stateDir; }} || true
      '';
    };

    environment.systemPackages = [ cli ];
  };
}
