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

  # One helper, one line per test: every checks/vm/*.nix except the helpers is a test module.
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
  vmTests = lib.mapAttrs' (
    file: _: lib.nameValuePair "vm-${lib.removeSuffix ".nix" file}" (runTest (../checks/vm + "/${file}"))
  ) (
    lib.filterAttrs (
      file: type:
      type == "regular"
      && lib.hasSuffix ".nix" file
      && !(builtins.elem file [
        "common.nix"
        "standin-provider.nix"
      ])
    ) (builtins.readDir ../checks/vm)
  );

  # The same script as on a developer machine (checks/nix/run), with this flake's nixpkgs lib, inside
  # the build sandbox: Nix gets a private store under $TMPDIR, as nixpkgs' own lib tests do.
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
        ];
        NIXPKGS_LIB = "${nixpkgs}/lib";
      }
      ''
        set -o pipefail
        export HOME=$TMPDIR
        export NIX_STORE_DIR=$TMPDIR/nix/store NIX_STATE_DIR=$TMPDIR/nix/var
        export NIX_LOG_DIR=$TMPDIR/nix/var/log NIX_CONF_DIR=$TMPDIR/nix/etc
        nix-store --init
        cp -r "$src" src && chmod -R u+w src && cd src
        patchShebangs checks/nix/run
        checks/nix/run | tee "$TMPDIR/log"
        # Exit 77 (something skipped) is a failure here: lib is provided, so everything must run.
        if grep -q '^SKIPPED' "$TMPDIR/log"; then exit 1; fi
        touch $out
      '';
in
{
  package = self.packages.${system}.default;
  nix-tests = nixSuite;
}
// lib.optionalAttrs pkgs.stdenv.hostPlatform.isLinux vmTests
