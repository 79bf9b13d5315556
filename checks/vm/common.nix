# Every VM test's machine: the module with OpenTofu and the stand-in provider, a simulated tailnet
# (no network, no Tailscale account) and an OAuth credentials file created at boot, never in the store.
{
  pkgs,
  standin,
  ...
}:
let
  tailnetFile = "/var/lib/standin/tailnet.json";
in
{
  services.tailscale-manager = {
    enable = true;
    credentialsFile = "/run/secrets/tailscale-oauth";
    tags = [ "tag:ci" ];
    terraformPackage = pkgs.opentofu.withPlugins (_: [ standin ]);
  };

  # Test-only additions to the unit: the provider's API is the simulated tailnet file, which the
  # provider rewrites (so it must be writable under ProtectSystem=strict).
  systemd.services.tailscale-manager = {
    environment.TAILSCALE_BASE_URL = "file://${tailnetFile}";
    serviceConfig.ReadWritePaths = [ "/var/lib/standin" ];
    requires = [ "standin-tailnet.service" ];
    after = [ "standin-tailnet.service" ];
  };

  # The tailnet, with one OAuth client that owns tag:ci, and its credentials as EnvironmentFile lines
  # (root's, as agenix leaves them). The tailnet file is the service user's: the provider, running
  # as that user, rewrites it. Tests change it as that user too (setpriv --reuid=tailscale-manager
  # …), since a change replaces the file and root's would be root's.
  systemd.services.standin-tailnet = {
    wantedBy = [ "multi-user.target" ];
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
    };
    script = ''
      install -d -m 0700 /var/lib/standin /run/secrets
      ${pkgs.lib.getExe standin} --file ${tailnetFile} init --tags tag:ci \
        --credentials-out /run/secrets/tailscale-oauth --force
      chown -R tailscale-manager:tailscale-manager /var/lib/standin
    '';
  };

  environment.systemPackages = [
    standin
    pkgs.jq
  ];
}
