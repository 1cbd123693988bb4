"""Training with the videos streamed from the file and, under torchrun, shared among processes (docs/mrhisum.md,
docs/distributed.md): for Mr.HiSum, and for any run started by torchrun.

The model, loss, optimizer, clipping, checkpoints and epoch loop are the Trainer's (model/trainer.py), and the batches
of summed gradients those of model/solver.py; what changes is where the randomness comes from, so that the numbers
depend on the number of processes only through the order in which floats are summed:

- each epoch's order of the training videos is a permutation drawn from (seed, epoch);
- before each training video's forward pass the global torch generator is seeded from (seed, epoch, video), so
  its dropout masks are the same whichever process trains it.

Process r of N trains every N-th video of each batch (from the r-th on); the gradients are summed over the processes
(one all-reduce, on the training device: NCCL reduces only GPU tensors), then every process clips and steps alike, as
one process summing them all would (up to float summation order). The evaluation is shared the same way and gathered;
only process 0 writes files.

The reader processes are forked before anything touches CUDA (the device is bound and the model built after them):
a process forked from one that has initialised CUDA cannot use it, and may hang on locks held by CUDA's threads.

For Mr.HiSum, every --eval_every epochs the validation videos are scored and their F1, mAP@50, mAP@15, tau and rho
(evaluation/mrhisum.py) go to TensorBoard and to logs/split{k}/metrics.csv; the checkpoints of the best validation
epoch of each metric are kept (best_{metric}_epoch{e}.pt, later epochs winning ties as in Mr.HiSum's code), and the
untrained model is kept too (untrained_epoch-1.pt) for the CA-SUM model selection (experiments/mrhisum_selection.py).
"""
import csv
import io
import math

import numpy as np
import torch

from common import fileio
from common.tblog import ScalarLog
from evaluation.mrhisum import evaluate_video as mrhisum_metrics
from evaluation.mrhisum import mean_metrics
from model import distributed
from model.checkpoints import checkpoint_task
from model.distributed import Group
from model.streaming import H5Videos, Reader, check_videos, scored
from model.trainer import Trainer

METRICS_CSV = ("epoch", "loss", "val_f_score", "val_map50", "val_map15", "val_tau", "val_rho")
BEST_ON = ("f_score", "map50", "map15")  # the validation metrics Mr.HiSum selects a checkpoint by


def video_seed(base: int, epoch: int, index: int) -> int:
    """The seed of the dropout masks of training video `index` in `epoch`."""
    return int(np.random.SeedSequence([base, epoch, index]).generate_state(1, np.uint64)[0])


