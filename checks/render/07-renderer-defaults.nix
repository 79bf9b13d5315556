# Only what has no default. The renderer's defaults equal the module's, so this renders exactly what
# 01-readme-example renders (for users of the flake's `lib.render` without the module).
{
  keys.managed_key.tags = [ "tag:ci" ];
}
