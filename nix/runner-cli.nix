# The runner's command line as the modules call it. Every setting the modules hand the runner is listed
# once, with its flag and its environment variable (runner/src/cli.rs; README, "The runner"), so the
# unit's ExecStart, the activation line and the CLI wrappers cannot disagree.
{ lib }:
let
  # In the order the flags appear on a command line.
  settings = [
    {
      name = "stateDir";
      flag = "--state-dir";
      env = "TAILSCALE_MANAGER_STATE_DIR";
    }
    {
      name = "config";
      flag = "--config";
      env = "TAILSCALE_MANAGER_CONFIG";
    }
    {
      name = "terraformBin";
      flag = "--terraform";
      env = "TAILSCALE_MANAGER_TERRAFORM_BIN";
    }
    {
      name = "backupCount";
      flag = "--backup-count";
      env = "TAILSCALE_MANAGER_BACKUP_COUNT";
    }
    {
      name = "onFailure";
      flag = "--on-failure";
      env = "TAILSCALE_MANAGER_ON_FAILURE";
    }
    {
      name = "workspace";
      flag = "--workspace";
      env = "TAILSCALE_MANAGER_WORKSPACE";
    }
    {
      name = "credentialsFile";
      flag = "--credentials";
      env = "TAILSCALE_MANAGER_CREDENTIALS_FILE";
      # A root-only file: the NixOS wrapper hands it to the runner as an open descriptor.
      secret = true;
    }
    {
      name = "pgConnectionFile";
      flag = "--pg-connection-file";
      env = "TAILSCALE_MANAGER_PG_CONNECTION_FILE";
      # A root-only file: the NixOS wrapper hands it to the runner as an open descriptor.
      secret = true;
    }
    {
      # Not the runner's own: it passes TAILSCALE_TAILNET through to terraform's provider.
      name = "tailnet";
      env = "TAILSCALE_TAILNET";
    }
  ];

  # The settings given a value (null means not given), in `settings` order; unknown names are a bug.
  given =
    values:
    let
      known = map (s: s.name) settings;
      unknown = builtins.filter (name: !(builtins.elem name known)) (builtins.attrNames values);
    in
    if unknown != [ ] then
      throw "nix/runner-cli.nix: no runner setting named ${builtins.concatStringsSep ", " unknown}"
    else
      builtins.filter (s: values.${s.name} or null != null) settings;
in
{
  # `<runner> <args…> --flag value …` as one shell-quoted string (systemd's ExecStart= understands
  # the same single quotes).
  command =
    {
      package,
      args,
      values,
    }:
    lib.escapeShellArgs (
      [ (lib.getExe package) ]
      ++ args
      ++ lib.concatMap (s: [
        s.flag
        (toString values.${s.name})
      ]) (given values)
    );

  # The variables that name root-only secret files (see `secret` above).
  secretEnvironment = map (s: s.env) (builtins.filter (s: s.secret or false) settings);

  # The same settings as environment variables (a flag on the command line still wins over them).
  environment =
    values: builtins.listToAttrs (map (s: lib.nameValuePair s.env (toString values.${s.name})) (given values));
}
