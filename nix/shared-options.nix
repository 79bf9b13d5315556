# Options the NixOS and the Home Manager module declare alike.
{ lib, pkgs }:
{
  package = lib.mkOption {
    type = lib.types.package;
    default = pkgs.callPackage ./package.nix { };
    defaultText = lib.literalMD "the runner built from this repository's `runner/` (`nix/package.nix`, the flake's `packages.<system>.default`)";
    description = "The runner, `tailscale-manager`.";
  };
}
