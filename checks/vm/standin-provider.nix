# The stand-in Tailscale provider (checks/standin, test infrastructure) packaged the way nixpkgs packages
# a terraform provider (mkProvider): the plugin under
# $out/libexec/terraform-providers/registry.terraform.io/tailscale/tailscale/<version>/<os>_<arch>/,
# so `opentofu.withPlugins (_: [ standin ])` and `terraform.withPlugins` find it with no registry.
# `standin-tailnet` (the simulated tailnet's control command) stays in $out/bin.
{
  lib,
  stdenv,
  rustPlatform,
  protobuf,
}:
let
  fs = lib.fileset;
  version = "0.29.2";
  provider-source-address = "registry.terraform.io/tailscale/tailscale";
  inherit (stdenv.hostPlatform.go) GOOS GOARCH;
in
rustPlatform.buildRustPackage {
  pname = "terraform-provider-tailscale-standin";
  inherit version;

  src = fs.toSource {
    root = ../standin;
    fileset = fs.unions [
      ../standin/Cargo.toml
      ../standin/Cargo.lock
      ../standin/src
      (fs.maybeMissing ../standin/build.rs)
      (fs.maybeMissing ../standin/proto)
    ];
  };
  cargoLock.lockFile = ../standin/Cargo.lock;

  # tf-provider's build script compiles terraform's plugin protocol with protoc.
  nativeBuildInputs = [ protobuf ];
  # Its own tests drive a real terraform binary; they run in checks/e2e, not here.
  doCheck = false;

  postInstall = ''
    dir=$out/libexec/terraform-providers/${provider-source-address}/${version}/${GOOS}_${GOARCH}
    mkdir -p "$dir"
    mv $out/bin/terraform-provider-tailscale "$dir/terraform-provider-tailscale_${version}"
  '';

  passthru = { inherit provider-source-address; };

  meta = {
    description = "Test-only stand-in for the tailscale/tailscale Terraform provider, backed by a simulated tailnet file";
    license = lib.licenses.mit;
    mainProgram = "standin-tailnet";
    platforms = lib.platforms.linux;
  };
}
