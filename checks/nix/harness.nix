# Shared by the module tests, the bad-input cases and checks/nix/run: evaluate nix/module.nix (and
# nix/home-manager.nix) with lib.evalModules, stub NixOS/Home Manager options and a fake pkgs.
{ lib }:
let
  fakePkgs = import ./fake-pkgs.nix { inherit lib; };

  evalWith =
    stubs: module: modules:
    lib.evalModules {
      modules = [
        stubs
        module
        { _module.args.pkgs = fakePkgs; }
      ]
      ++ modules;
    };

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
  inherit fakePkgs failedAssertions;

  render = import ../../nix/render.nix;

  # The seed README's example.
  seed = {
    services.tailscale-manager = {
      enable = true;
      tailnet = "-";
      credentialsFile = "/run/secrets/tailscale-oauth";
      tags = [ "tag:ci" ];
    };
  };

  evalNixos = modules: evalWith ./nixos-stubs.nix ../../nix/module.nix modules;
  nixos = modules: (evalNixos modules).config;

  evalHome = modules: evalWith ./home-manager-stubs.nix ../../nix/home-manager.nix modules;
  home = modules: (evalHome modules).config;

  buildNixos =
    modules:
    let
      c = nixos modules;
    in
    buildOf c {
      inherit (c.systemd) services paths timers;
      inherit (c.system) activationScripts;
      config = c.system.build.tailscale-manager-config;
      packages = map (p: p.text or p) c.environment.systemPackages;
    };

  buildHome =
    modules:
    let
      c = home modules;
    in
    buildOf c (map (p: p.text or p) c.home.packages);

  # Bad inputs: name -> { modules; expect = [ substrings of the error ]; home ? false; }
  badInputs = import ./bad-inputs.nix { inherit lib seed; };
  buildBad =
    name:
    let
      case = badInputs.${name};
    in
    (if case.home or false then buildHome else buildNixos) case.modules;
}
