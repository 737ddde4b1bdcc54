#!/usr/bin/env bash
# One GPU training run of the bigger recipe (config/train/gpu_real.yaml) in under 10 minutes, everything written
# under $OUT (default ./gpu_out; at most 8 files, each under 16 MiB). README "GPU training run".
#
#   bench/gpu_train.sh [REAL_DIR]     REAL_DIR: the folder of ../shared/data/real (kitti_odometry_snippet/,
#                                     kitti_depth_snippet/, video/solidWhiteRight.mp4); default ../shared/data/real
#   SMOKE=1 PYTHON=.venv/bin/python bench/gpu_train.sh     # the same pipeline, tiny, on the CPU (plumbing check)
#
# Phases: check (torch + CUDA, the trainer's Python deps; WHEELS=dir installs them offline first) -> render the
# synthetic drives on all CPU cores (xargs -P) while importing the real footage -> train (synthetic + real bags,
# stops at STEPS or TRAIN_SECONDS) -> strip the checkpoint to fp16 weights -> selfdepth eval on
# kitti_depth_snippet (held out: never trained on) and the odometry snippet, shipped model beside it -> summary.
# Settings (environment): STEPS TRAIN_SECONDS BUDGET_SECONDS DRIVES FRAMES BATCH WORKERS DEVICE JOBS REAL_REPEAT
# SEED PYTHON WORK WHEELS PIP_FLAGS BLOCK_ROS (defaults below).
# Files in $OUT: gpu_train.json (summary), gpu_train.log, selfdepth_gpu_fp16.pt, eval_kitti_depth.json,
# eval_kitti_depth_garg.json, eval_kitti_odometry.json, eval_sim_heldout.json, train_images_last.png.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
T0=$(date +%s.%N)

SMOKE=${SMOKE:-0}
if [ "$SMOKE" = 1 ]; then  # tiny, CPU: proves the pipeline end to end (numbers meaningless)
  : "${DRIVES:=1}" "${FRAMES:=10}" "${STEPS:=2}" "${BATCH:=2}" "${WORKERS:=0}" "${DEVICE:=cpu}" "${REAL_REPEAT:=2}"
  : "${IMPORT_MAX_FRAMES:=12}" "${HELD_OUT_FRAMES:=6}" "${EVAL_MAX_FRAMES:=8}" "${JOBS:=2}"
fi
: "${PYTHON:=python3}"
: "${DRIVES:=12}"            # synthetic training drives (seeds 101..100+DRIVES; the held-out drive is seed 7)
: "${FRAMES:=300}"           # frames per drive, rendered at 416x128 (the recipe's size)
: "${HELD_OUT_FRAMES:=30}"
: "${STEPS:=4000}"           # max optimiser steps (an H200 estimate for ~5 min, README); TRAIN_SECONDS stops earlier
: "${TRAIN_SECONDS:=300}"    # wall-clock budget of the training loop
: "${BUDGET_SECONDS:=540}"   # whole script; training also stops EVAL_RESERVE before it
: "${EVAL_RESERVE:=75}"
: "${BATCH:=16}"
: "${WORKERS:=8}"
: "${DEVICE:=cuda}"
: "${JOBS:=$(nproc)}"
: "${REAL_REPEAT:=3}"        # each real bag is listed this many times in --bags (oversampled beside the drives)
: "${SEED:=0}"
: "${IMPORT_MAX_FRAMES:=}"   # empty = every frame
: "${EVAL_MAX_FRAMES:=}"
: "${BLOCK_ROS:=1}"          # make `import rclpy` fail: the GPU host has no ROS, and the pipeline must not need it
RECIPE=config/train/gpu_real.yaml
CKPT_NAME=selfdepth_gpu_fp16.pt

REAL_DIR=${1:-${REAL_DIR:-}}
if [ -z "$REAL_DIR" ]; then
  for c in ../shared/data/real /work/shared/data/real; do [ -d "$c" ] && { REAL_DIR=$c; break; }; done
fi
for need in kitti_odometry_snippet kitti_depth_snippet video/solidWhiteRight.mp4; do
  if [ -z "$REAL_DIR" ] || [ ! -e "$REAL_DIR/$need" ]; then
    echo "gpu_train.sh: real-frames folder '${REAL_DIR:-<none>}' lacks $need; usage: bench/gpu_train.sh REAL_DIR" >&2
    exit 2
  fi
done
REAL_DIR=$(cd "$REAL_DIR" && pwd)

