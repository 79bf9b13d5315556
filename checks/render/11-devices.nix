# The README example plus monitorDevices = true, which the module hands over as { tags = [ ]; }:
# data.tailscale_devices.all without a filter.
import ./01-readme-example.nix
// {
  monitorDevices.tags = [ ];
}
