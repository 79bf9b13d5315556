# The README example plus acl.policyFile: a HuJSON file read at evaluation, its bytes rendered
# unchanged as the `acl` text; overwriteExisting and resetOnDestroy on, so both provider attributes
# are rendered as true.
import ./01-readme-example.nix
// {
  acl = {
    policy = null;
    policyFile = ./09-acl-policy-file.hujson;
    overwriteExisting = true;
    resetOnDestroy = true;
  };
}
