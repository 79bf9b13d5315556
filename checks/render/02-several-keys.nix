# Several keys: the default managed_key kept, plus two more with their own flags.
let
  readme = import ./01-readme-example.nix;
in
readme
// {
  keys = {
    inherit (readme.keys) managed_key;
    runners = {
      description = "ephemeral CI runners";
      tags = [ "tag:ci" ];
      reusable = true;
      ephemeral = true;
      preauthorized = true;
      expiry = 604800;
      recreateIfInvalid = "always";
    };
    servers = {
      description = "servers";
      tags = [
        "tag:server"
        "tag:prod"
      ];
      reusable = false;
      ephemeral = false;
      preauthorized = true;
      expiry = null;
      recreateIfInvalid = "never";
    };
  };
}
