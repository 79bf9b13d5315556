# The option types of the NixOS and the Home Manager module (nixpkgs lib only), and the rules about
# names that go with them.
{ lib }:
let
  inherit (lib) types;

  # Characters that systemd would reinterpret in ExecStart=/LoadCredential=/PathChanged= (specifiers,
  # variable expansion, quoting, backslash escapes, word splitting) are refused rather than escaped.
  plainPathPattern = "/[^%$\\\"'[:space:]]*";

  plainPath =
    name: description: extraCheck:
    lib.mkOptionType {
      inherit name description;
      descriptionClass = "noun";
      check = x: builtins.isString x && builtins.match plainPathPattern x != null && extraCheck x;
      merge = lib.mergeEqualOption;
    };

  # Terraform identifiers: a letter or underscore, then letters, digits, underscores or dashes.
  identifierPattern = "[A-Za-z_][A-Za-z0-9_-]*";
in
rec {
  # A secret must stay out of the world-readable store: a string (a path literal would be copied into
  # the store as soon as it is used), absolute, and not below builtins.storeDir.
  credentialsPath =
    plainPath "credentialsPath"
      "absolute path outside the Nix store, given as a string (no whitespace, quotes, `\\`, `%` or `$`)"
      (x: !(lib.path.hasStorePathPrefix (/. + builtins.unsafeDiscardStringContext x)));

  executablePath =
    plainPath "executablePath"
      "absolute path of an executable, as a string (no whitespace, quotes, `\\`, `%` or `$`)"
      (_: true);

  directoryPath =
    plainPath "directoryPath"
      "absolute path of a directory, as a string (no whitespace, quotes, `\\`, `%` or `$`)"
      (_: true);

  # systemd's StateDirectory= is relative to this.
  stateRoot = "/var/lib/";

  # The NixOS unit's state directory: it becomes StateDirectory=, so it must lie below stateRoot.
  stateDir = lib.mkOptionType {
    name = "stateDir";
    description = "absolute path below ${stateRoot} (letters, digits and `._+@-` only; no trailing slash, `.` or `..` component)";
    descriptionClass = "noun";
    check =
      x:
      let
        relative = lib.removePrefix stateRoot x;
        components = lib.splitString "/" relative;
      in
      builtins.isString x
      && lib.hasPrefix stateRoot x
      && builtins.match "[A-Za-z0-9._+@/-]+" relative != null
      && builtins.all (c: c != "" && c != "." && c != "..") components;
    merge = lib.mergeEqualOption;
  };

  # Tailscale's own rule (tailcfg.CheckTag): "tag:", then a letter, then letters, digits or dashes.
  tag = types.strMatching "tag:[A-Za-z][A-Za-z0-9-]*" // {
    description = "Tailscale tag (`tag:`, then a letter, then letters, digits or dashes)";
  };

  # The provider refuses descriptions longer than 50 characters (LengthAtMost(50)).
  keyDescription = types.addCheck types.str (s: builtins.stringLength s <= 50) // {
    description = "string of at most 50 characters";
  };

  # The provider's recreate_if_invalid.
  recreateIfInvalid = types.enum [
    "always"
    "never"
  ];

  # The runner's --on-failure.
  onFailure = types.enum [
    "restore"
    "keep"
  ];

  # Any JSON value (the same recursive shape as pkgs.formats.json's type, with lib only). No path
  # values: a path literal would be copied into the store.
  jsonValue =
    types.nullOr (
      types.oneOf [
        types.bool
        types.int
        types.float
        types.str
        (types.attrsOf jsonValue)
        (types.listOf jsonValue)
      ]
    )
    // {
      description = "JSON value";
    };

  # Key names become resource names. (Checked by an assertion, not by addCheck on the submodule type:
  # the module system rebuilds submodule types with substSubModules, which drops such a check.)
  isIdentifier = name: builtins.match identifierPattern name != null;
  suggestIdentifier =
    name:
    let
      safe = lib.concatMapStrings (
        c: if builtins.match "[A-Za-z0-9_-]" c != null then c else "_"
      ) (lib.stringToCharacters name);
    in
    if builtins.match "[A-Za-z_].*" safe != null then safe else "_" + safe;

  # ---- the tailnet: ACL policy and DNS ---------------------------------------------------------

  # acl.policyFile: read at evaluation, so it must be part of the configuration. A path literal
  # (./policy.hujson) is read where it lies (inside a flake: from the flake's source in the store) and
  # never needs copying; a string is accepted only when it names a file in the store (for example
  # "${./policy.hujson}" or another flake's file), because any other string would make evaluation read
  # the evaluating machine's disk, which pure (flake) evaluation forbids and which differs between the
  # machines that evaluate the configuration.
  policyFile = lib.mkOptionType {
    name = "policyFile";
    description = "path of a `.json` or `.hujson` file, written as a path literal (`./policy.hujson`, no quotes) or as a string naming a file in the Nix store";
    descriptionClass = "noun";
    check =
      x:
      let
        inConfiguration =
          builtins.isPath x
          || (
            builtins.isString x && lib.path.hasStorePathPrefix (/. + builtins.unsafeDiscardStringContext x)
          );
      in
      inConfiguration && (lib.hasSuffix ".json" (toString x) || lib.hasSuffix ".hujson" (toString x));
    merge = lib.mergeEqualOption;
  };

  # acl.policy: the policy as a Nix value (a policy's text belongs in acl.policyFile).
  jsonObject = types.attrsOf jsonValue // {
    description = "JSON object (an attribute set of JSON values)";
    descriptionClass = "noun";
  };

  # DNS names for search paths and split-DNS domains: dot-separated labels of letters, digits, dashes
  # and underscores, no empty label, no leading or trailing dash in a label, no trailing dot.
  isDnsDomain =
    name:
    builtins.match "[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?([.][A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*" name
    != null;
  dnsDomain = types.addCheck types.str isDnsDomain // {
    description = "DNS domain (dot-separated labels of letters, digits, dashes and underscores, like `corp.example.com`)";
  };

  # ---- key delivery ----------------------------------------------------------------------------

  # A service as named in systemd.services.<name>: systemd's unit name rules (unit-name.c: letters,
  # digits and `:-_.\`, an optional `@instance`, at most 255 characters with the `.service` suffix),
  # without the suffix, which NixOS adds.
  serviceName =
    types.addCheck types.str (
      s:
      builtins.match "[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\@-]*)?" s != null
      && !(lib.hasSuffix ".service" s)
      && builtins.stringLength s <= 255 - builtins.stringLength ".service"
    )
    // {
      description = "systemd service name (as in systemd.services.<name>, without `.service`: letters, digits and `:_.-\\`, optionally `@instance`)";
    };

  # ---- state backend ---------------------------------------------------------------------------

  stateBackendType = types.enum [
    "local"
    "pg"
  ];

  # terraform refuses workspace names that are not a URL path segment as they are (command/workspace_command.go,
  # validWorkspaceName); this is the subset that also needs no quoting in ExecStart= or a shell.
  workspaceName = types.strMatching "[A-Za-z0-9][A-Za-z0-9_.-]*" // {
    description = "terraform workspace name (a letter or digit, then letters, digits, `_`, `.` or `-`)";
  };

  # The pg backend quotes the schema name (pq.QuoteIdentifier), so any name works; PostgreSQL cuts
  # identifiers after 63 bytes (NAMEDATALEN - 1).
  pgSchemaName = types.addCheck types.str (s: s != "" && builtins.stringLength s <= 63) // {
    description = "PostgreSQL schema name (1 to 63 bytes)";
  };
}
