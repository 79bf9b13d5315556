{
  description = "tailscale-manager: declarative Tailscale auth keys for NixOS, kept alive by Terraform";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      # The pure renderer (builtins only): `tailscale-manager.lib.render { keys.ci.tags = [ "tag:ci" ]; }`
      # gives the main.tf.json value, `.toJSON` its exact text, `.defaults` and `.problems` the rules.
      lib.render = import ./nix/render.nix;

      overlays.default = final: _prev: {
        tailscale-manager = final.callPackage ./nix/package.nix { };
      };

      # `{ imports = [ path ]; }` rather than a bare path: every Nix's `flake check` accepts it, and the
      # module system still knows the file (error messages, option declarations, deduplication).
      nixosModules.tailscale-manager.imports = [ ./nix/module.nix ];
      nixosModules.default = self.nixosModules.tailscale-manager;

      # `homeModules` is the output name `nix flake check` knows; `homeManagerModules` stays as an alias.
      homeModules.tailscale-manager.imports = [ ./nix/home-manager.nix ];
      homeModules.default = self.homeModules.tailscale-manager;
      homeManagerModules = self.homeModules;

      packages = forAllSystems (pkgs: {
        tailscale-manager = pkgs.callPackage ./nix/package.nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.tailscale-manager;
      });

      # dev outputs

      # The package (with its unit and integration tests), the Nix test suite, and the NixOS VM tests.
      checks = forAllSystems (pkgs: import ./nix/checks.nix { inherit pkgs self nixpkgs; });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          packages = [
            pkgs.clippy
            pkgs.rustfmt
            pkgs.protobuf # the stand-in provider's build (checks/standin)
            pkgs.opentofu
            pkgs.jq
            pkgs.nixfmt-tree
            pkgs.shellcheck # checks/nix/run part 0
          ];
          # checks/nix/run finds nixpkgs lib, and NixOS's modules for its real-module tests, here.
          NIXPKGS_LIB = "${nixpkgs}/lib";
          NIXPKGS_DIR = "${nixpkgs}";
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt-tree);
    };
}
