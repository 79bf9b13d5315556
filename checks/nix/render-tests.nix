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
}
