# The README example plus monitorDevices.tags: one `filter` block named "tags" holding every tag (the
# API lists the devices that carry all of them).
import ./01-readme-example.nix
// {
  monitorDevices.tags = [
    "tag:server"
    "tag:prod"
  ];
}
