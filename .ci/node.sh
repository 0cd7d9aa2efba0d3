# Sourced by .ci/run (and usable by hand: `. .ci/node.sh`): puts the Node LTS named in .nvmrc first on
# PATH. The machine may have an older Node (Debian's, or 20); the npm registry is the one source this CI
# can rely on, so the official binary comes from the npm package node-linux-<arch> (what the npm `node`
# package installs for this platform), cached in .ci/.node/bin (git-ignored; outside any node_modules, so
# nothing mistakes it for a package's bin). The machine's npm runs on it.
# shellcheck shell=bash
ci_node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.node"
ci_node_major="$(tr -d ' \nv' <"$(dirname "${BASH_SOURCE[0]}")/../.nvmrc")"
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" != "$ci_node_major" ]; then
  case "$(uname -m)" in
    x86_64) ci_node_arch=x64 ;;
    aarch64) ci_node_arch=arm64 ;;
    *) echo "ci: no node-linux package for $(uname -m)" >&2; exit 1 ;;
  esac
  if ! "$ci_node_dir/bin/node" --version 2>/dev/null | grep -q "^v$ci_node_major\."; then
    echo "ci: fetching Node $ci_node_major (npm package node-linux-$ci_node_arch) into $ci_node_dir"
    rm -rf "$ci_node_dir"
    mkdir -p "$ci_node_dir/pack" "$ci_node_dir/bin"
    (cd "$ci_node_dir/pack" && npm pack --silent "node-linux-$ci_node_arch@$ci_node_major" >/dev/null)
    tar -xzf "$ci_node_dir"/pack/node-linux-*.tgz -C "$ci_node_dir/pack" package/bin/node
    mv "$ci_node_dir/pack/package/bin/node" "$ci_node_dir/bin/node"
    rm -rf "$ci_node_dir/pack"
  fi
  export PATH="$ci_node_dir/bin:$PATH"
fi
echo "ci: node $(node --version), npm $(npm --version)"
