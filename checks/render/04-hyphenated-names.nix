# Names with dashes and a leading underscore (valid Terraform identifiers), hyphenated tags.
{
  tailnet = "example-corp.github";
  providerVersion = "~> 0.29";
  keys = {
    ci-runner = {
      description = "ci-runner";
      tags = [ "tag:ci-runner" ];
      reusable = true;
      ephemeral = true;
      preauthorized = true;
      expiry = null;
      recreateIfInvalid = "always";
    };
    web-01 = {
      description = "web 01";
      tags = [ "tag:web-frontend" ];
      reusable = false;
      ephemeral = false;
      preauthorized = true;
      expiry = null;
      recreateIfInvalid = "always";
    };
    _internal = {
      description = "";
      tags = [ "tag:internal" ];
      reusable = true;
      ephemeral = false;
      preauthorized = true;
      expiry = null;
      recreateIfInvalid = "always";
    };
  };
  settings = { };
}
