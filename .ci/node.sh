# Sourced by .ci/run (and usable by hand: `. .ci/node.sh`): puts the Node LTS named in .nvmrc first on
# PATH. The machine may have an older Node (Debian's, or 20); the npm registry is the one source this CI
# can rely on, so the official binary comes from the npm package node-linux-<arch> (what the npm `node`
# package installs for this platform), cached in .ci/.node (git-ignored). The machine's npm runs on it.
# shellcheck shell=bash
ci_node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.node"
ci_node_major="$(tr -d ' \nv' <"$(dirname "${BASH_SOURCE[0]}")/../.nvmrc")"
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" != "$ci_node_major" ]; then
  case "$(uname -m)" in
    x86_64) ci_node_arch=x64 ;;
    aarch64) ci_node_arch=arm64 ;;
    *) echo "ci: no node-linux package for $(uname -m)" >&2; exit 1 ;;
  esac
  ci_node_bin="$ci_node_dir/node_modules/node-linux-$ci_node_arch/bin"
  if ! "$ci_node_bin/node" --version 2>/dev/null | grep -q "^v$ci_node_major\."; then
    echo "ci: fetching Node $ci_node_major (npm package node-linux-$ci_node_arch) into $ci_node_dir"
    rm -rf "$ci_node_dir"
    npm install --prefix "$ci_node_dir" --no-save --no-package-lock --no-audit --no-fund \
      "node-linux-$ci_node_arch@$ci_node_major" >/dev/null
  fi
  export PATH="$ci_node_bin:$PATH"
fi
echo "ci: node $(node --version), npm $(npm --version)"