OUT=${OUT:-./gpu_out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/selfdepth_gpu.XXXXXX")}
mkdir -p "$WORK"
rm -f "$WORK/phases.tsv"
exec > >(tee -a "$OUT/gpu_train.log") 2>&1
TEE_PID=$!
echo "[gpu_train] $(date -Is) root $ROOT real $REAL_DIR out $OUT work $WORK smoke $SMOKE"

export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
phase() { echo -e "$1\t$(elapsed "$2")" >> "$WORK/phases.tsv"; echo "[gpu_train] phase $1: $(elapsed "$2") s"; }

# ---------------------------------------------------------------------------------------------- 1. check
t=$(now)
if [ -n "${WHEELS:-}" ]; then  # offline install of the trainer's deps from a carried wheel folder (torch: the host's)
  grep -Ev '^[[:space:]]*(#|$)|^(torch|pytest|onnx|onnxruntime)==' requirements-core.txt > "$WORK/requirements-gpu.txt"
  # shellcheck disable=SC2086
  "$PYTHON" -m pip install --no-index --find-links "$WHEELS" ${PIP_FLAGS:-} -r "$WORK/requirements-gpu.txt"
fi
"$PYTHON" -c "import torch; print(torch.cuda.is_available())" || { echo "gpu_train.sh: $PYTHON cannot import torch" >&2; exit 3; }
if [ "$BLOCK_ROS" = 1 ]; then
  "$PYTHON" bench/gpu_train.py block-ros "$WORK/noros"
  export PYTHONPATH="$WORK/noros:$PYTHONPATH"
fi
"$PYTHON" bench/gpu_train.py check --device "$DEVICE"
GPU=$("$PYTHON" -c "import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none')")
phase check "$t"

# ------------------------------------------------------------------- 2. render drives + import real footage
t=$(now)
mkdir -p "$WORK/sim" "$WORK/real"
job() {  # one render or import; run by xargs -P, one CPU thread each; a bag already in WORK is kept
  local what=$1 sd=(-m selfdepth_ros.cli) IMPORT_LIMIT=() out
  [ -n "${IMPORT_MAX_FRAMES:-}" ] && IMPORT_LIMIT=(--max-frames "$IMPORT_MAX_FRAMES")
  case $what in
    sim:*) out=$WORK/sim/drive_s${what#sim:} ;; heldout) out=$WORK/sim/heldout_s7 ;;
    import:odo) out=$WORK/real/kitti_odometry ;; import:video) out=$WORK/real/dashcam ;;
    import:depth) out=$WORK/real/kitti_depth ;;
  esac
  if [ -e "$out" ]; then echo "[gpu_train] keeping $out"; return 0; fi
  case $what in
    sim:*)
      local s=${what#sim:}
      # varied speed (5-12.5 m/s) and traffic per drive; no exposure jitter (brightness constancy)
      OMP_NUM_THREADS=1 "$PYTHON" "${sd[@]}" simulate --out "$out" --frames "$FRAMES" --seed "$s" \
        --speed "$(awk -v s="$s" 'BEGIN { print 5 + (s % 4) * 2.5 }')" --moving-objects $((2 + s % 5)) --quiet ;;
    heldout)
      OMP_NUM_THREADS=1 "$PYTHON" "${sd[@]}" simulate --out "$out" --frames "$HELD_OUT_FRAMES" \
        --seed 7 --quiet ;;
    import:odo)
      OMP_NUM_THREADS=1 "$PYTHON" "${sd[@]}" import "$REAL_DIR/kitti_odometry_snippet" --out "$out" \
        "${IMPORT_LIMIT[@]}" --quiet ;;
    import:video)
      OMP_NUM_THREADS=1 "$PYTHON" "${sd[@]}" import "$REAL_DIR/video/solidWhiteRight.mp4" --out "$out" \
        "${IMPORT_LIMIT[@]}" --quiet ;;
    import:depth)  # evaluation only: never in --bags
      OMP_NUM_THREADS=1 "$PYTHON" "${sd[@]}" import "$REAL_DIR/kitti_depth_snippet" --out "$out" \
        --quiet ;;
  esac
}
export -f job
export PYTHON FRAMES HELD_OUT_FRAMES WORK REAL_DIR IMPORT_MAX_FRAMES
{
  echo import:video; echo import:odo; echo import:depth; echo heldout
  for ((i = 1; i <= DRIVES; i++)); do echo "sim:$((100 + i))"; done
} > "$WORK/jobs.txt"
xargs -P "$JOBS" -n 1 bash -c 'job "$1"' _ < "$WORK/jobs.txt"
du -sh "$WORK/sim" "$WORK/real" | sed 's/^/[gpu_train] /'
phase render_and_import "$t"

