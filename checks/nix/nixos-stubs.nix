# The few NixOS options the module sets or reads, declared with NixOS's own names and close to NixOS's
# types, so that lib.evalModules (with _module.check on) rejects anything the module sets that NixOS
# would not have. Unit bodies (serviceConfig, pathConfig, timerConfig) stay free-form, as in NixOS.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  strList = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
  # nixos/lib/systemd-unit-options.nix, unitOption: lists from several definitions are concatenated
  # (LoadCredential from two modules), other values must agree.
  unitOption = lib.mkOptionType {
    name = "systemd option";
    merge =
      loc: defs:
      if lib.any (def: builtins.isList def.value) defs then
        lib.concatMap (def: lib.toList def.value) defs
      else
        lib.mergeEqualOption loc defs;
  };
  unitSection = mkOption {
    type = types.attrsOf unitOption;
    default = { };
  };
  flag = mkOption {
    type = types.bool;
    default = false;
  };
  nullOr =
    type:
    mkOption {
      type = types.nullOr type;
      default = null;
    };
  # Subset of nixos/lib/systemd-unit-options.nix (names checked against it).
  unit = extra: {
    options = {
      enable = mkOption {
        type = types.bool;
        default = true;
      };
      description = mkOption {
        type = types.str;
        default = "";
      };
      wantedBy = strList;
      requiredBy = strList;
      wants = strList;
      requires = strList;
      after = strList;
      before = strList;
      unitConfig = unitSection;
      restartTriggers = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
      };
    }
    // extra;
  };
  service = unit {
    serviceConfig = unitSection;
    environment = mkOption {
      type = types.attrsOf types.str;
      default = { };
    };
    path = mkOption {
      type = types.listOf types.unspecified;
      default = [ ];
    };
    script = mkOption {
      type = types.lines;
      default = "";
    };
    restartIfChanged = mkOption {
      type = types.bool;
      default = true;
    };
    stopIfChanged = mkOption {
      type = types.bool;
      default = true;
    };
    startAt = mkOption {
      type = types.either types.str (types.listOf types.str);
      default = [ ];
    };
  };
  activationSnippet = types.submodule {
    options = {
      text = mkOption { type = types.lines; };
      deps = strList;
      supportsDryActivation = mkOption {
        type = types.bool;
        default = false;
      };
    };
  };
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
    systemd.services = mkOption {
      type = types.attrsOf (types.submodule service);
      default = { };
    };
    systemd.paths = mkOption {
      type = types.attrsOf (types.submodule (unit { pathConfig = unitSection; }));
      default = { };
    };
    systemd.timers = mkOption {
      type = types.attrsOf (types.submodule (unit { timerConfig = unitSection; }));
      default = { };
    };
    system.activationScripts = mkOption {
      type = types.attrsOf (types.either types.str activationSnippet);
      default = { };
    };
    system.build = mkOption {
      type = types.lazyAttrsOf types.unspecified;
      default = { };
    };
    environment.systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };

    # The options of nixos/modules/services/networking/tailscale.nix that the module reads or sets,
    # with nixpkgs' types and defaults (the real module runs against NixOS's real modules).
    services.tailscale = {
      enable = mkOption {
        type = types.bool;
        default = false;
      };
      authKeyFile = nullOr types.path;
      authKeyParameters = mkOption {
        type = types.submodule {
          options = {
            ephemeral = nullOr types.bool;
            preauthorized = nullOr types.bool;
            baseURL = nullOr types.str;
          };
        };
        default = { };
      };
      extraUpFlags = strList;
    };

    # nixos/modules/config/users-groups.nix: the options the module sets, with NixOS's types and
    # defaults (the real module, with its checks, runs against NixOS's real modules).
    users.users = mkOption {
      type = types.attrsOf (
        types.submodule {
          options = {
            isSystemUser = flag;
            isNormalUser = flag;
            group = mkOption {
              type = types.str;
              default = "";
            };
            description = mkOption {
              type = types.passwdEntry types.str;
              default = "";
            };
          };
        }
      );
      default = { };
    };
    users.groups = mkOption {
      type = types.attrsOf (
        types.submodule {
          options.gid = nullOr types.int;
        }
      );
      default = { };
    };

    # nixos/modules/services/databases/postgresql.nix: only whether the server runs on this host.
    services.postgresql.enable = mkOption {
      type = types.bool;
      default = false;
    };
  };
}
