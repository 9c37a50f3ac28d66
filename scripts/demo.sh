#!/usr/bin/env bash
# make demo: a short story on generated data in a temporary directory,
# on the embedded default (a local repository; no server needed).
set -euo pipefail
DX=$(cd "$(dirname "${1:-bin/dx}")" && pwd)/$(basename "${1:-bin/dx}")
src=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dx-demo.XXXXXX")
team=$(mktemp -d "${TMPDIR:-/tmp}/dx-demo-team.XXXXXX")
trap 'rm -rf "$work" "$team"' EXIT
cd "$work"
export DX_AUTHOR="Demo <demo@example.com>"

dx() { "$DX" "$@"; }
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
say()  { printf '\n# %s\n' "$*"; }

say "Generate a dataset: a 200,000-row users table and some images."
mkdir -p data images
awk 'BEGIN { srand(7); print "id,name,city,score";
  for (i = 1; i <= 200000; i++) printf "%d,user%d,city%d,%.3f\n", i, i, i % 97, rand() * 100 }' > data/users.csv
for i in $(seq 1 20); do head -c 65536 /dev/urandom > "images/img$i.bin"; done
ls -la data images | head -5

step dx init
say "Tell dx that users.csv is a table keyed by id (row-level diff and merge)."
printf 'data/*.csv table=csv key=id\n' > .dxattributes
step cat .dxattributes
step dx commit -m "Import users and images"
step dx status

say "Branch, change the data, commit."
step dx branch cleanup
step dx checkout cleanup
awk -F, 'NR == 1 || $1 % 40000 != 0' data/users.csv > data/users.tmp && mv data/users.tmp data/users.csv
printf '%d,user%d,city1,50.000\n' 200001 200001 >> data/users.csv
rm images/img3.bin
mv images/img4.bin images/renamed.bin
step dx status
step dx commit -m "Drop every 40000th user, add one, tidy images"

say "What changed between the branches? Files, then rows (only the chunks that differ are read)."
step dx diff --stat main cleanup
step dx diff --rows --stat main cleanup
printf "\n\033[1m$ dx diff --rows main cleanup | head -n 6\033[0m\n"
"$DX" diff --rows main cleanup | head -n 6
step dx log --oneline --graph cleanup

say "Go back to main: the worktree is restored exactly."
step dx checkout main
step wc -l data/users.csv
printf "\n\033[1m$ dx cat cleanup:data/users.csv | tail -n 2\033[0m\n"
"$DX" cat cleanup:data/users.csv | tail -n 2

say "Meanwhile main changes other rows; merging cleanup merges the table row by row."
awk -F, 'BEGIN { OFS = "," } NR > 1 && $1 % 5000 == 1 { $4 = "99.999" } { print }' data/users.csv > data/users.tmp && mv data/users.tmp data/users.csv
step dx commit -m "Rescore every 5000th user"

say "Train a model on main's users (examples/catstats: per-city count, sum and mean of score) and register it."
(cd "$src" && go build -o "$team/catstats" ./examples/catstats)
printf '\n\033[1m$ catstats train data/users.csv city score 3 > model-v1.json\033[0m\n'
"$team/catstats" train data/users.csv city score 3 > "$team/model-v1.json"
step dx model register city-stats --artifact "$team/model-v1.json" --data HEAD:data/users.csv --param value=score
step dx model promote city-stats@1 production -m "first release"
say "New data arrives on the cleanup branch and is merged."
step dx merge cleanup
say "What changed in the model's data since it was trained? Only the changed chunks are read."
step dx delta city-stats --stat
step dx delta city-stats --out "$team/delta"
say "Retrain on the delta only, then check it against retraining from scratch on all the data."
printf '\n\033[1m$ catstats update model-v1.json delta/rows/data/users.csv.jsonl > model-v2.json\033[0m\n'
"$team/catstats" update "$team/model-v1.json" "$team/delta/rows/data/users.csv.jsonl" > "$team/model-v2.json"
"$team/catstats" train data/users.csv city score 3 > "$team/model-scratch.json"
printf '\n\033[1m$ cmp model-v2.json model-scratch.json\033[0m\n'
cmp "$team/model-v2.json" "$team/model-scratch.json" && echo "identical: the delta-trained model equals the one trained from scratch"
step dx model register city-stats --artifact "$team/model-v2.json" --data HEAD:data/users.csv --param value=score
say "Stage it, then promote what staging holds to production, expecting production still on version 1."
step dx model promote city-stats@2 staging
step dx model promote city-stats@staging production --expect 1
step dx model log city-stats
step dx lineage city-stats@2
step dx lineage data/users.csv
step dx diff --rows --stat HEAD~1 HEAD
say "A data contract, versioned with the data: what users.csv must hold."
cat > dx.contract.yaml <<'YAML'
tables:
  - path: data/users.csv
    rows: {min: 1000}
    columns:
      - name: id
        type: int
        required: true
      - name: city
        regex: 'city[0-9]+'
      - name: score
        type: decimal
        min: 0
        max: 100
YAML
step cat dx.contract.yaml
step dx commit -m "Add a data contract"
say "A commit that breaks it is refused, naming the first broken rule; only the changed rows are checked."
sed -i 's/^11,user11,city11,.*/11,user11,City 11,120.5/' data/users.csv
printf '\n\033[1m$ dx commit -m "Rescore user 11"\033[0m\n'
if "$DX" commit -m "Rescore user 11"; then echo "demo: the contract did not refuse the commit" >&2; exit 1; fi
step dx checkout --force HEAD -- data/users.csv
step dx check
step dx tag v1 main
step dx log --graph --oneline main cleanup
step dx fsck

say "Share it: push to a directory remote (an S3 bucket works the same way), clone it elsewhere."
step dx remote add origin "file://$team/remote"
step dx push --all
cd "$team"
step dx clone "file://$team/remote" copy
cd copy
step dx log --oneline -n 3
step dx model list
step dx model checkout city-stats@production "$team/deployed"
say "In another region, a subscriber follows main: on each new head it fetches only the new data and runs a command on the delta."
cd "$team"
step dx clone "file://$team/remote" edge
cd edge
react='echo "subscriber: $DX_BRANCH $(echo "$DX_OLD" | cut -c1-12)..$(echo "$DX_NEW" | cut -c1-12): $(wc -l < "$DX_DELTA/rows/data/users.csv.jsonl") rows in the delta" | tee -a ../reactions.log'
step dx subscribe origin main --once --exec "$react"
printf '\n\033[1m$ dx subscribe origin main --exec "$react" &\033[0m\n'
"$DX" subscribe origin main --interval 200ms --exec "$react" &
subscriber=$!
sleep 0.5
cd "$team/copy"
say "A teammate fixes a row and pushes; only the changed chunk travels, and the subscriber reacts."
sed -i 's/^7,user7,/7,USER7,/' data/users.csv
step dx commit -m "Fix user 7"
step dx push
for _ in $(seq 1 100); do [ "$(wc -l < "$team/reactions.log")" -ge 2 ] && break; sleep 0.1; done
kill -TERM "$subscriber"; wait "$subscriber"
step dx -C "$team/edge" subscribe --status
cd "$work"
step dx pull
step dx diff --rows HEAD~1 HEAD
say "A sparse clone fetches only the content under a path."
cd "$team"
step dx clone "file://$team/remote" images-only --path images
step ls images-only
step dx -C images-only fsck
say "Done: the repositories lived in $work and $team (removed on exit)."
