# settings (formerly extraConfig): another tailscale_* resource, a lifecycle block added to a managed
# key, and a second provider requirement, merged into the rendered value (no rendered value changes).
import ./01-readme-example.nix
// {
  settings = {
    terraform.required_providers.random = {
      source = "hashicorp/random";
      version = "~> 3.6";
    };
    resource.tailscale_dns_nameservers.main.nameservers = [
      "9.9.9.9"
      "149.112.112.112"
    ];
    resource.tailscale_tailnet_key.managed_key.lifecycle.create_before_destroy = true;
    # Equal to the rendered value: allowed, changes nothing.
    provider.tailscale.tailnet = "-";
  };
}
