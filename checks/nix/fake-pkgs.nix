# A stand-in for nixpkgs' pkgs, enough for the module to evaluate with nixpkgs lib alone. Each
# "derivation" is an attribute set with type = "derivation" and a fake store path under the real
# builtins.storeDir, and it records how it was made so tests can inspect it.
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

  providers = {
    tailscale_tailscale = drv "terraform-provider-tailscale-0.29.2" { version = "0.29.2"; };
    hashicorp_random = drv "terraform-provider-random-3.7.2" { version = "3.7.2"; };
  };

  pluggable =
    pname: mainProgram:
    drv "${pname}-1.0.0" {
      inherit pname;
      meta.mainProgram = mainProgram;
      withPlugins =
        f:
        drv "${pname}-with-plugins-1.0.0" {
          inherit pname;
          meta.mainProgram = mainProgram;
          plugins = f providers;
        };
    };
in
{
  inherit lib;
  callPackage =
    path: args:
    drv "tailscale-manager-0.1.0" {
      pname = "tailscale-manager";
      version = "0.1.0";
      meta.mainProgram = "tailscale-manager";
      calledWith = {
        path = toString path;
        inherit args;
      };
    };
  opentofu = pluggable "opentofu" "tofu";
  terraform = pluggable "terraform" "terraform";
  terraform-providers = providers;
  writeShellScriptBin =
    name: text:
    drv name {
      inherit text;
      meta.mainProgram = name;
    };
  stdenv.hostPlatform.system = "x86_64-linux";
}
