# NixOS module, imported by module.nix: where terraform keeps the state.
#
# "local" (the default): terraform.tfstate in stateDir. "pg": terraform's (and OpenTofu's) built-in pg
# backend, so that the state outlives the host and several hosts can share it. module.nix hands the
# renderer the backend (nix/render/state-backend.nix renders terraform.backend.pg, never the
# connection string) and the runner the workspace; this file adds the options, the checks and the
# unit's wiring. The connection string reaches the unit as the systemd credential pg-conn-str; the
# runner exports it to terraform as PG_CONN_STR.
{
  config,
  options,
  lib,
  ...
}:
let
  inherit (lib)
    literalExpression
    mkIf
    mkOption
    types
    ;

  cfg = config.services.tailscale-manager;
  opt = options.services.tailscale-manager;
  backend = cfg.stateBackend;
  pg = backend.type == "pg";

  render = import ./render.nix;
  tmTypes = import ./types.nix { inherit lib; };

  localServer = [
    "postgresql.service"
    "postgresql.target"
  ];
in
{
  options.services.tailscale-manager.stateBackend = {
    type = mkOption {
      type = tmTypes.stateBackendType;
      default = render.defaults.stateBackend.type;
      description = ''
        Where terraform keeps the state. `"local"`: `terraform.tfstate` in `stateDir`. `"pg"`:
        terraform's `pg` backend in a PostgreSQL database (`stateBackend.pg.*`), so that the state
        outlives this host and several hosts can share it. With `"pg"`, `onFailure` defaults to
        `"keep"` and may not be `"restore"`.
      '';
    };

    pg = {
      connectionStringFile = mkOption {
        type = types.nullOr tmTypes.credentialsPath;
        default = null;
        example = literalExpression "config.age.secrets.tailscale-manager-pg.path";
        description = ''
          Runtime path of a file holding the libpq connection string (a `postgresql://…` URL or
          `key=value` words), decrypted on the host by agenix or sops-nix. Required with `"pg"`.
          systemd hands it to the unit with `LoadCredential=pg-conn-str:…` (`sudo tailscale-manager`
          to the runner as an open descriptor), and the runner hands it to terraform as
          `PG_CONN_STR`: it is never read at evaluation time, never copied into the store and never
          rendered into main.tf.json.
        '';
      };

      schemaName = mkOption {
        type = tmTypes.pgSchemaName;
        default = render.defaults.stateBackend.schemaName;
        description = "PostgreSQL schema of the state table (`schema_name`); terraform creates it unless it exists.";
      };

      workspace = mkOption {
        type = tmTypes.workspaceName;
        default = "default";
        description = ''
          Terraform workspace (the runner's `--workspace`; one row of the state table). Hosts that
          manage the same keys share a workspace (and must then render the same configuration);
          hosts that must not share keys use different ones.
        '';
      };
    };
  };

  config = mkIf (cfg.enable && pg) {
    # Restoring would push a backup over state that another host may have written since.
    services.tailscale-manager.onFailure = lib.mkDefault "keep";

    assertions = [
      {
        assertion = backend.pg.connectionStringFile != null;
        message = ''
          ${opt.stateBackend.pg.connectionStringFile} is not set, but ${opt.stateBackend.type} is "pg".
          Set it to the runtime path of a file holding the libpq connection string, decrypted on the host
          (never a file in the Nix store), for example:
            agenix: ${opt.stateBackend.pg.connectionStringFile} = config.age.secrets.tailscale-manager-pg.path;
          with the file holding a line such as
            postgresql://tailscale_manager:<password>@db.example.com/tfstate?sslmode=verify-full'';
      }
      {
        assertion = cfg.onFailure != "restore";
        message = ''${opt.onFailure} is "restore", which ${opt.stateBackend.type} = "pg" rules out: restoring would push the pre-run backup over the state in PostgreSQL and undo what another host wrote since. Remove the setting: with "pg" it defaults to "keep", which leaves terraform's state (the record of what exists) as the failed run left it.'';
      }
    ];

    systemd.services.tailscale-manager = {
      # Its own database server first; a remote one needs nothing. postgresql.service alone only
      # promises a read-only connection: since NixOS 25.11 postgresql.target also waits for
      # ensureDatabases/ensureUsers (nixos/doc/manual/release-notes/rl-2511.section.md), which
      # typically create the role and database the connection string names. Both, for releases
      # without the target (a missing unit in Wants=/After= is ignored).
      wants = lib.optionals config.services.postgresql.enable localServer;
      after = lib.optionals config.services.postgresql.enable localServer;
      # The runner finds it at $CREDENTIALS_DIRECTORY/pg-conn-str; no --pg-connection-file flag.
      serviceConfig.LoadCredential = lib.optional (
        backend.pg.connectionStringFile != null
      ) "pg-conn-str:${backend.pg.connectionStringFile}";
    };
  };
}
