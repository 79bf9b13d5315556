# The README example plus acl.policy: the tailnet policy file written in Nix, rendered with
# builtins.toJSON into tailscale_acl.policy. overwriteExisting and resetOnDestroy are false, so neither
# provider attribute is rendered (false and unset mean the same to the provider).
import ./01-readme-example.nix
// {
  acl = {
    policy = {
      groups."group:ops" = [
        "alice@example.com"
        "bob@example.com"
      ];
      tagOwners = {
        "tag:ci" = [ "group:ops" ];
        "tag:server" = [ "group:ops" ];
        "tag:prod" = [ "group:ops" ];
      };
      grants = [
        {
          src = [ "group:ops" ];
          dst = [ "tag:server" ];
          ip = [ "*" ];
        }
        {
          src = [ "tag:ci" ];
          dst = [ "tag:server" ];
          ip = [ "tcp:22" ];
        }
      ];
      ssh = [
        {
          action = "accept";
          src = [ "group:ops" ];
          dst = [ "tag:server" ];
          users = [ "root" ];
        }
      ];
      tests = [
        {
          src = "alice@example.com";
          accept = [ "tag:server:22" ];
        }
        {
          src = "tag:ci";
          accept = [ "tag:server:22" ];
          deny = [ "tag:server:443" ];
        }
      ];
    };
    policyFile = null;
    overwriteExisting = false;
    resetOnDestroy = false;
  };
}
