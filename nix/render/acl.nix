# The tailnet's policy file (ACLs, grants, tags, tests …): one tailscale_acl resource named
# `policy`, rendered only when `acl` holds a policy.
#
# Its `acl` text is builtins.toJSON of `acl.policy`, or the bytes of `acl.policyFile` (JSON or HuJSON,
# read at evaluation; a policy is not a secret). The provider (v0.29.2, resource_acl.go) posts that
# text as is and compares it with the tailnet's policy after hujson.Format, which only normalises
# whitespace: key order, comments and trailing commas all count as changes.
let
  acl = {
    policy = null; # a JSON object
    policyFile = null; # a path
    overwriteExisting = false;
    resetOnDestroy = false;
  };

  given = input: acl // input.acl;

  text =
    a:
    if a.policy != null && a.policyFile != null then
      throw "tailscale-manager render: acl.policy and acl.policyFile are both given; give one of them."
    else if a.policy != null then
      builtins.toJSON a.policy
    else
      builtins.readFile a.policyFile;

  # The provider's two booleans are Optional without a default: unset, they stay null in the state,
  # which the provider reads as false. `false` is therefore rendered as no attribute at all, so the
  # configuration equals what `terraform import` leaves in the state (both null) and an imported
  # policy plans no change from null to false.
  flag = name: value: if value then { ${name} = true; } else { };
in
{
  from = [ "acl" ];
  defaults = { inherit acl; };

  render =
    input:
    let
      a = given input;
    in
    if a.policy == null && a.policyFile == null then
      { }
    else
      {
        resource.tailscale_acl.policy = {
          acl = text a;
        }
        // flag "overwrite_existing_content" a.overwriteExisting
        // flag "reset_acl_on_destroy" a.resetOnDestroy;
      };

  # A tailnet has one policy file: with `acl` set, settings may not declare another tailscale_acl.
  problems =
    input:
    let
      a = given input;
      declared = (import ./settings.nix).declared input.settings "tailscale_acl";
    in
    if a.policy == null && a.policyFile == null then
      [ ]
    else
      map (name: rec {
        path = [
          "resource"
          "tailscale_acl"
          name
        ];
        messageFor =
          field:
          "is a second tailscale_acl, but a tailnet has one policy file and ${field "acl"} already renders it as tailscale_acl.policy; both would overwrite it on every run. Remove it from settings and keep ${field "acl"} (or the reverse).";
        message = messageFor (field: field);
      }) (builtins.filter (name: name != "policy") declared);
}
