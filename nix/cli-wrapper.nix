# The `tailscale-manager` command with settings exported as the runner's environment variables
# (TAILSCALE_MANAGER_*, TAILSCALE_TAILNET). Flags given on the command line still win: the runner
# lets a flag beat its environment variable. Used by the NixOS and the Home Manager module.
{ lib, writeShellScriptBin }:
{ package, environment }:
writeShellScriptBin "tailscale-manager" ''
  ${lib.concatStrings (
    lib.mapAttrsToList (name: value: "export ${name}=${lib.escapeShellArg value}\n") environment
  )}exec ${lib.escapeShellArg (lib.getExe package)} "$@"
''
