# Where terraform keeps its state: locally in the runner's state directory (no backend block), or in
# PostgreSQL through terraform's (and OpenTofu's) built-in `pg` backend. The connection string is
# never rendered: the runner hands it to terraform as PG_CONN_STR.
let
  stateBackend = {
    type = "local"; # or "pg"
    schemaName = "tailscale_manager"; # pg only: the PostgreSQL schema holding the `states` table
  };
in
{
  from = [ "stateBackend" ];
  defaults = { inherit stateBackend; };

  render =
    input:
    let
      backend = stateBackend // input.stateBackend;
    in
    if backend.type == "local" then
      { }
    else if backend.type == "pg" then
      { terraform.backend.pg.schema_name = backend.schemaName; }
    else
      throw "tailscale-manager render: stateBackend.type is ${builtins.toJSON backend.type}; it must be \"local\" or \"pg\".";
}
