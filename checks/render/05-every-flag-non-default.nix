# Every setting away from its default.
{
  tailnet = "example.com";
  providerVersion = ">= 0.29.0, < 0.30.0";
  keys.build_fleet = {
    description = "build fleet";
    tags = [
      "tag:build"
      "tag:linux"
    ];
    reusable = false;
    ephemeral = true;
    preauthorized = false;
    expiry = 86400;
    recreateIfInvalid = "never";
  };
  settings = { };
}
