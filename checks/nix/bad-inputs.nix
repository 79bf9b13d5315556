# Bad inputs and the error text each must produce. checks/nix/run evaluates every case with
# nix-instantiate, expects failure and greps stderr for each `expect` string; module-tests.nix checks
# in Nix that each case fails (and, for assertions, the message text itself).
#   name = { modules = [ … ]; expect = [ … ]; home = true if it targets the Home Manager module;
#            assertion = true if a module assertion reports it;
#            realNixos = true if only NixOS's real modules catch it (the stubs accept it; module-tests.nix
#                        checks that they do, so the mark stays true);
#            uncatchable = true if the error is one builtins.tryEval cannot catch (Nix aborts), so only
#                          checks/nix/run's own nix-instantiate per case checks it; };
# `with'`, `pg` and `tailscaleOn` are harness.nix's.
{
  lib,
  with',
  pg,
  tailscaleOn,
}:
let
  opt = "services.tailscale-manager";
  storePath = "${builtins.storeDir}/0123456789abcdfghijklmnpqrsvwxyz-oauth.env";
  cbd.lifecycle.create_before_destroy = true;
in
{
  credentials-unset = {
    modules = [
      {
        services.tailscale-manager = {
          enable = true;
          tags = [ "tag:ci" ];
        };
      }
    ];
    expect = [
      "${opt}.credentialsFile is not set."
      "never a file in the Nix store"
      "age.secrets.tailscale-oauth.file = ./secrets/tailscale-oauth.age;"
      "${opt}.credentialsFile = config.age.secrets.tailscale-oauth.path;"
      ''sops.secrets.tailscale-oauth = { format = "dotenv"; sopsFile = ./secrets/tailscale-oauth.env; key = ""; };''
      "${opt}.credentialsFile = config.sops.secrets.tailscale-oauth.path;"
    ];
    assertion = true;
  };
  credentials-in-store = {
    modules = with' { credentialsFile = lib.mkForce storePath; };
    expect = [
      "${opt}.credentialsFile"
      "absolute path outside the Nix store, given as a string"
    ];
  };
  credentials-path-literal = {
    # A path literal (not a string): never coerced, so never copied into the store, and refused.
    modules = with' { credentialsFile = lib.mkForce /run/secrets/oauth.env; };
    expect = [
      "${opt}.credentialsFile"
      "absolute path outside the Nix store, given as a string"
    ];
  };
  credentials-relative = {
    modules = with' { credentialsFile = lib.mkForce "secrets/oauth.env"; };
    expect = [
      "${opt}.credentialsFile"
      "absolute path outside the Nix store"
    ];
  };
  credentials-with-percent = {
    modules = with' { credentialsFile = lib.mkForce "/run/secrets/oauth%i"; };
    expect = [
      "${opt}.credentialsFile"
      "no whitespace, quotes, `\\`, `%` or `$`"
    ];
  };
  # systemd reads a backslash in LoadCredential=/ExecStart= as an escape: refused, and the type says so.
  credentials-with-backslash = {
    modules = with' { credentialsFile = lib.mkForce "/run/secrets/oauth\\x2d.env"; };
    expect = [
      "${opt}.credentialsFile"
      "no whitespace, quotes, `\\`, `%` or `$`"
    ];
  };
  tag-without-prefix = {
    modules = with' { tags = lib.mkForce [ "ci" ]; };
    expect = [
      "${opt}.tags"
      "Tailscale tag (`tag:`, then a letter, then letters, digits or dashes)"
    ];
  };
  tag-starting-with-digit = {
    modules = with' { keys.build.tags = [ "tag:1ci" ]; };
    expect = [
      "${opt}.keys.build.tags"
      "Tailscale tag (`tag:`, then a letter"
    ];
  };
  tag-with-underscore = {
    modules = with' { tags = lib.mkForce [ "tag:ci_runner" ]; };
    expect = [
      "${opt}.tags"
      "Tailscale tag"
    ];
  };
  backup-count-zero = {
    modules = with' { backupCount = 0; };
    expect = [
      "${opt}.backupCount"
      "integer between 1 and 1000"
    ];
  };
  backup-count-too-large = {
    modules = with' { backupCount = 1001; };
    expect = [
      "${opt}.backupCount"
      "integer between 1 and 1000"
    ];
  };
  key-name-starting-with-digit = {
    modules = with' { keys."1ci" = { }; };
    expect = [
      ''${opt}.keys."1ci": the name is not a Terraform identifier (a letter or underscore, then letters, digits, underscores or dashes)''
      "Rename it, for example to ${opt}.keys._1ci."
    ];
    assertion = true;
  };
  key-name-with-dot = {
    modules = with' { keys."ci.runner" = { }; };
    expect = [
      ''${opt}.keys."ci.runner": the name is not a Terraform identifier''
      "Rename it, for example to ${opt}.keys.ci_runner."
    ];
    assertion = true;
  };
  on-failure-typo = {
    modules = with' { onFailure = "restor"; };
    expect = [
      "${opt}.onFailure"
      ''one of "restore", "keep"''
    ];
  };
  recreate-if-invalid-typo = {
    modules = with' { recreateIfInvalid = "sometimes"; };
    expect = [
      "${opt}.recreateIfInvalid"
      ''one of "always", "never"''
    ];
  };
  untagged-key = {
    modules = with' { tags = lib.mkForce [ ]; };
    expect = [
      "${opt}.keys.managed_key.tags is empty"
      "tailnet-owned auth key must have tags set"
      ''Set ${opt}.tags = [ "tag:ci" ];''
    ];
    assertion = true;
  };
  state-dir-outside-var-lib = {
    modules = with' { stateDir = "/srv/tailscale-manager"; };
    expect = [
      "${opt}.stateDir"
      "absolute path below /var/lib/"
    ];
  };
  state-dir-dotdot = {
    modules = with' { stateDir = "/var/lib/../etc"; };
    expect = [
      "${opt}.stateDir"
      "no trailing slash, `.` or `..` component"
    ];
  };
  state-dir-trailing-slash = {
    modules = with' { stateDir = "/var/lib/tailscale-manager/"; };
    expect = [
      "${opt}.stateDir"
      "absolute path below /var/lib/"
    ];
  };
  description-too-long = {
    modules = with' { keys.managed_key.description = lib.concatStrings (lib.genList (_: "x") 51); };
    expect = [
      "${opt}.keys.managed_key.description"
      "string of at most 50 characters"
    ];
  };
  expiry-zero = {
    modules = with' { keys.managed_key.expiry = 0; };
    expect = [
      "${opt}.keys.managed_key.expiry"
      "positive integer"
    ];
  };
  tailnet-empty = {
    modules = with' { tailnet = lib.mkForce ""; };
    expect = [
      "${opt}.tailnet"
      "non-empty string"
    ];
  };
  terraform-bin-relative = {
    modules = with' { terraformBin = "terraform"; };
    expect = [
      "${opt}.terraformBin"
      "absolute path of an executable"
    ];
  };
  settings-override-tailnet = {
    modules = with' { settings.provider.tailscale.tailnet = "example.com"; };
    expect = [
      ''${opt}.settings.provider.tailscale.tailnet would replace the value "-" that tailscale-manager renders from ${opt}.tailnet; set it instead''
    ];
    assertion = true;
  };
  settings-override-key-flag = {
    modules = with' { settings.resource.tailscale_tailnet_key.managed_key.reusable = false; };
    expect = [
      "${opt}.settings.resource.tailscale_tailnet_key.managed_key.reusable would replace the value true that tailscale-manager renders from ${opt}.keys; set it instead"
    ];
    assertion = true;
  };
  settings-override-quoted-path = {
    # Path components that are not identifiers are quoted, as in Nix.
    modules = with' {
      keys."web.01".tags = [ "tag:web" ];
      settings.resource.tailscale_tailnet_key."web.01".reusable = false;
    };
    expect = [
      ''${opt}.settings.resource.tailscale_tailnet_key."web.01".reusable would replace the value true''
    ];
    assertion = true;
  };
  settings-backend = {
    modules = with' { settings.terraform.backend.s3.bucket = "state"; };
    expect = [
      "${opt}.settings.terraform.backend is not supported"
      "the runner must know where the state is"
      ''set ${opt}.stateBackend.type ("local" or "pg") instead.''
    ];
    assertion = true;
  };
  settings-path-value = {
    modules = with' { settings.resource.local_file.x.source = /etc/hostname; };
    expect = [
      "${opt}.settings.resource"
      "JSON value"
    ];
  };
  extra-config-old-name-still-checked = {
    # The old option name reaches the same checks, under the new name.
    modules = with' { extraConfig.terraform.backend.s3.bucket = "state"; };
    expect = [ "${opt}.settings.terraform.backend is not supported" ];
    assertion = true;
  };
  settings-backend-next-to-pg = {
    # A conn_str here would put the password into the store.
    modules = with' (pg { } // { settings.terraform.backend.pg.conn_str = "postgres://u:p@db/tf"; });
    expect = [ "${opt}.settings.terraform.backend is not supported" ];
    assertion = true;
  };

  # ---- key delivery ----
  key-file-create-before-destroy = {
    modules = with' {
      keys.managed_key.writeFile = true;
      settings.resource.local_sensitive_file.managed_key = cbd;
    };
    expect = [
      "${opt}.settings.resource.local_sensitive_file.managed_key.lifecycle.create_before_destroy is refused for a key file"
      "hashicorp/terraform-provider-local#146"
    ];
    assertion = true;
  };
  key-file-create-before-destroy-forced = {
    modules = with' {
      keys.managed_key.writeFile = true;
      settings.resource.null_resource.copy = cbd // {
        triggers.sha = "\${local_sensitive_file.managed_key.id}";
      };
    };
    expect = [
      "${opt}.settings.resource.null_resource.copy.lifecycle.create_before_destroy is refused: this resource refers to a key file"
      "refer to the key (tailscale_tailnet_key.<name>.key) instead of its file"
    ];
    assertion = true;
  };
  key-path-set = {
    # (Like any read-only NixOS option, it fails where it is used: here, for the key's file.)
    modules = with' {
      keys.managed_key = {
        writeFile = true;
        path = "/run/keys/managed_key";
      };
    };
    expect = [ "The option `${opt}.keys.managed_key.path' is read-only" ];
  };
  write-file-false-with-consumers = {
    modules = with' {
      keys.managed_key = {
        writeFile = false;
        loadCredentialFor = [ "ci-runner" ];
      };
    };
    expect = [
      "${opt}.keys.managed_key.writeFile is false, but ${opt}.keys.managed_key.loadCredentialFor needs the key's file."
      "Remove ${opt}.keys.managed_key.writeFile = false;."
    ];
    assertion = true;
  };
  load-credential-not-a-unit-name = {
    modules = with' { keys.managed_key.loadCredentialFor = [ "ci/runner" ]; };
    expect = [
      "${opt}.keys.managed_key.loadCredentialFor"
      "systemd service name (as in systemd.services.<name>, without `.service`: letters, digits and"
    ];
  };
  load-credential-with-suffix = {
    modules = with' { keys.managed_key.loadCredentialFor = [ "ci-runner.service" ]; };
    expect = [
      "${opt}.keys.managed_key.loadCredentialFor"
      "without `.service`"
    ];
  };
  load-credential-too-long = {
    modules = with' { keys.managed_key.loadCredentialFor = [ (lib.concatStrings (lib.genList (_: "x") 248)) ]; };
    expect = [
      "${opt}.keys.managed_key.loadCredentialFor"
      "systemd service name"
    ];
  };
  load-credential-for-the-manager = {
    modules = with' { keys.managed_key.loadCredentialFor = [ "tailscale-manager" ]; };
    expect = [
      "${opt}.keys.managed_key.loadCredentialFor names tailscale-manager, the service that writes the key"
      "Remove it."
    ];
    assertion = true;
  };
  load-credential-twice = {
    # Another delivery under the same credential name: systemd would hand the service only one.
    modules = with' { keys.managed_key.loadCredentialFor = [ "ci-runner" ]; } ++ [
      { systemd.services.ci-runner.serviceConfig.LoadCredential = [ "tailscale-authkey-managed_key:/run/keys/old" ]; }
    ];
    expect = [
      "systemd.services.ci-runner.serviceConfig.LoadCredential loads the credential tailscale-authkey-managed_key more than once"
      "Remove the other entry, or ci-runner from ${opt}.keys.managed_key.loadCredentialFor."
    ];
    assertion = true;
  };
  auth-key-unknown-key = {
    modules = with' { authKeyForTailscaled = "server"; } ++ [ tailscaleOn ];
    expect = [
      ''${opt}.authKeyForTailscaled is "server", which is not a key in ${opt}.keys (declared: managed_key).''
      "Set it to one of them, or declare ${opt}.keys.server = { };."
    ];
    assertion = true;
  };
  auth-key-tailscale-disabled = {
    modules = with' { authKeyForTailscaled = "managed_key"; };
    expect = [
      "${opt}.authKeyForTailscaled makes the key managed_key this host's services.tailscale.authKeyFile, but services.tailscale.enable is false."
      "Set services.tailscale.enable = true; (or ${opt}.authKeyForTailscaled = null;)."
    ];
    assertion = true;
  };
  auth-key-parameters-ephemeral = {
    modules = with' { authKeyForTailscaled = "managed_key"; } ++ [
      tailscaleOn
      { services.tailscale.authKeyParameters.ephemeral = false; }
    ];
    expect = [
      ''services.tailscale.authKeyParameters.ephemeral is set, but nixpkgs appends services.tailscale.authKeyParameters to the auth key as "?ephemeral=…"''
      "only an OAuth client secret (tskey-client-…) understands"
      "Remove it; set ${opt}.keys.managed_key.ephemeral instead"
    ];
    assertion = true;
  };
  auth-key-parameters-base-url = {
    modules = with' { authKeyForTailscaled = "managed_key"; } ++ [
      tailscaleOn
      { services.tailscale.authKeyParameters.baseURL = "https://api.tailscale.com"; }
    ];
    expect = [
      "services.tailscale.authKeyParameters.baseURL is set"
      "Remove it; an auth key needs no API URL (for another control server, add --login-server=… to services.tailscale.extraUpFlags)."
    ];
    assertion = true;
  };

  # ---- state in PostgreSQL ----
  pg-without-connection-string = {
    modules = with' { stateBackend.type = "pg"; };
    expect = [
      ''${opt}.stateBackend.pg.connectionStringFile is not set, but ${opt}.stateBackend.type is "pg".''
      "never a file in the Nix store"
      "${opt}.stateBackend.pg.connectionStringFile = config.age.secrets.tailscale-manager-pg.path;"
    ];
    assertion = true;
  };
  pg-with-restore = {
    modules = with' (pg { } // { onFailure = "restore"; });
    expect = [
      ''${opt}.onFailure is "restore", which ${opt}.stateBackend.type = "pg" rules out''
      "undo what another host wrote since"
      ''with "pg" it defaults to "keep"''
    ];
    assertion = true;
  };
  pg-connection-string-in-store = {
    modules = with' (pg { pg.connectionStringFile = storePath; });
    expect = [
      "${opt}.stateBackend.pg.connectionStringFile"
      "absolute path outside the Nix store, given as a string"
    ];
  };
  pg-connection-string-path-literal = {
    modules = with' (pg { pg.connectionStringFile = /run/secrets/pg; });
    expect = [
      "${opt}.stateBackend.pg.connectionStringFile"
      "absolute path outside the Nix store, given as a string"
    ];
  };
  pg-workspace-with-slash = {
    modules = with' (pg { pg.workspace = "hosts/a"; });
    expect = [
      "${opt}.stateBackend.pg.workspace"
      "terraform workspace name (a letter or digit, then letters, digits, `_`, `.` or `-`)"
    ];
  };
  pg-schema-name-too-long = {
    modules = with' (pg { pg.schemaName = lib.concatStrings (lib.genList (_: "s") 64); });
    expect = [
      "${opt}.stateBackend.pg.schemaName"
      "PostgreSQL schema name (1 to 63 bytes)"
    ];
  };
  state-backend-typo = {
    modules = with' { stateBackend.type = "postgres"; };
    expect = [
      "${opt}.stateBackend.type"
      ''one of "local", "pg"''
    ];
  };

  misspelled-option = {
    modules = with' { tag = [ "tag:ci" ]; };
    expect = [
      "The option `${opt}.tag' does not exist"
    ];
  };

  # ---- the tailnet: ACL policy, DNS, devices (nix/tailnet.nix, nix/render/) ------------------------
  acl-policy-and-policy-file = {
    modules = with' {
      acl.policy.tagOwners."tag:ci" = [ ];
      acl.policyFile = ./fixtures/policy.json;
    };
    expect = [
      "${opt}.acl.policy and ${opt}.acl.policyFile are both set, but a tailnet has one policy file. Keep one: policy for a policy written in Nix, policyFile for a .json or .hujson file."
    ];
    assertion = true;
  };
  acl-policy-file-string = {
    # A string outside the store would be read from the evaluating machine's disk.
    modules = with' { acl.policyFile = "/etc/nixos/policy.hujson"; };
    expect = [
      "${opt}.acl.policyFile"
      "path of a `.json` or `.hujson` file, written as a path literal (`./policy.hujson`, no quotes) or as a string naming a file in the Nix store"
    ];
  };
  acl-policy-file-suffix = {
    modules = with' { acl.policyFile = ./fixtures/policy.yaml; };
    expect = [
      "${opt}.acl.policyFile"
      "path of a `.json` or `.hujson` file"
    ];
  };
  acl-policy-as-text = {
    # The policy's text belongs in policyFile; policy is a Nix value.
    modules = with' { acl.policy = ''{ "tagOwners": { } }''; };
    expect = [
      "${opt}.acl.policy"
      "null or JSON object (an attribute set of JSON values)"
    ];
  };
  acl-key-tag-undefined = {
    modules = with' {
      keys = {
        managed_key = { };
        web.tags = [
          "tag:web"
          "tag:ci"
          "tag:prod"
        ];
      };
      acl.policy.tagOwners."tag:ci" = [ "autogroup:admin" ];
    };
    expect = [
      ''${opt}.keys.web.tags has tag:web, tag:prod, which ${opt}.acl.policy.tagOwners does not define. Tailscale refuses keys whose tags the tailnet policy does not define ("requested tags [tag:web tag:prod] are invalid or not permitted"). Add "tag:web" = [ "autogroup:admin" ]; "tag:prod" = [ "autogroup:admin" ]; (with the owners you want) to ${opt}.acl.policy.tagOwners, or remove the tag from the key.''
    ];
    assertion = true;
  };
  acl-key-tag-without-tag-owners = {
    modules = with' { acl.policy.grants = [ ]; };
    expect = [
      "${opt}.keys.managed_key.tags has tag:ci, which ${opt}.acl.policy.tagOwners does not define."
    ];
    assertion = true;
  };
  acl-key-tag-undefined-in-json-file = {
    modules = with' { acl.policyFile = ./fixtures/policy-undefined-tag.json; };
    expect = [
      ''${opt}.keys.managed_key.tags has tag:ci, which tagOwners in ${opt}.acl.policyFile (policy-undefined-tag.json) does not define.''
      ''Add "tag:ci": ["autogroup:admin"] (with the owners you want) to tagOwners in ${opt}.acl.policyFile (policy-undefined-tag.json), or remove the tag from the key.''
    ];
    assertion = true;
  };
  acl-tag-owner-names = {
    modules = with' {
      acl.policy.tagOwners = {
        "tag:ci" = [ ];
        ci = [ ];
        "tag:1x" = [ ];
      };
    };
    expect = [
      ''${opt}.acl.policy.tagOwners.ci: "ci" is not a valid tag name, and Tailscale refuses the policy. A tag is "tag:", then a letter, then letters, digits or dashes; rename it, for example to "tag:ci".''
      ''${opt}.acl.policy.tagOwners."tag:1x": "tag:1x" is not a valid tag name''
    ];
    assertion = true;
  };
  acl-tag-owners-not-an-object = {
    modules = with' { acl.policy.tagOwners = [ "tag:ci" ]; };
    expect = [
      ''${opt}.acl.policy.tagOwners must be an object that maps each tag to its owners, for example "tag:ci" = [ "autogroup:admin" ];.''
    ];
    assertion = true;
  };
  acl-json-file-not-an-object = {
    modules = with' { acl.policyFile = ./fixtures/policy-array.json; };
    expect = [
      "${opt}.acl.policyFile (policy-array.json) does not hold a JSON object, but a tailnet policy file is one object with fields such as acls, grants and tagOwners."
    ];
    assertion = true;
  };
  acl-json-file-with-comment = {
    modules = with' { acl.policyFile = ./fixtures/policy-comment.json; };
    expect = [
      "${opt}.acl.policyFile (policy-comment.json) has a // comment on line 3, which plain JSON does not allow. Tailscale accepts HuJSON: rename the file to policy-comment.hujson (HuJSON files are not checked at evaluation), or make it plain JSON to keep the checks."
    ];
    assertion = true;
  };
  acl-json-file-with-trailing-comma = {
    modules = with' { acl.policyFile = ./fixtures/policy-trailing-comma.json; };
    expect = [
      "${opt}.acl.policyFile (policy-trailing-comma.json) has a trailing comma on line 6"
    ];
    assertion = true;
  };
  acl-second-acl-in-settings = {
    modules = with' {
      acl.policy.tagOwners."tag:ci" = [ ];
      settings.resource.tailscale_acl.main.acl = "{}";
    };
    expect = [
      "${opt}.settings.resource.tailscale_acl.main is a second tailscale_acl, but a tailnet has one policy file and ${opt}.acl already renders it as tailscale_acl.policy; both would overwrite it on every run. Remove it from settings and keep ${opt}.acl (or the reverse)."
    ];
    assertion = true;
  };
  dns-with-older-dns-resources = {
    modules = with' {
      dns.nameservers = [ "1.1.1.1" ];
      settings.resource = {
        tailscale_dns_nameservers.main.nameservers = [ "9.9.9.9" ];
        tailscale_dns_preferences.main.magic_dns = true;
        tailscale_dns_search_paths.main.search_paths = [ "example.com" ];
        tailscale_dns_split_nameservers.corp = {
          domain = "corp";
          nameservers = [ "10.0.0.53" ];
        };
      };
    };
    expect = [
      "${opt}.settings.resource.tailscale_dns_nameservers cannot be combined with ${opt}.dns: it renders tailscale_dns_configuration, which owns the tailnet's whole DNS configuration, and the provider documents it as conflicting with tailscale_dns_nameservers (the two would undo each other on every run). Move its values to ${opt}.dns.nameservers and remove it from settings."
      "${opt}.settings.resource.tailscale_dns_preferences cannot be combined with ${opt}.dns:"
      "Move its values to ${opt}.dns.magicDNS and remove it from settings."
      "${opt}.settings.resource.tailscale_dns_search_paths cannot be combined with ${opt}.dns:"
      "Move its values to ${opt}.dns.searchPaths and remove it from settings."
      "${opt}.settings.resource.tailscale_dns_split_nameservers cannot be combined with ${opt}.dns:"
      "Move its values to ${opt}.dns.splitDns and remove it from settings."
    ];
    assertion = true;
  };
  dns-second-configuration = {
    modules = with' {
      dns = { };
      settings.resource.tailscale_dns_configuration.main.magic_dns = false;
    };
    expect = [
      "${opt}.settings.resource.tailscale_dns_configuration.main is a second tailscale_dns_configuration, but ${opt}.dns already renders tailscale_dns_configuration.dns, which owns the tailnet's whole DNS configuration. Remove it from settings and keep ${opt}.dns (or the reverse)."
    ];
    assertion = true;
  };
  dns-split-domain-invalid = {
    modules = with' { dns.splitDns."corp example" = [ "10.0.0.53" ]; };
    expect = [
      ''${opt}.dns.splitDns."corp example": "corp example" is not a DNS domain (dot-separated labels of letters, digits, dashes and underscores). Write the domain as devices query it, like "corp.example.com".''
    ];
    assertion = true;
  };
  dns-split-domain-without-nameservers = {
    # The provider requires at least one nameservers block per split domain since v0.29.0.
    modules = with' { dns.splitDns."corp.example.com" = [ ]; };
    expect = [
      ''${opt}.dns.splitDns."corp.example.com"''
      "non-empty (list of"
    ];
  };
  dns-search-path-invalid = {
    modules = with' { dns.searchPaths = [ "https://example.com" ]; };
    expect = [
      "${opt}.dns.searchPaths"
      "DNS domain (dot-separated labels of letters, digits, dashes and underscores, like `corp.example.com`)"
    ];
  };
  dns-nameserver-without-address = {
    modules = with' { dns.nameservers = [ "" ]; };
    expect = [
      "${opt}.dns.nameservers"
      "address"
      "non-empty string"
    ];
  };
  monitor-devices-bad-tag = {
    modules = with' { monitorDevices.tags = [ "server" ]; };
    expect = [
      "${opt}.monitorDevices.tags"
      "Tailscale tag (`tag:`, then a letter, then letters, digits or dashes)"
    ];
  };

  # Mistakes in the unit that NixOS's own declarations reject (nixos/lib/systemd-unit-options.nix,
  # systemd-lib.nix) and the stub options do not: each stands for a slip in nix/module.nix.
  unit-type-typo = {
    modules = with' { } ++ [ { systemd.services.tailscale-manager.serviceConfig.Type = lib.mkForce "oneshoot"; } ];
    expect = [
      "Systemd Service field `Type' cannot have value `oneshoot'."
      "systemd.services.tailscale-manager.serviceConfig"
    ];
    realNixos = true;
  };
  unit-restart-typo = {
    modules = with' { } ++ [ { systemd.services.tailscale-manager.serviceConfig.Restart = "on-failur"; } ];
    expect = [
      "Systemd Service field `Restart' cannot have value `on-failur'."
      "systemd.services.tailscale-manager.serviceConfig"
    ];
    realNixos = true;
  };
  unit-set-in-service-config = {
    # NixOS renders serviceConfig values with toString when it writes the unit file.
    modules = with' { } ++ [ { systemd.services.tailscale-manager.serviceConfig.Environment.FOO = "x"; } ];
    expect = [ "cannot coerce a set to a string" ];
    realNixos = true;
    uncatchable = true;
  };
  unit-after-without-suffix = {
    modules = with' { } ++ [ { systemd.services.tailscale-manager.after = [ "network-online" ]; } ];
    expect = [
      "systemd.services.tailscale-manager.after"
      "[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)"
    ];
    realNixos = true;
  };
  unit-multi-line-description = {
    modules = with' { } ++ [
      {
        systemd.services.tailscale-manager.description = lib.mkForce ''
          tailscale-manager
          apply the keys'';
      }
    ];
    expect = [
      "systemd.services.tailscale-manager.description"
      "single-line string"
    ];
    realNixos = true;
  };

  home-credentials-in-store = {
    home = true;
    modules = [
      {
        programs.tailscale-manager = {
          enable = true;
          credentialsFile = storePath;
        };
      }
    ];
    expect = [
      "programs.tailscale-manager.credentialsFile"
      "absolute path outside the Nix store, given as a string"
    ];
  };
  home-state-dir-relative = {
    home = true;
    modules = [
      {
        programs.tailscale-manager = {
          enable = true;
          stateDir = "state/tailscale-manager";
        };
      }
    ];
    expect = [
      "programs.tailscale-manager.stateDir"
      "absolute path of a directory"
    ];
  };
}
