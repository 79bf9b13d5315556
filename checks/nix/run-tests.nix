# A lib.runTests-style runner with builtins only: { testName = { expr; expected; }; } ->
# { passed = [ names ]; failed = [ { name; expected; result; } ] }. An expression that throws counts
# as failed (result "<evaluation error>"); checks/nix/run re-evaluates it alone to show the error.
tests:
let
  run =
    name:
    let
      test = tests.${name};
      attempt = builtins.tryEval (builtins.deepSeq test.expr test.expr);
      ok = attempt.success && attempt.value == test.expected;
    in
    {
      inherit name ok;
      expected = test.expected;
      result = if attempt.success then attempt.value else "<evaluation error>";
    };
  results = map run (builtins.attrNames tests);
in
{
  passed = map (r: r.name) (builtins.filter (r: r.ok) results);
  failed = map (r: { inherit (r) name expected result; }) (builtins.filter (r: !r.ok) results);
}
