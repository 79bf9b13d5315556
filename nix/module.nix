# NixOS module: services.tailscale-manager.
#
# Nix renders, Rust runs: this module turns its options into main.tf.json at evaluation time
# (nix/render.nix + builtins.toJSON + builtins.toFile, no build step) and runs the runner's `apply` on it
# from a oneshot unit. Nothing here reads the evaluating machine's disk, and no secret enters the store:
# credentialsFile is a runtime path that systemd hands to the unit with LoadCredential.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    literalExpression
    literalMD
    mkEnableOption
    mkIf
    mkOption
    types
    ;

  cfg = config.services.tailscale-manager;
  opt = "services.tailscale-manager";
  render = import ./render.nix;

  # Where the unit keeps its state: systemd's StateDirectory= is relative to /var/lib.
  stateRoot = "/var/lib/";

  # ---- types -------------------------------------------------------------------------------------

  # Tailscale's own rule (tailcfg.CheckTag): "tag:", then a letter, then letters, digits or dashes.
  tagType = types.strMatching "tag:[A-Za-z][A-Za-z0-9-]*" // {
    description = "Tailscale tag (`tag:`, then a letter, then letters, digits or dashes)";
  };

  # Terraform identifiers: a letter or underscore, then letters, digits, underscores or dashes.
  identifierPattern = "[A-Za-z_][A-Za-z0-9_-]*";

  sharedTypes = import ./types.nix { inherit lib; };

  stateDirType = lib.mkOptionType {
    name = "stateDir";
    description = "absolute path below ${stateRoot} (letters, digits and `._+@-` only; no trailing slash, `.` or `..` component)";
    descriptionClass = "noun";
    check =
      x:
      let
        relative = lib.removePrefix stateRoot x;
        components = lib.splitString "/" relative;
      in
      builtins.isString x
      && lib.hasPrefix stateRoot x
      && builtins.match "[A-Za-z0-9._+@/-]+" relative != null
      && builtins.all (c: c != "" && c != "." && c != "..") components;
    merge = lib.mergeEqualOption;
  };

  # The provider refuses descriptions longer than 50 characters (LengthAtMost(50)).
  keyDescriptionType = types.addCheck types.str (s: builtins.stringLength s <= 50) // {
    description = "string of at most 50 characters";
  };

  # Any JSON value (the same recursive shape as pkgs.formats.json's type, with lib only). No path
  # values: a path literal would be copied into the store.
  jsonValueType =
    types.nullOr (
      types.oneOf [
        types.bool
        types.int
        types.float
        types.str
        (types.attrsOf jsonValueType)
        (types.listOf jsonValueType)
      ]
    )
    // {
      description = "JSON value";
    };

  keyModule = {
    options = {
      description = mkOption {
        type = keyDescriptionType;
        default = "";
        description = ''
          The key's description in the admin console. Changing it replaces the key (the provider
          forces a new resource), so the default stays the provider's own `""`.
        '';
      };
      tags = mkOption {
        type = types.listOf tagType;
        default = cfg.tags;
        defaultText = literalExpression "config.${opt}.tags";
        description = ''
          Tags of the key. Keys created with an OAuth client must carry at least one tag, and the
          OAuth client must own every tag (Tailscale admin console → OAuth client → Tags).
        '';
      };
      reusable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether the key can register more than one device.";
      };
      ephemeral = mkOption {
        type = types.bool;
        default = false;
        description = "Whether devices registered with the key are removed when they go offline.";
      };
      preauthorized = mkOption {
        type = types.bool;
        default = true;
        description = "Whether devices registered with the key skip device approval.";
      };
      expiry = mkOption {
        type = types.nullOr types.ints.positive;
        default = null;
        example = 604800;
        description = ''
          Lifetime of the key in seconds; `null` leaves it to the Tailscale API (90 days).
          Changing it replaces the key.
        '';
      };
      recreateIfInvalid = mkOption {
        type = types.enum [
          "always"
          "never"
        ];
        default = cfg.recreateIfInvalid;
        defaultText = literalExpression "config.${opt}.recreateIfInvalid";
        description = ''
          Rendered as `recreate_if_invalid`: with `"always"` an expired or revoked key is replaced on
          the next run; with `"never"` it stays (and `tailscale-manager status` reports it as bad).
        '';
      };
    };
  };

  # Key names become resource names. (Checked by an assertion, not by addCheck on the type: the module
  # system rebuilds submodule types with substSubModules, which drops such a check.)
  isIdentifier = name: builtins.match identifierPattern name != null;
  suggestedIdentifier =
    name:
    let
      safe = lib.concatMapStrings (
        c: if builtins.match "[A-Za-z0-9_-]" c != null then c else "_"
      ) (lib.stringToCharacters name);
    in
    if builtins.match "[A-Za-z_].*" safe != null then safe else "_" + safe;

  # ---- rendering -----------------------------------------------------------------------------------

  settings = {
    inherit (cfg) tailnet providerVersion extraConfig;
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
    }) cfg.keys;
  };

  # builtins.toFile needs no build. It refuses text that refers to derivation outputs, so extraConfig
  # cannot interpolate packages (nothing the renderer produces does).
  configFile = builtins.toFile "main.tf.json" (render.toJSON settings);

  exe = lib.getExe cfg.package;

  # The unit's settings as the runner's environment variables, for the CLI wrapper.
  runnerEnvironment = {
    TAILSCALE_MANAGER_STATE_DIR = cfg.stateDir;
    TAILSCALE_MANAGER_CONFIG = configFile;
    TAILSCALE_MANAGER_TERRAFORM_BIN = cfg.terraformBin;
    TAILSCALE_MANAGER_BACKUP_COUNT = toString cfg.backupCount;
    TAILSCALE_MANAGER_ON_FAILURE = cfg.onFailure;
  };

  # `sudo tailscale-manager status|plan|apply` acts on the service's state with the service's config,
  # terraform and credentials.
  cli = import ./cli-wrapper.nix { inherit lib; inherit (pkgs) writeShellScriptBin; } {
    inherit (cfg) package;
    environment =
      runnerEnvironment
      // lib.optionalAttrs (cfg.credentialsFile != null) {
        TAILSCALE_MANAGER_CREDENTIALS_FILE = cfg.credentialsFile;
      };
  };

  credentialsExample = ''
      agenix:   age.secrets.tailscale-oauth.file = ./secrets/tailscale-oauth.age;
                ${opt}.credentialsFile = config.age.secrets.tailscale-oauth.path;
      sops-nix: sops.secrets.tailscale-oauth = { format = "dotenv"; sopsFile = ./secrets/tailscale-oauth.env; key = ""; };
                ${opt}.credentialsFile = config.sops.secrets.tailscale-oauth.path;'';
