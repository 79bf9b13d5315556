# Option types shared by the NixOS module and the Home Manager module (nixpkgs lib only).
{ lib }:
let
  # Characters that systemd would reinterpret in ExecStart=/LoadCredential=/PathChanged= (specifiers,
  # variable expansion, quoting, word splitting) are refused rather than escaped.
  plainPathPattern = "/[^%$\\\"'[:space:]]*";

  plainPath =
    name: description: extraCheck:
    lib.mkOptionType {
      inherit name description;
      descriptionClass = "noun";
      check = x: builtins.isString x && builtins.match plainPathPattern x != null && extraCheck x;
      merge = lib.mergeEqualOption;
    };
in
{
  # A secret must stay out of the world-readable store: a string (a path literal would be copied into
  # the store as soon as it is used), absolute, and not below builtins.storeDir.
  credentialsPath =
    plainPath "credentialsPath"
      "absolute path outside the Nix store, given as a string (no whitespace, quotes, `%` or `$`)"
      (x: !(lib.path.hasStorePathPrefix (/. + builtins.unsafeDiscardStringContext x)));

  executablePath =
    plainPath "executablePath"
      "absolute path of an executable, as a string (no whitespace, quotes, `%` or `$`)"
      (_: true);

  directoryPath =
    plainPath "directoryPath"
      "absolute path of a directory, as a string (no whitespace, quotes, `%` or `$`)"
      (_: true);
}
