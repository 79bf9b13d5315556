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
    expected = ''would replace the value "-" that tailscale-manager renders from tailnet, providerVersion and keys; set those instead of overriding the value in settings.'';
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
    expected = ''is not supported: the runner must know where the state is (it backs it up, restores or keeps it, and reads it for status), which a backend block would hide; remove it, and set stateBackend ("local" or "pg") instead.'';
  };
}
