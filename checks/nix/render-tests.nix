# Unit tests of nix/render.nix with builtins only (no nixpkgs lib), so they run wherever
# nix-instantiate does. The golden files in checks/render/ cover whole outputs; these cover the rules.
let
  render = import ../../nix/render.nix;
  ciKey = {
    tags = [ "tag:ci" ];
  };
  withExtra = settings: {
    keys.managed_key = ciKey;
    inherit settings;
  };
  paths = settings: map (p: p.path) (render.problems settings);
  fails = value: !(builtins.tryEval (builtins.deepSeq value value)).success;
  golden03 = import ../render/03-extra-config.nix;

  # The tailnet parts: what one input renders at one address.
  aclOf = acl: (render { inherit acl; }).resource.tailscale_acl.policy;
  dnsOf = dns: (render { inherit dns; }).resource.tailscale_dns_configuration.dns;
  devicesOf = monitorDevices: (render { inherit monitorDevices; }).data or null;
  policy = {
    tagOwners."tag:ci" = [ "autogroup:admin" ];
  };
  withDns = settings: {
    dns = { };
    inherit settings;
  };

  # A key that keeps its value in a file, and one that does not.
  fileKey = ciKey // {
    file = "/var/lib/tm/keys/ci";
  };
  withFile = settings: {
    keys = {
      ci = fileKey;
      other = ciKey;
    };
    inherit settings;
  };
  cbd = {
    lifecycle.create_before_destroy = true;
  };
