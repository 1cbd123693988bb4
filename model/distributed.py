"""Data-parallel training of one run with PyTorch's own distributed engine (docs/distributed.md).

`torchrun --nproc_per_node N model/main.py ...` starts N processes with RANK, LOCAL_RANK and WORLD_SIZE set: each
joins the process group, takes its share of every batch's videos and of the validation videos, and the gradients and
results are summed or gathered across processes (also for N = 1, which runs the whole distributed path on one GPU). A
plain `python model/main.py` is a group of one, with no process group at all.

On the CPU the group is gloo's. On CUDA each process owns the GPU of its local rank and the group is
`cpu:gloo,cuda:nccl`: NCCL sums the tensors that live on the GPUs (the gradients, the loss), gloo carries what lives
in host memory (the gathered results, the barrier).
"""
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Group:
    """This process's place among the processes of a run."""
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """The process that writes the run's outputs and prints."""
        return self.rank == 0

    def share(self, items: list) -> list:
        """This process's share of `items`: every world-th one, from its rank on."""
        return items[self.rank::self.world]

    def sum(self, tensors: list[torch.Tensor]) -> None:
        """Sum the tensors over the processes, in place (one all-reduce for all of them)."""
        if not tensors or not joined():
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        offset = 0
        for t in tensors:
            t.copy_(flat[offset:offset + t.numel()].view_as(t))
            offset += t.numel()

    def gather(self, obj: object) -> list:
        """Every process's `obj`, in rank order, on every process."""
        if not joined():
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if joined():
            dist.barrier()


def joined() -> bool:
    """Whether this process has joined a process group (under torchrun, after `connect`)."""
    return dist.is_available() and dist.is_initialized()


def under_torchrun() -> bool:
    """Whether this process was started by torchrun (or another launcher that sets WORLD_SIZE and RANK)."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def local(device: torch.device) -> tuple[Group, torch.device]:
    """This process's place in a torchrun launch (a group of one otherwise) and its device (with CUDA, the GPU of
    its local rank), read from the environment: nothing is connected and CUDA is not touched yet (see `bind` and
    `connect`)."""
    if not under_torchrun():
        return Group(), device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return Group(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])), device


def bind(device: torch.device) -> None:
    """Make `device` this process's current CUDA device (NCCL and CUDA's caching allocator work on it); nothing
    on the CPU. The first CUDA call of a run: after the reader processes are forked (model/streaming.py)."""
    if device.type == "cuda":
        torch.cuda.set_device(device)


def backend(device: torch.device) -> str:
    """The process group's backends for a run on `device` (module docstring)."""
    return "cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo"


def connect(device: torch.device) -> None:
    """Join the process group of a torchrun launch (nothing otherwise).

    Called after the reader processes are forked (model/streaming.py): the process group runs threads of its own,
    and a fork while another thread holds a lock can leave the child waiting for it forever."""
    if under_torchrun() and not joined():
        dist.init_process_group(backend(device))


def leave() -> None:
    """Leave the process group, if this process joined one."""
    if joined():
        dist.destroy_process_group()
