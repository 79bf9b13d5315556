# Several keys: the default managed_key kept, plus two more with their own flags.
{
  tailnet = "-";
  providerVersion = "~> 0.29";
  keys = {
    managed_key = {
      description = "";
      tags = [ "tag:ci" ];
      reusable = true;
      ephemeral = false;
      preauthorized = true;
      expiry = null;
      recreateIfInvalid = "always";
    };
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
  settings = { };
}
