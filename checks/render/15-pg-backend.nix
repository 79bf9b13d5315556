# State in PostgreSQL (the module's stateBackend.type = "pg"): terraform.backend.pg with the schema
# name and nothing else; the connection string reaches terraform as PG_CONN_STR, never through here.
let
  readme = import ./01-readme-example.nix;
in
readme
// {
  keys.managed_key = readme.keys.managed_key // {
    file = null;
  };
  stateBackend = {
    type = "pg";
    schemaName = "tailscale_fleet";
  };
}
