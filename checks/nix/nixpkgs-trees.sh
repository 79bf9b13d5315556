# shellcheck shell=bash disable=SC2034 # sourced: the variables it sets are its callers'
# Sourced by checks/nix/run and checks/nix/write-units: where nixpkgs lib and a nixpkgs tree are.
# Neither is ever fetched or committed by this repository (see DEVELOPERS.md, "Tools").
#
# find_lib:  sets lib_dir to nixpkgs' lib directory, or lib_why to why there is none. In order:
#            $NIXPKGS_LIB (the lib directory itself), <nixpkgs/lib> on NIX_PATH,
#            ~/.cache/nixpkgs-lib/lib, and the lib of the nixpkgs tree below.
# find_tree: sets tree_dir to a nixpkgs tree with NixOS's modules, or tree_why to why there is none.
#            $NIXPKGS_DIR (a nixpkgs checkout), else ~/.cache/nixpkgs-slim (a squashed copy of
#            nixpkgs; only its lib/ and nixos/ are used).

# Every NixOS module checks/nix/harness.nix imports, and lib.
tree_files=(lib/default.nix nixos/lib/utils.nix nixos/modules/system/boot/systemd.nix
  nixos/modules/config/users-groups.nix nixos/modules/misc/ids.nix
  nixos/modules/misc/extra-arguments.nix nixos/modules/system/build.nix
  nixos/modules/system/activation/activation-script.nix nixos/modules/misc/assertions.nix
  nixos/modules/misc/meta.nix nixos/modules/services/networking/tailscale.nix)

find_tree() {
  tree_dir=""
  tree_why=""
  local candidate missing=()
  if [ -n "${NIXPKGS_DIR:-}" ]; then
    candidate=$NIXPKGS_DIR
  elif [ -d "$HOME/.cache/nixpkgs-slim" ]; then
    candidate=$HOME/.cache/nixpkgs-slim
  else
    tree_why="no nixpkgs tree (set NIXPKGS_DIR=/path/to/nixpkgs, or unpack one at ~/.cache/nixpkgs-slim; see DEVELOPERS.md 'Tools')"
    return
  fi
  if [ ! -d "$candidate" ]; then
    tree_why="NIXPKGS_DIR=$candidate is not a directory"
    return
  fi
  for file in "${tree_files[@]}"; do
    [ -f "$candidate/$file" ] || missing+=("$file")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    tree_dir=$(cd "$candidate" && pwd)
  else
    tree_why="the nixpkgs tree $candidate lacks ${missing[*]}"
  fi
}

find_lib() {
  lib_dir=""
  lib_why=""
  local found
  if [ -n "${NIXPKGS_LIB:-}" ]; then
    if [ -f "$NIXPKGS_LIB/default.nix" ]; then lib_dir=$NIXPKGS_LIB; else lib_why="NIXPKGS_LIB=$NIXPKGS_LIB has no default.nix"; fi
  elif found=$(nix-instantiate --find-file nixpkgs/lib 2>/dev/null) && [ -f "$found/default.nix" ]; then
    lib_dir=$found
  elif [ -f "$HOME/.cache/nixpkgs-lib/lib/default.nix" ]; then
    lib_dir=$HOME/.cache/nixpkgs-lib/lib
  elif [ -n "${tree_dir:-}" ]; then
    lib_dir=$tree_dir/lib
  else
    lib_why="nixpkgs lib not found (set NIXPKGS_LIB=/path/to/nixpkgs/lib, put nixpkgs on NIX_PATH, or unpack it at ~/.cache/nixpkgs-lib/lib; see DEVELOPERS.md 'Tools')"
  fi
}
