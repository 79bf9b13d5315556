# The few Home Manager options the module reads or sets (names as in home-manager's modules).
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  options = {
    assertions = mkOption {
      type = types.listOf types.unspecified;
      default = [ ];
    };
    warnings = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    home.packages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };
    home.homeDirectory = mkOption {
      type = types.str;
      default = "/home/alice";
    };
    xdg.stateHome = mkOption {
      type = types.str;
      default = "/home/alice/.local/state";
    };
  };
}
