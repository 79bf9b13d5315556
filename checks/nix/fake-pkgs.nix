# A stand-in for nixpkgs' pkgs, enough for the module to evaluate with nixpkgs lib alone (Nix 2.8
# cannot evaluate nixpkgs' own pkgs), with the stub NixOS options or with NixOS's real systemd and
# activation modules. Each "derivation" is an attribute set with type = "derivation" and a fake store
# path under the real builtins.storeDir, and it records how it was made so tests can inspect it.
{ lib }:
let
  fakeHash = name: builtins.substring 0 32 (builtins.hashString "sha256" name);
  drv =
    name: attrs:
    {
      type = "derivation";
      inherit name;
      outPath = "${builtins.storeDir}/${fakeHash name}-${name}";
      outputs = [ "out" ];
      meta = { };
    }
    // attrs;

  # writeShellScriptBin's result; NixOS's makeJobScript renames it with overrideAttrs.
  script =
    name: text:
    let
      self = drv name {
        inherit text;
        meta.mainProgram = name;
        overrideAttrs = f: self // f self;
      };
    in
    self;

  # Named as nixpkgs' mkProvider names them (pname = the repository).
  providers = {
    tailscale_tailscale = drv "terraform-provider-tailscale-0.29.2" { version = "0.29.2"; };
    hashicorp_local = drv "terraform-provider-local-2.9.0" { version = "2.9.0"; };
    hashicorp_random = drv "terraform-provider-random-3.7.2" { version = "3.7.2"; };
  };

  # Shaped like nixpkgs' terraform/opentofu (pkgs/by-name/op/opentofu/package.nix): `plugins` is every
  # provider (passthru), an empty plugin list gives the bare package, and the wrapper's buildCommand
  # names the chosen plugins' store paths. `actualPlugins` (the name of the list there) records them
  # for the tests.
  pluggable =
    pname: mainProgram:
    let
      base = drv "${pname}-1.0.0" {
        inherit pname withPlugins;
        meta.mainProgram = mainProgram;
        plugins = providers;
      };
      withPlugins =
        f:
        let
          actualPlugins = f providers;
        in
        if actualPlugins == [ ] then
          base
        else
          drv "${pname}-with-plugins-1.0.0" {
            inherit pname actualPlugins;
            meta.mainProgram = mainProgram;
            plugins = providers;
            buildCommand = ''
              for providerDir in ${toString actualPlugins}
              do
                : # a wrapper per plugin file
              done
              makeWrapper "${base}/bin/${mainProgram}" "$out/bin/${mainProgram}" \
                --set NIX_TERRAFORM_PLUGIN_DIR $out/libexec/terraform-providers
            '';
          };
    in
    base;
in
lib.fix (pkgs: {
  inherit lib;
  # The runner's package.nix gives a fake runner (recording how it was called); any other file is
  # called as nixpkgs' callPackage calls it, with these packages (and `.override`).
  callPackage =
    path: args:
    if baseNameOf path == "package.nix" then
      drv "tailscale-manager-0.1.0" {
        pname = "tailscale-manager";
        version = "0.1.0";
        meta.mainProgram = "tailscale-manager";
        calledWith = {
          path = toString path;
          inherit args;
        };
      }
    else
      lib.callPackageWith pkgs path args;
  opentofu = pluggable "opentofu" "tofu";
  terraform = pluggable "terraform" "terraform";
  terraform-providers = providers;
  writeShellScriptBin = script;
  # A unit's `script` with enableStrictShellChecks (systemd-lib.nix, makeJobScript), e.g. nixpkgs'
  # tailscaled-autoconnect.
  writeShellApplication = { name, text, ... }: script name text;
  stdenv.hostPlatform = {
    system = "x86_64-linux";
    is64bit = true;
  };
  stdenv.cc.libc = drv "glibc-2.42" { };

  # Read by NixOS's systemd.nix (mkPackageOption pkgs "systemd", the feature flags that decide which
  # upstream units exist) and by systemd-lib.nix (every service's default PATH).
  systemd = drv "systemd-259" {
    withBootloader = false;
    withCryptsetup = false;
    withEfi = false;
    withHostnamed = false;
    withImportd = false;
    withLocaled = false;
    withMachined = false;
    withNspawn = false;
    withPortabled = false;
    withRepart = false;
    withTimedated = false;
    withTpm2Units = false;
    withUtmp = false;
    util-linux = drv "util-linux-2.41" { };
  };
  # The default PATH of services (systemd-lib.nix) and of the activation script (activation-script.nix).
  coreutils = drv "coreutils-9.7" { };
  findutils = drv "findutils-4.10.0" { };
  getent = drv "getent-glibc-2.42" { };
  gnugrep = drv "gnugrep-3.12" { };
  gnused = drv "gnused-4.9" { };
  kmod = drv "kmod-34" { }; # modprobe@.service (systemd.nix), whose serviceConfig NixOS checks
  # services.tailscale (nixpkgs' tailscale.nix): its package and the autoconnect script's PATH.
  tailscale = drv "tailscale-1.90.0" { meta.mainProgram = "tailscale"; };
  jq = drv "jq-1.8.1" { meta.mainProgram = "jq"; };
  procps = drv "procps-4.0.5" { };
  shadow = drv "shadow-4.18.0" { };
  # users-groups.nix: the shells whose programs.<shell>.enable it checks, the password hash schemes
  # it accepts, and what its activation snippet and per-user profiles are built with.
  fish = drv "fish-4.0.2" { };
  xonsh = drv "xonsh-0.19.2" { };
  zsh = drv "zsh-5.9" { };
  bashInteractive = drv "bash-interactive-5.3" { };
  libxcrypt.enabledCryptSchemeIds = [
    "y"
    "gy"
    "7"
    "2b"
    "2y"
    "2a"
    "6"
  ];
  perl.withPackages = _: drv "perl-5.40.0-env" { };
  writeText = name: text: drv name { inherit text; };
  buildEnv = { name, ... }: drv name { };
  util-linux = drv "util-linux-2.41" { };
})
