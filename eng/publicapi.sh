#!/usr/bin/env bash
# Public API baselines of the shipped libraries (src/*, except the CLI tool). The build fails (RS0016/RS0017) when a
# public member is added or removed without being recorded, so every change of the surface is visible in review.
#   eng/publicapi.sh          record the current surface: new members go to PublicAPI.Unshipped.txt
#   eng/publicapi.sh --ship   at a release: fold PublicAPI.Unshipped.txt into PublicAPI.Shipped.txt (removals applied)
# A member removed from the shipped surface is recorded by hand as "*REMOVED*<line from Shipped>" in Unshipped.txt,
# and belongs in the README's upgrade notes.
set -euo pipefail
cd "$(dirname "$0")/.."
projects=()
for project in src/*/*.csproj; do
    [[ "$project" == *TypedJobs.Cli* ]] || projects+=("$project")
done

if [[ "${1:-}" == "--ship" ]]; then
    for project in "${projects[@]}"; do
        dir=$(dirname "$project")
        python3 - "$dir/PublicAPI.Shipped.txt" "$dir/PublicAPI.Unshipped.txt" <<'PY'
import sys
shipped_path, unshipped_path = sys.argv[1], sys.argv[2]
def entries(path):
    return [l.rstrip("\n") for l in open(path) if l.strip() and not l.startswith("#")]
shipped = set(entries(shipped_path))
for line in entries(unshipped_path):
    if line.startswith("*REMOVED*"):
        shipped.discard(line[len("*REMOVED*"):])
    else:
        shipped.add(line)
open(shipped_path, "w").write("#nullable enable\n" + "".join(l + "\n" for l in sorted(shipped, key=str.lower)))
open(unshipped_path, "w").write("#nullable enable\n")
PY
        echo "shipped: $dir"
    done
    exit 0
fi

for project in "${projects[@]}"; do
    dir=$(dirname "$project")
    for file in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
        [[ -f "$dir/$file" ]] || printf '#nullable enable\n' > "$dir/$file"
    done
done

# Build the libraries and record every member the analyzer reports as undeclared (RS0016) in its project's
# Unshipped.txt; a library that failed stops its dependents from compiling, so repeat until nothing new is reported.
log=$(mktemp)
for pass in 1 2 3; do
: >"$log"
for project in "${projects[@]}"; do
    dotnet build "$project" -c Release -warnaserror >>"$log" 2>&1 || true
done
grep -q "error RS0016" "$log" || break
python3 - "$log" <<'PY'
import os, re, sys
pattern = re.compile(r"^(/.*?)\(\d+,\d+\): error RS0016: Symbol '(.*)' is not part of the declared public API.*\[(.*?\.csproj)")
found = {}
for line in open(sys.argv[1]):
    m = pattern.match(line.strip())
    if m:
        found.setdefault(os.path.dirname(m.group(3)), set()).add(m.group(2))
for directory, symbols in sorted(found.items()):
    path = os.path.join(directory, "PublicAPI.Unshipped.txt")
    lines = [l.rstrip("\n") for l in open(path)]
    body = sorted(set(l for l in lines[1:] if l.strip()) | symbols, key=lambda l: (l.startswith("*REMOVED*"), l))
    open(path, "w").write(lines[0] + "\n" + "".join(l + "\n" for l in body))
    print(f"{path}: {len(symbols)} recorded")
PY
done
rm -f "$log"
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt'