class StreamSolver:
    """Trains CA-SUM over videos streamed from the dataset file, on one process or several (`group`)."""

    def __init__(self, config, group: Group = Group(), fast_dropout: bool = True):
        self.config = config
        self.group = group
        self.main = group.main
        self.mrhisum = config.dataset.mrhisum
        split = config.split
        self.eval_keys = split["val_keys"] if self.mrhisum else split["test_keys"]
        for keys, truth in ((split["train_keys"], False), (self.eval_keys, self.mrhisum)):
            check_videos(config.dataset_file, keys, config.input_size, config.splits_file, truth)
        self.train_reader = Reader(H5Videos(config.dataset_file, split["train_keys"], config.input_size,
                                            config.splits_file), config.workers)
        self.eval_reader = Reader(H5Videos(config.dataset_file, self.eval_keys, config.input_size, config.splits_file,
                                           ground_truth=self.mrhisum), config.workers)
        distributed.bind(config.device)  # after the readers' fork: the first CUDA call
        self.trainer = Trainer(config, fast_dropout)
        self.model, self.device = self.trainer.model, self.trainer.device
        # the base of every seed: --seed, else one drawn now and kept in resume.pt
        self.base_seed = (config.seed if config.seed is not None else int(np.random.SeedSequence().entropy)) % 2 ** 63
        self.best_val = {}  # metric -> [value, epoch]
        self.metric_rows = []

    def run(self, resume: bool = False) -> None:
        """Evaluate the untrained model, then train; with `resume`, continue from resume.pt when there is one."""
        self.trainer.run(self, resume)

    def resume_extra(self) -> dict:
        return {"base_seed": self.base_seed, "best_val": self.best_val}

    def restore(self, extra: dict) -> None:
        self.base_seed = extra.get("base_seed", self.base_seed)
        self.best_val = extra.get("best_val", {})
        self.metric_rows = [row for row in self.read_metrics() if int(row[0]) < self.trainer.start_epoch]

    @property
    def metrics_path(self):
        return self.config.log_dir / "metrics.csv"

    def read_metrics(self) -> list[list[str]]:
        """The rows of an earlier attempt's metrics.csv (none when there is no file)."""
        if not self.metrics_path.is_file():
            return []
        rows = list(csv.reader(fileio.read_text(self.metrics_path, "metrics file").splitlines()))
        return [row for row in rows[1:] if row and row[0].lstrip("-").isdigit()]

    def order(self, epoch: int) -> list[int]:
        """The epoch's order of the training videos, the same on every process."""
        return np.random.default_rng([self.base_seed, epoch]).permutation(len(self.train_reader.dataset)).tolist()

    def train_epoch(self, epoch: int) -> torch.Tensor:
        """One epoch: int(n / batch_size) batches; this process's share of each batch trained, the gradients summed
        over the processes, clipped, one Adam step each. Returns the mean loss over every process's videos, on the
        device (the caller waits for it once per epoch)."""
        cfg, trainer = self.config, self.trainer
        self.model.train()
        order = self.order(epoch)
        batches = [self.group.share(order[b * cfg.batch_size:(b + 1) * cfg.batch_size])
                   for b in range(len(order) // cfg.batch_size)]
        stream = self.train_reader([i for batch in batches for i in batch])
        total = torch.zeros(2, dtype=torch.float64, device=self.device)  # sum of the losses, number of videos
        params = list(self.model.parameters())
        for batch in batches:
            trainer.optimizer.zero_grad()
            for index, x, _ in (next(stream) for _ in batch):
                torch.manual_seed(video_seed(self.base_seed, epoch, index))
                scores, _ = self.model(x.to(self.device))
                loss = trainer.loss(scores)
                loss.backward()
                total[0] += loss.detach()
                total[1] += 1
            for p in params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            self.group.sum([p.grad for p in params])
            trainer.step()
        stream.close()
        self.group.sum([total])
        return total[0] / total[1]

    @torch.no_grad()
    def evaluate(self, epoch: int, loss: float | None = None, log: ScalarLog | None = None) -> list:
        """Score the evaluated videos (Mr.HiSum: validation; else the split's test videos), shared among the
        processes; process 0 writes their scores (with --save_scores) and, for Mr.HiSum, the metrics. Returns the
        checkpoint writes to do."""
        cfg = self.config
        if self.mrhisum and epoch == -1:
            return [checkpoint_task(cfg.save_dir, "untrained", -1, self.model)] if self.main else []
        if self.mrhisum and (epoch + 1) % cfg.eval_every != 0 and epoch != cfg.n_epochs - 1:
            return []
        if not (self.mrhisum or cfg.save_scores):
            return []
        mine = {}
        indices = self.group.share(list(range(len(self.eval_keys))))
        for key, scores, truth in scored(self.model, self.eval_reader, indices, self.device):
            mine[key] = (scores.tolist() if cfg.save_scores else None,
                         mrhisum_metrics(scores, truth) if self.mrhisum else None)
        results = {key: value for part in self.group.gather(mine) for key, value in part.items()}
        if not self.main:
            return []
        results = {key: results[key] for key in self.eval_keys}
        if cfg.save_scores:
            fileio.write_json(cfg.score_dir / f"{cfg.video_type}_{epoch}.json",
                              {key: scores for key, (scores, _) in results.items()})
        if not self.mrhisum:
            return []
        metrics = mean_metrics({key: values for key, (_, values) in results.items()})
        return self.record(epoch, loss, metrics, log)

    def record(self, epoch: int, loss: float, metrics: dict[str, float], log: ScalarLog) -> list:
        """Log one validation (TensorBoard, metrics.csv) and return the writes of the best-epoch checkpoints."""
        for name, value in metrics.items():
            if math.isfinite(value):
                log.add(f"val_{name}", value, epoch)
        values = [metrics[name] for name in ("f_score", "map50", "map15", "tau", "rho")]
        self.metric_rows.append([str(epoch), repr(loss)] + [repr(v) if math.isfinite(v) else "" for v in values])
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([METRICS_CSV, *self.metric_rows])
        tasks = [lambda content=text.getvalue(): fileio.write_text(self.metrics_path, content)]
        for name in BEST_ON:
            if name not in self.best_val or metrics[name] >= self.best_val[name][0]:
                self.best_val[name] = [metrics[name], epoch]
                tasks.append(checkpoint_task(self.config.save_dir, f"best_{name}", epoch, self.model))
        return tasks