# ---------------------------------------------------------------------------------------------- 3. train
t=$(now)
BAGS=("$WORK"/sim/drive_s*)
for ((r = 0; r < REAL_REPEAT; r++)); do BAGS+=("$WORK/real/kitti_odometry" "$WORK/real/dashcam"); done
DEADLINE=$(awk -v t0="$T0" -v b="$BUDGET_SECONDS" -v r="$EVAL_RESERVE" 'BEGIN { printf "%.0f", t0 + b - r }')
HARD=$(awk -v d="$DEADLINE" -v n="$(now)" 'BEGIN { printf "%.0f", d - n + 60 }')  # the loop stops itself first
echo "[gpu_train] training ${#BAGS[@]} bags, STEPS $STEPS, TRAIN_SECONDS $TRAIN_SECONDS, batch $BATCH, $DEVICE"
rc=0
timeout -k 20 "$HARD" "$PYTHON" bench/gpu_train.py train --train-seconds "$TRAIN_SECONDS" --deadline "$DEADLINE" \
  --info "$WORK/train_info.json" -- --config "$RECIPE" --bags "${BAGS[@]}" --out "$WORK/run" --max-steps "$STEPS" \
  --device "$DEVICE" --workers "$WORKERS" --batch-size "$BATCH" --seed "$SEED" --no-progress --force || rc=$?
LAST=$(ls "$WORK"/run/checkpoints/step_*.pt 2>/dev/null | sort | tail -n 1 || true)
if [ -z "$LAST" ]; then echo "gpu_train.sh: training wrote no checkpoint (exit $rc)" >&2; exit 1; fi
[ "$rc" = 0 ] || echo "[gpu_train] WARNING: training exited $rc; using the newest checkpoint $LAST"
IMG=$(ls "$WORK"/run/images/step_*.png 2>/dev/null | sort | tail -n 1 || true)
[ -n "$IMG" ] && cp "$IMG" "$OUT/train_images_last.png"
phase train "$t"

# ------------------------------------------------------------------------------------ 4. fp16 checkpoint
t=$(now)
"$PYTHON" bench/gpu_train.py strip "$LAST" "$OUT/$CKPT_NAME" --max-mib 16
phase strip "$t"

# --------------------------------------------------------------------------------------------- 5. eval
t=$(now)
EVAL_LIMIT=()
[ -n "$EVAL_MAX_FRAMES" ] && EVAL_LIMIT=(--max-frames "$EVAL_MAX_FRAMES")
ev() { "$PYTHON" -m selfdepth_ros.cli eval --device "$DEVICE" --force "${EVAL_LIMIT[@]}" "$@"; }
CK="$OUT/$CKPT_NAME"
SHIPPED=selfdepth_ros/data/selfdepth_small.pt
ev --checkpoint "$CK" --bag "$WORK/real/kitti_depth" --json "$OUT/eval_kitti_depth.json"
ev --checkpoint "$CK" --bag "$WORK/real/kitti_depth" --crop garg --json "$OUT/eval_kitti_depth_garg.json"
ev --checkpoint "$CK" --bag "$WORK/real/kitti_odometry" --snippet-protocol sfmlearner --json "$OUT/eval_kitti_odometry.json"
ev --checkpoint "$CK" --bag "$WORK/sim/heldout_s7" --json "$OUT/eval_sim_heldout.json"
if [ -f "$SHIPPED" ]; then  # the shipped model on the same frames, for the verdict (not copied back)
  ev --checkpoint "$SHIPPED" --bag "$WORK/real/kitti_depth" --json "$WORK/shipped_kitti_depth.json"
  ev --checkpoint "$SHIPPED" --bag "$WORK/real/kitti_odometry" --snippet-protocol sfmlearner \
    --json "$WORK/shipped_kitti_odometry.json"
fi
phase eval "$t"

# ------------------------------------------------------------------------------------------- 6. summary
echo -e "total\t$(elapsed "$T0")" >> "$WORK/phases.tsv"
CONFIG=$(printf '{"drives": %d, "frames": %d, "steps": %d, "train_seconds": %s, "batch": %d, "workers": %d, "real_repeat": %d, "seed": %d, "jobs": %d, "real_dir": "%s"}' \
  "$DRIVES" "$FRAMES" "$STEPS" "$TRAIN_SECONDS" "$BATCH" "$WORKERS" "$REAL_REPEAT" "$SEED" "$JOBS" "$REAL_DIR")
SMOKE_FLAG=()
[ "$SMOKE" = 1 ] && SMOKE_FLAG=(--smoke)
"$PYTHON" bench/gpu_train.py summary --work "$WORK" --out "$OUT" --checkpoint-name "$CKPT_NAME" --recipe "$RECIPE" \
  --device "$DEVICE" --gpu "$GPU" --config "$CONFIG" "${SMOKE_FLAG[@]}"
ls -la "$OUT"
exec >&- 2>&-  # let tee write the end of the log before the runner collects $OUT
wait "$TEE_PID" 2>/dev/null || true
