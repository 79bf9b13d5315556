# checks.<system> of the flake: `nix flake check` (Nix ≥ 2.18, a binary cache, and KVM for the VM tests).
{
  pkgs,
  self,
  nixpkgs,
}:
let
  inherit (pkgs) lib;
  system = pkgs.stdenv.hostPlatform.system;
  fs = lib.fileset;

  # The stand-in Tailscale provider, laid out like a nixpkgs terraform provider (mkProvider).
  standin = pkgs.callPackage ../checks/vm/standin-provider.nix { };

  # One helper, one line per test (lanzaboote's shape); checks/vm/common.nix and
  # standin-provider.nix are what every test machine shares.
  runTest =
    file:
    pkgs.testers.runNixOSTest {
      imports = [ file ];
      globalTimeout = 10 * 60;
      defaults.imports = [
        self.nixosModules.default
        ../checks/vm/common.nix
      ];
      node.specialArgs = { inherit standin; };
    };
  vmTests = {
    vm-keys = runTest ../checks/vm/keys.nix;
    vm-key-files = runTest ../checks/vm/key-files.nix;
    vm-service-user = runTest ../checks/vm/service-user.nix;
  };

  # The same script as on a developer machine (checks/nix/run), with this flake's nixpkgs (its lib, and
  # its NixOS modules for the real-module tests), inside the build sandbox: Nix gets a private store
  # under $TMPDIR, as nixpkgs' own lib tests do.
  nixSuite =
    pkgs.runCommand "tailscale-manager-nix-tests"
      {
        src = fs.toSource {
          root = ../.;
          fileset = fs.unions [
            ../nix
            ../checks/nix
            ../checks/render
            ../README.md
          ];
        };
        nativeBuildInputs = [
          pkgs.nix
          pkgs.jq
          pkgs.python3
          pkgs.systemd # systemd-analyze security --offline=true
          pkgs.shellcheck
        ];
        NIXPKGS_LIB = "${nixpkgs}/lib";
        NIXPKGS_DIR = "${nixpkgs}";
      }
      ''
        set -o pipefail
        export HOME=$TMPDIR
        export NIX_STORE_DIR=$TMPDIR/nix/store NIX_STATE_DIR=$TMPDIR/nix/var
        export NIX_LOG_DIR=$TMPDIR/nix/var/log NIX_CONF_DIR=$TMPDIR/nix/etc
        nix-store --init
        cp -r "$src" src && chmod -R u+w src && cd src
        patchShebangs checks/nix
        status=0
        checks/nix/run | tee "$TMPDIR/log" || status=$?
        if [ "$status" != 0 ] && [ "$status" != 77 ]; then exit "$status"; fi
        # lib and NixOS are provided, so every skip is a failure here, except the parts the sandbox
        # cannot run: the flake checks (no git checkout), the unit command (no cargo or terraform;
        # the VM test covers it) and the CLI wrapper's privilege drop (the build is not root).
        if grep '^SKIPPED' "$TMPDIR/log" \
          | grep -v "^SKIPPED: flake checks\|^SKIPPED: the unit's command\|^SKIPPED: the NixOS CLI wrapper's privilege drop"; then
          exit 1
        fi
        touch $out
      '';
in
{
  package = self.packages.${system}.default;
  nix-tests = nixSuite;
}
// lib.optionalAttrs pkgs.stdenv.hostPlatform.isLinux vmTests
