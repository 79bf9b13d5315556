# The unit files a user gets, as NixOS's real modules write them (nixos/lib/systemd-lib.nix), for the
# README example. Needs a nixpkgs tree (`nixos`); checks/nix/run reports these tests as SKIPPED
# without one. The golden files in golden/ are rewritten by `checks/nix/run --update-golden`.
{ lib, nixos }:
let
  h = import ./harness.nix { inherit lib nixos; };
  inherit (h) example with';

  withTimer = with' { enableTimer = true; };
  units = h.unitFiles withTimer;
  service = units."tailscale-manager.service";
  lines = text: lib.splitString "\n" text;
  serviceLines = lines service;
  # The lines `Key=…` of the service file, in order.
  linesOf = key: builtins.filter (lib.hasPrefix "${key}=") serviceLines;

  golden = name: builtins.readFile (./golden + "/${name}");
  config = h.nixos [ example ];

  # The lines `Key=…` of a unit file of a configuration (any unit, not only this module's).
  unitLines =
    modules: unit: key:
    builtins.filter (lib.hasPrefix "${key}=") (lines (h.nixos modules).systemd.units.${unit}.text);

  delivering =
    with' {
      authKeyForTailscaled = "managed_key";
      keys.managed_key.loadCredentialFor = [ "ci-runner" ];
    }
    ++ [
      h.tailscaleOn
      { systemd.services.ci-runner.serviceConfig.ExecStart = "/bin/true"; }
    ];
  pg = with' (h.pg { }) ++ [ { services.postgresql.enable = true; } ];
in
{
  testServiceFileGolden = {
    expr = h.normaliseStorePaths service;
    expected = golden "tailscale-manager.service";
  };

  testPathFileGolden = {
    expr = h.normaliseStorePaths units."tailscale-manager-watch.path";
    expected = golden "tailscale-manager-watch.path";
  };

  testTimerFileGolden = {
    expr = h.normaliseStorePaths units."tailscale-manager.timer";
    expected = golden "tailscale-manager.timer";
  };

  # The README example has no timer; the golden service file is its service file too.
  testTimerLeavesServiceFileAlone = {
    expr = h.unitFiles [ example ];
    expected = removeAttrs units [ "tailscale-manager.timer" ];
  };

  # NixOS writes ExecStart= as the module built it (no re-quoting, no wrapper script).
  testExecStartLine = {
    expr = linesOf "ExecStart";
    expected = [ "ExecStart=${config.systemd.services.tailscale-manager.serviceConfig.ExecStart}" ];
  };

  testOneshotWithoutRemainAfterExitLines = {
    expr = {
      type = linesOf "Type";
      remain = linesOf "RemainAfterExit";
    };
    expected = {
      type = [ "Type=oneshot" ];
      remain = [ ];
    };
  };

  # The secret's path reaches systemd only as LoadCredential=; the only environment is NixOS's PATH.
  testCredentialLines = {
    expr = {
      credential = linesOf "LoadCredential";
      environment = map (line: builtins.head (lib.splitString "=" (lib.removePrefix "Environment=\"" line))) (
        linesOf "Environment"
      );
      mentions = builtins.length (builtins.filter (lib.hasInfix "/run/secrets/tailscale-oauth") serviceLines);
    };
    expected = {
      credential = [ "LoadCredential=tailscale-oauth:/run/secrets/tailscale-oauth" ];
      environment = [ "PATH" ];
      mentions = 1;
    };
  };

  # List-valued settings become one line per entry, in the module's order.
  testListSettingsOneLineEach = {
    expr = {
      families = linesOf "RestrictAddressFamilies";
      filter = linesOf "SystemCallFilter";
    };
    expected = {
      families = [
        "RestrictAddressFamilies=AF_UNIX"
        "RestrictAddressFamilies=AF_INET"
        "RestrictAddressFamilies=AF_INET6"
      ];
      filter = [
        "SystemCallFilter=@system-service"
        "SystemCallFilter=~@privileged"
      ];
    };
  };

  # The empty capability sets must reach the file as empty assignments (which clear them).
  testEmptyCapabilityLines = {
    expr = linesOf "CapabilityBoundingSet" ++ linesOf "AmbientCapabilities";
    expected = [
      "CapabilityBoundingSet="
      "AmbientCapabilities="
    ];
  };

  testOrderingAndInstallLines = {
    expr = {
      unit = linesOf "After" ++ linesOf "Wants";
      install = lib.hasInfix "\n[Install]\nWantedBy=multi-user.target\n" service;
    };
    expected = {
      unit = [
        "After=network-online.target"
        "Wants=network-online.target"
      ];
      install = true;
    };
  };

  # NixOS's systemd module warns about units ordered after network-online.target without wanting it,
  # and about oneshot units with Restart=always; the README example triggers none.
  testNoNixosWarnings = {
    expr = config.warnings;
    expected = [ ];
  };

  # The activation snippet sits in NixOS's activation script under its own header.
  testActivationSnippetInActivationScript = {
    expr = lib.hasInfix ''
      #### Activation script snippet tailscale-manager:
      _localstatus=0
      ${config.system.activationScripts.tailscale-manager.text}
    '' config.system.activationScripts.script;
    expected = true;
  };

  # ---- key delivery and PostgreSQL, as the unit files say them ------------------------------------

  # A consumer's credential and ordering; the key's value itself is in no unit file.
  testConsumerUnitLines = {
    expr = map (unitLines delivering "ci-runner.service") [
      "LoadCredential"
      "Wants"
      "After"
    ];
    expected = [
      [ "LoadCredential=tailscale-authkey-managed_key:/var/lib/tailscale-manager/keys/managed_key" ]
      [ "Wants=tailscale-manager.service" ]
      [ "After=tailscale-manager.service" ]
    ];
  };

  # nixpkgs' own tailscaled-autoconnect.service (its script runs `tailscale up`) after the manager.
  testAutoconnectUnitLines = {
    expr = map (unitLines delivering "tailscaled-autoconnect.service") [
      "After"
      "Wants"
      "Type"
    ];
    expected = [
      [ "After=tailscaled.service tailscale-manager.service" ]
      [ "Wants=tailscaled.service tailscale-manager.service" ]
      [ "Type=notify" ]
    ];
  };

  # The manager's own unit is unchanged by delivering keys (only main.tf.json differs).
  testDeliveryLeavesManagerUnitAlone = {
    expr =
      lib.filter (line: !(lib.hasPrefix "ExecStart=" line)) (lines (h.unitFiles delivering)."tailscale-manager.service")
      == lib.filter (line: !(lib.hasPrefix "ExecStart=" line)) serviceLines;
    expected = true;
  };

  testPgUnitLines = {
    expr = map (unitLines pg "tailscale-manager.service") [
      "LoadCredential"
      "After"
      "Wants"
    ];
    expected = [
      [
        "LoadCredential=tailscale-oauth:/run/secrets/tailscale-oauth"
        "LoadCredential=pg-conn-str:/run/secrets/tailscale-manager-pg"
      ]
      [ "After=network-online.target postgresql.service postgresql.target" ]
      [ "Wants=network-online.target postgresql.service postgresql.target" ]
    ];
  };

  testPgNoNixosWarnings = {
    expr = (h.nixos pg).warnings ++ (h.nixos delivering).warnings;
    expected = [ ];
  };
}
