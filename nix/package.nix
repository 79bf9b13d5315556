# The runner, `tailscale-manager`, from runner/. Dependencies come from runner/Cargo.lock through
# cargoLock.lockFile (one fetch per crate, checksums from the lock file), so no vendor hash is needed.
{
  lib,
  rustPlatform,
  versionCheckHook,
}:
let
  fs = lib.fileset;
  cargoToml = lib.importTOML ../runner/Cargo.toml;
in
rustPlatform.buildRustPackage {
  pname = cargoToml.package.name;
  inherit (cargoToml.package) version;

  src = fs.toSource {
    root = ../runner;
    fileset = fs.unions [
      ../runner/Cargo.toml
      ../runner/Cargo.lock
      ../runner/src
      # Integration tests and their /bin/sh fake-terraform fixtures run in checkPhase, with the
      # test-support crate (tests/support, a path dev-dependency) they share with the e2e suite.
      ../runner/tests
    ];
  };

  cargoLock.lockFile = ../runner/Cargo.lock;

  doInstallCheck = true;
  nativeInstallCheckInputs = [ versionCheckHook ];
  versionCheckProgramArg = "--version";

  meta = {
    description = cargoToml.package.description;
    license = lib.licenses.mit;
    mainProgram = "tailscale-manager";
    platforms = lib.platforms.linux;
  };
}
