# The whole path on a real NixOS machine: boot runs the unit, the key exists, a second run keeps it,
# a credentials change re-runs the unit, and a key with a tag the OAuth client does not own fails the
# unit while the activation line reports the error. (Each behaviour is also covered by a test that
# runs without a VM: see README, "What runs where".)
{
  name = "tailscale-manager-keys";

  nodes.machine = {
    specialisation.unowned-tag.configuration = {
      services.tailscale-manager.keys = {
        managed_key = { };
        other.tags = [ "tag:other" ];
      };
    };
  };

  testScript = ''
    import json

    def last_apply():
        return json.loads(machine.succeed("cat /var/lib/tailscale-manager/last-apply.json"))

    def managed_keys():
        # status exits 1 after a failed run but still prints the JSON
        _, out = machine.execute("tailscale-manager status --json")
        return json.loads(out)["managed_keys"]

    def wait_until_run_finished():
        machine.wait_until_succeeds(
            "systemctl show -P ActiveState tailscale-manager.service | grep -Eqx 'inactive|failed'", timeout=300
        )

    start_all()
    machine.wait_for_unit("standin-tailnet.service")
    base = machine.succeed("readlink -f /run/current-system").strip()

    with subtest("the unit started at boot succeeds and records ok"):
        machine.wait_until_succeeds("test -e /var/lib/tailscale-manager/last-apply.json", timeout=300)
        wait_until_run_finished()
        result = machine.succeed("systemctl show -P Result tailscale-manager.service").strip()
        assert result == "success", f"expected Result=success, got {result!r}"
        assert last_apply()["result"] == "ok", f"expected ok, got {last_apply()}"

    with subtest("status --json lists the key, and it exists in the tailnet"):
        keys = managed_keys()
        assert [k["address"] for k in keys] == ["tailscale_tailnet_key.managed_key"], f"got {keys}"
        assert keys[0]["tags"] == ["tag:ci"] and not keys[0]["invalid"], f"got {keys}"
        first_id = keys[0]["id"]
        machine.succeed(f"standin-tailnet --file /var/lib/standin/tailnet.json list | grep -F {first_id}")

    with subtest("a second start keeps the same key"):
        machine.succeed("systemctl start tailscale-manager.service")
        assert [k["id"] for k in managed_keys()] == [first_id], f"expected [{first_id}], got {managed_keys()}"
        changes = last_apply()["changes"]
        assert changes == {"add": 0, "change": 0, "remove": 0}, f"expected no changes, got {changes}"

    with subtest("replacing the credentials file starts the unit again"):
        before = last_apply()["timestamp"]
        machine.succeed(
            "cp -p /run/secrets/tailscale-oauth /run/secrets/.next"
            " && mv /run/secrets/.next /run/secrets/tailscale-oauth"
        )
        machine.wait_until_succeeds(
            f"jq -e '.timestamp != \"{before}\"' /var/lib/tailscale-manager/last-apply.json", timeout=120
        )
        wait_until_run_finished()
        assert last_apply()["result"] == "ok", f"expected ok, got {last_apply()}"

    with subtest("a tag the OAuth client does not own fails the unit; the activation line says so"):
        switch = f"{base}/specialisation/unowned-tag/bin/switch-to-configuration test"
        rc, out = machine.execute(f"{switch} 2>&1")
        assert rc != 0, f"the switch should report the failed unit, got rc 0:\n{out}"
        # activation runs before this generation's units, so it still reports the previous run
        assert "tailscale-manager: last apply [ok]" in out, out
        failed = last_apply()
        assert failed["result"] == "error", f"expected error, got {failed}"
        assert "requested tags [tag:other] are invalid or not permitted (400)" in failed["error_message"], failed
        assert first_id in [k["id"] for k in managed_keys()], f"{first_id} lost: {managed_keys()}"
        rc, out = machine.execute(f"{switch} 2>&1")
        assert "tailscale-manager: last apply [error] " in out, out
  '';
}
