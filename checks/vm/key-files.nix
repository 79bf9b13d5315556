# Delivering a key on a real NixOS machine: the unit writes the key's file (0600, directory 0700,
# the service user's), a service running as a dynamic user gets the same value as a credential
# through keys.<name>.loadCredentialFor, sees the replacement key at its next start, and turning
# the delivery off deletes the file. (The module's wiring is also covered without a VM: see README,
# "What runs where".)
{
  name = "tailscale-manager-key-files";

  nodes.machine =
    { lib, ... }:
    {
      # terraformPackage stays common.nix's: the stand-in package holds hashicorp/local (2.9.0) next
      # to the Tailscale stand-in, so the key file needs no nixpkgs provider (which would claim the
      # same directory in withPlugins' tree).
      services.tailscale-manager.keys.managed_key.loadCredentialFor = [ "key-consumer" ];

      # A consumer that proves what it was given without printing it: the SHA-256 of its credential.
      systemd.services.key-consumer = {
        wantedBy = [ "multi-user.target" ];
        serviceConfig = {
          Type = "oneshot";
          DynamicUser = true;
          RuntimeDirectory = "key-consumer";
          RuntimeDirectoryPreserve = true;
        };
        script = ''
          sha256sum < "$CREDENTIALS_DIRECTORY/tailscale-authkey-managed_key" | cut -d' ' -f1 > /run/key-consumer/sha256
        '';
      };

      specialisation.no-delivery.configuration = {
        services.tailscale-manager.keys.managed_key.loadCredentialFor = lib.mkForce [ ];
        systemd.services.key-consumer.enable = lib.mkForce false;
      };
    };

  testScript = ''
    import hashlib
    import json

    KEY_FILE = "/var/lib/tailscale-manager/keys/managed_key"
    # Changes to the tailnet file as the user whose file it is (see common.nix).
    AS_MANAGER = "setpriv --reuid=tailscale-manager --regid=tailscale-manager --init-groups"

    def wait_until_run_finished():
        machine.wait_until_succeeds(
            "systemctl show -P ActiveState tailscale-manager.service | grep -Eqx 'inactive|failed'", timeout=300
        )

    def managed_key():
        _, out = machine.execute("tailscale-manager status --json")
        keys = json.loads(out)["managed_keys"]
        assert len(keys) == 1, f"expected one managed key, got {keys}"
        return keys[0]

    def tailnet_sha256(key_id):
        # The value the simulated tailnet holds for the key, hashed here, never printed.
        secret = machine.succeed(
            f"jq -j --arg id {key_id} '.keys[] | select(.id == $id) | .key' /var/lib/standin/tailnet.json"
        )
        assert secret.startswith("tskey-auth-"), f"no secret for {key_id} in the tailnet"
        return hashlib.sha256(secret.encode()).hexdigest()

    def consumer_sha256():
        return machine.succeed("cat /run/key-consumer/sha256").strip()

    start_all()
    machine.wait_for_unit("standin-tailnet.service")
    base = machine.succeed("readlink -f /run/current-system").strip()

    with subtest("the first run writes the key file, the service user's alone"):
        machine.wait_until_succeeds(f"test -e {KEY_FILE}", timeout=300)
        wait_until_run_finished()
        mode = machine.succeed(f"stat -c '%a %U' {KEY_FILE} $(dirname {KEY_FILE})").split()
        expected = ["600", "tailscale-manager", "700", "tailscale-manager"]
        assert mode == expected, f"expected file 600 and directory 700, tailscale-manager's; got {mode}"
        first = managed_key()
        file_sha = machine.succeed(f"sha256sum < {KEY_FILE} | cut -d' ' -f1").strip()
        assert file_sha == tailnet_sha256(first["id"]), "the key file does not hold the tailnet's key"

    with subtest("a service running as a dynamic user reads the same key as its credential"):
        machine.wait_until_succeeds("test -s /run/key-consumer/sha256", timeout=300)
        result = machine.succeed("systemctl show -P Result key-consumer.service").strip()
        assert result == "success", f"expected key-consumer Result=success, got {result!r}"
        assert consumer_sha256() == tailnet_sha256(first["id"]), "the credential differs from the tailnet's key"
        after = machine.succeed("systemctl show -P After key-consumer.service")
        assert "tailscale-manager.service" in after.split(), f"key-consumer is not ordered after the manager: {after}"

    with subtest("after a rotation the service gets the new key at its next start"):
        machine.succeed(f"{AS_MANAGER} standin-tailnet --file /var/lib/standin/tailnet.json expire {first['id']}")
        # Starting the consumer starts a run first (Wants= and After= tailscale-manager.service).
        machine.succeed("systemctl start key-consumer.service")
        second = managed_key()
        assert second["id"] != first["id"], f"the expired key {first['id']} was not replaced"
        assert consumer_sha256() == tailnet_sha256(second["id"]), "the consumer did not get the new key"
        file_sha = machine.succeed(f"sha256sum < {KEY_FILE} | cut -d' ' -f1").strip()
        assert file_sha == tailnet_sha256(second["id"]), "the key file does not hold the new key"

    with subtest("no key value in the journal"):
        for key_id in (first["id"], second["id"]):
            secret = machine.succeed(
                f"jq -j --arg id {key_id} '.keys[] | select(.id == $id) | .key' /var/lib/standin/tailnet.json"
            )
            machine.fail(f"journalctl -b --no-pager | grep -qF -- '{secret}'")

    with subtest("turning the delivery off deletes the file on the next run"):
        machine.succeed(f"{base}/specialisation/no-delivery/bin/switch-to-configuration test")
        machine.wait_until_succeeds(f"test ! -e {KEY_FILE}", timeout=300)
        wait_until_run_finished()
        assert managed_key()["id"] == second["id"], "the key itself must stay"
  '';
}
