# State in PostgreSQL (the module's stateBackend.type = "pg"): terraform.backend.pg with the schema
# name and nothing else; the connection string reaches terraform as PG_CONN_STR, never through here.
{
  tailnet = "-";
  providerVersion = "~> 0.29";
  keys.managed_key = {
    description = "";
    tags = [ "tag:ci" ];
    reusable = true;
    ephemeral = false;
    preauthorized = true;
    expiry = null;
    recreateIfInvalid = "always";
    file = null;
  };
  stateBackend = {
    type = "pg";
    schemaName = "tailscale_fleet";
  };
  settings = { };
}
