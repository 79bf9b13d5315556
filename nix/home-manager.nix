# Home Manager module: programs.tailscale-manager.
#
# Installs the CLI for one user, without any systemd unit: `tailscale-manager plan|apply|status` then use
# the user's own state directory, tailnet and credentials file. Configurations to apply come from the
# user (for example `tailscale-manager.lib.render`, see README); the secret stays a runtime path.
{
  config,
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
    types
    ;

  cfg = config.programs.tailscale-manager;

  tmTypes = import ./types.nix { inherit lib; };
  runnerCli = import ./runner-cli.nix { inherit lib; };
  sharedOptions = import ./shared-options.nix { inherit lib pkgs; };

  cli = pkgs.callPackage ./cli-wrapper.nix {
    inherit (cfg) package;
    environment = runnerCli.environment { inherit (cfg) tailnet stateDir credentialsFile; };
  };
in
{
  options.programs.tailscale-manager = {
    enable = mkEnableOption "the tailscale-manager command for this user";

    inherit (sharedOptions) package;

    tailnet = mkOption {
      type = types.nonEmptyStr;
      default = "-";
      description = ''
        Exported as `TAILSCALE_TAILNET` for terraform; the provider uses it when the configuration does
        not name a tailnet. `"-"` means the OAuth client's tailnet.
      '';
    };

    credentialsFile = mkOption {
      type = types.nullOr tmTypes.credentialsPath;
      default = null;
      example = "/run/user/1000/secrets/tailscale-oauth";
      description = ''
        Runtime path of a file with `TAILSCALE_OAUTH_CLIENT_ID=…` and `TAILSCALE_OAUTH_CLIENT_SECRET=…`
        (for example from sops-nix's or agenix's Home Manager module). Exported as
        `TAILSCALE_MANAGER_CREDENTIALS_FILE`; never read at evaluation time, never copied into the store.
      '';
    };

    stateDir = mkOption {
      type = tmTypes.directoryPath;
      default = "${config.xdg.stateHome}/tailscale-manager";
      defaultText = literalExpression ''"''${config.xdg.stateHome}/tailscale-manager"'';
      description = ''
        The user's state directory (terraform state, backups, last-apply.json), exported as
        `TAILSCALE_MANAGER_STATE_DIR`. The runner creates it with mode 0700.
      '';
    };
  };

  config = mkIf cfg.enable {
    home.packages = [ cli ];
  };
}
