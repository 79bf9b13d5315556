# The README example plus dns with every field away from its default: tailscale_dns_configuration.dns,
# its nameservers and split_dns blocks as arrays of objects.
import ./01-readme-example.nix
// {
  dns = {
    nameservers = [
      {
        address = "1.1.1.1";
        useWithExitNode = false;
      }
      {
        address = "2606:4700:4700::1111";
        useWithExitNode = true;
      }
    ];
    splitDns = {
      "corp.example.com" = [
        {
          address = "10.0.0.53";
          useWithExitNode = false;
        }
        {
          address = "10.0.1.53";
          useWithExitNode = true;
        }
      ];
      "lab.example.org" = [
        {
          address = "192.168.7.1";
          useWithExitNode = false;
        }
      ];
    };
    searchPaths = [
      "corp.example.com"
      "example.com"
    ];
    magicDNS = false;
    overrideLocalDNS = true;
  };
}
