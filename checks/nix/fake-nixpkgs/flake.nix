# A stand-in for the nixpkgs flake, for `nix flake check --no-build` on a machine that cannot evaluate
# nixpkgs (Nix < 2.18, no network). checks/nix/run copies nixpkgs lib next to this file as ./lib and
# overrides the `nixpkgs` input with it. `lib` is real; every package is a real but never-built
# `derivation`, and each builder checks what it is given (files exist, required attributes are set),
# so the flake's outputs, nix/package.nix, nix/checks.nix and checks/vm/* are evaluated for real.
{
  outputs =
    { self }:
    let
      realLib = import ./lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];

      require =
        cond: message: value:
        if cond then value else throw "fake nixpkgs: ${message}";

      # lib.fileset needs builtins.readFileType (Nix >= 2.14): stand in with a checker that every
      # listed path exists (maybeMissing ones may not) and returns the root, with the members
      # (so a package can check that what it needs is among them).
      fileset = {
        unions = map (x: if builtins.isList x then x else [ x ]);
        maybeMissing = path: if builtins.pathExists path then [ path ] else [ ];
        toSource =
          { root, fileset }:
          let
            members = builtins.concatLists (if builtins.isList fileset then fileset else [ [ fileset ] ]);
          in
          builtins.foldl' (
            acc: path: require (builtins.pathExists path) "fileset member ${toString path} does not exist" acc
          ) {
            outPath = root;
            inherit members;
          } members;
        # Whether `path` is a member of the source or below one.
        contains =
          src: path:
          builtins.any (m: m == path || realLib.hasPrefix "${toString m}/" (toString path)) src.members;
      };
      lib = realLib // {
        inherit fileset;
      };

      forSystem =
        system:
        let
          drv =
            name: attrs:
            derivation {
              inherit name system;
              builder = "/bin/sh";
              args = [
                "-c"
                "exit 1"
              ];
            }
            // attrs;
          pkg = name: mainProgram: drv name { meta.mainProgram = mainProgram; };
          pluggable =
            name: mainProgram:
            pkg name mainProgram
            // {
              withPlugins =
                f:
                let
                  plugins = f pkgs.terraform-providers;
                in
                require (builtins.all (p: p ? outPath) plugins) "withPlugins: every plugin must be a derivation" (
                  pkg "${name}-with-plugins" mainProgram
                );
            };

          pkgs = {
            inherit lib;
            stdenv.hostPlatform = {
              inherit system;
              isLinux = true;
              go = {
                GOOS = "linux";
                GOARCH =
                  {
                    x86_64-linux = "amd64";
                    aarch64-linux = "arm64";
                  }
                  .${system};
              };
            };
            callPackage =
              fn: args:
              let
                f = if builtins.isFunction fn then fn else import fn;
              in
              f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // args);
            rustPlatform.buildRustPackage =
              attrs:
              let
                # Where cargoSetupHook looks for Cargo.lock and cargoBuildHook runs cargo.
                inSrc = dir: file: builtins.pathExists "${toString attrs.src}/${attrs.${dir} or "."}/${file}";
                # Cargo reads the manifest of every path dependency (dev-dependencies too), even to
                # build only the binaries.
                crate = attrs.src.outPath + "/${attrs.buildAndTestSubdir or "."}";
                manifest = builtins.fromTOML (builtins.readFile (crate + "/Cargo.toml"));
                pathDeps = builtins.concatMap (
                  kind:
                  map (dep: crate + "/${dep.path}/Cargo.toml") (
                    builtins.filter (dep: builtins.isAttrs dep && dep ? path) (builtins.attrValues (manifest.${kind} or { }))
                  )
                ) [
                  "dependencies"
                  "dev-dependencies"
                  "build-dependencies"
                ];
                missing = builtins.filter (dep: !fileset.contains attrs.src dep) pathDeps;
              in
              require (attrs ? pname && attrs ? version) "buildRustPackage needs pname and version" (
                require (builtins.pathExists attrs.cargoLock.lockFile)
                  "cargoLock.lockFile ${toString attrs.cargoLock.lockFile} does not exist"
                  (
                    require (inSrc "cargoRoot" "Cargo.lock") "src has no Cargo.lock (in cargoRoot)" (
                      require (inSrc "buildAndTestSubdir" "Cargo.toml") "src has no Cargo.toml (in buildAndTestSubdir)" (
                        require (missing == [ ])
                          "src lacks the manifests of path dependencies: ${toString (map toString missing)}"
                          (
                            drv "${attrs.pname}-${attrs.version}" {
                              inherit (attrs) pname version;
                              meta = attrs.meta or { };
                              passthru = attrs.passthru or { };
                            }
                          )
                      )
                    )
                  )
              );
            runCommand =
              name: env: script:
              require (builtins.isString script) "runCommand needs a script" (drv name { });
            mkShell = attrs: drv "shell" { };
            testers.runNixOSTest =
              test:
              let
                modules = test.imports or [ ];
                evaluated = map (m: import m) modules;
              in
              # The packages handed to the nodes (e.g. the stand-in provider) are built by the test.
              builtins.deepSeq (map (v: v.drvPath or null) (builtins.attrValues (test.node.specialArgs or { })))
              require (builtins.all (
                m: builtins.isAttrs m && m ? name && m ? testScript && m ? nodes
              ) evaluated) "runNixOSTest: each test module needs name, nodes and testScript" (drv "vm-test-run-${(builtins.head evaluated).name}" { });
            terraform-providers.tailscale_tailscale = drv "terraform-provider-tailscale-0.29.2" { };
            opentofu = pluggable "opentofu" "tofu";
            terraform = pluggable "terraform" "terraform";
            versionCheckHook = drv "version-check-hook" { };
            protobuf = pkg "protobuf" "protoc";
            clippy = pkg "clippy" "cargo-clippy";
            rustfmt = pkg "rustfmt" "rustfmt";
            jq = pkg "jq" "jq";
            nix = pkg "nix" "nix";
            python3 = pkg "python3" "python3";
            nixfmt-tree = pkg "nixfmt-tree" "treefmt";
            shellcheck = pkg "shellcheck" "shellcheck";
          };
        in
        pkgs;
    in
    {
      inherit lib;
      legacyPackages = realLib.genAttrs systems forSystem;
    };
}
