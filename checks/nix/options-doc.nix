# The option reference tables in README.md, generated from the modules' own declarations
# (lib.optionAttrSetToDocList). `checks/nix/run --update-readme` writes them into README.md;
# module-tests.nix fails when README.md and the modules disagree.
{ lib }:
let
  h = import ./harness.nix { inherit lib; };

  oneLine = s: lib.concatStringsSep " " (lib.filter (l: l != "") (map lib.trim (lib.splitString "\n" s)));
  cell = s: lib.replaceStrings [ "|" ] [ "\\|" ] (oneLine s);

  showValue =
    v:
    if v == null then
      "—"
    else if v._type or null == "literalMD" then
      cell v.text
    else if v._type or null == "literalExpression" then
      "`${cell v.text}`"
    else
      "`${cell (builtins.toJSON v)}`";

  table =
    prefix: options:
    let
      docs = builtins.filter (o: o.visible && !o.internal) (lib.optionAttrSetToDocList options);
      row =
        o:
        "| `${lib.removePrefix prefix o.name}` | ${cell o.type} | ${showValue (o.default or null)} | ${cell (o.description or "")} |\n";
    in
    "| option | type | default | description |\n|---|---|---|---|\n" + lib.concatMapStrings row docs;

  nixos = (h.evalNixos [ ]).options.services.tailscale-manager;
  home = (h.evalHome [ ]).options.programs.tailscale-manager;
in
{
  markdown = ''
    <!-- options: generated from nix/module.nix and nix/home-manager.nix by `checks/nix/run --update-readme`; a test keeps them in sync -->
    NixOS, all under `services.tailscale-manager.`:

    ${table "services.tailscale-manager." nixos}
    Home Manager, all under `programs.tailscale-manager.`:

    ${table "programs.tailscale-manager." home}<!-- /options -->
  '';
}
