# The `tailscale-manager` command with settings exported as the runner's environment variables
# (TAILSCALE_MANAGER_*, TAILSCALE_TAILNET). Flags given on the command line still win: the runner
# lets a flag beat its environment variable. Used by the NixOS and the Home Manager module.
#
# With `serviceUser` (the NixOS module: the unit's user) the runner only ever runs as that user, so
# every file it writes in the service's state directory stays the service's:
#   - started as root (`sudo tailscale-manager apply`), the wrapper opens the root-only files named
#     in `secretFiles` (the OAuth credentials, the pg connection string) while it still may, points
#     their variables at the open descriptors (`/dev/fd/N`; the runner reads such a path from the
#     descriptor it inherited, never by opening the file again), and drops to the user with
#     util-linux's setpriv (its groups, no new privileges) before it runs the runner;
#   - started as that user, it runs the runner as it is;
#   - anyone else gets one line saying who may run it, and exit 2; nothing runs.
# Without `serviceUser` (Home Manager: the user's own state) it runs the runner directly.
#
# Called with pkgs.callPackage, so `.override` changes an argument (the tests run the NixOS wrapper
# with another user standing in for the service's).
{
  lib,
  writeShellScriptBin,
  coreutils,
  util-linux,
  package,
  environment,
  serviceUser ? null,
  secretFiles ? [ ],
}:
let
  runner = lib.escapeShellArg (lib.getExe package);
  exports = lib.concatStrings (
    lib.mapAttrsToList (name: value: "export ${name}=${lib.escapeShellArg value}\n") environment
  );
  user = lib.escapeShellArg serviceUser;
  # The secret files this configuration has, by variable name.
  secrets = builtins.filter (name: environment ? ${name}) secretFiles;
in
writeShellScriptBin "tailscale-manager" (
  if serviceUser == null then
    ''
      ${exports}exec ${runner} "$@"
    ''
  else
    ''
      ${exports}if [ "$EUID" = 0 ]; then
        for secret in ${lib.escapeShellArgs secrets}; do
          # A file root cannot open either stays a path: the runner then names it in its error.
          { exec {fd}<"''${!secret}"; } 2>/dev/null && export "$secret=/dev/fd/$fd"
        done
        exec ${util-linux}/bin/setpriv --reuid=${user} --regid=${user} --init-groups --no-new-privs -- ${runner} "$@"
      elif [ "$(${coreutils}/bin/id -un)" = ${user} ]; then
        exec ${runner} "$@"
      else
        echo "tailscale-manager: run it as root (sudo tailscale-manager …) or as the service user ${serviceUser}, not as $(${coreutils}/bin/id -un)" >&2
        exit 2
      fi
    ''
)
