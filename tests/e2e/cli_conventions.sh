#!/usr/bin/env bash
# The conventions people bring from git and GNU tools: `help [COMMAND]`, `version`, `-V`,
# "did you mean" for a mistyped command, errors inside a command pointing to that
# command's --help, and the documented exit statuses (0 success, 2 usage).
source "$(dirname "$0")/lib/common.sh"

expect() {  # label, exit status wanted, regex the output must match, args...
  local label=$1 want=$2 pattern=$3 rc=0
  shift 3
  "$E2O_BIN" "$@" >"$WORK/$label.out" 2>&1 || rc=$?
  [[ $rc -eq $want ]] || { echo "$label: exit $rc, expected $want:" >&2; cat "$WORK/$label.out" >&2; exit 1; }
  grep -Eq -e "$pattern" "$WORK/$label.out" || { echo "$label: output lacks /$pattern/:" >&2; cat "$WORK/$label.out" >&2; exit 1; }
  if [[ $want -ne 0 ]]; then
    [[ $(grep -c '^embed2onnx: error: ' "$WORK/$label.out") -eq 1 ]] || { echo "$label: not one error line" >&2; exit 1; }
  fi
  echo "$label: exit $rc"
}

expect version 0 '^embed2onnx [0-9]+\.[0-9]+\.[0-9]+$' --version
expect version_short 0 '^embed2onnx [0-9]+\.[0-9]+\.[0-9]+$' -V
expect version_word 0 '^embed2onnx [0-9]+\.[0-9]+\.[0-9]+$' version
expect help 0 'Usage: embed2onnx' help
expect help_export 0 'Usage: embed2onnx export' help export
expect help_verify 0 '--model-dir' help verify
expect help_unknown 2 "unknown command 'exprt' \(did you mean 'export'\?\)" help exprt
expect typo 2 "unknown command 'exprot' \(did you mean 'export'\?\)" exprot
expect typo_verify 2 "did you mean 'verify'" verfy x
expect far_word 2 "unknown command 'frobnicate'; commands:" frobnicate
expect export_flag 2 'see embed2onnx export --help' export --bogus
expect verify_flag 2 'see embed2onnx verify --help' verify
expect top_flag 2 'see embed2onnx --help' --foo
echo "cli_conventions: ok"
