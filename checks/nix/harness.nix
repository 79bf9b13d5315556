# Shared by the module tests, the bad-input cases and checks/nix/run: evaluate nix/module.nix (and
# nix/home-manager.nix) with lib.evalModules and a fake pkgs, inside one of two NixOS hosts:
#
#   nixos = null              stub declarations of the NixOS options the module sets (nixos-stubs.nix);
#   nixos = <nixpkgs>/nixos   NixOS's real systemd, activation-script, assertions and system.build
#                             modules and services.tailscale (then `lib` must be that tree's lib), plus
#                             stubs for the rest of the system (nixos-host-stubs.nix). Only this host
#                             type-checks units the way NixOS does and renders the unit files a user gets.
{
  lib,
  nixos ? null,
}:
let
  fakePkgs = import ./fake-pkgs.nix { inherit lib; };

  realNixos = nixos != null;

  nixosHost =
    if realNixos then
      map (file: nixos + "/modules/${file}") [
        "misc/assertions.nix"
        "misc/extra-arguments.nix" # the `utils` module argument systemd.nix uses
        "system/build.nix"
        "system/boot/systemd.nix"
        "system/activation/activation-script.nix"
        "misc/meta.nix" # meta.maintainers, which tailscale.nix sets
        "services/networking/tailscale.nix"
        # users.users/users.groups with NixOS's own checks (a system user needs its group, …)
        "config/users-groups.nix"
        "misc/ids.nix"
      ]
      ++ [ ./nixos-host-stubs.nix ]
    else
      [ ./nixos-stubs.nix ];

  evalWith =
    host: module: modules:
    lib.evalModules {
      modules =
        host
        ++ [
          module
          { _module.args.pkgs = fakePkgs; }
        ]
        ++ modules;
    };

  # Unit name -> unit file text of this module's units (real NixOS only: the stubs render no text).
  unitTexts =
    config:
    builtins.mapAttrs (_: unit: unit.text) (
      lib.filterAttrs (name: _: lib.hasPrefix "tailscale-manager" name) config.systemd.units
    );

  failedAssertions =
    config: map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);

  # What a system build sees: failed assertions throw (worded as NixOS's toplevel does), otherwise
  # everything the module produced is forced, including main.tf.json's text.
  buildOf =
    config: forced:
    let
      failed = failedAssertions config;
    in
    if failed != [ ] then
      throw "\nFailed assertions:\n${lib.concatMapStrings (m: "- ${m}\n") failed}"
    else
      builtins.deepSeq forced true;
in
rec {
  inherit fakePkgs failedAssertions realNixos;

  render = import ../../nix/render.nix;

  # The example in README's quick start (also that of the original tool, tailscale-manager 0.3.0).
  example = {
    services.tailscale-manager = {
      enable = true;
      tailnet = "-";
      credentialsFile = "/run/secrets/tailscale-oauth";
      tags = [ "tag:ci" ];
    };
  };

  # The example with more options of the module, as a module list.
  with' = extra: [
    example
    { services.tailscale-manager = extra; }
  ];
  # The options of state in PostgreSQL, with `extra` merged into stateBackend.
  pg = extra: {
    stateBackend = lib.recursiveUpdate {
      type = "pg";
      pg.connectionStringFile = "/run/secrets/tailscale-manager-pg";
    } extra;
  };
  tailscaleOn = {
    services.tailscale.enable = true;
  };

  evalNixos = modules: evalWith nixosHost ../../nix/module.nix modules;
  nixos = modules: (evalNixos modules).config;
  # The same host without tailscale-manager's module.
  hostOnly = (lib.evalModules { modules = nixosHost ++ [ { _module.args.pkgs = fakePkgs; } ]; }).config;

  # The packages a configuration adds to the host's own environment.systemPackages (the CLI).
  addedPackages =
    c: builtins.filter (p: !(builtins.elem p hostOnly.environment.systemPackages)) c.environment.systemPackages;

  # Store paths differ between machines (store directory, hashes of the fake packages): golden unit
  # files show every `<storeDir>/<hash>-` as `/nix/store/<hash>-`.
  normaliseStorePaths =
    text:
    lib.concatMapStrings (part: if builtins.isList part then "/nix/store/<hash>-" else part) (
      builtins.split "${lib.escapeRegex builtins.storeDir}/[0-9a-z]{32}-" text
    );

  # Unit name -> the unit file's text, as NixOS writes it to /etc/systemd/system (real NixOS only).
  unitFiles =
    modules:
    assert lib.assertMsg realNixos "unitFiles needs NixOS's real modules (harness.nix { nixos = …; })";
    unitTexts (nixos modules);

  evalHome = modules: evalWith [ ./home-manager-stubs.nix ] ../../nix/home-manager.nix modules;
  home = modules: (evalHome modules).config;

  # What a system build sees of this module: its units, activation snippet, config file and CLI. With
  # real NixOS that is the unit files' text, which is where NixOS renders serviceConfig (a set inside
  # it fails only there); the stubs have no unit text, so their unit options are forced instead.
  # The host's own units are not forced (their packages are not in the fake pkgs).
  buildNixos =
    modules:
    let
      c = nixos modules;
      own = lib.filterAttrs (name: _: lib.hasPrefix "tailscale-manager" name);
    in
    buildOf c {
      units =
        if realNixos then
          unitTexts c
        else
          {
            services = own c.systemd.services;
            paths = own c.systemd.paths;
            timers = own c.systemd.timers;
          };
      activation = c.system.activationScripts.tailscale-manager or null;
      config = c.system.build.tailscale-manager-config;
      packages = map (p: p.text or p) c.environment.systemPackages;
    };

  buildHome =
    modules:
    let
      c = home modules;
    in
    buildOf c (map (p: p.text or p) c.home.packages);

  # Bad inputs: name -> { modules; expect = [ substrings of the error ]; home ? false; … }
  badInputs = import ./bad-inputs.nix { inherit lib with' pg tailscaleOn; };
  # The cases that only NixOS's real modules catch, and the cases this host can check.
  realNixosBadInputs = lib.filterAttrs (_: case: case.realNixos or false) badInputs;
  hostBadInputs = if realNixos then badInputs else removeAttrs badInputs (builtins.attrNames realNixosBadInputs);
  buildBad =
    name:
    let
      case = badInputs.${name};
    in
    (if case.home or false then buildHome else buildNixos) case.modules;
}
