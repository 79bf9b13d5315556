# No keys at all (e.g. to delete every managed key): no empty `resource` block is rendered.
{
  tailnet = "-";
  providerVersion = "~> 0.29";
  keys = { };
  settings = { };
}
