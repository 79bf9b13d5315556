# The unit's own user on a real NixOS machine: a state directory an earlier version left to root is
# taken over on the first start (and a backup root made there still restores), the service runs as
# tailscale-manager, `sudo tailscale-manager apply|restore-state` leave no file of root's behind,
# the service user may run the CLI, anyone else is refused, and systemd itself scores the unit's
# exposure. (Each part is also covered without a VM where that can be: see README, "What runs where".)
{
  name = "tailscale-manager-service-user";

  nodes.machine =
    { lib, ... }:
    {
      services.tailscale-manager = {
        keys.managed_key.writeFile = true;
        # The test starts the unit itself, once it has made an earlier version's state.
        watchCredentials = false;
      };
      systemd.services.tailscale-manager.wantedBy = lib.mkForce [ ];
      users.users.alice.isNormalUser = true;
    };

  testScript = ''
    import json
    import re

    STATE = "/var/lib/tailscale-manager"
    BASE_URL = "TAILSCALE_BASE_URL=file:///var/lib/standin/tailnet.json"
    AS_MANAGER = "setpriv --reuid=tailscale-manager --regid=tailscale-manager --init-groups"
    AS_ALICE = "setpriv --reuid=alice --regid=users --init-groups"

    def not_the_services():
        # Every file below the state directory that is not tailscale-manager's (user or group).
        return machine.succeed(
            f"find {STATE} \\( ! -user tailscale-manager -o ! -group tailscale-manager \\) -printf '%p %u:%g\\n'"
        ).strip()

    def status():
        _, out = machine.execute(f"{BASE_URL} tailscale-manager status --json")
        return json.loads(out)

    start_all()
    machine.wait_for_unit("standin-tailnet.service")
    machine.wait_for_unit("multi-user.target")
    started = machine.succeed("systemctl show -P ExecMainStartTimestampMonotonic tailscale-manager.service").strip()
    assert started == "0", f"the unit must not have run yet, it started at {started}"

    with subtest("an earlier version's state: root ran the runner itself"):
        # The runner and the settings the CLI wrapper exports, run as root, as the unit ran before.
        wrapper = machine.succeed("cat $(readlink -f $(command -v tailscale-manager))")
        runner = re.search(r'^ *exec (/\S+/bin/tailscale-manager) "\$@"$', wrapper, re.M).group(1)
        settings = " ".join(re.findall(r"^export (TAILSCALE_MANAGER_\w+=\S+)$", wrapper, re.M))
        machine.succeed(f"env {settings} {BASE_URL} {runner} apply")
        machine.succeed(f"env {settings} {runner} backup-state")
        # root's provider replaced the tailnet file: give it back (see common.nix)
        machine.succeed("chown -R tailscale-manager:tailscale-manager /var/lib/standin")
        roots = machine.succeed(f"find {STATE} -user root -type f -printf '%P\\n' | sort").split()
        for name in ["terraform.tfstate", "last-apply.json", "keys/managed_key"]:
            assert name in roots, f"{name} should be root's before the first start, root's files: {roots}"
        root_backup = machine.succeed(f"ls {STATE}/backups/*.tfstate | tail -n 1").strip()
        first_id = json.loads(machine.succeed(f"cat {STATE}/terraform.tfstate"))["resources"][0]["instances"][0]["attributes"]["id"]

    with subtest("the first start takes the directory over and runs as tailscale-manager"):
        machine.succeed("systemctl start tailscale-manager.service")
        result = machine.succeed("systemctl show -P Result tailscale-manager.service").strip()
        assert result == "success", f"expected Result=success, got {result!r}"
        assert not_the_services() == "", f"files not the service's after its start:\n{not_the_services()}"
        mode = machine.succeed(f"stat -c '%a %U' {STATE} {STATE}/keys/managed_key").split()
        assert mode == ["700", "tailscale-manager", "600", "tailscale-manager"], f"got {mode}"
        # last-apply.json is a new file of this run (written, then renamed into place): its owner
        # is the process that wrote it
        last = json.loads(machine.succeed(f"cat {STATE}/last-apply.json"))
        assert last["result"] == "ok" and last["changes"]["add"] == 0, f"the old state was kept: {last}"
        assert [k["id"] for k in status()["managed_keys"]] == [first_id], f"got {status()}"
        user = machine.succeed("systemctl show -P User tailscale-manager.service").strip()
        assert user == "tailscale-manager", f"User={user!r}"

    with subtest("a backup root made restores, and the restore is the service user's"):
        machine.succeed(f"tailscale-manager restore-state {root_backup}")
        assert not_the_services() == "", f"after restore-state:\n{not_the_services()}"

    with subtest("sudo tailscale-manager apply leaves no file of root's"):
        machine.succeed(f"{BASE_URL} tailscale-manager apply")
        assert not_the_services() == "", f"after the CLI's apply:\n{not_the_services()}"
        assert status()["managed_keys"][0]["file"]["state"] == "ok", f"got {status()}"

    with subtest("the service user may run the CLI, anyone else is refused"):
        machine.succeed(f"{AS_MANAGER} tailscale-manager status --json")
        rc, out = machine.execute(f"{AS_ALICE} tailscale-manager status 2>&1")
        assert rc == 2, f"alice: expected exit 2, got {rc}: {out}"
        expected = "tailscale-manager: run it as root (sudo tailscale-manager …) or as the service user tailscale-manager, not as alice"
        assert out.strip() == expected, f"alice was told {out!r}"
        assert not_the_services() == "", "a refused run wrote something"

    with subtest("systemd scores the unit's exposure at most 1.2"):
        rc, table = machine.execute("systemd-analyze security --threshold=12 tailscale-manager.service 2>&1")
        print(table)
        assert rc == 0, f"exposure above 1.2 (systemd-analyze exit {rc})"
  '';
}
