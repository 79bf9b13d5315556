# The tailnet's DNS: one tailscale_dns_configuration resource named `dns`, rendered only when `dns`
# is not null. It owns the whole DNS configuration (provider v0.29.2,
# templates/resources/dns_configuration.md.tmpl): whatever it does not list is removed, and
# destroying it wipes the tailnet's DNS settings (the provider's delete posts an empty
# configuration, which also turns MagicDNS off).
#
# `nameservers` and `split_dns` are nested blocks, written in Terraform JSON as arrays of objects:
#   nameservers = [ { address = "1.1.1.1"; use_with_exit_node = false; } ];
#   split_dns = [ { domain = "corp.example.com"; nameservers = [ { address = …; use_with_exit_node = …; } ]; } ];
# An empty block list is rendered as no attribute (both mean zero blocks). The other three attributes
# are always rendered, so the configuration says what the tailnet gets instead of leaving it to the
# provider's defaults.
let
  # The fields of `dns` when it is not null; magicDNS defaults to true like the provider's magic_dns.
  dnsConfiguration = {
    nameservers = [ ];
    splitDns = { }; # domain -> nameservers
    searchPaths = [ ];
    magicDNS = true;
    overrideLocalDNS = false;
  };
  # A nameserver is its address, or { address; useWithExitNode; }.
  nameserver = {
    useWithExitNode = false;
  };

  renderNameserver =
    given:
    let
      n = nameserver // (if builtins.isString given then { address = given; } else given);
    in
    {
      inherit (n) address;
      use_with_exit_node = n.useWithExitNode;
    };

  blocks = name: list: if list == [ ] then { } else { ${name} = list; };

  # The four older resources that each set one part of what tailscale_dns_configuration owns, and the
  # field of `dns` that replaces each.
  olderResources = {
    tailscale_dns_nameservers = "nameservers";
    tailscale_dns_preferences = "magicDNS";
    tailscale_dns_search_paths = "searchPaths";
    tailscale_dns_split_nameservers = "splitDns";
  };
in
{
  from = [ "dns" ];
  defaults = {
    dns = null; # null: DNS is not managed
    inherit dnsConfiguration nameserver;
  };

  render =
    input:
    if input.dns == null then
      { }
    else
      let
        d = dnsConfiguration // input.dns;
      in
      {
        resource.tailscale_dns_configuration.dns = {
          search_paths = d.searchPaths;
          magic_dns = d.magicDNS;
          override_local_dns = d.overrideLocalDNS;
        }
        // blocks "nameservers" (map renderNameserver d.nameservers)
        // blocks "split_dns" (
          map (domain: {
            inherit domain;
            nameservers = map renderNameserver d.splitDns.${domain};
          }) (builtins.attrNames d.splitDns)
        );
      };

  # With `dns` set, settings may declare neither the older DNS resources (the provider documents them
  # as conflicting with tailscale_dns_configuration) nor a second tailscale_dns_configuration.
  problems =
    input:
    let
      declared = (import ./settings.nix).declared input.settings;
      older = builtins.filter (type: declared type != [ ]) (builtins.attrNames olderResources);
      second = builtins.filter (name: name != "dns") (declared "tailscale_dns_configuration");
    in
    if input.dns == null then
      [ ]
    else
      map (type: rec {
        path = [
          "resource"
          type
        ];
        messageFor =
          field:
          "cannot be combined with ${field "dns"}: it renders tailscale_dns_configuration, which owns the tailnet's whole DNS configuration, and the provider documents it as conflicting with ${type} (the two would undo each other on every run). Move its values to ${
            field "dns.${olderResources.${type}}"
          } and remove it from settings.";
        message = messageFor (field: field);
      }) older
      ++ map (name: rec {
        path = [
          "resource"
          "tailscale_dns_configuration"
          name
        ];
        messageFor =
          field:
          "is a second tailscale_dns_configuration, but ${field "dns"} already renders tailscale_dns_configuration.dns, which owns the tailnet's whole DNS configuration. Remove it from settings and keep ${field "dns"} (or the reverse).";
        message = messageFor (field: field);
      }) second;
}
