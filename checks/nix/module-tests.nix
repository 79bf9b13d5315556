# Tests of nix/module.nix and nix/home-manager.nix with lib.evalModules, stub NixOS/Home Manager
# options and a fake pkgs (see harness.nix). Run by checks/nix/run; needs nixpkgs lib.
{
  lib,
  nixos ? null,
}:
let
  h = import ./harness.nix { inherit lib nixos; };
  stubHost = import ./harness.nix { inherit lib; };
  inherit (h)
    example
    render
    fakePkgs
    with'
    pg
    tailscaleOn
    ;

  sys = modules: h.nixos modules;
  unitOf = modules: (sys modules).systemd.services.tailscale-manager;
  svc = modules: (unitOf modules).serviceConfig;

  exampleSys = sys [ example ];
  exampleSvc = exampleSys.systemd.services.tailscale-manager.serviceConfig;
  exe = "${fakePkgs.callPackage ../../nix/package.nix { }}/bin/tailscale-manager";
  tofu = "${fakePkgs.opentofu.withPlugins (p: [ p.tailscale_tailscale ])}/bin/tofu";

  # builtins.toFile's path depends only on name and content: equal paths mean byte-identical files.
  golden03Input = import ../render/03-extra-config.nix;
  # The keys of golden 02 as module options.
  severalKeys = {
    managed_key = { };
    runners = {
      description = "ephemeral CI runners";
      ephemeral = true;
      expiry = 604800;
    };
    servers = {
      description = "servers";
      tags = [
        "tag:server"
        "tag:prod"
      ];
      reusable = false;
      recreateIfInvalid = "never";
    };
  };
  golden = name: builtins.toFile "main.tf.json" (builtins.readFile (../render + "/${name}.json"));
  configOf = modules: (sys modules).system.build.tailscale-manager-config;

  fails = value: !(builtins.tryEval (builtins.deepSeq value value)).success;
  hasInfix = lib.hasInfix;

  # The module's option declarations, and the defaults of a submodule option's sub-options.
  options = (h.evalNixos [ example ]).options.services.tailscale-manager;
  subOptionDefaults =
    option: lib.mapAttrs (_: o: o.default or null) (removeAttrs (option.type.getSubOptions [ ]) [ "_module" ]);
  keyDefaults = subOptionDefaults options.keys;

  optionDocs = import ./options-doc.nix { inherit lib; };
  readme = builtins.readFile ../../README.md;

  homeCli = modules: builtins.head (h.home modules).home.packages;

  # The NixOS wrapper's ending after its exports: root opens the secret files named by `secrets`
  # and drops to the service user, which runs the runner directly; anyone else is refused.
  setpriv = "${fakePkgs.util-linux}/bin/setpriv";
  id = "${fakePkgs.coreutils}/bin/id";
  asServiceUser = secrets: ''
    if [ "$EUID" = 0 ]; then
      for secret in ${secrets}; do
        # A file root cannot open either stays a path: the runner then names it in its error.
        { exec {fd}<"''${!secret}"; } 2>/dev/null && export "$secret=/dev/fd/$fd"
      done
      exec ${setpriv} --reuid=tailscale-manager --regid=tailscale-manager --init-groups --no-new-privs -- ${exe} "$@"
    elif [ "$(${id} -un)" = tailscale-manager ]; then
      exec ${exe} "$@"
    else
      echo "tailscale-manager: run it as root (sudo tailscale-manager …) or as the service user tailscale-manager, not as $(${id} -un)" >&2
      exit 2
    fi
  '';

  tmTypes = import ../../nix/types.nix { inherit lib; };
  tailnetOf = extra: (sys (with' extra)).services.tailscale-manager;
  # What an evaluated system reports (`clean`: nothing).
  reported = c: {
    assertions = h.failedAssertions c;
    inherit (c) warnings;
  };
  checksOf = extra: reported (sys (with' extra));
  clean = {
    assertions = [ ];
    warnings = [ ];
  };
  golden08Input = import ../render/08-acl-policy.nix;
  unknownFieldWarning =
    where:
    "${where} has the top-level field \"nodeVisibility\", which the Tailscale policy file format does not define (known: acls, attrConfig, autoApprovers, defaultSrcPosture, derpMap, disableIPv4, grants, groups, hosts, ipsets, nodeAttrs, oneCGNATRoute, postures, randomizeClientPort, ssh, sshTests, tagOwners, tests). The Tailscale API refuses unknown fields (json: unknown field \"nodeVisibility\"), so check the spelling; if Tailscale has added the field since, ignore this warning.";

  # main.tf.json of a renderer input, as the module writes it (equal store paths: equal bytes).
  rendered = input: builtins.toFile "main.tf.json" (render.toJSON input);
  ciKey = {
    tags = [ "tag:ci" ];
  };

  # A service of the host's own that gets a key, as a user would declare it.
  consumer = {
    systemd.services.ci-runner.serviceConfig.ExecStart = "/bin/true";
  };
  delivering = extra: with' extra ++ [ consumer ];
  managerUnit = [ "tailscale-manager.service" ];
  keyFile = name: "/var/lib/tailscale-manager/keys/${name}";

  # checks/vm/standin-provider.nix's package: one package, named after no nixpkgs provider, holding
  # the tailscale/tailscale and hashicorp/local stand-ins; its program is standin-tailnet.
  standinPackage = fakePkgs.writeShellScriptBin "terraform-provider-tailscale-standin-0.29.2" "" // {
    meta.mainProgram = "standin-tailnet";
  };

  # A VM test's machine (see vmMachine below): what its evaluation reports (`clean`: nothing),
  # and what `f` picks from it.
  vmMachineChecks =
    file: f:
    let
      c = vmMachine file;
    in
    reported c // f c;

  # The machine of a VM test in checks/vm/ (they run only with KVM), evaluated with this host.
  vmMachine =
    file:
    sys [
      ../vm/common.nix
      (import file).nodes.machine
      {
        # The stand-in package; NixOS's specialisation option, unused here.
        config._module.args.standin = standinPackage;
        options.specialisation = lib.mkOption {
          type = lib.types.attrsOf lib.types.anything;
          default = { };
        };
      }
    ];

  # Golden 13 as module options: the keys of golden 02 and the tailnet around them.
  golden13Options = {
    keys = severalKeys;
    acl = {
      inherit (golden08Input.acl) policy;
      overwriteExisting = true;
    };
    dns = {
      nameservers = [ "9.9.9.9" ];
      splitDns."corp.example.com" = [ "10.0.0.53" ];
      searchPaths = [ "corp.example.com" ];
    };
    monitorDevices.tags = [ "tag:server" ];
  };
  # The same with two keys keeping a file: one delivered to a service, one to this host's
  # tailscaled (with `delivering` and `tailscaleOn`).
  everything = golden13Options // {
    keys = severalKeys // {
      managed_key.loadCredentialFor = [ "ci-runner" ];
    };
    authKeyForTailscaled = "servers";
  };

  # What a configuration contributes to the system, by name.
  footprint =
    c:
    {
      services = builtins.attrNames c.systemd.services;
      paths = builtins.attrNames c.systemd.paths;
      timers = builtins.attrNames c.systemd.timers;
      activation = builtins.attrNames (removeAttrs c.system.activationScripts [ "script" ]);
      packages = map (p: p.name) c.environment.systemPackages;
      users = builtins.attrNames c.users.users;
      groups = builtins.attrNames c.users.groups;
    }
    // reported c;
  # The services a configuration adds to the host's own.
  addedServices =
    c: builtins.attrNames (removeAttrs c.systemd.services (builtins.attrNames h.hostOnly.systemd.services));
in
{
  # ---- rendering: the module hands render.nix exactly the golden settings ----------------------

  testExampleRendersGolden01 = {
    expr = configOf [ example ] == golden "01-readme-example";
    expected = true;
  };

  testSeveralKeysRenderGolden02 = {
    expr = configOf (with' { keys = severalKeys; }) == golden "02-several-keys";
    expected = true;
  };

  testSettingsRenderGolden03 = {
    # The same settings as the golden input; the module must pass them through unchanged.
    expr = configOf (with' { inherit (golden03Input) settings; }) == golden "03-extra-config";
    expected = true;
  };

  # `extraConfig`, the option's name before RFC 42 naming, still works (mkRenamedOptionModule)...
  testExtraConfigStillRendersGolden03 = {
    expr = configOf (with' { extraConfig = golden03Input.settings; }) == golden "03-extra-config";
    expected = true;
  };

  # ... and says what to write instead.
  testExtraConfigWarnsAboutTheRename = {
    expr = map (lib.hasInfix "has been renamed to `services.tailscale-manager.settings'.") (
      sys (with' { extraConfig = golden03Input.settings; })
    ).warnings;
    expected = [ true ];
  };

  testEveryFlagNonDefaultRendersGolden05 = {
    expr =
      configOf (with' {
        tailnet = lib.mkForce "example.com";
        providerVersion = ">= 0.29.0, < 0.30.0";
        tags = lib.mkForce [
          "tag:build"
          "tag:linux"
        ];
        recreateIfInvalid = "never";
        keys.build_fleet = {
          description = "build fleet";
          reusable = false;
          ephemeral = true;
          preauthorized = false;
          expiry = 86400;
        };
      }) == golden "05-every-flag-non-default";
    expected = true;
  };

  testConfigExposedAsSystemBuild = {
    expr = lib.hasSuffix "-main.tf.json" (configOf [ example ]);
    expected = true;
  };

  testDefaultKeyIsManagedKeyOnly = {
    expr = builtins.attrNames exampleSys.services.tailscale-manager.keys;
    expected = [ "managed_key" ];
  };

  testSettingKeysReplacesDefault = {
    expr = builtins.attrNames (sys (with' { keys.ci = { }; })).services.tailscale-manager.keys;
    expected = [ "ci" ];
  };

  testKeyInheritsTopLevelTagsAndRecreate = {
    expr =
      let
        k = (sys (with' { recreateIfInvalid = "never"; keys.ci = { }; })).services.tailscale-manager.keys.ci;
      in
      {
        inherit (k) tags recreateIfInvalid;
      };
    expected = {
      tags = [ "tag:ci" ];
      recreateIfInvalid = "never";
    };
  };

  # The per-key option defaults written in module.nix equal render.nix's (tags and recreateIfInvalid
  # come from the top-level options, whose defaults are render's too). The key-delivery options
  # become the renderer's `file` (no file by default: testNoKeyWritesAFileByDefault).
  testKeyDefaultsMatchRenderer = {
    expr = removeAttrs keyDefaults [
      "tags"
      "recreateIfInvalid"
      "writeFile"
      "path"
      "loadCredentialFor"
    ];
    expected = removeAttrs render.defaults.key [
      "tags"
      "recreateIfInvalid"
      "file"
    ];
  };

  testTopLevelDefaultsMatchRenderer = {
    expr = {
      tailnet = options.tailnet.default;
      providerVersion = options.providerVersion.default;
      recreateIfInvalid = options.recreateIfInvalid.default;
      tags = options.tags.default;
      settings = options.settings.default;
      stateBackend = {
        type = options.stateBackend.type.default;
        schemaName = options.stateBackend.pg.schemaName.default;
      };
    };
    expected = {
      inherit (render.defaults)
        tailnet
        providerVersion
        settings
        stateBackend
        ;
      inherit (render.defaults.key) recreateIfInvalid tags;
    };
  };

  # ---- the service --------------------------------------------------------------------------------

  testExecStartExample = {
    expr = exampleSvc.ExecStart;
    expected = "${exe} apply --state-dir /var/lib/tailscale-manager --config ${configOf [ example ]} --terraform ${tofu} --backup-count 5 --on-failure restore";
  };

  testExecStartCarriesEveryRunnerOption = {
    expr =
      (svc (with' {
        stateDir = "/var/lib/ts/keys";
        backupCount = 12;
        onFailure = "keep";
        terraformBin = "/opt/tf&co;(1)/bin/terraform";
      })).ExecStart;
    # Shell metacharacters are single-quoted, which systemd's ExecStart= parser understands.
    expected = "${exe} apply --state-dir /var/lib/ts/keys --config ${configOf [ example ]} --terraform '/opt/tf&co;(1)/bin/terraform' --backup-count 12 --on-failure keep";
  };

  testCredentialsOnlyThroughLoadCredential = {
    expr = {
      inherit (exampleSvc) LoadCredential;
      flagInExecStart = hasInfix "--credentials" exampleSvc.ExecStart;
      pathInExecStart = hasInfix "/run/secrets/tailscale-oauth" exampleSvc.ExecStart;
      # NixOS itself sets the unit's default PATH.
      environment = removeAttrs (unitOf [ example ]).environment [ "PATH" ];
    };
    expected = {
      LoadCredential = [ "tailscale-oauth:/run/secrets/tailscale-oauth" ];
      flagInExecStart = false;
      pathInExecStart = false;
      environment = { };
    };
  };

  testSecretNeverInTheStore = {
    expr = {
      # A string credentials path carries no store context, and main.tf.json does not mention it.
      context = builtins.getContext (builtins.head exampleSvc.LoadCredential);
      inConfig = hasInfix "tailscale-oauth" (builtins.readFile ../render/01-readme-example.json);
    };
    expected = {
      context = { };
      inConfig = false;
    };
  };

  testOneshotWithoutRemainAfterExit = {
    expr = {
      inherit (exampleSvc) Type;
      remain = exampleSvc ? RemainAfterExit;
    };
    expected = {
      Type = "oneshot";
      remain = false;
    };
  };

  testOrdering = {
    expr = {
      inherit (unitOf [ example ])
        wantedBy
        wants
        after
        ;
    };
    expected = {
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
    };
  };

  testStateDirectoryFollowsStateDir = {
    expr =
      map
        (modules: {
          inherit (svc modules) StateDirectory StateDirectoryMode;
        })
        [
          [ example ]
          (with' { stateDir = "/var/lib/ts/keys"; })
        ];
    expected = [
      {
        StateDirectory = "tailscale-manager";
        StateDirectoryMode = "0700";
      }
      {
        StateDirectory = "ts/keys";
        StateDirectoryMode = "0700";
      }
    ];
  };

  testHardening = {
    expr = {
      inherit (exampleSvc)
        CapabilityBoundingSet
        NoNewPrivileges
        ProtectSystem
        ProtectHome
        PrivateTmp
        PrivateDevices
        RestrictAddressFamilies
        SystemCallFilter
        SystemCallArchitectures
        SystemCallErrorNumber
        RestrictNamespaces
        UMask
        TimeoutStartSec
        KillMode
        PrivateUsers
        PrivateMounts
        ProcSubset
        ProtectProc
        MemoryDenyWriteExecute
        AmbientCapabilities
        ;
      noExtraWritablePaths = !(exampleSvc ? ReadWritePaths);
      notDynamic = !(exampleSvc ? DynamicUser);
    };
    expected = {
      CapabilityBoundingSet = "";
      NoNewPrivileges = true;
      ProtectSystem = "strict";
      ProtectHome = true;
      PrivateTmp = true;
      PrivateDevices = true;
      RestrictAddressFamilies = [
        "AF_UNIX"
        "AF_INET"
        "AF_INET6"
      ];
      SystemCallFilter = [
        "@system-service"
        "~@privileged"
      ];
      SystemCallArchitectures = "native";
      SystemCallErrorNumber = "EPERM";
      RestrictNamespaces = true;
      UMask = "0077";
      TimeoutStartSec = "15min";
      KillMode = "mixed";
      PrivateUsers = true;
      PrivateMounts = true;
      ProcSubset = "pid";
      ProtectProc = "invisible";
      MemoryDenyWriteExecute = true;
      AmbientCapabilities = "";
      noExtraWritablePaths = true;
      notDynamic = true;
    };
  };

  # The unit runs as a static system user of its own, which the module declares with its group.
  testServiceUser = {
    expr = {
      inherit (exampleSvc) User Group;
      user = {
        inherit (exampleSys.users.users.tailscale-manager) isSystemUser isNormalUser group;
      };
      group = exampleSys.users.groups ? tailscale-manager;
      # Nothing of it without the module.
      hostHasIt = h.hostOnly.users.users ? tailscale-manager || h.hostOnly.users.groups ? tailscale-manager;
    };
    expected = {
      User = "tailscale-manager";
      Group = "tailscale-manager";
      user = {
        isSystemUser = true;
        isNormalUser = false;
        group = "tailscale-manager";
      };
      group = true;
      hostHasIt = false;
    };
  };

  # Compared with the same host evaluated without this module: with either host, a disabled module
  # adds no unit, activation snippet, package, assertion or warning.
  testDisabledModuleSetsNothing = {
    expr = footprint (sys [ { services.tailscale-manager.tags = [ "tag:ci" ]; } ]);
    expected = footprint h.hostOnly;
  };

  testExampleHasNoFailedAssertionsOrWarnings = {
    expr = reported exampleSys;
    expected = clean;
  };

  # ---- path and timer units ---------------------------------------------------------------------

  testPathUnitByDefault = {
    expr =
      let
        p = exampleSys.systemd.paths.tailscale-manager-watch;
      in
      {
        inherit (p)
          enable
          description
          wantedBy
          pathConfig
          ;
        dependencies = p.requiredBy ++ p.wants ++ p.requires ++ p.after ++ p.before;
        restartTriggers = p.restartTriggers or [ ];
        # Real NixOS adds Description= to unitConfig itself; the module adds nothing there.
        unitConfig = removeAttrs p.unitConfig [ "Description" ];
      };
    expected = {
      enable = true;
      description = "tailscale-manager: re-apply when the OAuth credentials change";
      wantedBy = [ "paths.target" ];
      dependencies = [ ];
      restartTriggers = [ ];
      unitConfig = { };
      pathConfig = {
        PathChanged = "/run/secrets/tailscale-oauth";
        Unit = "tailscale-manager.service";
      };
    };
  };

  testPathUnitAbsentWithoutWatch = {
    expr = (sys (with' { watchCredentials = false; })).systemd.paths;
    expected = { };
  };

  testTimerAbsentByDefault = {
    expr = exampleSys.systemd.timers;
    expected = { };
  };

  testTimerWithEnableTimer = {
    expr =
      let
        t = (sys (with' { enableTimer = true; })).systemd.timers.tailscale-manager;
      in
      {
        inherit (t) wantedBy timerConfig;
      };
    expected = {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = "daily";
        Persistent = true;
        Unit = "tailscale-manager.service";
      };
    };
  };

  # ---- activation line and CLI ------------------------------------------------------------------

  testActivationSnippet = {
    expr = exampleSys.system.activationScripts.tailscale-manager;
    expected = {
      deps = [ ];
      supportsDryActivation = false;
      text = "${exe} status --oneline --state-dir /var/lib/tailscale-manager || true\n";
    };
  };

  testCliWrapper = {
    expr =
      let
        added = h.addedPackages exampleSys;
        cli = builtins.head added;
      in
      {
        inherit (cli) name text;
        count = builtins.length added;
      };
    expected = {
      name = "tailscale-manager";
      count = 1;
      text = ''
        export TAILSCALE_MANAGER_BACKUP_COUNT=5
        export TAILSCALE_MANAGER_CONFIG=${configOf [ example ]}
        export TAILSCALE_MANAGER_CREDENTIALS_FILE=/run/secrets/tailscale-oauth
        export TAILSCALE_MANAGER_ON_FAILURE=restore
        export TAILSCALE_MANAGER_STATE_DIR=/var/lib/tailscale-manager
        export TAILSCALE_MANAGER_TERRAFORM_BIN=${tofu}
      '' + asServiceUser "TAILSCALE_MANAGER_CREDENTIALS_FILE";
    };
  };

  # ---- packages ---------------------------------------------------------------------------------

  testDefaultTerraformIsOpenTofuWithTailscaleProvider = {
    expr =
      let
        p = exampleSys.services.tailscale-manager.terraformPackage;
      in
      {
        inherit (p) pname;
        plugins = map (x: x.name) p.actualPlugins;
        bin = exampleSys.services.tailscale-manager.terraformBin;
      };
    expected = {
      pname = "opentofu";
      plugins = [
        "terraform-provider-tailscale-0.29.2"
        "terraform-provider-local-2.9.0"
      ];
      bin = tofu;
    };
  };

  testTerraformPackageDrivesTerraformBin = {
    expr =
      (sys (with' { terraformPackage = fakePkgs.terraform.withPlugins (p: [ p.tailscale_tailscale ]); }))
      .services.tailscale-manager.terraformBin;
    expected = "${fakePkgs.terraform.withPlugins (p: [ p.tailscale_tailscale ])}/bin/terraform";
  };

  testDefaultPackageIsThisRepositorysRunner = {
    expr = lib.hasSuffix "/nix/package.nix" exampleSys.services.tailscale-manager.package.calledWith.path;
    expected = true;
  };

  # ---- key delivery -------------------------------------------------------------------------------

  testNoKeyWritesAFileByDefault = {
    expr = {
      inherit (exampleSys.services.tailscale-manager.keys.managed_key) writeFile loadCredentialFor;
      inherit (exampleSys.services.tailscale) authKeyFile;
      services = addedServices exampleSys;
    };
    expected = {
      writeFile = false;
      loadCredentialFor = [ ];
      authKeyFile = null;
      services = [ "tailscale-manager" ];
    };
  };

  # Two keys with files (implied by loadCredentialFor and authKeyForTailscaled), one without, and
  # create_before_destroy on a key that has a file.
  testKeyFilesRenderGolden14 = {
    expr =
      configOf (
        delivering {
          authKeyForTailscaled = "tailscaled";
          keys = {
            managed_key.loadCredentialFor = [ "ci-runner" ];
            runners.ephemeral = true;
            tailscaled = {
              description = "this host";
              tags = [ "tag:server" ];
              reusable = false;
            };
          };
          settings.resource.tailscale_tailnet_key.tailscaled.lifecycle.create_before_destroy = true;
        }
        ++ [ tailscaleOn ]
      ) == golden "14-key-files";
    expected = true;
  };

  testWriteFileAloneRendersTheFileOnly = {
    expr =
      let
        c = sys (with' { keys.managed_key.writeFile = true; });
      in
      {
        config =
          c.system.build.tailscale-manager-config == rendered {
            keys.managed_key = ciKey // {
              file = keyFile "managed_key";
            };
          };
        services = addedServices c;
        inherit (c.services.tailscale) authKeyFile;
      };
    expected = {
      config = true;
      services = [ "tailscale-manager" ];
      authKeyFile = null;
    };
  };

  testKeyPathFollowsStateDir = {
    expr =
      map (modules: (sys modules).services.tailscale-manager.keys.managed_key.path) [
        [ example ]
        (with' { stateDir = "/var/lib/ts/m"; })
      ];
    expected = [
      "/var/lib/tailscale-manager/keys/managed_key"
      "/var/lib/ts/m/keys/managed_key"
    ];
  };

  # loadCredentialFor implies writeFile for its key; authKeyForTailscaled for the key it names only.
  testWriteFileImplied = {
    expr =
      map
        (modules: lib.mapAttrs (_: key: key.writeFile) (sys modules).services.tailscale-manager.keys)
        [
          (delivering {
            keys = {
              a.loadCredentialFor = [ "ci-runner" ];
              b = { };
            };
          })
          (
            with' {
              authKeyForTailscaled = "b";
              keys = {
                a = { };
                b = { };
              };
            }
            ++ [ tailscaleOn ]
          )
        ];
    expected = [
      {
        a = true;
        b = false;
      }
      {
        a = false;
        b = true;
      }
    ];
  };

  testConsumerGetsCredentialAndOrdering = {
    expr =
      let
        service = (sys (delivering { keys.managed_key.loadCredentialFor = [ "ci-runner" ]; })).systemd.services.ci-runner;
      in
      {
        inherit (service) wants after;
        inherit (service.serviceConfig) LoadCredential ExecStart;
      };
    expected = {
      wants = managerUnit;
      after = managerUnit;
      LoadCredential = [ "tailscale-authkey-managed_key:${keyFile "managed_key"}" ];
      ExecStart = "/bin/true";
    };
  };

  # Two keys for one service: two credentials, one ordering; a service listed twice counts once.
  testTwoKeysForOneService = {
    expr =
      let
        service =
          (sys (delivering {
            keys = {
              a.loadCredentialFor = [
                "ci-runner"
                "ci-runner"
              ];
              b.loadCredentialFor = [ "ci-runner" ];
            };
          })).systemd.services.ci-runner;
      in
      {
        inherit (service) wants after;
        inherit (service.serviceConfig) LoadCredential;
      };
    expected = {
      wants = managerUnit;
      after = managerUnit;
      LoadCredential = [
        "tailscale-authkey-a:${keyFile "a"}"
        "tailscale-authkey-b:${keyFile "b"}"
      ];
    };
  };

  # The service's own credentials stay (NixOS concatenates LoadCredential definitions).
  testConsumerKeepsItsOwnCredentials = {
    expr =
      lib.sort lib.lessThan
        (sys (
          delivering { keys.managed_key.loadCredentialFor = [ "ci-runner" ]; }
          ++ [ { systemd.services.ci-runner.serviceConfig.LoadCredential = "token:/run/secrets/token"; } ]
        )).systemd.services.ci-runner.serviceConfig.LoadCredential;
    expected = [
      "tailscale-authkey-managed_key:${keyFile "managed_key"}"
      "token:/run/secrets/token"
    ];
  };

  # Templates and escaped names are service names too.
  testTemplateAndEscapedConsumers = {
    expr =
      let
        c = sys (
          with' {
            keys.managed_key.loadCredentialFor = [
              "gitlab-runner@"
              "ci\\x2drunner@a:b"
            ];
          }
        );
      in
      map (name: c.systemd.services.${name}.serviceConfig.LoadCredential) [
        "gitlab-runner@"
        "ci\\x2drunner@a:b"
      ];
    expected = [
      [ "tailscale-authkey-managed_key:${keyFile "managed_key"}" ]
      [ "tailscale-authkey-managed_key:${keyFile "managed_key"}" ]
    ];
  };

  testAuthKeyForTailscaled = {
    expr =
      let
        c = sys (with' { authKeyForTailscaled = "managed_key"; } ++ [ tailscaleOn ]);
        autoconnect = c.systemd.services.tailscaled-autoconnect;
      in
      {
        inherit (c.services.tailscale) authKeyFile;
        orderedAfterManager = builtins.elem "tailscale-manager.service" autoconnect.after;
        wantsManager = builtins.elem "tailscale-manager.service" autoconnect.wants;
        # With NixOS's real services.tailscale this is the unit that runs `tailscale up`.
        isNixpkgsUnit = !h.realNixos || autoconnect.serviceConfig.Type == "notify";
      }
      // reported c;
    expected = clean // {
      authKeyFile = keyFile "managed_key";
      orderedAfterManager = true;
      wantsManager = true;
      isNixpkgsUnit = true;
    };
  };

  # hashicorp/local also without key files: turning writeFile off (or removing the key) leaves a
  # local_sensitive_file in the state, and terraform's init needs its provider to destroy it.
  testDefaultTerraformPackageAlwaysHasLocalProvider = {
    expr =
      map (modules: map (p: p.name) (sys modules).services.tailscale-manager.terraformPackage.actualPlugins) [
        [ example ]
        (with' { keys.managed_key.writeFile = true; })
      ];
    expected = [
      [
        "terraform-provider-tailscale-0.29.2"
        "terraform-provider-local-2.9.0"
      ]
      [
        "terraform-provider-tailscale-0.29.2"
        "terraform-provider-local-2.9.0"
      ]
    ];
  };

  # A withPlugins package of nixpkgs' providers that lacks hashicorp/local is noticed; one whose
  # plugins cannot be told is not warned about.
  testWarningWhenTerraformPackageLacksLocalProvider = {
    expr =
      lib.mapAttrs
        (
          _: package:
          (sys (
            with' {
              keys.managed_key.writeFile = true;
              terraformPackage = package;
            }
          )).warnings
        )
        {
          missing = fakePkgs.opentofu.withPlugins (p: [ p.tailscale_tailscale ]);
          present = fakePkgs.opentofu.withPlugins (p: [
            p.tailscale_tailscale
            p.hashicorp_local
          ]);
          noPlugins = fakePkgs.terraform;
          unreadable = fakePkgs.terraform.withPlugins (p: [ p.tailscale_tailscale ]) // {
            buildCommand = throw "unfree";
          };
          # A plugin package that is not one of nixpkgs' providers may hold hashicorp/local.
          notNixpkgs = fakePkgs.opentofu.withPlugins (_: [ standinPackage ]);
          notNixpkgsNextToNixpkgs = fakePkgs.opentofu.withPlugins (p: [
            p.tailscale_tailscale
            standinPackage
          ]);
        }
      // {
        noFiles = (sys (with' { terraformPackage = fakePkgs.opentofu.withPlugins (p: [ p.tailscale_tailscale ]); })).warnings;
      };
    expected = {
      missing = [
        "services.tailscale-manager.terraformPackage has no plugin named terraform-provider-local (hashicorp/local), but a key writes its file (services.tailscale-manager.keys.managed_key.writeFile), so `init` will fail. Add it, e.g. services.tailscale-manager.terraformPackage = pkgs.opentofu.withPlugins (p: [ p.tailscale_tailscale p.hashicorp_local ]);."
      ];
      present = [ ];
      noPlugins = [ ];
      unreadable = [ ];
      notNixpkgs = [ ];
      notNixpkgsNextToNixpkgs = [ ];
      noFiles = [ ];
    };
  };

  # checks/vm/key-files.nix's machine: a dynamic-user consumer wired to the key, no warning about
  # hashicorp/local (the stand-in package holds it).
  testVmKeyFilesMachineEvaluates = {
    expr = vmMachineChecks ../vm/key-files.nix (c: {
      consumer = c.systemd.services.key-consumer.serviceConfig.LoadCredential;
      plugins = map (p: p.name) c.services.tailscale-manager.terraformPackage.actualPlugins;
      config =
        c.system.build.tailscale-manager-config == rendered {
          keys.managed_key = ciKey // {
            file = keyFile "managed_key";
          };
        };
    });
    expected = clean // {
      consumer = [ "tailscale-authkey-managed_key:${keyFile "managed_key"}" ];
      # common.nix's: the stand-in package alone, which holds hashicorp/local too.
      plugins = [ "terraform-provider-tailscale-standin-0.29.2" ];
      config = true;
    };
  };

  # checks/vm/service-user.nix's machine: the unit waits for the test (no wantedBy, no path unit),
  # and a normal user to be refused.
  testVmServiceUserMachineEvaluates = {
    expr = vmMachineChecks ../vm/service-user.nix (c: {
      inherit (c.systemd.services.tailscale-manager) wantedBy;
      inherit (c.systemd.services.tailscale-manager.serviceConfig) User ReadWritePaths;
      paths = builtins.attrNames c.systemd.paths;
      alice = c.users.users.alice.isNormalUser;
    });
    expected = clean // {
      wantedBy = [ ];
      User = "tailscale-manager";
      # common.nix's: the simulated tailnet's file.
      ReadWritePaths = [ "/var/lib/standin" ];
      paths = [ ];
      alice = true;
    };
  };

  # ---- state in PostgreSQL ------------------------------------------------------------------------

  testPgRendersGolden15 = {
    expr = configOf (with' (pg { pg.schemaName = "tailscale_fleet"; })) == golden "15-pg-backend";
    expected = true;
  };

  testPgExecStartHasWorkspaceAndKeep = {
    expr = map (modules: (svc modules).ExecStart) [
      (with' (pg { }))
      (with' (pg { pg.workspace = "host-a"; }))
    ];
    expected = [
      "${exe} apply --state-dir /var/lib/tailscale-manager --config ${configOf (with' (pg { }))} --terraform ${tofu} --backup-count 5 --on-failure keep --workspace default"
      "${exe} apply --state-dir /var/lib/tailscale-manager --config ${configOf (with' (pg { }))} --terraform ${tofu} --backup-count 5 --on-failure keep --workspace host-a"
    ];
  };

  # The connection string's path reaches systemd only as LoadCredential=, never ExecStart or main.tf.json.
  testPgConnectionStringOnlyThroughLoadCredential = {
    expr =
      let
        service = svc (with' (pg { }));
      in
      {
        inherit (service) LoadCredential;
        inExecStart = hasInfix "tailscale-manager-pg" service.ExecStart;
        inConfig = hasInfix "tailscale-manager-pg" (builtins.readFile ../render/15-pg-backend.json);
      };
    expected = {
      LoadCredential = [
        "tailscale-oauth:/run/secrets/tailscale-oauth"
        "pg-conn-str:/run/secrets/tailscale-manager-pg"
      ];
      inExecStart = false;
      inConfig = false;
    };
  };

  testPgOnFailureDefaultsToKeep = {
    expr = map (modules: (sys modules).services.tailscale-manager.onFailure) [
      [ example ]
      (with' (pg { }))
      (with' (pg { } // { onFailure = "keep"; }))
    ];
    expected = [
      "restore"
      "keep"
      "keep"
    ];
  };

  # Ordered after the database server only when it runs on this host, and after its setup
  # (postgresql.target: ensureDatabases/ensureUsers done, read-write) where NixOS has it.
  testPgOrderingFollowsLocalPostgresql = {
    expr =
      map
        (
          modules:
          let
            unit = unitOf modules;
          in
          {
            inherit (unit) wants after;
          }
        )
        [
          (with' (pg { }))
          (with' (pg { }) ++ [ { services.postgresql.enable = true; } ])
          (with' { } ++ [ { services.postgresql.enable = true; } ])
        ];
    expected = [
      {
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ];
      }
      {
        wants = [
          "network-online.target"
          "postgresql.service"
          "postgresql.target"
        ];
        after = [
          "network-online.target"
          "postgresql.service"
          "postgresql.target"
        ];
      }
      {
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ];
      }
    ];
  };

  testPgCliWrapper = {
    expr = (builtins.head (h.addedPackages (sys (with' (pg { pg.workspace = "host-a"; }))))).text;
    expected = ''
      export TAILSCALE_MANAGER_BACKUP_COUNT=5
      export TAILSCALE_MANAGER_CONFIG=${configOf (with' (pg { }))}
      export TAILSCALE_MANAGER_CREDENTIALS_FILE=/run/secrets/tailscale-oauth
      export TAILSCALE_MANAGER_ON_FAILURE=keep
      export TAILSCALE_MANAGER_PG_CONNECTION_FILE=/run/secrets/tailscale-manager-pg
      export TAILSCALE_MANAGER_STATE_DIR=/var/lib/tailscale-manager
      export TAILSCALE_MANAGER_TERRAFORM_BIN=${tofu}
      export TAILSCALE_MANAGER_WORKSPACE=host-a
    '' + asServiceUser "TAILSCALE_MANAGER_CREDENTIALS_FILE TAILSCALE_MANAGER_PG_CONNECTION_FILE";
  };

  testPgWithKeyFilesHasNoFailedAssertions = {
    expr = reported (sys (delivering (pg { } // { keys.managed_key.loadCredentialFor = [ "ci-runner" ]; })));
    expected = clean;
  };

  # ---- bad inputs: every case fails; assertion cases also carry their message ----------------------

  # (Cases marked `uncatchable` abort Nix itself; checks/nix/run checks those one process each.)
  testEveryBadInputFails = {
    expr = builtins.filter (name: !(fails (h.buildBad name))) (
      builtins.attrNames (lib.filterAttrs (_: case: !(case.uncatchable or false)) h.hostBadInputs)
    );
    expected = [ ];
  };

  # The cases marked `realNixos` are gaps of the stub host: it builds them without complaint (when the
  # stubs learn to catch one, drop its mark). Checked with either host, as the stubs need only lib.
  testRealNixosCasesPassTheStubs = {
    expr = builtins.filter (name: fails (stubHost.buildBad name)) (builtins.attrNames h.realNixosBadInputs);
    expected = [ ];
  };

  testAssertionMessages = {
    expr = lib.concatLists (
      lib.mapAttrsToList (
        name: case:
        let
          messages = lib.concatStringsSep "\n" (h.failedAssertions (sys case.modules));
        in
        map (e: "${name}: ${e}") (builtins.filter (e: !(hasInfix e messages)) case.expect)
      ) (lib.filterAttrs (_: case: case.assertion or false) h.badInputs)
    );
    expected = [ ];
  };

  testGoodVariantsOfBadInputsPass = {
    expr = builtins.all (modules: !(fails (h.buildNixos modules))) [
      (with' { keys."ci-runner_2" = { }; })
      (with' { keys._x = { }; })
      (with' { backupCount = 1; })
      (with' { backupCount = 1000; })
      (with' { tags = lib.mkForce [ "tag:a-1" ]; })
      (with' { stateDir = "/var/lib/a/b.c"; })
      (with' { keys.managed_key.description = lib.concatStrings (lib.genList (_: "x") 50); })
      (with' { settings.provider.tailscale.tailnet = "-"; })
      (with' { acl.policyFile = ./fixtures/policy.json; })
      (with' {
        dns = { };
        settings.resource.tailscale_dns_configuration.dns.lifecycle.prevent_destroy = true;
      })
      (with' {
        acl.policy.tagOwners."tag:ci" = [ ];
        settings.resource.tailscale_acl.policy.lifecycle.prevent_destroy = true;
      })
      (with' { settings.resource.tailscale_dns_nameservers.main.nameservers = [ "9.9.9.9" ]; })
      (with' {
        keys.managed_key.loadCredentialFor = [
          "gitlab-runner@"
          "a:b.c_d-e"
        ];
      })
      (with' { keys.managed_key.loadCredentialFor = [ (lib.concatStrings (lib.genList (_: "x") 247)) ]; })
      (
        with' { authKeyForTailscaled = "managed_key"; }
        ++ [
          tailscaleOn
          { services.tailscale.authKeyParameters.ephemeral = null; }
        ]
      )
      (with' (pg { pg.schemaName = lib.concatStrings (lib.genList (_: "s") 63); }))
      (with' (pg { pg.workspace = "host-01.eu_2"; }))
      (with' { stateBackend.pg.connectionStringFile = "/run/secrets/unused"; })
      (with' { settings.resource.local_sensitive_file.mine.lifecycle.create_before_destroy = true; })
    ];
    expected = true;
  };

  # ---- Home Manager -------------------------------------------------------------------------------

  testHomeCliWrapper = {
    expr =
      (homeCli [
        {
          programs.tailscale-manager = {
            enable = true;
            credentialsFile = "/run/user/1000/secrets/tailscale-oauth";
          };
        }
      ]).text;
    expected = ''
      export TAILSCALE_MANAGER_CREDENTIALS_FILE=/run/user/1000/secrets/tailscale-oauth
      export TAILSCALE_MANAGER_STATE_DIR=/home/alice/.local/state/tailscale-manager
      export TAILSCALE_TAILNET=-
      exec ${exe} "$@"
    '';
  };

  testHomeWithoutCredentialsFile = {
    expr = hasInfix "CREDENTIALS_FILE" (homeCli [ { programs.tailscale-manager.enable = true; } ]).text;
    expected = false;
  };

  testHomeDisabledInstallsNothing = {
    expr = (h.home [ ]).home.packages;
    expected = [ ];
  };

  # ---- the tailnet: ACL policy, DNS, devices (nix/tailnet.nix) -------------------------------------

  testAclPolicyRendersGolden08 = {
    expr = configOf (with' { acl.policy = golden08Input.acl.policy; }) == golden "08-acl-policy";
    expected = true;
  };

  testAclPolicyFileRendersGolden09 = {
    expr =
      configOf (with' {
        acl = {
          policyFile = ../render/09-acl-policy-file.hujson;
          overwriteExisting = true;
          resetOnDestroy = true;
        };
      }) == golden "09-acl-policy-file";
    expected = true;
  };

  # Bare addresses become { address; useWithExitNode = false; }.
  testDnsRendersGolden10 = {
    expr =
      configOf (with' {
        dns = {
          nameservers = [
            "1.1.1.1"
            {
              address = "2606:4700:4700::1111";
              useWithExitNode = true;
            }
          ];
          splitDns = {
            "corp.example.com" = [
              "10.0.0.53"
              {
                address = "10.0.1.53";
                useWithExitNode = true;
              }
            ];
            "lab.example.org" = [ "192.168.7.1" ];
          };
          searchPaths = [
            "corp.example.com"
            "example.com"
          ];
          magicDNS = false;
          overrideLocalDNS = true;
        };
      }) == golden "10-dns";
    expected = true;
  };

  testMonitorDevicesTrueRendersGolden11 = {
    expr = configOf (with' { monitorDevices = true; }) == golden "11-devices";
    expected = true;
  };

  # Setting the tags alone turns the inventory on.
  testMonitorDevicesTagsRenderGolden12 = {
    expr =
      configOf (with' {
        monitorDevices.tags = [
          "tag:server"
          "tag:prod"
        ];
      }) == golden "12-devices-tag-filter";
    expected = true;
  };

  testEverythingTogetherRendersGolden13 = {
    expr = configOf (with' golden13Options) == golden "13-tailnet-with-keys";
    expected = true;
  };

  # The option defaults written in nix/tailnet.nix are render.nix's.
  testTailnetDefaultsMatchRenderer = {
    expr = {
      acl = lib.mapAttrs (_: o: o.default) options.acl;
      dns = options.dns.default;
      dnsConfiguration = subOptionDefaults options.dns;
      nameserver = removeAttrs (subOptionDefaults (options.dns.type.getSubOptions [ ]).nameservers) [
        "address"
      ];
      monitorDevices = options.monitorDevices.default;
    };
    expected = {
      inherit (render.defaults)
        acl
        dns
        dnsConfiguration
        nameserver
        monitorDevices
        ;
    };
  };

  # The README example manages none of the three: nothing new is rendered (golden 01 is unchanged)
  # and nothing is checked.
  testTailnetOffByDefault = {
    expr = {
      inherit (exampleSys.services.tailscale-manager) acl dns monitorDevices;
      golden01 = configOf [ example ] == golden "01-readme-example";
    };
    expected = {
      inherit (render.defaults) acl dns;
      monitorDevices = null;
      golden01 = true;
    };
  };

  testMonitorDevicesValues = {
    expr = map (value: (tailnetOf { monitorDevices = value; }).monitorDevices) [
      false
      true
      { tags = [ "tag:a" ]; }
    ];
    expected = [
      null
      { tags = [ ]; }
      { tags = [ "tag:a" ]; }
    ];
  };

  testDnsNameserverCoercion = {
    expr = (tailnetOf { dns.nameservers = [ "1.1.1.1" ]; }).dns.nameservers;
    expected = [
      {
        address = "1.1.1.1";
        useWithExitNode = false;
      }
    ];
  };

  # Path literals and store paths are part of the configuration; other strings would be read from the
  # evaluating machine's disk.
  testPolicyFileType = {
    expr = map toString (
      builtins.filter tmTypes.policyFile.check [
        ./fixtures/policy.json
        ../render/09-acl-policy-file.hujson
        "${builtins.storeDir}/0123456789abcdfghijklmnpqrsvwxyz-policy.hujson"
        "/etc/nixos/policy.hujson"
        "./policy.hujson"
        ./fixtures/policy.yaml
      ]
    );
    expected = [
      (toString ./fixtures/policy.json)
      (toString ../render/09-acl-policy-file.hujson)
      "${builtins.storeDir}/0123456789abcdfghijklmnpqrsvwxyz-policy.hujson"
    ];
  };

  testDnsDomainType = {
    expr = builtins.filter tmTypes.isDnsDomain [
      "corp"
      "corp.example.com"
      "a-b.c_d.example"
      "_tcp.example.com"
      "corp..example"
      ".example.com"
      "example.com."
      "-x.example"
      "x-.example"
      "a b"
      "https://example.com"
      "*.example.com"
    ];
    expected = [
      "corp"
      "corp.example.com"
      "a-b.c_d.example"
      "_tcp.example.com"
    ];
  };

  testAclWithDefinedTagsIsClean = {
    expr = checksOf { acl.policy.tagOwners."tag:ci" = [ "autogroup:admin" ]; };
    expected = clean;
  };

  # Several modules may contribute to one policy: attribute sets merge, lists are concatenated.
  testAclPolicyMergesAcrossModules = {
    expr =
      (sys [
        example
        {
          services.tailscale-manager.acl.policy = {
            tagOwners."tag:ci" = [ "autogroup:admin" ];
            grants = lib.mkBefore [ { src = [ "group:a" ]; } ];
          };
        }
        {
          services.tailscale-manager.acl.policy = {
            tagOwners."tag:web" = [ "group:web" ];
            grants = [ { src = [ "group:b" ]; } ];
          };
        }
      ]).services.tailscale-manager.acl.policy;
    expected = {
      tagOwners = {
        "tag:ci" = [ "autogroup:admin" ];
        "tag:web" = [ "group:web" ];
      };
      grants = [
        { src = [ "group:a" ]; }
        { src = [ "group:b" ]; }
      ];
    };
  };

  testUnknownPolicyFieldWarns = {
    expr = checksOf {
      acl.policy = {
        tagOwners."tag:ci" = [ ];
        nodeVisibility = "shared";
      };
    };
    expected = {
      assertions = [ ];
      warnings = [ (unknownFieldWarning "services.tailscale-manager.acl.policy") ];
    };
  };

  # Go's encoding/json, which decodes policies, matches field names in any case.
  testKnownPolicyFieldsInAnyCaseDoNotWarn = {
    expr = checksOf {
      acl.policy = {
        ACLs = [ ];
        TagOwners."tag:ci" = [ ];
        Hosts = { };
        grants = [ ];
        ssh = [ ];
        sshTests = [ ];
        tests = [ ];
        autoApprovers = { };
        nodeAttrs = [ ];
        postures = { };
        defaultSrcPosture = [ ];
        groups = { };
        ipsets = { };
        attrConfig = { };
        derpMap = { };
        disableIPv4 = false;
        oneCGNATRoute = "";
        randomizeClientPort = false;
      };
    };
    expected = clean;
  };

  # A plain .json file is parsed and checked like acl.policy; look-alikes of comments and trailing
  # commas inside strings are not HuJSON.
  testJsonPolicyFileChecked = {
    expr = checksOf { acl.policyFile = ./fixtures/policy.json; };
    expected = {
      assertions = [ ];
      warnings = [ (unknownFieldWarning "services.tailscale-manager.acl.policyFile (policy.json)") ];
    };
  };

  # Nix has no HuJSON parser: a .hujson file is not checked (its undefined tag and unknown field pass).
  testHujsonPolicyFileNotChecked = {
    expr = checksOf { acl.policyFile = ./fixtures/policy-undefined-tag.hujson; };
    expected = clean;
  };

  testSplitDnsDomainsAccepted = {
    expr = checksOf {
      dns.splitDns = {
        corp = [ "10.0.0.53" ];
        "a-b.example_1.com" = [ "10.0.0.54" ];
      };
    };
    expected = clean;
  };

  # The tailnet checks belong to the enabled module only.
  testTailnetChecksOnlyWhenEnabled = {
    expr = reported (sys [
      {
        services.tailscale-manager = {
          acl.policy.nodeVisibility = "x";
          dns.splitDns."a b" = [ "10.0.0.53" ];
        };
      }
    ]);
    expected = clean;
  };

  # ---- every concern together: key files, the tailnet, PostgreSQL state ---------------------------

  # Golden 13's tailnet with two key files: one for a consumer, one for this host's tailscaled (a
  # key whose tags the policy defines, so the ACL check passes for keys with files too).
  testTailnetWithKeyFilesRendersGolden16 = {
    expr = configOf (delivering everything ++ [ tailscaleOn ]) == golden "16-tailnet-with-key-files";
    expected = true;
  };

  # The same with its state in PostgreSQL: every part of the module at once evaluates cleanly, and
  # each concern keeps its own wiring.
  testKeyFilesTailnetAndPgTogether = {
    expr =
      let
        c = sys (delivering (everything // pg { pg.workspace = "fleet"; }) ++ [ tailscaleOn ]);
        service = c.systemd.services.tailscale-manager.serviceConfig;
      in
      reported c
      // {
        config =
          c.system.build.tailscale-manager-config
          == rendered (
            import ../render/16-tailnet-with-key-files.nix
            // {
              stateBackend = {
                type = "pg";
                schemaName = "tailscale_manager";
              };
            }
          );
        inherit (service) LoadCredential;
        workspace = hasInfix " --on-failure keep --workspace fleet" service.ExecStart;
        consumer = c.systemd.services.ci-runner.serviceConfig.LoadCredential;
        inherit (c.services.tailscale) authKeyFile;
      };
    expected = clean // {
      config = true;
      LoadCredential = [
        "tailscale-oauth:/run/secrets/tailscale-oauth"
        "pg-conn-str:/run/secrets/tailscale-manager-pg"
      ];
      workspace = true;
      consumer = [ "tailscale-authkey-managed_key:${keyFile "managed_key"}" ];
      authKeyFile = keyFile "servers";
    };
  };

  # With everything on, each concern's checks still speak: a delivered key's tag the policy does
  # not define, the older DNS resources next to `dns`, create_before_destroy on a key file, and a
  # backend in settings next to `pg`.
  testEveryConcernsChecksTogether = {
    expr = map (message: builtins.head (lib.splitString " " message)) (
      h.failedAssertions (
        sys (
          delivering (
            everything
            // pg { }
            // {
              keys = everything.keys // {
                web = {
                  tags = [ "tag:web" ];
                  loadCredentialFor = [ "ci-runner" ];
                };
              };
              settings = {
                resource.tailscale_dns_nameservers.main.nameservers = [ "9.9.9.9" ];
                resource.local_sensitive_file.managed_key.lifecycle.create_before_destroy = true;
                terraform.backend.pg.conn_str = "postgres://u:p@db/tf";
              };
            }
          )
          ++ [ tailscaleOn ]
        )
      )
    );
    expected = [
      "services.tailscale-manager.keys.web.tags"
      "services.tailscale-manager.settings.terraform.backend"
      "services.tailscale-manager.settings.resource.local_sensitive_file.managed_key.lifecycle.create_before_destroy"
      "services.tailscale-manager.settings.resource.tailscale_dns_nameservers"
    ];
  };

  # ---- README ------------------------------------------------------------------------------------

  # The option reference in README.md is the one options-doc.nix generates from the modules.
  testReadmeOptionReferenceInSync = {
    expr = hasInfix optionDocs.markdown readme;
    expected = true;
  };
}
