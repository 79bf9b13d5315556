# Everything together: the keys of golden 02, the policy of golden 08 (which defines their tags, now
# replacing a non-default policy), DNS, and the device inventory filtered by tag. Tailnet "-", as in
# the README example, so that the end-to-end tests can apply it as it is.
import ./02-several-keys.nix
// {
  acl = (import ./08-acl-policy.nix).acl // {
    overwriteExisting = true;
  };
  dns = {
    nameservers = [
      {
        address = "9.9.9.9";
        useWithExitNode = false;
      }
    ];
    splitDns."corp.example.com" = [
      {
        address = "10.0.0.53";
        useWithExitNode = false;
      }
    ];
    searchPaths = [ "corp.example.com" ];
    magicDNS = true;
    overrideLocalDNS = false;
  };
  monitorDevices.tags = [ "tag:server" ];
}
