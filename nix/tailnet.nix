# NixOS module, imported by nix/module.nix: the tailnet around the keys. Options
# services.tailscale-manager.acl, .dns and .monitorDevices, and the checks on them at evaluation.
# nix/module.nix hands the options to nix/render.nix, whose parts render/acl.nix, render/dns.nix and
# render/devices.nix turn them into main.tf.json.
{
  config,
  options,
  lib,
  ...
}:
let
  inherit (lib)
    literalExpression
    mkIf
    mkOption
    showOption
    types
    ;

  cfg = config.services.tailscale-manager;
  opt = options.services.tailscale-manager;

  render = import ./render.nix;
  tmTypes = import ./types.nix { inherit lib; };

  # ---- option types --------------------------------------------------------------------------------

  nameserverType = types.coercedTo types.str (address: { inherit address; }) (
    types.submodule {
      options = {
        address = mkOption {
          type = types.nonEmptyStr;
          example = "1.1.1.1";
          description = "The nameserver's address, as the admin console takes it (usually an IP address).";
        };
        useWithExitNode = mkOption {
          type = types.bool;
          default = render.defaults.nameserver.useWithExitNode;
          description = ''
            Keep using this nameserver while a device uses an exit node (rendered as
            `use_with_exit_node`).
          '';
        };
      };
    }
  );

  dnsDefaults = render.defaults.dnsConfiguration;

  dnsModule = {
    options = {
      nameservers = mkOption {
        type = types.listOf nameserverType;
        default = dnsDefaults.nameservers;
        example = literalExpression ''
          [
            "1.1.1.1"
            { address = "9.9.9.9"; useWithExitNode = true; }
          ]
        '';
        description = ''
          The tailnet's global nameservers, in order: addresses, or `{ address; useWithExitNode; }`.
          Empty: the tailnet has none (devices keep their own resolvers unless `overrideLocalDNS`).
        '';
      };
      splitDns = mkOption {
        type = types.attrsOf (types.nonEmptyListOf nameserverType);
        default = dnsDefaults.splitDns;
        example = literalExpression ''{ "corp.example.com" = [ "10.0.0.53" ]; }'';
        description = ''
          Split DNS: queries for a domain (and its subdomains) go to that domain's nameservers
          (addresses, or `{ address; useWithExitNode; }`; at least one, which the provider
          requires).
        '';
      };
      searchPaths = mkOption {
        type = types.listOf tmTypes.dnsDomain;
        default = dnsDefaults.searchPaths;
        example = [ "corp.example.com" ];
        description = "Search domains devices append to single-label names.";
      };
      magicDNS = mkOption {
        type = types.bool;
        default = dnsDefaults.magicDNS;
        description = "MagicDNS: devices resolve each other's names (the provider's default, `true`).";
      };
      overrideLocalDNS = mkOption {
        type = types.bool;
        default = dnsDefaults.overrideLocalDNS;
        description = ''
          Make devices use the tailnet's nameservers instead of their local DNS settings (the admin
          console's "Override local DNS"; rendered as `override_local_dns`).
        '';
      };
    };
  };

  # `true` is `{ tags = [ ]; }`, `false` is `null` (off).
  monitorDevicesType = types.coercedTo types.bool (on: if on then { } else null) (
    types.nullOr (
      types.submodule {
        options.tags = mkOption {
          type = types.listOf tmTypes.tag;
          default = [ ];
          example = [ "tag:server" ];
          description = ''
            List only devices that carry every one of these tags (the Tailscale API's `tags`
            filter). Empty: every device the OAuth client may see.
          '';
        };
      }
    )
  );

  # ---- the policy document the checks read ---------------------------------------------------------

  # The fields of the tailnet policy file, after Tailscale's syntax reference for it
  # (tailscale.com/kb/1337, "Syntax reference for the tailnet policy file": acls, autoApprovers,
  # derpMap, disableIPv4, grants, groups, hosts, ipsets, nodeAttrs, postures, randomizeClientPort, ssh,
  # sshTests, tagOwners, tests) and the policy struct of tailscale-client-go-v2 v2.9.0 (policyfile.go,
  # `type ACL`), which adds attrConfig, defaultSrcPosture and oneCGNATRoute. The API decodes policies
  # with Go's encoding/json (its errors read `json: unknown field "…"`), which matches field names
  # regardless of case, so they are compared in lower case here too ("ACLs" is acls).
  policyFields = [
    "acls"
    "attrConfig"
    "autoApprovers"
    "defaultSrcPosture"
    "derpMap"
    "disableIPv4"
    "grants"
    "groups"
    "hosts"
    "ipsets"
    "nodeAttrs"
    "oneCGNATRoute"
    "postures"
    "randomizeClientPort"
    "ssh"
    "sshTests"
    "tagOwners"
    "tests"
  ];
  knownField = name: builtins.elem (lib.toLower name) (map lib.toLower policyFields);
  # The name a document gives a field (any case), or null.
  fieldOf =
    document: field:
    lib.findFirst (n: lib.toLower n == lib.toLower field) null (builtins.attrNames document);

  # Where a .json file stops being plain JSON: its first comment or trailing comma outside a string, as
  # { what; line; }, or null. Not a parser: a scan over the few tokens that matter (an escape, a quote,
  # the start of a comment, a comma before a closing bracket); anything else wrong with the file is left
  # to builtins.fromJSON.
  hujsonFeature =
    text:
    let
      # The line count is forced at each step: a chain of lazy additions over a large file would
      # overflow the stack when it is finally read.
      after =
        state: s:
        let
          line = state.line + (builtins.length (builtins.split "\n" s) - 1) / 2;
        in
        builtins.seq line (state // { inherit line; });
      step =
        state: piece:
        if state.found != null then
          state
        else if builtins.isString piece then
          after state piece
        else
          let
            token = builtins.head piece;
            found = what: state // { found = { inherit what; inherit (state) line; }; };
          in
          if state.inString then
            after state token // { inString = token != ''"''; }
          else if token == ''"'' then
            state // { inString = true; }
          else if token == "//" then
            found "a // comment"
          else if token == "/*" then
            found "a /* comment */"
          else if lib.hasPrefix "," token then
            found "a trailing comma"
          else
            state;
    in
    (builtins.foldl' step {
      inString = false;
      line = 1;
      found = null;
    } (builtins.split ''(\\.|"|//|/\*|,[[:space:]]*[]}])'' text)).found;

  policyFile = cfg.acl.policyFile;
  # The file's own name: a store path's base name without its hash.
  fileName =
    let
      base = baseNameOf (toString policyFile);
    in
    if builtins.match "[0-9a-z]{32}-.+" base != null then builtins.substring 33 (-1) base else base;
  isJsonFile = policyFile != null && lib.hasSuffix ".json" (toString policyFile);
  fileHuJSON = if isJsonFile then hujsonFeature (builtins.readFile policyFile) else null;

  # The policy the checks read, with how messages name a place in it; null when there is nothing to
  # read: no policy, a .hujson file (Nix has no HuJSON parser), or a .json file that is not plain JSON.
  document =
    if cfg.acl.policy != null && policyFile == null then
      {
        value = cfg.acl.policy;
        name = showOption opt.acl.policy.loc;
        at = path: showOption (opt.acl.policy.loc ++ path);
        tagOwnerEntry = tag: ''"${tag}" = [ "autogroup:admin" ];'';
      }
    else if cfg.acl.policy == null && isJsonFile && fileHuJSON == null then
      {
        value = builtins.fromJSON (builtins.readFile policyFile);
        name = "${opt.acl.policyFile} (${fileName})";
        at = path: "${showOption path} in ${opt.acl.policyFile} (${fileName})";
        tagOwnerEntry = tag: ''"${tag}": ["autogroup:admin"]'';
      }
    else
      null;

  isObject = document != null && builtins.isAttrs document.value;
  tagOwnersField = if isObject then fieldOf document.value "tagOwners" else null;
  tagOwners = if tagOwnersField == null then { } else document.value.${tagOwnersField};
  tagOwnersAt = document.at [ (if tagOwnersField == null then "tagOwners" else tagOwnersField) ];
  tagOwnersUsable = isObject && builtins.isAttrs tagOwners;

  keyTagsOption = name: showOption (opt.keys.loc ++ [ name "tags" ]);

  policyAssertions =
    lib.optional (document != null && !isObject) {
      assertion = false;
      message = "${document.name} does not hold a JSON object, but a tailnet policy file is one object with fields such as acls, grants and tagOwners.";
    }
    ++ lib.optional (isObject && !tagOwnersUsable) {
      assertion = false;
      message = "${tagOwnersAt} must be an object that maps each tag to its owners, for example ${document.tagOwnerEntry "tag:ci"}.";
    }
    ++ lib.optionals tagOwnersUsable (
      map (tag: {
        assertion = tmTypes.tag.check tag;
        message = "${document.at [ tagOwnersField tag ]}: ${builtins.toJSON tag} is not a valid tag name, and Tailscale refuses the policy. A tag is \"tag:\", then a letter, then letters, digits or dashes; rename it, for example to ${
          builtins.toJSON (if tmTypes.tag.check "tag:${tag}" then "tag:${tag}" else "tag:ci")
        }.";
      }) (builtins.attrNames tagOwners)
      ++ lib.mapAttrsToList (
        name: key:
        let
          undefined = builtins.filter (tag: !(tagOwners ? ${tag})) key.tags;
          list = lib.concatStringsSep ", " undefined;
        in
        {
          assertion = undefined == [ ];
          message = "${keyTagsOption name} has ${list}, which ${tagOwnersAt} does not define. Tailscale refuses keys whose tags the tailnet policy does not define (\"requested tags [${lib.concatStringsSep " " undefined}] are invalid or not permitted\"). Add ${
            lib.concatMapStringsSep " " document.tagOwnerEntry undefined
          } (with the owners you want) to ${tagOwnersAt}, or remove the tag from the key.";
        }
      ) cfg.keys
    );

  policyWarnings = lib.optionals isObject (
    map (
      field:
      "${document.name} has the top-level field ${builtins.toJSON field}, which the Tailscale policy file format does not define (known: ${lib.concatStringsSep ", " policyFields}). The Tailscale API refuses unknown fields (json: unknown field ${builtins.toJSON field}), so check the spelling; if Tailscale has added the field since, ignore this warning."
    ) (builtins.filter (field: !(knownField field)) (builtins.attrNames document.value))
  );
in
{
  options.services.tailscale-manager = {
    # ---- ACL policy --------------------------------------------------------------------------------
    acl = {
      policy = mkOption {
        type = types.nullOr tmTypes.jsonObject;
        default = render.defaults.acl.policy;
        example = literalExpression ''
          {
            tagOwners."tag:ci" = [ "autogroup:admin" ];
            grants = [ { src = [ "autogroup:member" ]; dst = [ "tag:ci" ]; ip = [ "22" ]; } ];
            tests = [ { src = "alice@example.com"; accept = [ "tag:ci:22" ]; } ];
          }
        '';
        description = ''
          The tailnet policy file (ACLs, grants, tags, SSH rules, tests …) as a Nix value, rendered
          with `builtins.toJSON` into one `tailscale_acl` resource that replaces the tailnet's whole
          policy. At evaluation every tag of every key must be defined in its `tagOwners`, each
          `tagOwners` name must be a valid tag, and a top-level field the policy format does not
          know gives a warning. At most one of this and `acl.policyFile`; `null` (both): the policy
          is not managed.
        '';
      };

      policyFile = mkOption {
        type = types.nullOr tmTypes.policyFile;
        default = render.defaults.acl.policyFile;
        example = literalExpression "./policy.hujson";
        description = ''
          The tailnet policy file as a file in your configuration, read at evaluation (a policy is
          not a secret; its text lands in main.tf.json in the store). Write a path literal,
          `./policy.hujson`, not a string: a string is only accepted when it names a file in the Nix
          store, because reading any other absolute path would read the evaluating machine's disk. A
          `.json` file must be plain JSON and gets the checks of `acl.policy`; a `.hujson` file
          (comments, trailing commas) is not checked at evaluation, as Nix cannot parse HuJSON (the
          provider and the Tailscale API validate it on plan and apply).
        '';
      };

      overwriteExisting = mkOption {
        type = types.bool;
        default = render.defaults.acl.overwriteExisting;
        description = ''
          Rendered as `overwrite_existing_content`. With `false`, creating the resource only
          succeeds while the tailnet still has Tailscale's default policy; otherwise the run fails
          with `Overwrite Protected`. Compare the live policy (admin console → Access controls) with
          the declared one, then set this to `true` to replace it. Only creating the resource
          checks: later changes replace the live policy whatever it holds.
        '';
      };

      resetOnDestroy = mkOption {
        type = types.bool;
        default = render.defaults.acl.resetOnDestroy;
        description = ''
          Rendered as `reset_acl_on_destroy`: when the resource is destroyed (the policy options
          removed, or `tailscale-manager destroy`), reset the tailnet's policy to Tailscale's
          default. With `false` the policy stays as it is. Terraform destroys with the value of the
          last apply, so apply `true` before removing the policy.
        '';
      };
    };

    # ---- DNS ---------------------------------------------------------------------------------------
    dns = mkOption {
      type = types.nullOr (types.submodule dnsModule);
      default = render.defaults.dns;
      example = literalExpression ''
        {
          nameservers = [ "1.1.1.1" "1.0.0.1" ];
          splitDns."corp.example.com" = [ "10.0.0.53" ];
          searchPaths = [ "corp.example.com" ];
        }
      '';
      description = ''
        The tailnet's whole DNS configuration, as one `tailscale_dns_configuration` resource: what
        it does not list is removed from the tailnet. `null`: DNS is not managed. Changing it back
        to `null` destroys the resource, and the provider's delete wipes the tailnet's DNS settings
        (nameservers, split DNS and search paths cleared, MagicDNS off). `settings` may not also
        declare the older `tailscale_dns_*` resources.
      '';
    };

    # ---- devices -----------------------------------------------------------------------------------
    monitorDevices = mkOption {
      type = monitorDevicesType;
      default = render.defaults.monitorDevices;
      example = literalExpression ''{ tags = [ "tag:server" ]; }'';
      description = ''
        Read the tailnet's devices on every run (the data source `tailscale_devices`), so that
        `tailscale-manager status` lists them and marks node keys about to expire. `true`, or `{
        tags = [ … ]; }` for only the devices carrying all those tags. Needs the OAuth scope
        `devices:core:read`.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.acl.policy == null || policyFile == null;
        message = "${opt.acl.policy} and ${opt.acl.policyFile} are both set, but a tailnet has one policy file. Keep one: policy for a policy written in Nix, policyFile for a .json or .hujson file.";
      }
      {
        assertion = fileHuJSON == null;
        message = "${opt.acl.policyFile} (${fileName}) has ${fileHuJSON.what} on line ${toString fileHuJSON.line}, which plain JSON does not allow. Tailscale accepts HuJSON: rename the file to ${lib.removeSuffix ".json" fileName}.hujson (HuJSON files are not checked at evaluation), or make it plain JSON to keep the checks.";
      }
    ]
    ++ policyAssertions
    ++ lib.optionals (cfg.dns != null) (
      map (domain: {
        assertion = tmTypes.isDnsDomain domain;
        message = "${showOption (opt.dns.loc ++ [ "splitDns" domain ])}: ${builtins.toJSON domain} is not a DNS domain (dot-separated labels of letters, digits, dashes and underscores). Write the domain as devices query it, like \"corp.example.com\".";
      }) (builtins.attrNames cfg.dns.splitDns)
    );

    warnings = policyWarnings;
  };
}
