# The rest of a NixOS system, for evaluating nix/module.nix together with NixOS's real
# nixos/modules/system/boot/systemd.nix, activation/activation-script.nix, misc/assertions.nix and
# system/build.nix (see harness.nix). Those modules set or read these options; the options themselves
# are not under test, so they are declared here with loose types and NixOS's defaults. Everything
# tailscale-manager sets (systemd.services/paths/timers, assertions, warnings, activation scripts,
# system.build) is declared by the real modules, not here.
#
# nixpkgs' real services.tailscale module (networking/tailscale.nix) is evaluated too; the options it
# reads or sets outside systemd are stubbed here (networking.*, security.wrapperDir). So are NixOS's
# users-groups.nix and ids.nix (users.users, users.groups and their checks); what they read elsewhere
# (boot.initrd.systemd.*, users.defaultUserShell, sysusers/userborn) is stubbed here. Of PostgreSQL,
# only `services.postgresql.enable` is read, so it is a plain stub.
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  value =
    default:
    mkOption {
      type = types.anything;
      inherit default;
    };
  attrs = value { };
  list = mkOption {
    type = types.listOf types.anything;
    default = [ ];
  };
in
{
  options = {
    boot.extraSystemdUnitPaths = list;
    boot.initrd.systemd.contents = attrs;
    boot.initrd.systemd.enable = value false;
    boot.initrd.systemd.storePaths = list;
    boot.isContainer = value false;
    boot.kernel.sysctl = attrs;
    environment.etc = attrs;
    environment.profiles = list;
    environment.systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };
    environment.variables = attrs;
    i18n.imperativeLocale = value false;
    networking.dhcpcd.denyInterfaces = list;
    networking.firewall.allowedUDPPorts = list;
    networking.firewall.checkReversePath = value true;
    networking.networkmanager.enable = value false;
    networking.proxy.envVars = attrs;
    networking.resolvconf.enable = value false;
    networking.useNetworkd = value false;
    nix.enable = value true;
    security.pam.services = attrs;
    security.polkit.enable = value false;
    security.wrapperDir = value "/run/wrappers/bin";
    services.dbus.enable = value false;
    services.logrotate.settings = attrs;
    services.openssh.enable = value false;
    services.openssh.package = value null;
    services.postgresql.enable = mkOption {
      type = types.bool;
      default = false;
    };
    services.userborn.enable = value false;
    system.activatable = value true;
    system.etc.overlay.enable = value false;
    system.fsPackages = list;
    system.nssDatabases = attrs;
    system.nssModules = list;
    system.requiredKernelConfig = list;
    systemd.network.networks = attrs;
    systemd.sysusers.enable = value false;
    systemd.tmpfiles.rules = list;
    systemd.user = attrs;
    time.timeZone = value null;
    users.defaultUserShell = value pkgs.bashInteractive;
  };

  # The activation script sources it (specialfs, activation-script.nix); built by stage-2 in NixOS.
  config.system.build.earlyMountScript = pkgs.writeShellScriptBin "early-mount" "";
}
