# The stand-in providers (checks/standin, test infrastructure) packaged the way nixpkgs packages a
# terraform provider (mkProvider): each plugin under
# $out/libexec/terraform-providers/<source address>/<version>/<os>_<arch>/, so
# `opentofu.withPlugins (_: [ standin ])` and `terraform.withPlugins` find both with no registry:
# tailscale/tailscale 0.29.2 and hashicorp/local 2.9.0 (do not add nixpkgs' `hashicorp_local` next
# to it, the two would claim the same path). `standin-tailnet` (the simulated tailnet's control
# command) stays in $out/bin.
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
  local-version = "2.9.0";
  local-source-address = "registry.terraform.io/hashicorp/local";
  inherit (stdenv.hostPlatform.go) GOOS GOARCH;
in
rustPlatform.buildRustPackage {
  pname = "terraform-provider-tailscale-standin";
  inherit version;

  # The crate's dev-dependencies are path crates in runner/ (the runner's library and the shared
  # test-support crate), so the source is the repository. Cargo resolves them from their
  # manifests alone; their sources would be needed only to build the tests (doCheck below).
  src = fs.toSource {
    root = ../..;
    fileset = fs.unions [
      ../standin/Cargo.toml
      ../standin/Cargo.lock
      ../standin/src
      (fs.maybeMissing ../standin/build.rs)
      (fs.maybeMissing ../standin/proto)
      ../../runner/Cargo.toml
      ../../runner/tests/support/Cargo.toml
    ];
  };
  cargoRoot = "checks/standin";
  buildAndTestSubdir = "checks/standin";
  cargoLock.lockFile = ../standin/Cargo.lock;

  # tf-provider's build script compiles terraform's plugin protocol with protoc.
  nativeBuildInputs = [ protobuf ];
  # Its own tests drive a real terraform binary; they run in checks/e2e, not here.
  doCheck = false;

  postInstall = ''
    install_provider() { # <source address> <version> <type>
      dir=$out/libexec/terraform-providers/$1/$2/${GOOS}_${GOARCH}
      mkdir -p "$dir"
      mv "$out/bin/terraform-provider-$3" "$dir/terraform-provider-$3_$2"
    }
    install_provider ${provider-source-address} ${version} tailscale
    install_provider ${local-source-address} ${local-version} local
  '';

  passthru = { inherit provider-source-address local-source-address; };

  meta = {
    description = "Test-only stand-ins for the tailscale/tailscale (backed by a simulated tailnet file) and hashicorp/local Terraform providers";
    license = lib.licenses.mit;
    mainProgram = "standin-tailnet";
    platforms = lib.platforms.linux;
  };
}
