# The key files: for every key whose `file` is a path, a `local_sensitive_file.<name>` (hashicorp/local)
# holding the key's current value, written by terraform in the same apply that creates or replaces the
# key, and deleted with the key (or when `file` goes back to null).
#
# create_before_destroy. On the key file it deletes the file: the replacement is written first, then
# the old object's Delete (os.Remove, errors ignored) removes that same filename, and the file stays
# missing until the next apply (hashicorp/terraform-provider-local#146, resource_local_sensitive_file.go).
#
# On the key it is harmless, so it stays allowed (README shows it). Terraform propagates
# create_before_destroy from a resource to its dependencies, never to its dependents (terraform's
# docs/destroying.md, "Forced Create Before Destroy"; internal/terraform/transform_destroy_cbd.go,
# ForcedCBDTransformer). The file depends on the key, so the file keeps the default order, and
# replacing both runs as destroying.md's "Replace all, dependency is create_before_destroy":
#   1. the old file is deleted        2. the new key is created
#   3. the new file is written        4. the old (deposed) key is deleted, which leaves the file alone.
# The file holds the new key after the apply; if step 2 fails, the file is missing (never stale) until
# the next successful apply.
#
# What must not happen is the file itself becoming create_before_destroy: set on it in `settings`, or
# forced onto it by a resource in `settings` that has create_before_destroy and refers to the file.
# `problems` refuses both. (A chain through a third resource is not detected.)
let
  # local_sensitive_file exists since hashicorp/local 2.2; nixpkgs' terraform-providers.hashicorp_local is 2.x.
  providerVersion = "~> 2.2";

  withFiles =
    keys:
    removeAttrs keys (builtins.filter (name: keys.${name}.file or null == null) (builtins.attrNames keys));

  renderFile = name: key: {
    filename = key.file;
    # A reference: the key's value never enters main.tf.json (nor the Nix store).
    content = "\${tailscale_tailnet_key.${name}.key}";
    # The provider's defaults are 0700 for both.
    file_permission = "0600";
    directory_permission = "0700";
  };

  # As lib.escapeRegex, with builtins only: a key name taken literally by builtins.match.
  escapeRegex =
    let
      special = [
        "\\"
        "["
        "{"
        "("
        ")"
        "^"
        "$"
        "?"
        "*"
        "+"
        "|"
        "."
      ];
    in
    builtins.replaceStrings special (map (c: "\\" + c) special);

  refersTo =
    value: name:
    builtins.match ".*local_sensitive_file\\.${escapeRegex name}([^A-Za-z0-9_-].*)?" (builtins.toJSON value)
    != null;

  isCreateBeforeDestroy =
    resource: builtins.isAttrs resource && (resource.lifecycle.create_before_destroy or false) == true;

  lifecyclePath = type: name: [
    "resource"
    type
    name
    "lifecycle"
    "create_before_destroy"
  ];

  problems =
    input:
    let
      files = builtins.attrNames (withFiles input.keys);
      resources = input.settings.resource or { };
      fileResources =
        if builtins.isAttrs (resources.local_sensitive_file or null) then resources.local_sensitive_file else { };
      otherTypes = builtins.filter (
        type: type != "local_sensitive_file" && builtins.isAttrs resources.${type}
      ) (builtins.attrNames resources);

      onFile = map (name: {
        path = lifecyclePath "local_sensitive_file" name;
        message = "is refused for a key file: terraform would write the new file first and then let the old object's delete remove that same filename, leaving no key file (hashicorp/terraform-provider-local#146). Remove it: the file is rewritten after every replacement of its key, also when the key has create_before_destroy.";
      }) (builtins.filter (name: isCreateBeforeDestroy (fileResources.${name} or null)) files);

      forcedOnFile = builtins.concatMap (
        type:
        map
          (name: {
            path = lifecyclePath type name;
            message = "is refused: this resource refers to a key file (local_sensitive_file), so terraform would force create_before_destroy onto the file too, and the old file's delete would remove the new one (hashicorp/terraform-provider-local#146). Remove it, or refer to the key (tailscale_tailnet_key.<name>.key) instead of its file.";
          })
          (
            builtins.filter (
              name:
              let
                resource = resources.${type}.${name};
              in
              isCreateBeforeDestroy resource && builtins.any (refersTo resource) files
            ) (builtins.attrNames resources.${type})
          )
      ) otherTypes;
    in
    if builtins.isAttrs resources then onFile ++ forcedOnFile else [ ];
in
{
  # The keys' `file`.
  from = [ "keys" ];
  defaults = { };

  # No key with a file, no local provider at all.
  render =
    input:
    let
      files = withFiles input.keys;
    in
    if files == { } then
      { }
    else
      {
        terraform.required_providers.local = {
          source = "hashicorp/local";
          version = providerVersion;
        };
        resource.local_sensitive_file = builtins.mapAttrs renderFile files;
      };

  inherit problems;
}
