# The device inventory for `tailscale-manager status`: the data source `data.tailscale_devices.all`,
# read on every plan and apply (it needs the OAuth scope devices:core:read), rendered only when
# `monitorDevices` is on.
#
# `monitorDevices` is false (or null), true, or { tags = [ … ]; }. Tags become one `filter` block
# { name = "tags"; values = [ … ]; }: the API then lists only devices carrying every one of the tags
# (provider v0.29.2, data_source_devices.go; tailscale-client-go-v2 v2.9.0, devices.go). One block for
# all tags, because the client keys filters by name, so a second `tags` block would replace the first.
{
  from = [ "monitorDevices" ];
  defaults.monitorDevices = false;

  render =
    input:
    let
      m = input.monitorDevices;
      tags = if builtins.isAttrs m then m.tags or [ ] else [ ];
    in
    if m == null || m == false then
      { }
    else
      {
        data.tailscale_devices.all =
          if tags == [ ] then
            { }
          else
            {
              filter = [
                {
                  name = "tags";
                  values = tags;
                }
              ];
            };
      };
}