in
{
  options.services.tailscale-manager = {
    enable = mkEnableOption "tailscale-manager, which keeps the declared Tailscale auth keys alive through Terraform";

    tailnet = mkOption {
      type = types.nonEmptyStr;
      default = "-";
      example = "example.com";
      description = ''
        Tailnet the keys belong to. `"-"` means the tailnet of the OAuth client, which is what you want
        unless the client can reach several.
      '';
    };

    credentialsFile = mkOption {
      type = types.nullOr sharedTypes.credentialsPath;
      default = null;
      example = literalExpression "config.age.secrets.tailscale-oauth.path";
      description = ''
        Runtime path of an EnvironmentFile-style file with `TAILSCALE_OAUTH_CLIENT_ID=…` and
        `TAILSCALE_OAUTH_CLIENT_SECRET=…`, decrypted on the host by agenix or sops-nix. Required.
        systemd hands it to the unit with `LoadCredential=` (so it may be root-only, mode 0400); it is
        never read at evaluation time and never copied into the Nix store.
      '';
    };

    tags = mkOption {
      type = types.listOf tagType;
      default = [ ];
      example = [ "tag:ci" ];
      description = ''
        Tags of the default key `managed_key`, and the default tags of every entry in
        `${opt}.keys`. The OAuth client must own them.
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
          managed_key = { };   # keep the seed's key (and its Terraform address)
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
      type = stateDirType;
      default = "/var/lib/tailscale-manager";
      description = ''
        Terraform state, backups and `last-apply.json`. Must be below `/var/lib/`, because the unit
        gets it as its systemd `StateDirectory=` (the only writable path under `ProtectSystem=strict`).
      '';
    };

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = literalMD "the runner built from this repository's `runner/` (`nix/package.nix`, the flake's `packages.<system>.default`)";
      description = "The runner, `tailscale-manager`.";
    };

    terraformPackage = mkOption {
      type = types.package;
      default = pkgs.opentofu.withPlugins (p: [ (p.tailscale_tailscale or p.tailscale) ]);
      defaultText = literalExpression "pkgs.opentofu.withPlugins (p: [ p.tailscale_tailscale ])";
      example = literalExpression "pkgs.terraform.withPlugins (p: [ p.tailscale_tailscale ])";
      description = ''
        Terraform or OpenTofu, with the Tailscale provider built by Nix, so `init` never downloads
        anything. The default, OpenTofu, is free software; `pkgs.terraform` is unfree (BUSL-1.1) and
        needs `nixpkgs.config.allowUnfreePredicate` to allow `"terraform"`.
      '';
    };

    terraformBin = mkOption {
      type = sharedTypes.executablePath;
      default = lib.getExe cfg.terraformPackage;
      defaultText = literalExpression "lib.getExe config.${opt}.terraformPackage";
      description = "The terraform (or tofu) executable the runner calls.";
    };

    backupCount = mkOption {
      type = types.ints.between 1 1000;
      default = 5;
      description = "How many state backups (and failed-run states) to keep in `stateDir/backups/`.";
    };

    onFailure = mkOption {
      type = types.enum [
        "restore"
        "keep"
      ];
      default = "restore";
      description = ''
        What the runner does with terraform's state after a failed run. `"restore"` puts the pre-run
        backup back and lists any resources created meanwhile as orphaned; `"keep"` keeps terraform's
        state, which records what really exists, so the next run converges.
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
      type = types.enum [
        "always"
        "never"
      ];
      default = "always";
      description = "Default of `keys.<name>.recreateIfInvalid`.";
    };

    providerVersion = mkOption {
      type = types.nonEmptyStr;
      default = "~> 0.29";
      description = ''
        Version constraint of the Tailscale provider. It must match the provider inside
        `terraformPackage` (an exact pin that differs from the Nix build makes `init` fail).
      '';
    };

    extraConfig = mkOption {
      type = types.attrsOf jsonValueType;
      default = { };
      example = literalExpression ''
        {
          resource.tailscale_dns_nameservers.main.nameservers = [ "8.8.8.8" ];
        }
      '';
      description = ''
        Extra Terraform JSON merged into main.tf.json, e.g. other `tailscale_*` resources. It may add
        attributes anywhere but may not change a value rendered from the options above, and may not
        declare a `terraform.backend` or `terraform.cloud` (the runner owns the local state).
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.credentialsFile != null;
        message = ''
          ${opt}.credentialsFile is not set. Set it to the runtime path of a file with
          TAILSCALE_OAUTH_CLIENT_ID=… and TAILSCALE_OAUTH_CLIENT_SECRET=… lines, decrypted on the host
          (never a file in the Nix store), for example:
          ${credentialsExample}'';
      }
    ]
    ++ lib.mapAttrsToList (name: _: {
      assertion = isIdentifier name;
      message = "${opt}.keys.${lib.strings.escapeNixIdentifier name}: the name is not a Terraform identifier (a letter or underscore, then letters, digits, underscores or dashes), and it becomes the resource name tailscale_tailnet_key.<name>. Rename it, for example to ${opt}.keys.${suggestedIdentifier name}.";
    }) cfg.keys
    ++ lib.mapAttrsToList (name: key: {
      assertion = !(isIdentifier name) || key.tags != [ ];
      message = "${opt}.keys.${name}.tags is empty, but Tailscale refuses untagged keys from an OAuth client (\"tailnet-owned auth key must have tags set\"). Set ${opt}.tags = [ \"tag:ci\" ]; (or ${opt}.keys.${name}.tags) to tags the OAuth client owns.";
    }) cfg.keys
    ++ map (problem: {
      assertion = false;
      message = "${opt}.extraConfig${
        lib.concatMapStrings (component: ".${component}") problem.path
      } ${problem.message}";
    }) (render.problems settings);

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
        ExecStart = lib.escapeShellArgs [
          exe
          "apply"
          "--state-dir"
          cfg.stateDir
          "--config"
          configFile
          "--terraform"
          cfg.terraformBin
          "--backup-count"
          (toString cfg.backupCount)
          "--on-failure"
          cfg.onFailure
        ];
        # The runner finds it at $CREDENTIALS_DIRECTORY/tailscale-oauth; no --credentials flag.
        LoadCredential = lib.optional (cfg.credentialsFile != null) "tailscale-oauth:${cfg.credentialsFile}";
        StateDirectory = lib.removePrefix stateRoot cfg.stateDir;
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

        # Hardening (check with `systemd-analyze security tailscale-manager`).
        # It runs as root so that `sudo tailscale-manager apply` and the unit share one state directory
        # with no ownership juggling; the empty bounding set leaves that root without any capability
        # (it cannot override file permissions, change owners or reach the kernel).
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
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
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
        ${
          lib.escapeShellArgs [
            exe
            "status"
            "--oneline"
            "--state-dir"
            cfg.stateDir
          ]
        } || true
      '';
    };

    environment.systemPackages = [ cli ];
  };
}