in
{
  # The module takes its option defaults from here (module-tests.nix checks that too).
  testDefaults = {
    expr = render.defaults;
    expected = {
      tailnet = "-";
      providerVersion = "~> 0.29";
      settings = { };
      keys = { };
      key = {
        description = "";
        tags = [ ];
        reusable = true;
        ephemeral = false;
        preauthorized = true;
        expiry = null;
        recreateIfInvalid = "always";
        file = null;
      };
      stateBackend = {
        type = "local";
        schemaName = "tailscale_manager";
      };
      acl = {
        policy = null;
        policyFile = null;
        overwriteExisting = false;
        resetOnDestroy = false;
      };
      dns = null;
      dnsConfiguration = {
        nameservers = [ ];
        splitDns = { };
        searchPaths = [ ];
        magicDNS = true;
        overrideLocalDNS = false;
      };
      nameserver.useWithExitNode = false;
      monitorDevices = false;
    };
  };

  testTopLevelBlocks = {
    expr = builtins.attrNames (render {
      keys.managed_key = ciKey;
    });
    expected = [
      "provider"
      "resource"
      "terraform"
    ];
  };

  # Credentials are never rendered: the provider block carries the tailnet and nothing else.
  testProviderBlockHasOnlyTailnet = {
    expr = (render { keys.managed_key = ciKey; }).provider;
    expected = {
      tailscale.tailnet = "-";
    };
  };

  testRequiredProviderSourceWorksForTerraformAndTofu = {
    expr = (render { providerVersion = "~> 0.29"; }).terraform.required_providers.tailscale;
    expected = {
      source = "tailscale/tailscale";
      version = "~> 0.29";
    };
  };

  testExpiryRenderedOnlyWhenSet = {
    expr = map (expiry: (render { keys.k = ciKey // { inherit expiry; }; }).resource.tailscale_tailnet_key.k ? expiry) [
      null
      3600
    ];
    expected = [
      false
      true
    ];
  };

  testRecreateIfInvalidRenamed = {
    expr =
      (render {
        keys.k = ciKey // {
          recreateIfInvalid = "never";
        };
      }).resource.tailscale_tailnet_key.k.recreate_if_invalid;
    expected = "never";
  };

  testTagOrderKept = {
    expr =
      (render {
        keys.k.tags = [
          "tag:z"
          "tag:a"
        ];
      }).resource.tailscale_tailnet_key.k.tags;
    expected = [
      "tag:z"
      "tag:a"
    ];
  };

  testNoKeysNoResourceBlock = {
    expr = render { } ? resource;
    expected = false;
  };

  testToJSONIsBuiltinsToJSON = {
    expr = render.toJSON (withExtra { }) == builtins.toJSON (render (withExtra { }));
    expected = true;
  };

  testExtraConfigAdditionsAreNoProblem = {
    expr = paths (withExtra {
      resource.tailscale_dns_nameservers.main.nameservers = [ "9.9.9.9" ];
      resource.tailscale_tailnet_key.managed_key.lifecycle.create_before_destroy = true;
      terraform.required_providers.random.source = "hashicorp/random";
      provider.tailscale.tailnet = "-";
    });
    expected = [ ];
  };

  testExtraConfigConflictPaths = {
    expr = paths (withExtra {
      provider.tailscale.tailnet = "example.com";
      resource.tailscale_tailnet_key.managed_key.tags = [ "tag:other" ];
      terraform.required_providers.tailscale.version = "0.28.0";
    });
    expected = [
      [
        "provider"
        "tailscale"
        "tailnet"
      ]
      [
        "resource"
        "tailscale_tailnet_key"
        "managed_key"
        "tags"
      ]
      [
        "terraform"
        "required_providers"
        "tailscale"
        "version"
      ]
    ];
  };

  testExtraConfigReplacingABlockWithALeafConflicts = {
    expr = paths (withExtra {
      provider.tailscale = "x";
    });
    expected = [
      [
        "provider"
        "tailscale"
      ]
    ];
  };

  testExtraConfigConflictMessage = {
    expr = (builtins.head (render.problems (withExtra { provider.tailscale.tailnet = "x"; }))).message;
    expected = ''would replace the value "-" that tailscale-manager renders from tailnet; set it instead of overriding the value in settings.'';
  };

  # `messageFor` lets a caller name the input fields as its options (the NixOS module: their full
  # names); `message` is it with the fields' own names.
  testProblemMessageForNamesFieldsAsTheCallerDoes = {
    expr =
      map
        (
          p:
          {
            message = p.messageFor (field: "opts.${field}");
            identity = p.messageFor (field: field) == p.message;
          }
        )
        (
          render.problems {
            dns = { };
            settings = {
              provider.tailscale.tailnet = "x";
              resource.tailscale_dns_search_paths.main.search_paths = [ ];
            };
          }
        );
    expected = [
      {
        message = ''would replace the value "-" that tailscale-manager renders from opts.tailnet; set it instead of overriding the value in settings.'';
        identity = true;
      }
      {
        message = "cannot be combined with opts.dns: it renders tailscale_dns_configuration, which owns the tailnet's whole DNS configuration, and the provider documents it as conflicting with tailscale_dns_search_paths (the two would undo each other on every run). Move its values to opts.dns.searchPaths and remove it from settings.";
        identity = true;
      }
    ];
  };

  # The message names the input fields that render the value, whichever part renders it.
  testConflictMessageNamesWhatRendersTheValue = {
    expr =
      map
        (
          settings:
          map (p: p.message) (
            render.problems {
              keys.ci = fileKey;
              acl = { inherit policy; };
              dns = { };
              monitorDevices = true;
              stateBackend.type = "pg";
              inherit settings;
            }
          )
        )
        [
          { terraform.required_providers.tailscale.version = "0.1"; }
          { resource.local_sensitive_file.ci.filename = "/tmp/k"; }
          { resource.tailscale_acl.policy.acl = "{}x"; }
          { resource.tailscale_dns_configuration.dns.magic_dns = false; }
          { data.tailscale_devices.all = [ ]; }
          {
            resource = { };
            terraform.required_providers = "x";
          }
        ];
    expected = [
      [ ''would replace the value "~> 0.29" that tailscale-manager renders from providerVersion; set it instead of overriding the value in settings.'' ]
      [ ''would replace the value "/var/lib/tm/keys/ci" that tailscale-manager renders from keys; set it instead of overriding the value in settings.'' ]
      [ ''would replace the value "{\"tagOwners\":{\"tag:ci\":[\"autogroup:admin\"]}}" that tailscale-manager renders from acl; set it instead of overriding the value in settings.'' ]
      [ "would replace the value true that tailscale-manager renders from dns; set it instead of overriding the value in settings." ]
      [ "would replace the value {} that tailscale-manager renders from monitorDevices; set it instead of overriding the value in settings." ]
      [ ''would replace the value {"local":{"source":"hashicorp/local","version":"~> 2.2"},"tailscale":{"source":"tailscale/tailscale","version":"~> 0.29"}} that tailscale-manager renders from providerVersion and keys; set those instead of overriding the value in settings.'' ]
    ];
  };

  testBackendAndCloudRefused = {
    expr = paths (withExtra {
      terraform.backend.s3.bucket = "b";
      terraform.cloud.organization = "o";
    });
    expected = [
      [
        "terraform"
        "backend"
      ]
      [
        "terraform"
        "cloud"
      ]
    ];
  };

  testExtraConfigMustBeAnObject = {
    expr = render.problems (withExtra [ ]);
    expected = [
      {
        path = [ ];
        message = "must be an attribute set (a JSON object).";
      }
    ];
  };

  testRenderThrowsOnConflict = {
    expr = fails (render (withExtra { provider.tailscale.tailnet = "x"; }));
    expected = true;
  };

  testRenderThrowsOnBackend = {
    expr = fails (render (withExtra { terraform.backend.local.path = "x"; }));
    expected = true;
  };

  # `extraConfig`, the name `settings` had before the module's option was renamed, still works.
  testExtraConfigIsTheOldNameOfSettings = {
    expr = map render.toJSON [
      {
        keys.managed_key = ciKey;
        extraConfig = golden03.settings;
      }
      (import ../render/03-extra-config.nix)
    ];
    expected = [
      (builtins.readFile ../render/03-extra-config.json)
      (builtins.readFile ../render/03-extra-config.json)
    ];
  };

  testSettingsAndExtraConfigTogetherRefused = {
    expr = fails (render {
      settings = { };
      extraConfig = { };
    });
    expected = true;
  };

  testRenderSucceedsWithoutProblems = {
    expr = fails (render (withExtra { resource.tailscale_acl.main.acl = "{}"; }));
    expected = false;
  };

  # ---- the tailnet: ACL policy, DNS, devices -----------------------------------------------------

  testNoTailnetPartsByDefault = {
    expr = {
      resources = builtins.attrNames (render { keys.managed_key = ciKey; }).resource;
      data = render { keys.managed_key = ciKey; } ? data;
    };
    expected = {
      resources = [ "tailscale_tailnet_key" ];
      data = false;
    };
  };

  testAclPolicyIsBuiltinsToJSON = {
    expr = aclOf { inherit policy; };
    expected = {
      acl = ''{"tagOwners":{"tag:ci":["autogroup:admin"]}}'';
    };
  };

  testAclPolicyFileTextUnchanged = {
    expr = (aclOf { policyFile = ../render/09-acl-policy-file.hujson; }).acl;
    expected = builtins.readFile ../render/09-acl-policy-file.hujson;
  };

  # false and unset mean the same to the provider; only true is rendered.
  testAclFlagsRenderedOnlyWhenTrue = {
    expr =
      map
        (
          flags:
          builtins.attrNames (
            aclOf (
              {
                inherit policy;
              }
              // flags
            )
          )
        )
        [
          {
            overwriteExisting = false;
            resetOnDestroy = false;
          }
          { overwriteExisting = true; }
          { resetOnDestroy = true; }
        ];
    expected = [
      [ "acl" ]
      [
        "acl"
        "overwrite_existing_content"
      ]
      [
        "acl"
        "reset_acl_on_destroy"
      ]
    ];
  };

  testAclFlagValues = {
    expr = removeAttrs (aclOf {
      inherit policy;
      overwriteExisting = true;
      resetOnDestroy = true;
    }) [ "acl" ];
    expected = {
      overwrite_existing_content = true;
      reset_acl_on_destroy = true;
    };
  };

  testAclWithoutPolicyRendersNothing = {
    expr = (render { acl.overwriteExisting = true; }) ? resource;
    expected = false;
  };

  testAclPolicyAndPolicyFileRefused = {
    expr = fails (
      aclOf {
        inherit policy;
        policyFile = ../render/09-acl-policy-file.hujson;
      }
    );
    expected = true;
  };

  testDnsNullRendersNothing = {
    expr = (render { dns = null; }) ? resource;
    expected = false;
  };

  # `dns = { }` manages DNS with the defaults: no nameservers, split DNS or search paths; MagicDNS on.
  testDnsEmptyRendersDefaults = {
    expr = dnsOf { };
    expected = {
      search_paths = [ ];
      magic_dns = true;
      override_local_dns = false;
    };
  };

  testDnsNameserversAsArraysOfObjects = {
    expr = dnsOf {
      nameservers = [
        "1.1.1.1"
        {
          address = "9.9.9.9";
          useWithExitNode = true;
        }
        { address = "8.8.8.8"; }
      ];
      splitDns."b.example" = [ "10.0.0.2" ];
      splitDns."a.example" = [
        {
          address = "10.0.0.1";
          useWithExitNode = true;
        }
      ];
    };
    expected = {
      search_paths = [ ];
      magic_dns = true;
      override_local_dns = false;
      nameservers = [
        {
          address = "1.1.1.1";
          use_with_exit_node = false;
        }
        {
          address = "9.9.9.9";
          use_with_exit_node = true;
        }
        {
          address = "8.8.8.8";
          use_with_exit_node = false;
        }
      ];
      # Sorted by domain.
      split_dns = [
        {
          domain = "a.example";
          nameservers = [
            {
              address = "10.0.0.1";
              use_with_exit_node = true;
            }
          ];
        }
        {
          domain = "b.example";
          nameservers = [
            {
              address = "10.0.0.2";
              use_with_exit_node = false;
            }
          ];
        }
      ];
    };
  };

  testDevicesOffByDefaultFalseOrNull = {
    expr = map devicesOf [
      false
      null
    ];
    expected = [
      null
      null
    ];
  };

  testDevicesOnWithoutFilter = {
    expr = map devicesOf [
      true
      { tags = [ ]; }
      { }
    ];
    expected = [
      { tailscale_devices.all = { }; }
      { tailscale_devices.all = { }; }
      { tailscale_devices.all = { }; }
    ];
  };

  # One filter block for all tags: the client keys filters by name, so a second "tags" block would
  # replace the first.
  testDevicesTagsOneFilterBlock = {
    expr = devicesOf {
      tags = [
        "tag:a"
        "tag:b"
      ];
    };
    expected.tailscale_devices.all.filter = [
      {
        name = "tags";
        values = [
          "tag:a"
          "tag:b"
        ];
      }
    ];
  };

  testDnsRefusesTheOlderResourcesInSettings = {
    expr = paths (withDns {
      resource.tailscale_dns_nameservers.main.nameservers = [ "9.9.9.9" ];
      resource.tailscale_dns_preferences.main.magic_dns = true;
      resource.tailscale_dns_search_paths.main.search_paths = [ ];
      resource.tailscale_dns_split_nameservers.corp = {
        domain = "corp";
        nameservers = [ "10.0.0.53" ];
      };
    });
    expected = [
      [
        "resource"
        "tailscale_dns_nameservers"
      ]
      [
        "resource"
        "tailscale_dns_preferences"
      ]
      [
        "resource"
        "tailscale_dns_search_paths"
      ]
      [
        "resource"
        "tailscale_dns_split_nameservers"
      ]
    ];
  };

  testDnsConflictMessageNamesTheReplacement = {
    expr = map (p: p.message) (
      render.problems (withDns {
        resource.tailscale_dns_preferences.main.magic_dns = true;
      })
    );
    expected = [
      "cannot be combined with dns: it renders tailscale_dns_configuration, which owns the tailnet's whole DNS configuration, and the provider documents it as conflicting with tailscale_dns_preferences (the two would undo each other on every run). Move its values to dns.magicDNS and remove it from settings."
    ];
  };

  # Without `dns`, the older resources stay what settings is for.
  testOlderDnsResourcesFineWithoutDns = {
    expr = paths {
      settings.resource.tailscale_dns_nameservers.main.nameservers = [ "9.9.9.9" ];
      settings.resource.tailscale_dns_configuration.mine.magic_dns = true;
    };
    expected = [ ];
  };

  testSecondDnsConfigurationRefused = {
    expr = paths (withDns {
      resource.tailscale_dns_configuration.dns.lifecycle.prevent_destroy = true;
      resource.tailscale_dns_configuration.other.magic_dns = false;
    });
    expected = [
      [
        "resource"
        "tailscale_dns_configuration"
        "other"
      ]
    ];
  };

  testSecondAclRefused = {
    expr = paths {
      acl = { inherit policy; };
      settings.resource.tailscale_acl = {
        policy.lifecycle.prevent_destroy = true;
        old.acl = "{}";
      };
    };
    expected = [
      [
        "resource"
        "tailscale_acl"
        "old"
      ]
    ];
  };

  # Settings that are not an object are reported once, by settings.nix; the parts do not fail on them.
  testTailnetPartsToleratePlainSettings = {
    expr = paths {
      dns = { };
      acl = { inherit policy; };
      settings = [ ];
    };
    expected = [ [ ] ];
  };

  testRenderThrowsOnOlderDnsResource = {
    expr = fails (render (withDns { resource.tailscale_dns_nameservers.main.nameservers = [ "9.9.9.9" ]; }));
    expected = true;
  };

  # ---- key files -----------------------------------------------------------------------------------

  testKeyFileRendered = {
    expr = (render (withFile { })).resource.local_sensitive_file;
    expected = {
      ci = {
        filename = "/var/lib/tm/keys/ci";
        content = "\${tailscale_tailnet_key.ci.key}";
        file_permission = "0600";
        directory_permission = "0700";
      };
    };
  };

  # hashicorp/local is required exactly when some key has a file.
  testLocalProviderOnlyWithAFile = {
    expr =
      map
        (keys: {
          local = (render { inherit keys; }).terraform.required_providers.local or null;
          files = (render { inherit keys; }).resource ? local_sensitive_file;
        })
        [
          { ci = ciKey; }
          { ci = ciKey // { file = null; }; }
          { ci = fileKey; }
        ];
    expected = [
      {
        local = null;
        files = false;
      }
      {
        local = null;
        files = false;
      }
      {
        local = {
          source = "hashicorp/local";
          version = "~> 2.2";
        };
        files = true;
      }
    ];
  };

  # The key's value is never in the rendered text: only a reference to the key's attribute.
  testKeyFileHoldsAReferenceOnly = {
    expr = builtins.attrNames (builtins.getContext (render.toJSON (withFile { }))) == [ ]
      && builtins.match ".*tskey.*" (render.toJSON (withFile { })) == null;
    expected = true;
  };

  # create_before_destroy on the key keeps the file (terraform does not force it onto the file,
  # which depends on the key): allowed, and rendered as given.
  testCreateBeforeDestroyOnKeyWithFileAllowed = {
    expr = {
      problems = paths (withFile { resource.tailscale_tailnet_key.ci = cbd; });
      rendered = (render (withFile { resource.tailscale_tailnet_key.ci = cbd; })).resource.tailscale_tailnet_key.ci.lifecycle;
    };
    expected = {
      problems = [ ];
      rendered.create_before_destroy = true;
    };
  };

  # On the file itself it would delete the new file (hashicorp/terraform-provider-local#146).
  testCreateBeforeDestroyOnKeyFileRefused = {
    expr = paths (withFile { resource.local_sensitive_file.ci = cbd; });
    expected = [
      [
        "resource"
        "local_sensitive_file"
        "ci"
        "lifecycle"
        "create_before_destroy"
      ]
    ];
  };

  testCreateBeforeDestroyOnKeyFileMessage = {
    expr =
      builtins.match ".*hashicorp/terraform-provider-local#146.*also when the key has create_before_destroy.*"
        (builtins.head (render.problems (withFile { resource.local_sensitive_file.ci = cbd; }))).message
      != null;
    expected = true;
  };

  # A resource with create_before_destroy that refers to a key file would force it onto the file.
  testCreateBeforeDestroyForcedOntoKeyFileRefused = {
    expr = paths (withFile {
      resource.null_resource = {
        by_depends_on = cbd // {
          depends_on = [ "local_sensitive_file.ci" ];
        };
        by_reference = cbd // {
          triggers.sha = "\${local_sensitive_file.ci.id}";
        };
        # Not refused: no create_before_destroy, another name, or no key file.
        plain.depends_on = [ "local_sensitive_file.ci" ];
        prefix = cbd // {
          depends_on = [ "local_sensitive_file.ci2" ];
        };
        no_file = cbd // {
          depends_on = [ "local_sensitive_file.other" ];
        };
      };
    });
    expected = [
      [
        "resource"
        "null_resource"
        "by_depends_on"
        "lifecycle"
        "create_before_destroy"
      ]
      [
        "resource"
        "null_resource"
        "by_reference"
        "lifecycle"
        "create_before_destroy"
      ]
    ];
  };

  # A file of your own in settings (not a key's) may have it.
  testCreateBeforeDestroyOnOtherFileAllowed = {
    expr = paths (withFile { resource.local_sensitive_file.mine = cbd // { filename = "/tmp/x"; }; });
    expected = [ ];
  };

  testRenderThrowsOnCreateBeforeDestroyKeyFile = {
    expr = fails (render (withFile { resource.local_sensitive_file.ci = cbd; }));
    expected = true;
  };

  # Key names are taken literally when looking for references (no regex from a name).
  testKeyNameWithRegexCharacters = {
    expr = paths {
      keys = {
        "a.b" = fileKey;
        "c(d" = fileKey;
      };
      settings.resource.null_resource.n = cbd // {
        depends_on = [ "local_sensitive_file.aXb" ];
      };
    };
    expected = [ ];
  };

  # ---- state backend -------------------------------------------------------------------------------

  testLocalStateRendersNoBackend = {
    expr = map (input: (render input).terraform ? backend) [
      { keys.ci = ciKey; }
      {
        keys.ci = ciKey;
        stateBackend.type = "local";
      }
    ];
    expected = [
      false
      false
    ];
  };

  testPgBackendRendersSchemaNameOnly = {
    expr =
      map
        (
          stateBackend:
          (render {
            keys.ci = ciKey;
            inherit stateBackend;
          }).terraform.backend
        )
        [
          { type = "pg"; }
          {
            type = "pg";
            schemaName = "fleet";
          }
        ];
    expected = [
      { pg.schema_name = "tailscale_manager"; }
      { pg.schema_name = "fleet"; }
    ];
  };

  testUnknownBackendTypeThrows = {
    expr = fails (render { stateBackend.type = "s3"; });
    expected = true;
  };

  # settings still may not declare a backend, not even next to the rendered pg one (a conn_str there
  # would put the password into the store).
  testSettingsBackendRefusedWithPg = {
    expr = paths {
      keys.ci = ciKey;
      stateBackend.type = "pg";
      settings.terraform.backend.pg.conn_str = "postgres://u:p@db/tf";
    };
    expected = [
      [
        "terraform"
        "backend"
      ]
    ];
  };

  testBackendMessageNamesStateBackend = {
    expr = (builtins.head (render.problems (withExtra { terraform.backend.s3.bucket = "b"; }))).message;
    expected = ''is not supported: the runner must know where the state is (it backs it up, restores or keeps it, and reads it for status), which a backend block would hide; remove it, and set stateBackend.type ("local" or "pg") instead.'';
  };
}
