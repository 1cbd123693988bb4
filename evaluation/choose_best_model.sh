#!/usr/bin/env bash
# Evaluate a finished experiment and choose its models, with the numbers of the authors' scripts:
#   bash evaluation/choose_best_model.sh EXP_DIR DATASET EVAL_METHOD [--dataset_file H5] [--splits_file JSON]
#                                        [--anno PATH] [--workers N]
# EXP_DIR holds reg0.5 .. reg0.9 (or one such experiment per seed{S}/ folder: each seed's table, then the mean and
# standard deviation over the seeds); DATASET is SumMe or TVSum; EVAL_METHOD is max (SumMe) or avg (TVSum), the
# paper's (the other one is warned about, and its files are named *.avg.* or *.max.*: evaluation/protocol.py).
# Exports the TensorBoard logs, computes the F-scores of every sigma and split, then prints the chosen sigma and
# epoch per split and the averages, then every number next to the random and human baselines of the splits, and
# writes EXP_DIR/{Dataset}_curves.png and each run's F1 per epoch into its TensorBoard log (docs/evaluation.md;
# evaluation/evaluate_experiment.py does it all in one Python command; set PYTHON to choose the interpreter). The
# number of splits and their test videos come from --splits_file (default: the dataset's usual splits file,
# data/splits/{dataset}_splits.json; the PoR protocol's 50: data/splits/{dataset}_splits_50.json).
set -euo pipefail
usage="usage: bash evaluation/choose_best_model.sh EXP_DIR DATASET EVAL_METHOD [--dataset_file H5] [--splits_file JSON] [--anno PATH] [--workers N]"
case "${1:-}" in
  -h|--help) echo "$usage"; exec "${PYTHON:-python}" "$(dirname "$0")/evaluate_experiment.py" --help ;;
esac
if [ "$#" -lt 3 ]; then
  echo "$usage" >&2
  exit 2
fi
exec "${PYTHON:-python}" "$(dirname "$0")/evaluate_experiment.py" "$@"
